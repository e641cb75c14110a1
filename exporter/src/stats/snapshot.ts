import type { WindowName } from '../model/types.js';
import type { NumberSeen } from '../store/db.js';
import { addInto, emptyVector, FIELDS, type Vector } from './vector.js';
import type { WindowSet } from './windows.js';

/** Per-number and per-carrier sums of every window, at one instant: what /metrics and the JSON are made of. */
export interface NumberView {
  number: string;
  pool: string;
  windows: Record<WindowName, Vector>;
  carriers: Map<string, Record<WindowName, Vector>>;
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface Snapshot {
  at: number;
  numbers: Map<string, NumberView>;
  carriers: Map<string, Record<WindowName, Vector>>;
}

/**
 * Zeroed vectors for one snapshot, cut from shared slabs: a snapshot of 10k numbers needs ~120k
 * of them, and a Float64Array of 15 has a backing store of its own (over V8's on-heap limit), which
 * made allocating and collecting them a good part of every scrape. They all live and die with the
 * snapshot, so sharing a slab keeps nothing alive for longer.
 */
class VectorSlab {
  private slab = new Float64Array(0);
  private used = 0;
  /** `vectors`: how many a slab holds (an update of a few numbers cuts them from small slabs, which its views keep alive). */
  constructor(private readonly vectors = 1024) {}
  next(): Vector {
    if (this.used + FIELDS > this.slab.length) {
      this.slab = new Float64Array(FIELDS * this.vectors);
      this.used = 0;
    }
    const v = this.slab.subarray(this.used, this.used + FIELDS);
    this.used += FIELDS;
    return v;
  }
}

function emptyWindows(names: WindowName[], slab?: VectorSlab): Record<WindowName, Vector> {
  const r = {} as Record<WindowName, Vector>;
  for (const n of names) r[n] = slab ? slab.next() : emptyVector();
  return r;
}

/**
 * `known` lists numbers to show even without calls in any window (the inventory);
 * numbers with no call in the widest window and not in the inventory are not tracked.
 */
export function takeSnapshot(
  windows: WindowSet,
  seen: Map<string, NumberSeen>,
  poolOf: (number: string) => string,
  known: Iterable<string> = [],
): Snapshot {
  const names = windows.names();
  const slab = new VectorSlab();
  const numbers = new Map<string, NumberView>();
  const carriers = new Map<string, Record<WindowName, Vector>>();
  const view = (number: string): NumberView => {
    let n = numbers.get(number);
    if (!n) {
      const s = seen.get(number);
      n = {
        number,
        pool: poolOf(number),
        windows: emptyWindows(names, slab),
        carriers: new Map(),
        firstSeen: s ? s.first : null,
        lastSeen: s ? s.last : null,
      };
      numbers.set(number, n);
    }
    return n;
  };
  for (const number of known) view(number);
  for (const name of names) {
    for (const kv of windows.get(name).values()) {
      const n = view(kv.number);
      addInto(n.windows[name], kv.v);
      let c = n.carriers.get(kv.carrier);
      if (!c) n.carriers.set(kv.carrier, (c = emptyWindows(names, slab)));
      addInto(c[name], kv.v);
      let pc = carriers.get(kv.carrier);
      if (!pc) carriers.set(kv.carrier, (pc = emptyWindows(names)));
      addInto(pc[name], kv.v);
    }
  }
  return { at: windows.at, numbers, carriers };
}

/**
 * What takeSnapshot would return now, when since `prev` was taken only the sums and seen times of the
 * numbers in `changed` moved (pools and known numbers did not): those numbers get views made as
 * takeSnapshot makes them, every other number keeps its view object from `prev`, and the per-carrier
 * totals are summed again over every window entry. Numbers come in takeSnapshot's order (known ones,
 * then by first appearance in the windows, widest last); a number with no calls and not known is gone.
 * Pinned against takeSnapshot by test/perf/snapshotUpdate.test.ts.
 */
export function updateSnapshot(
  prev: Snapshot,
  windows: WindowSet,
  seen: Map<string, NumberSeen>,
  poolOf: (number: string) => string,
  known: () => Iterable<string>,
  changed: Set<string>,
): Snapshot {
  const names = windows.names();
  // About 3 windows + 3 carriers × 3 windows per number: slabs no bigger than the update needs.
  const slab = new VectorSlab(Math.min(1024, Math.max(16, changed.size * 12)));
  const fresh = new Map<string, NumberView>();
  for (const number of changed) {
    const s = seen.get(number);
    fresh.set(number, { number, pool: poolOf(number), windows: emptyWindows(names, slab), carriers: new Map(), firstSeen: s ? s.first : null, lastSeen: s ? s.last : null });
  }
  const numbers = new Map<string, NumberView>();
  let missing = false;
  const put = (number: string) => {
    if (numbers.has(number)) return;
    const v = fresh.get(number) ?? prev.numbers.get(number);
    if (v) numbers.set(number, v);
    else missing = true; // not changed, yet not in `prev`: the caller's bookkeeping is off, take it whole
  };
  for (const number of known()) put(number);
  const carriers = new Map<string, Record<WindowName, Vector>>();
  for (const name of names) {
    for (const kv of windows.get(name).values()) {
      put(kv.number);
      let pc = carriers.get(kv.carrier);
      if (!pc) carriers.set(kv.carrier, (pc = emptyWindows(names)));
      addInto(pc[name], kv.v);
      const n = fresh.get(kv.number);
      if (!n) continue;
      addInto(n.windows[name], kv.v);
      let c = n.carriers.get(kv.carrier);
      if (!c) n.carriers.set(kv.carrier, (c = emptyWindows(names, slab)));
      addInto(c[name], kv.v);
    }
  }
  if (missing) return takeSnapshot(windows, seen, poolOf, known());
  return { at: windows.at, numbers, carriers };
}

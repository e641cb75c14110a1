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
  next(): Vector {
    if (this.used + FIELDS > this.slab.length) {
      this.slab = new Float64Array(FIELDS * 1024);
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

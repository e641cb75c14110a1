import type { WindowName } from '../model/types.js';
import type { NumberSeen } from '../store/db.js';
import { addAt, emptyVector, F_CALLS, F_OUTCOME0, FIELDS, OUTCOME_INDEX, type Vector } from './vector.js';
import type { PairRows, RowShare, WindowSet } from './windows.js';
import { WindowViews } from './windowViews.js';

/**
 * The windows a number's per-carrier sums are kept for: every tracked one but 1h, which nothing reads per carrier
 * (the JSON and /metrics show 24h and 7d, the verdicts read 24h to 7d). At 10k numbers the 1h rows were ~5 MB.
 */
export type CarrierWindow = Exclude<WindowName, '1h'>;
export type CarrierWindows = Record<CarrierWindow, Vector>;

/** Per-number and per-carrier sums of every window, at one instant: what /metrics and the JSON are made of. */
export interface NumberView {
  number: string;
  pool: string;
  windows: Record<WindowName, Vector>;
  /** At most `maxCarriersPerNumber` named carriers, plus OTHER_CARRIER when the rest were folded (see foldPlan). */
  carriers: Map<string, CarrierWindows>;
  firstSeen: number | null;
  lastSeen: number | null;
  /** How many distinct carriers were folded into OTHER_CARRIER (absent: none). */
  foldedCarriers?: number;
}

/**
 * A NumberView as takeSnapshot makes it: its own sums are rows of the snapshot's slabs; a carrier's are the live
 * windows' rows, shared copy-on-write (PairRows), or a slab row when the number's carriers are folded (or the
 * WindowSet shares none: test doubles).
 */
interface SlabNumberView extends NumberView {
  windows: SlabWindows;
  carriers: Map<string, SlabWindows | PairRows>;
}

/** The windows' rows for a snapshot's carriers, when the WindowSet shares them (a test double may not). */
function shareOf(windows: WindowSet, carrierNames: WindowName[]): RowShare | null {
  return typeof windows.shareRows === 'function' ? windows.shareRows(carrierNames) : null;
}

/**
 * A number × carrier record for the snapshot: the pair's own rows (shared) when the carrier is the pair alone,
 * else a slab row the caller adds the folded pairs into.
 */
function carrierRecord(share: RowShare | null, folded: boolean, id: number, carrierNames: WindowName[], carrierSlots: WindowSlots, slab: VectorSlab): SlabWindows | PairRows {
  return share !== null && !folded ? share.rowsOf(id) : slabWindows(carrierNames, carrierSlots, slab);
}

export interface Snapshot {
  at: number;
  numbers: Map<string, NumberView>;
  /** Pool-wide sums per carrier (every carrier: folding is per number only). */
  carriers: Map<string, Record<WindowName, Vector>>;
}

/** The carrier a number's carriers beyond the cap are folded into. */
export const OTHER_CARRIER = 'other';
/** Config `max_carriers_per_number`: named carriers per number before the rest fold into OTHER_CARRIER. */
export const DEFAULT_MAX_CARRIERS_PER_NUMBER = 20;

export interface SnapshotOptions {
  /** Named carriers kept per number (≥ 1); the others are summed into OTHER_CARRIER. */
  maxCarriersPerNumber?: number;
}

const I_ANSWERED = F_OUTCOME0 + OUTCOME_INDEX.answered;
const I_BLOCKED = F_OUTCOME0 + OUTCOME_INDEX.blocked;

/** How one number's carriers are folded: the carriers kept by name, and how many went into OTHER_CARRIER. */
interface Fold {
  keep: Set<string>;
  folded: number;
}

/** Most blocked calls, then most unanswered calls, then most calls, then by name (see foldPlan). */
function worseFirst([ca, a]: [string, Vector], [cb, b]: [string, Vector]): number {
  return (
    b[I_BLOCKED] - a[I_BLOCKED] ||
    b[F_CALLS] - b[I_ANSWERED] - (a[F_CALLS] - a[I_ANSWERED]) ||
    b[F_CALLS] - a[F_CALLS] ||
    (ca < cb ? -1 : ca > cb ? 1 : 0)
  );
}

/**
 * For each number with more than `max` carriers in the widest window (among `only`, when given): the `max`
 * worst carriers it keeps by name; the others are summed into OTHER_CARRIER while the snapshot is made (no
 * vectors per folded carrier). Everything per number downstream (carrier flags, /metrics pairs, the JSON) is
 * then bounded by the cap, not by the input: one file can name thousands of carriers (probe F1).
 * "Worst", over the widest window: most blocked calls (any block already warns), then most unanswered calls
 * (the evidence of the cancel, rejection and answer-collapse tests), then most calls, then by name. A real
 * carrier called OTHER_CARRIER is always folded, so the name stays unambiguous. Folded calls stay in the
 * number's own windows; pool-wide sums per carrier are untouched.
 */
function foldPlan(windows: WindowSet, widest: WindowName, max: number, only?: Map<string, unknown>): Map<string, Fold> {
  const count = new Map<string, number>();
  windows.forEach(widest, (number) => {
    if (!only || only.has(number)) count.set(number, (count.get(number) ?? 0) + 1);
  });
  const over = new Map<string, Array<[string, Vector]>>();
  for (const [number, n] of count) if (n > max) over.set(number, []);
  if (over.size === 0) return new Map();
  windows.forEach(widest, (number, carrier, sums, o) => over.get(number)?.push([carrier, sums.subarray(o, o + FIELDS)]));
  const plan = new Map<string, Fold>();
  for (const [number, list] of over) {
    const named = list.filter(([c]) => c !== OTHER_CARRIER).sort(worseFirst);
    plan.set(number, { keep: new Set(named.slice(0, max).map(([c]) => c)), folded: list.length - Math.min(max, named.length) });
  }
  return plan;
}

/**
 * Zeroed rows for one snapshot, cut from shared slabs: a snapshot of 10k numbers needs ~175k
 * vectors, and a Float64Array of 18 has a backing store of its own (over V8's on-heap limit), which
 * made allocating and collecting them a good part of every scrape. They all live and die with the
 * snapshot, so sharing a slab keeps nothing alive for longer.
 */
class VectorSlab {
  private slab = new Float64Array(0);
  private used = 0;
  /** `vectors`: how many a slab holds (an update of a few numbers cuts them from small slabs, which its rows keep alive). */
  constructor(private readonly vectors = 1024) {}
  /** Room for `count` consecutive vectors: the slab and the offset of the first. */
  take(count: number): { slab: Float64Array; offset: number } {
    const need = count * FIELDS;
    if (this.used + need > this.slab.length) {
      this.slab = new Float64Array(FIELDS * Math.max(this.vectors, count));
      this.used = 0;
    }
    const offset = this.used;
    this.used += need;
    return { slab: this.slab, offset };
  }
}

/** Which slot of a SlabWindows row each window has (its index in WindowSet.names()); absent: not tracked. */
type WindowSlots = Partial<Record<WindowName, number>>;

function slotsOf(names: WindowName[]): WindowSlots {
  const slots: WindowSlots = {};
  names.forEach((n, i) => (slots[n] = i));
  return slots;
}

/**
 * One number's (or one number × carrier's) sums of every window: consecutive vectors of a slab, one per
 * tracked window. Reading a window makes its Float64Array view then (a short-lived object) instead of keeping
 * one per window: at 10k numbers the kept views were ~175k objects, ~22 MB of headers around 30 MB of sums.
 * Reads as the Record<WindowName, Vector> it stands for; an untracked window reads as undefined, as a missing
 * key did. Its windows are getters, not own keys: read them by name, not with Object.entries.
 */
export class SlabWindows extends WindowViews {
  constructor(
    private readonly slab: Float64Array,
    private readonly offset: number,
    private readonly slots: WindowSlots,
  ) {
    super();
  }

  /** Where `name`'s vector starts in slabOf(), or -1 when the window is not tracked (writers add into it there). */
  offsetOf(name: WindowName): number {
    const slot = this.slots[name];
    return slot === undefined ? -1 : this.offset + slot * FIELDS;
  }

  slabOf(): Float64Array {
    return this.slab;
  }

  protected view(name: WindowName): Vector {
    const o = this.offsetOf(name);
    return (o < 0 ? undefined : this.slab.subarray(o, o + FIELDS)) as Vector;
  }
}

function slabWindows(names: WindowName[], slots: WindowSlots, slab: VectorSlab): SlabWindows {
  const at = slab.take(names.length);
  return new SlabWindows(at.slab, at.offset, slots);
}

/** windows[name] += sums[o…o + FIELDS), written straight into the slab (no view made); nothing where `name` has no row. */
function addRow(windows: SlabWindows, name: WindowName, sums: Float64Array, o: number): void {
  const target = windows.slabOf();
  const t = windows.offsetOf(name);
  if (t < 0) return;
  for (let i = 0; i < FIELDS; i++) target[t + i] += sums[o + i];
}

/** The rows a number's carriers get: its windows less 1h (CarrierWindow). */
function carrierNamesOf(names: WindowName[]): WindowName[] {
  return names.filter((n) => n !== '1h');
}

function emptyWindows(names: WindowName[]): Record<WindowName, Vector> {
  const r = {} as Record<WindowName, Vector>;
  for (const n of names) r[n] = emptyVector();
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
  o: SnapshotOptions = {},
): Snapshot {
  const max = maxCarriersOf(o);
  const names = windows.names();
  const slots = slotsOf(names);
  const carrierNames = carrierNamesOf(names);
  const carrierSlots = slotsOf(carrierNames);
  const slab = new VectorSlab();
  const numbers = new Map<string, SlabNumberView>();
  const carriers = new Map<string, Record<WindowName, Vector>>();
  const view = (number: string): SlabNumberView => {
    let n = numbers.get(number);
    if (!n) {
      const s = seen.get(number);
      n = {
        number,
        pool: poolOf(number),
        windows: slabWindows(names, slots, slab),
        carriers: new Map(),
        firstSeen: s ? s.first : null,
        lastSeen: s ? s.last : null,
      };
      numbers.set(number, n);
    }
    return n;
  };
  for (const number of known) view(number);
  const plan = foldPlan(windows, names[names.length - 1]!, max);
  const share = shareOf(windows, carrierNames);
  for (const name of names) {
    windows.forEach(name, (number, carrier, sums, o, id) => {
      const n = view(number);
      addRow(n.windows, name, sums, o);
      const fold = plan.get(number);
      const key = fold && !fold.keep.has(carrier) ? OTHER_CARRIER : carrier;
      let c = n.carriers.get(key);
      // Made in the first window the pair is in (1h included): the Map's order is the one consumers have always seen.
      if (!c) n.carriers.set(key, (c = carrierRecord(share, fold !== undefined, id, carrierNames, carrierSlots, slab)));
      if (c instanceof SlabWindows) addRow(c, name, sums, o);
      let pc = carriers.get(carrier);
      if (!pc) carriers.set(carrier, (pc = emptyWindows(names)));
      addAt(pc[name], sums, o);
    });
  }
  for (const [number, fold] of plan) numbers.get(number)!.foldedCarriers = fold.folded;
  return { at: windows.at, numbers, carriers };
}

function maxCarriersOf(o: SnapshotOptions): number {
  const m = o.maxCarriersPerNumber ?? DEFAULT_MAX_CARRIERS_PER_NUMBER;
  if (!Number.isInteger(m) || m < 1) throw new Error(`maxCarriersPerNumber must be a whole number ≥ 1, got ${m}`);
  return m;
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
  o: SnapshotOptions = {},
): Snapshot {
  const max = maxCarriersOf(o);
  const names = windows.names();
  // A number's own windows (its carriers read the windows' rows: PairRows): slabs no bigger than the update needs.
  const slots = slotsOf(names);
  const carrierNames = carrierNamesOf(names);
  const carrierSlots = slotsOf(carrierNames);
  const slab = new VectorSlab(Math.min(1024, Math.max(16, changed.size * names.length)));
  const fresh = new Map<string, SlabNumberView>();
  for (const number of changed) {
    const s = seen.get(number);
    fresh.set(number, { number, pool: poolOf(number), windows: slabWindows(names, slots, slab), carriers: new Map(), firstSeen: s ? s.first : null, lastSeen: s ? s.last : null });
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
  const plan = foldPlan(windows, names[names.length - 1]!, max, fresh);
  const share = shareOf(windows, carrierNames);
  for (const name of names) {
    windows.forEach(name, (number, carrier, sums, o, id) => {
      put(number);
      let pc = carriers.get(carrier);
      if (!pc) carriers.set(carrier, (pc = emptyWindows(names)));
      addAt(pc[name], sums, o);
      const n = fresh.get(number);
      if (!n) return;
      addRow(n.windows, name, sums, o);
      const fold = plan.get(number);
      const key = fold && !fold.keep.has(carrier) ? OTHER_CARRIER : carrier;
      let c = n.carriers.get(key);
      // Made in the first window the pair is in (1h included): the Map's order is the one consumers have always seen.
      if (!c) n.carriers.set(key, (c = carrierRecord(share, fold !== undefined, id, carrierNames, carrierSlots, slab)));
      if (c instanceof SlabWindows) addRow(c, name, sums, o);
    });
  }
  if (missing) return takeSnapshot(windows, seen, poolOf, known(), o);
  for (const [number, fold] of plan) fresh.get(number)!.foldedCarriers = fold.folded;
  return { at: windows.at, numbers, carriers };
}

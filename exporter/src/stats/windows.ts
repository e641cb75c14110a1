import { WINDOWS, type WindowName } from '../model/types.js';
import { bucketColumnsOf, type BucketColumns, type BucketDelta, type Store } from '../store/db.js';
import { F_CALLS, FIELDS, type Vector } from './vector.js';
import { WindowViews } from './windowViews.js';

/** A pair's sums in a window, as WindowSet.copyOf gives them. */
export interface KeyedVector {
  number: string;
  carrier: string;
  v: Vector;
}

export function lowerEdge(at: number, widthMs: number, bucketMs: number): number {
  return Math.floor((at - widthMs) / bucketMs) * bucketMs + bucketMs;
}

export function upperEdge(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs) * bucketMs;
}

/**
 * Ids for number × carrier pairs, shared by every window: a pair's strings are held once, and its sums sit at
 * `id × FIELDS` in each window's array. At 10k numbers the windows held ~150k pairs as a Map entry, an object and a
 * Float64Array view each (~30 MB of heap beside the sums themselves); now they are rows of five typed arrays.
 * `holders`: windows holding the pair; at 0 its id is free for the next new pair.
 */
class PairIds {
  private readonly byKey = new Map<string, number>();
  readonly number: string[] = [];
  readonly carrier: string[] = [];
  readonly key: string[] = [];
  private holders = new Int32Array(1024);
  private readonly free: number[] = [];
  /** The snapshot record reading the pair's live rows, by id (RowShare): copied out before a shared window changes them. */
  readonly sharer: Array<PairRows | undefined> = [];

  /** One past the highest id given out: every window's arrays cover ids below it. */
  get size(): number {
    return this.number.length;
  }

  idOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  hold(number: string, carrier: string, key: string): number {
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.number.length;
      this.number[id] = number;
      this.carrier[id] = carrier;
      this.key[id] = key;
      if (id >= this.holders.length) {
        const grown = new Int32Array(this.holders.length * 2);
        grown.set(this.holders);
        this.holders = grown;
      }
      this.byKey.set(key, id);
    }
    this.holders[id]++;
    return id;
  }

  release(id: number): void {
    if (--this.holders[id] > 0) return;
    this.byKey.delete(this.key[id]);
    this.number[id] = this.carrier[id] = this.key[id] = '';
    this.free.push(id);
  }
}

/** What WindowSet.forEach hands each pair: its strings, its sums at `sums[offset…offset + FIELDS)` and its id (RowShare.rowsOf). */
export type PairVisitor = (number: string, carrier: string, sums: Float64Array, offset: number, id: number) => void;

/** Before a shared window changes pair `id`'s row: the record reading it in place (if any) takes its own copy. */
function detach(pairs: PairIds, id: number): void {
  const r = pairs.sharer[id];
  if (r === undefined) return;
  r.detach();
  pairs.sharer[id] = undefined;
}

class Window {
  /** Sums by pair id (FIELDS each); a row is zeroed when the window takes the pair. */
  sums = new Float64Array(0);
  /** Pair ids in the order this window took them (a Map's insertion order, which the JSON and /metrics follow); -1: let go. */
  private order = new Int32Array(16);
  private orderLength = 0;
  private holes = 0;
  /** Position in `order` by pair id; -1: not held. */
  private slotOf = new Int32Array(0);
  held = 0;
  edge = Number.NaN;
  /** Snapshots read this window's rows in place (RowShare): a row is copied out to them before it changes. */
  shared = false;
  constructor(readonly name: WindowName, readonly widthMs: number, private readonly touched: Set<string>, private readonly pairs: PairIds) {}

  /** Whether the window holds pair `id` (its row counts). */
  holds(id: number): boolean {
    return id < this.slotOf.length && this.slotOf[id] >= 0;
  }

  clear(): void {
    for (let i = 0; i < this.orderLength; i++) {
      const id = this.order[i];
      if (id < 0) continue;
      this.slotOf[id] = -1;
      this.pairs.release(id);
    }
    this.orderLength = this.holes = this.held = 0;
  }

  forEach(visit: PairVisitor): void {
    const { order, pairs } = this;
    for (let i = 0; i < this.orderLength; i++) {
      const id = order[i];
      if (id >= 0) visit(pairs.number[id], pairs.carrier[id], this.sums, id * FIELDS, id);
    }
  }

  /** `key`: the pair's key when the caller made it already (one string for every window a bucket falls in). */
  apply(d: { number: string; carrier: string; v: ArrayLike<number> }, sign: 1 | -1, key = `${d.number}\u0000${d.carrier}`): void {
    this.applyAt(d.number, d.carrier, key, d.v, 0, sign);
  }

  /** apply, the sums read at v[from…from + FIELDS) (a row of a batch's columns). */
  applyAt(number: string, carrier: string, key: string, v: ArrayLike<number>, from: number, sign: 1 | -1): void {
    this.touched.add(number);
    const id = this.pairs.idOf(key) ?? -1;
    if (sign < 0 && (id < 0 || !this.holds(id))) return;
    this.addRow(id, number, carrier, key, v, from, sign);
  }

  /**
   * applyAt for a row whose pair id the caller may know already (`id`; -1: not known): returns the pair's id, or -1
   * when the row let it go. The caller marks the number touched.
   */
  addRow(id: number, number: string, carrier: string, key: string, v: ArrayLike<number>, from: number, sign: 1 | -1 = 1): number {
    if (id < 0) id = this.pairs.idOf(key) ?? -1;
    if (id < 0 || !this.holds(id)) {
      id = this.pairs.hold(number, carrier, key);
      if (this.shared) detach(this.pairs, id);
      this.take(id);
    } else if (this.shared) detach(this.pairs, id);
    const o = id * FIELDS;
    const sums = this.sums;
    for (let i = 0; i < FIELDS; i++) sums[o + i] += sign * v[from + i];
    if (sums[o + F_CALLS] <= 0) {
      this.letGo(id);
      return -1;
    }
    return id;
  }

  private take(id: number): void {
    this.cover(this.pairs.size);
    this.sums.fill(0, id * FIELDS, (id + 1) * FIELDS);
    if (this.orderLength === this.order.length) {
      if (this.holes * 2 > this.orderLength) this.compact();
      else {
        const grown = new Int32Array(this.order.length * 2);
        grown.set(this.order);
        this.order = grown;
      }
    }
    this.slotOf[id] = this.orderLength;
    this.order[this.orderLength++] = id;
    this.held++;
  }

  private letGo(id: number): void {
    this.order[this.slotOf[id]] = -1;
    this.slotOf[id] = -1;
    this.holes++;
    this.held--;
    this.pairs.release(id);
  }

  /** Drop the holes let-go pairs left in `order`, keeping the others' order. */
  private compact(): void {
    let n = 0;
    for (let i = 0; i < this.orderLength; i++) {
      const id = this.order[i];
      if (id < 0) continue;
      this.slotOf[id] = n;
      this.order[n++] = id;
    }
    this.orderLength = n;
    this.holes = 0;
  }

  /** Grow the arrays by id to cover ids below `ids` (doubling, so growth is amortised). */
  private cover(ids: number): void {
    if (ids <= this.slotOf.length) return;
    const cap = Math.max(1024, this.slotOf.length * 2, ids);
    const slotOf = new Int32Array(cap).fill(-1);
    slotOf.set(this.slotOf);
    this.slotOf = slotOf;
    const sums = new Float64Array(cap * FIELDS);
    sums.set(this.sums);
    this.sums = sums;
  }
}

/**
 * Snapshots' per-pair sums read from the live windows' rows instead of copies (copy-on-write): a record (PairRows)
 * reads the rows in place while they stay as they were when it was made, and takes its own copy of them just before a
 * shared window changes one (Window.apply, WindowSet.build). At 10k numbers the copies were ~21 MB of slab for ~36k
 * pairs; in place, a pair costs its record. One record per pair reads in place at a time (PairIds.sharer): while it
 * does, the pair's rows are what it was made from, so the next snapshot is handed the same record (rowsOf).
 */
/** What a RowShare reads of a window and of the pair ids. */
export interface SharedWindow {
  readonly sums: Float64Array;
  holds(id: number): boolean;
}
interface Sharers {
  readonly sharer: Array<PairRows | undefined>;
}

export class RowShare {
  /** Slot by window name (untracked: absent): the order of `windows`, as a record's own copy lays them out. */
  readonly slots: Partial<Record<WindowName, number>> = {};
  private chunk = new Float64Array(0);
  private used = 0;

  constructor(
    readonly names: readonly WindowName[],
    readonly windows: readonly SharedWindow[],
    private readonly pairs: Sharers,
  ) {
    names.forEach((n, i) => (this.slots[n] = i));
  }

  /** The record of pair `id`'s sums in these windows now (the one already reading them in place, if any). */
  rowsOf(id: number): PairRows {
    const cur = this.pairs.sharer[id];
    if (cur !== undefined) return cur;
    let held = 0;
    for (let i = 0; i < this.windows.length; i++) if (this.windows[i].holds(id)) held |= 1 << i;
    const r = new PairRows(this, id, held);
    this.pairs.sharer[id] = r;
    return r;
  }

  /** Room for one record's own rows (zeroed), cut from chunks shared by a few hundred records. */
  take(): { chunk: Float64Array; offset: number } {
    const need = this.windows.length * FIELDS;
    if (this.used + need > this.chunk.length) {
      this.chunk = new Float64Array(need * 256);
      this.used = 0;
    }
    const offset = this.used;
    this.used += need;
    return { chunk: this.chunk, offset };
  }

  /** Every record reading in place takes its copy (the windows are about to be rebuilt). */
  detachAll(): void {
    const sharer = this.pairs.sharer;
    for (let id = 0; id < sharer.length; id++) {
      const r = sharer[id];
      if (r === undefined) continue;
      r.detach();
      sharer[id] = undefined;
    }
  }
}

/**
 * One pair's sums in a RowShare's windows, as they were when the record was made; a window it was not held in reads
 * zero, an untracked one undefined. While attached a read copies the live row (a fresh array: a view of the live
 * row would change under a reader that kept it); detached, it is a view of the record's own copy. Windows are
 * getters: read them by name.
 */
export class PairRows extends WindowViews {
  private own: Float64Array | null = null;
  private ownOffset = 0;

  constructor(
    private readonly share: RowShare,
    private readonly id: number,
    /** Bit i: windows[i] held the pair when the record was made. */
    private readonly held: number,
  ) {
    super();
  }

  /** Whether it still reads the live rows (tests). */
  get attached(): boolean {
    return this.own === null;
  }

  /** Copy the held rows out of the live windows (RowShare: before one of them changes). */
  detach(): void {
    if (this.own !== null) return;
    const { chunk, offset } = this.share.take();
    const ws = this.share.windows;
    const from = this.id * FIELDS;
    for (let i = 0; i < ws.length; i++) if (this.held & (1 << i)) chunk.set(ws[i].sums.subarray(from, from + FIELDS), offset + i * FIELDS);
    this.own = chunk;
    this.ownOffset = offset;
  }

  protected view(name: WindowName): Vector {
    const slot = this.share.slots[name];
    if (slot === undefined) return undefined as unknown as Vector;
    if (this.own !== null) {
      const o = this.ownOffset + slot * FIELDS;
      return this.own.subarray(o, o + FIELDS);
    }
    if (!(this.held & (1 << slot))) return new Float64Array(FIELDS);
    const o = this.id * FIELDS;
    return this.share.windows[slot].sums.slice(o, o + FIELDS);
  }
}

/**
 * Event-time sliding windows over the stored buckets. A window of width W evaluated at
 * `at` holds the calls that started in (at − W, at], to the bucket's resolution b: bucket
 * [s, s + b) counts when lowerEdge ≤ s ≤ upperEdge, with lowerEdge = floor((at − W) / b)·b + b
 * and upperEdge = floor(at / b)·b. With 1 s buckets (reports) that is exact to the second.
 *
 * Only the running sums per number × carrier live in memory; when the lower edge moves,
 * the buckets that fell out are read back from SQLite and subtracted.
 */
export class WindowSet {
  private readonly windows: Window[];
  private upper = Number.POSITIVE_INFINITY;
  at = Number.NaN;
  /** Bumped whenever any window's sums may have changed: equal versions mean equal sums (snapshot reuse). */
  version = 0;
  /** Numbers whose sums in some window may have changed since the last takeChanges() (after a build: every number). */
  private touched = new Set<string>();
  private rebuilt = true;
  private readonly pairs = new PairIds();
  private share: RowShare | null = null;

  constructor(private readonly store: Store, private readonly bucketMs: number, names: WindowName[] = ['1h', '24h', '48h', '72h', '7d']) {
    this.windows = names.map((n) => new Window(n, WINDOWS[n], this.touched, this.pairs));
  }

  /**
   * Share the rows of the windows `names` (tracked ones, in this order) with snapshots: RowShare. One set of names per
   * WindowSet (the snapshot's per-carrier windows); asking with other names throws.
   */
  shareRows(names: readonly WindowName[]): RowShare {
    const s = this.share;
    if (s !== null) {
      if (s.names.length !== names.length || s.names.some((n, i) => n !== names[i])) throw new Error(`rows already shared for ${s.names.join(',')}, not ${names.join(',')}`);
      return s;
    }
    const ws = names.map((n) => this.window(n));
    for (const w of ws) w.shared = true;
    return (this.share = new RowShare(names, ws, this.pairs));
  }

  /** The numbers whose sums may have changed since the last call, or 'all' after a build; then starts afresh. */
  takeChanges(): Set<string> | 'all' {
    const r = this.rebuilt ? 'all' : new Set(this.touched);
    this.touched.clear();
    this.rebuilt = false;
    return r;
  }

  /** Load every window from the store, evaluated at `at`; `closed` also drops buckets after `at` (reports). */
  build(at: number, closed: boolean): void {
    this.version++;
    this.rebuilt = true;
    this.at = at;
    this.upper = closed ? upperEdge(at, this.bucketMs) + this.bucketMs : Number.POSITIVE_INFINITY;
    this.share?.detachAll(); // clear() leaves the rows as they are and a take copies out first: this only makes it not depend on that
    for (const w of this.windows) {
      w.clear();
      w.edge = lowerEdge(at, w.widthMs, this.bucketMs);
      const to = Number.isFinite(this.upper) ? this.upper : Number.MAX_SAFE_INTEGER;
      for (const row of this.store.sumBuckets(w.edge, to)) w.apply(row, 1);
    }
  }

  /** Move the open windows forward to `at` (serve, at the wall clock). */
  advance(at: number): void {
    if (Number.isNaN(this.at)) return this.build(at, false);
    if (at <= this.at) return;
    this.at = at;
    for (const w of this.windows) {
      const edge = lowerEdge(at, w.widthMs, this.bucketMs);
      if (edge <= w.edge) continue;
      const leaving = this.store.bucketsBetween(w.edge, edge);
      if (leaving.length > 0) this.version++;
      for (const row of leaving) w.apply(row, -1);
      w.edge = edge;
    }
  }

  /** A committed batch: count its buckets in every window they fall in. */
  addBuckets(buckets: Iterable<BucketDelta>): void {
    // Windows not built yet (report, before its snapshot) never read them: a call log's buckets are made when read.
    if (!Number.isNaN(this.at)) this.addColumns(bucketColumnsOf(buckets));
  }

  /**
   * addBuckets for a batch's columns: the same rows in the same order. Per pair, not per row and window: its key
   * string, its id (shared by the windows) and its number marked touched; a 10M-row backfill did those ~20M times.
   */
  addColumns(c: BucketColumns): void {
    if (Number.isNaN(this.at)) return;
    this.version++;
    const keys: (string | undefined)[] = new Array(c.pairs.length);
    // The pair's id once a window took it (-1: not looked up, or let go since).
    const ids = new Int32Array(c.pairs.length).fill(-1);
    for (let r = 0; r < c.n; r++) {
      const bucket = c.bucket[r];
      if (bucket >= this.upper) continue;
      const pi = c.pair[r];
      const p = c.pairs[pi];
      for (const w of this.windows) {
        if (bucket < w.edge) continue;
        let key = keys[pi];
        if (key === undefined) {
          key = keys[pi] = `${p.number}\u0000${p.carrier}`;
          this.touched.add(p.number);
        }
        ids[pi] = w.addRow(ids[pi], p.number, p.carrier, key, c.v, r * FIELDS);
      }
    }
  }

  /** Visit the pairs `name` holds, in the order it took them (see PairVisitor). */
  forEach(name: WindowName, visit: PairVisitor): void {
    this.window(name).forEach(visit);
  }

  /** How many pairs `name` holds. */
  size(name: WindowName): number {
    return this.window(name).held;
  }

  /** A copy of `name`'s sums keyed by `number\u0000carrier`, in forEach's order (tests and tools: it allocates). */
  copyOf(name: WindowName): Map<string, KeyedVector> {
    const out = new Map<string, KeyedVector>();
    this.forEach(name, (number, carrier, sums, o) => out.set(`${number}\u0000${carrier}`, { number, carrier, v: sums.slice(o, o + FIELDS) }));
    return out;
  }

  private window(name: WindowName): Window {
    const w = this.windows.find((x) => x.name === name);
    if (!w) throw new Error(`window ${name} not tracked`);
    return w;
  }

  names(): WindowName[] {
    return this.windows.map((w) => w.name);
  }
}

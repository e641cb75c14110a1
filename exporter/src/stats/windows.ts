import { WINDOWS, type WindowName } from '../model/types.js';
import type { BucketDelta, Store } from '../store/db.js';
import { F_CALLS, FIELDS, type Vector } from './vector.js';

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

/** What WindowSet.forEach hands each pair: its strings and its sums at `sums[offset…offset + FIELDS)`. */
export type PairVisitor = (number: string, carrier: string, sums: Float64Array, offset: number) => void;

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
  constructor(readonly name: WindowName, readonly widthMs: number, private readonly touched: Set<string>, private readonly pairs: PairIds) {}

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
      if (id >= 0) visit(pairs.number[id], pairs.carrier[id], this.sums, id * FIELDS);
    }
  }

  /** `key`: the pair's key when the caller made it already (one string for every window a bucket falls in). */
  apply(d: { number: string; carrier: string; v: ArrayLike<number> }, sign: 1 | -1, key = `${d.number}\u0000${d.carrier}`): void {
    this.touched.add(d.number);
    let id = this.pairs.idOf(key);
    if (id === undefined || id >= this.slotOf.length || this.slotOf[id] < 0) {
      if (sign < 0) return;
      id = this.pairs.hold(d.number, d.carrier, key);
      this.take(id);
    }
    const o = id * FIELDS;
    const sums = this.sums;
    const v = d.v;
    for (let i = 0; i < FIELDS; i++) sums[o + i] += sign * v[i];
    if (sums[o + F_CALLS] <= 0) this.letGo(id);
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

  constructor(private readonly store: Store, private readonly bucketMs: number, names: WindowName[] = ['1h', '24h', '48h', '72h', '7d']) {
    const pairs = new PairIds();
    this.windows = names.map((n) => new Window(n, WINDOWS[n], this.touched, pairs));
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
    if (Number.isNaN(this.at)) return;
    this.version++;
    for (const b of buckets) {
      if (b.bucket >= this.upper) continue;
      // One key string per bucket, not one per window: the same string object keeps its hash for every Map lookup.
      let key: string | undefined;
      for (const w of this.windows) if (b.bucket >= w.edge) w.apply(b, 1, (key ??= `${b.number}\u0000${b.carrier}`));
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

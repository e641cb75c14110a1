import { WINDOWS, type WindowName } from '../model/types.js';
import type { BucketDelta, Store } from '../store/db.js';
import { addInto, F_CALLS, FIELDS, type Vector } from './vector.js';

/**
 * Event-time sliding windows over the stored buckets. A window of width W evaluated at
 * `at` holds the calls that started in (at − W, at], to the bucket's resolution b: bucket
 * [s, s + b) counts when lowerEdge ≤ s ≤ upperEdge, with lowerEdge = floor((at − W) / b)·b + b
 * and upperEdge = floor(at / b)·b. With 1 s buckets (reports) that is exact to the second.
 *
 * Only the running sums per number × carrier live in memory; when the lower edge moves,
 * the buckets that fell out are read back from SQLite and subtracted.
 */
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
 * The running sums' vectors, cut from shared slabs and recycled: at 10k numbers there are ~90k of
 * them (number x carrier x window), and a Float64Array of 15 on its own carries a backing store of its
 * own (over V8's on-heap limit), ~20 MB more in all. A vector given back is zeroed when taken again.
 */
class VectorPool {
  private slab = new Float64Array(0);
  private used = 0;
  private readonly free: Vector[] = [];
  take(): Vector {
    const v = this.free.pop();
    if (v) return v.fill(0);
    if (this.used + FIELDS > this.slab.length) {
      this.slab = new Float64Array(FIELDS * 4096);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + FIELDS);
    this.used += FIELDS;
    return out;
  }
  give(v: Vector): void {
    this.free.push(v);
  }
}

/**
 * One number × carrier pair's strings, shared by every window that holds it: five windows used to keep five
 * copies of the number, the carrier and the map key (strings read from SQLite rows are new each time), ~0.5 KB a
 * pair (~150 MB at 100k numbers). `holders`: windows holding the pair; at 0 it is forgotten.
 */
interface Pair {
  number: string;
  carrier: string;
  key: string;
  holders: number;
}

class Pairs {
  private readonly byKey = new Map<string, Pair>();
  hold(number: string, carrier: string, key: string): Pair {
    let p = this.byKey.get(key);
    if (!p) {
      p = { number, carrier, key, holders: 0 };
      this.byKey.set(key, p);
    }
    p.holders++;
    return p;
  }
  release(key: string): void {
    const p = this.byKey.get(key);
    if (p && --p.holders <= 0) this.byKey.delete(key);
  }
}

class Window {
  readonly sums = new Map<string, KeyedVector>();
  edge = Number.NaN;
  constructor(readonly name: WindowName, readonly widthMs: number, private readonly touched: Set<string>, private readonly pool: VectorPool, private readonly pairs: Pairs) {}

  clear(): void {
    for (const [key, s] of this.sums) {
      this.pool.give(s.v);
      this.pairs.release(key);
    }
    this.sums.clear();
  }

  /** `key`: the pair's key when the caller made it already (one string for every window a bucket falls in). */
  apply(d: { number: string; carrier: string; v: ArrayLike<number> }, sign: 1 | -1, key = `${d.number}\u0000${d.carrier}`): void {
    this.touched.add(d.number);
    let s = this.sums.get(key);
    if (!s) {
      if (sign < 0) return;
      const pair = this.pairs.hold(d.number, d.carrier, key);
      s = { number: pair.number, carrier: pair.carrier, v: this.pool.take() };
      this.sums.set(pair.key, s);
    }
    addInto(s.v, d.v, sign);
    if (s.v[F_CALLS] <= 0) {
      this.sums.delete(key);
      this.pool.give(s.v);
      this.pairs.release(key);
    }
  }
}

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
    const pool = new VectorPool();
    const pairs = new Pairs();
    this.windows = names.map((n) => new Window(n, WINDOWS[n], this.touched, pool, pairs));
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

  get(name: WindowName): Map<string, KeyedVector> {
    const w = this.windows.find((x) => x.name === name);
    if (!w) throw new Error(`window ${name} not tracked`);
    return w.sums;
  }

  names(): WindowName[] {
    return this.windows.map((w) => w.name);
  }
}

// Recipient fatigue (docs/metrics.md#recipient-fatigue): how often our numbers ring the same consumer. Each counted
// call leaves a dial — our number, the call's start second and the keyed hash of the consumer's number (SipHash-2-4
// under the database's secret: classify/classifier.ts) — and nothing else about the consumer. The figures per number
// and per pool, over 24 h and 7 d, are made from those dials on demand (fatigueAt), with the clock passed in.
//
// A dial is over the cap when the consumer already had `cap` dials from the same number (for the number's figures)
// or from any number of the same pool (for the pool's) in the 24 h before it: the 4th call of a day with the default
// cap of 3. Windows hold the dials that started in (at − W, at]; the 24 h before a dial may reach back further.

import type { WindowName } from '../model/types.js';

export const FATIGUE_WINDOWS = ['24h', '7d'] as const satisfies readonly WindowName[];
export type FatigueWindow = (typeof FATIGUE_WINDOWS)[number];

/** Calls to one consumer in 24 h beyond which a call is over the cap (analytics engines; several US states' laws). */
export const DEFAULT_DAILY_CAP = 3;
/**
 * Dials remembered at most: 16 bytes each in the log, and up to ~110 bytes each for the moment a refresh of the
 * figures takes (docs/metrics.md#recipient-fatigue). Beyond it the earliest read are forgotten first.
 */
export const DEFAULT_MAX_DIALS = 1_000_000;
/** How long dials are kept: the widest window plus the 24 h a dial's cap looks back. */
export const DIAL_RETENTION_MS = 8 * 86_400_000;

const DAY_SEC = 86_400;
const WINDOW_SEC: Record<FatigueWindow, number> = { '24h': DAY_SEC, '7d': 7 * DAY_SEC };

/**
 * The dials of the retention, in columns (16 bytes a dial, no object per dial): our number's index, the start
 * second and the consumer hash's two halves.
 */
export class DialLog {
  private readonly ids = new Map<string, number>();
  /** Our numbers by index. */
  readonly numbers: string[] = [];
  nid = new Uint32Array(1024);
  ts = new Uint32Array(1024);
  hi = new Uint32Array(1024);
  lo = new Uint32Array(1024);
  n = 0;
  /** Bumped by every change (cached figures are remade only then). */
  version = 0;
  /** Dials forgotten because the log was full (numrep_fatigue_dials_dropped_total). */
  dropped = 0;

  constructor(readonly maxDials = DEFAULT_MAX_DIALS) {
    if (!Number.isInteger(maxDials) || maxDials < 1) throw new Error(`fatigue max_dials must be a whole number ≥ 1, got ${maxDials}`);
  }

  add(number: string, hi: number, lo: number, tsSec: number): void {
    let id = this.ids.get(number);
    if (id === undefined) {
      id = this.numbers.length;
      this.ids.set(number, id);
      this.numbers.push(number);
    }
    if (this.n >= this.maxDials) this.dropOldest(Math.max(1, this.maxDials >>> 3));
    if (this.n === this.ts.length) this.grow();
    const i = this.n++;
    this.nid[i] = id;
    this.ts[i] = tsSec;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.version++;
  }

  /** Forget the dials of calls that started before `beforeSec`; returns how many. */
  forgetBefore(beforeSec: number): number {
    return this.compact((i) => this.ts[i] >= beforeSec);
  }

  /** Bytes the columns hold. */
  get bytes(): number {
    return this.ts.byteLength * 4;
  }

  /** The first `count` dials in reading order (the log is full): mostly the oldest calls. */
  private dropOldest(count: number): void {
    this.dropped += this.compact((i) => i >= count) === 0 ? 0 : count;
  }

  private compact(keep: (i: number) => boolean): number {
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      if (!keep(i)) continue;
      this.nid[w] = this.nid[i];
      this.ts[w] = this.ts[i];
      this.hi[w] = this.hi[i];
      this.lo[w] = this.lo[i];
      w++;
    }
    const removed = this.n - w;
    this.n = w;
    if (removed > 0) this.version++;
    return removed;
  }

  private grow(): void {
    const cap = Math.min(Math.max(this.maxDials, 1024), this.ts.length * 2);
    const more = (a: Uint32Array) => {
      const b = new Uint32Array(Math.max(cap, a.length + 1));
      b.set(a);
      return b;
    };
    this.nid = more(this.nid);
    this.ts = more(this.ts);
    this.hi = more(this.hi);
    this.lo = more(this.lo);
  }
}

/** One scope's figures in one window. */
export interface FatigueFigures {
  /** Calls (dials) in the window. */
  calls: number;
  /** Distinct consumers dialled. */
  consumers: number;
  /** Calls to a consumer already dialled in the window: (calls − consumers) / calls; null over no calls. */
  repeat_dial_ratio: number | null;
  /** Consumers with at least one call over the cap in the window. */
  consumers_over_cap: number;
  /** Calls over the cap in the window. */
  attempts_over_cap: number;
}

export interface FatigueScope {
  /** The cap these figures were judged against (calls to one consumer in 24 h). */
  cap: number;
  '24h': FatigueFigures;
  '7d': FatigueFigures;
}

export interface FatigueSnapshot {
  at: number;
  numbers: Map<string, FatigueScope>;
  pools: Map<string, FatigueScope>;
}

export interface FatigueOptions {
  poolOf(number: string): string;
  /** The daily cap of a pool (config fatigue.daily_cap, per pool in fatigue.pools). */
  capOf(pool: string): number;
}

function emptyFigures(): FatigueFigures {
  return { calls: 0, consumers: 0, repeat_dial_ratio: null, consumers_over_cap: 0, attempts_over_cap: 0 };
}

export function emptyScope(cap: number): FatigueScope {
  return { cap, '24h': emptyFigures(), '7d': emptyFigures() };
}

/**
 * The figures at `at` (UTC ms) per number and per pool. Dials after `at` are left out. Cost: one pass over the
 * dials of the last 8 days per scope kind, grouped by (scope, consumer) with a radix sort (see pass).
 */
export function fatigueAt(log: DialLog, at: number, o: FatigueOptions): FatigueSnapshot {
  const steps = fatigueSteps(log, at, o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The dials' columns as fatigueSteps reads them (a DialLog, or a copy of one taken before a sliced pass). */
type Dials = Pick<DialLog, 'n' | 'nid' | 'ts' | 'hi' | 'lo' | 'numbers'>;

/**
 * fatigueAt in slices (serve's /metrics render): the dials are copied first (16 bytes each), so commits and prunes
 * between slices change nothing here; `turn` is awaited between slices of about 64k dials, so the event loop
 * answers /healthz and signals meanwhile.
 */
export async function fatigueAtSliced(log: DialLog, at: number, o: FatigueOptions, turn: () => Promise<void>): Promise<FatigueSnapshot> {
  const n = log.n;
  const copy: Dials = { n, nid: log.nid.slice(0, n), ts: log.ts.slice(0, n), hi: log.hi.slice(0, n), lo: log.lo.slice(0, n), numbers: log.numbers.slice() };
  const steps = fatigueSteps(copy, at, o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await turn();
  }
}

/** Dials between two yields of fatigueSteps. */
const SLICE_DIALS = 1 << 16;

function* fatigueSteps(log: Dials, at: number, o: FatigueOptions): Generator<void, FatigueSnapshot> {
  const atSec = Math.floor(at / 1000);
  const from = atSec - WINDOW_SEC['7d'] - DAY_SEC;
  // The dials of the lookback, by start and then by index: a counting sort on the start second (the lookback is
  // 8 days, 691,200 seconds), reading the dials in index order. Sorting (start, index) keys as doubles was ~70 ms
  // for the held-out file's 856k dials, which are nearly but not exactly in start order.
  const firstAt = new Uint32Array(atSec - from + 1);
  let m = 0;
  for (let i = 0; i < log.n; i++) {
    const t = log.ts[i];
    if (t > from && t <= atSec) {
      firstAt[t - from]++;
      m++;
    }
  }
  for (let second = 0, sum = 0; second < firstAt.length; second++) {
    const c = firstAt[second];
    firstAt[second] = sum;
    sum += c;
  }
  const sel = new Uint32Array(m);
  for (let i = 0; i < log.n; i++) {
    const t = log.ts[i];
    if (t > from && t <= atSec) sel[firstAt[t - from]++] = i;
  }

  const poolNames: string[] = [];
  const poolIds = new Map<string, number>();
  const numberPool = new Int32Array(log.numbers.length);
  for (let id = 0; id < log.numbers.length; id++) {
    const p = o.poolOf(log.numbers[id]);
    let pid = poolIds.get(p);
    if (pid === undefined) {
      pid = poolNames.length;
      poolIds.set(p, pid);
      poolNames.push(p);
    }
    numberPool[id] = pid;
  }
  const caps = poolNames.map((p) => capOf(o, p));

  const numbers = new Map<string, FatigueScope>();
  const pools = new Map<string, FatigueScope>();
  const numberCaps = Int32Array.from(numberPool, (p) => caps[p]);
  yield;
  const perNumber = yield* pass(log, sel, atSec, log.nid, numberCaps);
  for (let id = 0; id < log.numbers.length; id++) if (perNumber[id]) numbers.set(log.numbers[id], perNumber[id]!);
  const dialPool = new Uint32Array(log.n);
  for (let i = 0; i < log.n; i++) dialPool[i] = numberPool[log.nid[i]];
  const perPool = yield* pass(log, sel, atSec, dialPool, Int32Array.from(caps));
  for (let pid = 0; pid < poolNames.length; pid++) if (perPool[pid]) pools.set(poolNames[pid], perPool[pid]!);
  return { at, numbers, pools };
}

function capOf(o: FatigueOptions, pool: string): number {
  const c = o.capOf(pool);
  if (!Number.isInteger(c) || c < 1 || c > 1000) throw new Error(`fatigue cap of pool ${pool} must be a whole number from 1 to 1000, got ${c}`);
  return c;
}

/** The 32-bit hash a dial is grouped by: its scope and consumer (a (scope, consumer) pair's dials share it). */
export function pairHash(scope: number, hi: number, lo: number): number {
  return (lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(scope + 1, 0x85ebca6b)) >>> 0;
}

/** Words per dial record in a pass: the pair's hash, the scope, the consumer hash's halves, the start. */
const REC = 5;

/**
 * Records of `stride` words ordered by their first word (unsigned 32-bit), equal keys in their order: a radix
 * sort on 11-bit digits (three passes, 2,048 buckets: few enough write streams to stay in cache), moving the
 * records themselves so that what reads them afterwards reads memory in order. Returns a new array, unless
 * `overwrite`: then `records` is the sort's scratch (left in no useful order) and may be what is returned.
 */
export function sortRecordsByKey(records: Uint32Array, stride: number, overwrite = false): Uint32Array {
  const m = Math.floor(records.length / stride);
  // The pass's records are its own: sorting them where they are spares a 17 MB copy of 856k dials per pass.
  let from: Uint32Array = overwrite ? records.subarray(0, m * stride) : records.slice(0, m * stride);
  let to: Uint32Array = new Uint32Array(m * stride);
  // The three digits' counts in one read of the keys, not one read per digit.
  const counts = [new Uint32Array(1 << 11), new Uint32Array(1 << 11), new Uint32Array(1 << 11)];
  const [low, mid, high] = counts;
  for (let r = 0; r < from.length; r += stride) {
    const key = from[r];
    low[key & 0x7ff]++;
    mid[(key >>> 11) & 0x7ff]++;
    high[key >>> 22]++;
  }
  for (let digit = 0; digit < 3; digit++) {
    const shift = digit * 11;
    const offsets = counts[digit];
    let sum = 0;
    for (let d = 0; d < offsets.length; d++) {
      const c = offsets[d];
      offsets[d] = sum * stride;
      sum += c;
    }
    if (stride === REC) {
      // A pass's records, word by word without the inner loop: ~25 % less time for the sort.
      for (let r = 0; r < from.length; r += REC) {
        const d = (from[r] >>> shift) & 0x7ff;
        const w = offsets[d];
        offsets[d] = w + REC;
        to[w] = from[r];
        to[w + 1] = from[r + 1];
        to[w + 2] = from[r + 2];
        to[w + 3] = from[r + 3];
        to[w + 4] = from[r + 4];
      }
    } else {
      for (let r = 0; r < from.length; r += stride) {
        const d = (from[r] >>> shift) & 0x7ff;
        const w = offsets[d];
        offsets[d] = w + stride;
        for (let k = 0; k < stride; k++) to[w + k] = from[r + k];
      }
    }
    [from, to] = [to, from];
  }
  return from;
}

/**
 * One kind of scope (numbers or pools). The dials (in time order) are grouped by (scope, consumer): ordered by
 * the pair's hash with a stable radix sort, so a pair's dials are adjacent and still in time order, then each
 * pair is counted in a linear scan — no table of pairs (the held-out file's 856k dials are ~all distinct pairs).
 * Within a pair the starts of its last `cap` dials are kept (a ring), so a dial is over the cap when the oldest of
 * them is less than 24 h before it.
 */
function* pass(log: Dials, sel: Uint32Array, atSec: number, scopeOf: Uint32Array, capOfScope: Int32Array): Generator<void, (FatigueScope | undefined)[]> {
  const out: (FatigueScope | undefined)[] = new Array(capOfScope.length);
  const m = sel.length;
  if (m === 0) return out;
  let maxCap = 1;
  for (let s = 0; s < capOfScope.length; s++) maxCap = Math.max(maxCap, capOfScope[s]);
  const { hi: his, lo: los, ts: starts } = log;
  const unsorted = new Uint32Array(m * REC);
  for (let j = 0, r = 0; j < m; j++, r += REC) {
    const i = sel[j];
    const scope = scopeOf[i];
    unsorted[r] = pairHash(scope, his[i], los[i]);
    unsorted[r + 1] = scope;
    unsorted[r + 2] = his[i];
    unsorted[r + 3] = los[i];
    unsorted[r + 4] = starts[i];
  }
  const recs = sortRecordsByKey(unsorted, REC, true);
  yield;
  const from24 = atSec - WINDOW_SEC['24h'];
  const from7d = atSec - WINDOW_SEC['7d'];
  // Per scope: calls and calls over the cap in 7d and in 24h, then consumers and consumers over the cap in 7d and
  // in 24h (typed counters: no object touched per dial).
  const counts = new Float64Array(capOfScope.length * 8);
  const seen = new Uint8Array(capOfScope.length);
  const ring = new Uint32Array(maxCap);
  // Record offsets of a run of equal hashes that belong to another pair than the one being counted (a hash
  // collision): counted after it, in their order.
  let pending: number[] = [];
  /** The pair of the record at `first` over the records at `offsets` (all of a run, or those left of it). */
  const countPair = (offsets: number[] | null, first: number, end: number): void => {
    const scope = recs[first + 1];
    const hi = recs[first + 2];
    const lo = recs[first + 3];
    const cap = capOfScope[scope];
    const c = scope * 8;
    let count = 0;
    let head = 0;
    let last = 0;
    let lastOver = 0;
    const n = offsets === null ? (end - first) / REC : offsets.length;
    for (let k = 0; k < n; k++) {
      const r = offsets === null ? first + k * REC : offsets[k];
      if (offsets !== null && (recs[r + 1] !== scope || recs[r + 2] !== hi || recs[r + 3] !== lo)) {
        pending.push(r);
        continue;
      }
      const ts = recs[r + 4];
      // The ring holds the last `cap` starts; at `head` is the oldest once it is full.
      const over = count >= cap && ts - ring[head] < DAY_SEC;
      ring[head] = ts;
      head = head + 1 === cap ? 0 : head + 1;
      if (count < cap) count++;
      last = ts;
      if (over) lastOver = ts;
      if (ts > from7d) {
        counts[c]++;
        if (over) counts[c + 1]++;
        if (ts > from24) {
          counts[c + 2]++;
          if (over) counts[c + 3]++;
        }
      }
    }
    seen[scope] = 1;
    if (last > from7d) counts[c + 4]++;
    if (last > from24) counts[c + 5]++;
    if (lastOver > from7d) counts[c + 6]++;
    if (lastOver > from24) counts[c + 7]++;
  };
  const total = m * REC;
  let sliceEnd = SLICE_DIALS * REC;
  for (let r = 0; r < total; ) {
    if (r >= sliceEnd) {
      sliceEnd = r + SLICE_DIALS * REC;
      yield;
    }
    const h = recs[r];
    let end = r + REC;
    let collided = false;
    for (; end < total && recs[end] === h; end += REC) {
      collided ||= recs[end + 1] !== recs[r + 1] || recs[end + 2] !== recs[r + 2] || recs[end + 3] !== recs[r + 3];
    }
    if (end === r + REC) {
      // A pair of one dial (most of a dialer's): never over the cap (every cap is ≥ 1). Counted as countPair does,
      // without its call: no dial over the cap leaves `lastOver` at 0.
      const scope = recs[r + 1];
      const ts = recs[r + 4];
      const c = scope * 8;
      seen[scope] = 1;
      if (ts > from7d) {
        counts[c]++;
        counts[c + 4]++;
      }
      if (ts > from24) {
        counts[c + 2]++;
        counts[c + 5]++;
      }
      if (0 > from7d) counts[c + 6]++;
      if (0 > from24) counts[c + 7]++;
    } else if (!collided) countPair(null, r, end);
    else {
      // Each pair of the run in turn: the first record left decides the pair; the others wait for the next turn.
      let rest: number[] = [];
      for (let q = r; q < end; q += REC) rest.push(q);
      while (rest.length > 0) {
        pending = [];
        countPair(rest, rest[0], end);
        rest = pending;
      }
    }
    r = end;
  }
  for (let s = 0; s < capOfScope.length; s++) {
    if (seen[s] === 0) continue;
    const c = s * 8;
    const f = emptyScope(capOfScope[s]);
    f['7d'].calls = counts[c];
    f['7d'].attempts_over_cap = counts[c + 1];
    f['24h'].calls = counts[c + 2];
    f['24h'].attempts_over_cap = counts[c + 3];
    f['7d'].consumers = counts[c + 4];
    f['24h'].consumers = counts[c + 5];
    f['7d'].consumers_over_cap = counts[c + 6];
    f['24h'].consumers_over_cap = counts[c + 7];
    for (const w of FATIGUE_WINDOWS) f[w].repeat_dial_ratio = f[w].calls > 0 ? (f[w].calls - f[w].consumers) / f[w].calls : null;
    out[s] = f;
  }
  return out;
}

import type { CallRecord, Outcome } from '../model/types.js';
import { OUTCOMES } from '../model/types.js';
import type { BatchCommit, BucketColumns, BucketDelta, CounterDelta, NumberSeen, QuarantineEntry } from '../store/db.js';
import { addRecordAt, emptyVector, FIELDS, ATTESTATION_INDEX, DISPOSITION_CODE, OUTCOME_INDEX, type TallyOptions, DEFAULT_TALLY } from '../stats/vector.js';
import { CallLog, addLogged } from '../stats/callLog.js';
import type { SkipReason } from '../classify/classifier.js';
import { DEFAULT_QUARANTINE_LIMITS, keptText, type QuarantineLimits } from './redact.js';

export { CallLog, addLogged };

type Call = Pick<CallRecord, 'ts' | 'caller' | 'outcome' | 'talkSec' | 'attestation' | 'source' | 'blockEngine' | 'disposition'>;

/** Per number × carrier within a batch: its buckets by time and its all-time outcome counts. */
interface PairEntry {
  number: string;
  carrier: string;
  /** Index in the batch's pair list (the bucket rows' `pair`). */
  index: number;
  /** Its row with the latest bucket (-1: none yet): the head of its rows' chain (the batch's rowPrev). */
  newest: number;
  /** The row its last call went to, and that row's bucket start. */
  last: number;
  lastBucket: number;
  /**
   * Its bucket rows by bucket start, made the first time one of its calls goes back to an earlier bucket (rows of
   * one file come in time order, so most pairs never need it); null in call-log batches (report).
   */
  byBucket: Map<number, number> | null;
  /** Where its all-time outcome counts start in the batch's `pairOutcomes` (OUTCOMES.length of them). */
  outcomes: number;
  /** Index in CallLog.pairs (call-log batches), -1 until logged. */
  id: number;
}

/** Carriers a number's pairs are searched through in a list before a Map is made (most numbers have 1–4). */
const PAIR_LIST_MAX = 8;

/** A pair's bucket rows walked back for a call out of time order before they are kept in a Map. */
const ROW_WALK_MAX = 8;

interface NumberEntry {
  seen: NumberSeen;
  /** In first-seen order. */
  pairs: PairEntry[];
  /** By carrier, once the number has more than PAIR_LIST_MAX carriers. */
  byCarrier: Map<string, PairEntry> | null;
}

/**
 * Everything one chunk of input adds, aggregated in memory before one SQLite commit:
 * per number × carrier × bucket vectors, first/last seen, all-time totals, counters,
 * quarantined lines.
 *
 * The hot path (one call per accepted record) avoids building string keys: numbers, then
 * carriers, then buckets are looked up in nested maps, and accepted records are counted
 * per format; the commit rows are produced once, at `toCommit`.
 */
export class Batch {
  private readonly numbers = new Map<string, NumberEntry>();
  /** Every pair, in first-call order. */
  private readonly pairList: PairEntry[] = [];
  /** The bucket rows (BucketColumns): pair index, bucket start, the pair's previous row (-1: none), FIELDS sums. */
  private rowPair = new Int32Array(0);
  private rowBucket = new Float64Array(0);
  private rowPrev = new Int32Array(0);
  private rowV = new Float64Array(0);
  private rowCount = 0;
  private readonly accepted = new Map<string, number>();
  private lastNumber: NumberEntry | null = null;
  private lastCaller = '';
  /** Every pair's all-time outcome counts, OUTCOMES.length per pair: one array, not a typed array per pair. */
  private pairOutcomes = new Float64Array(64 * OUTCOMES.length);
  private pairCount = 0;
  readonly blocks = new Map<string, { carrier: string; engine: string; count: number }>();
  /** Rejections and skips by format and reason (accepted records are counted separately, see `counters`). */
  private readonly rejections = new Map<string, CounterDelta>();
  readonly quarantine: QuarantineEntry[] = [];
  /** Rejected records counted but not kept in `quarantine` (over QuarantineLimits.maxPerStep). */
  quarantineDropped = 0;
  records = 0;
  rejected = 0;
  skipped = 0;
  /** Keys of the calls counted here, as (hash hi, hash lo, source, start second) quads (classify/callKeys.ts). */
  private keyWords = new Uint32Array(0);
  private keyCount = 0;

  newestTs: number | null = null;

  /** Dials of the calls counted here (stats/fatigue.ts): our number, and (consumer hash hi, lo, start second) triples. */
  readonly dialNumbers: string[] = [];
  private dialWords = new Uint32Array(0);

  /** Set when the batch logs calls instead of aggregating buckets (see CallLog). */
  readonly calls: CallLog | null;

  private readonly limits: QuarantineLimits;

  constructor(private readonly bucketMs: number, private readonly tally: TallyOptions = DEFAULT_TALLY, opts: { callLog?: boolean; quarantine?: QuarantineLimits } = {}) {
    this.calls = opts.callLog ? new CallLog() : null;
    this.limits = opts.quarantine ?? DEFAULT_QUARANTINE_LIMITS;
  }

  /** The per number × carrier × bucket vectors of this batch (built from the call log when asked). */
  get buckets(): { values(): IterableIterator<BucketDelta>; readonly size: number } {
    const log = this.calls;
    if (log !== null) {
      let built: BucketDelta[] | null = null;
      const build = (): BucketDelta[] => {
        if (built) return built;
        const m = new Map<string, BucketDelta>();
        for (let i = 0; i < log.n; i++) {
          const key = `${log.pair[i]}\u0000${log.bucket[i]}`;
          let b = m.get(key);
          if (!b) {
            const p = log.pairs[log.pair[i]];
            m.set(key, (b = { number: p.number, carrier: p.carrier, bucket: log.bucket[i], v: emptyVector() }));
          }
          addLogged(b.v, 0, log.code[i], log.talk[i]);
        }
        return (built = [...m.values()]);
      };
      return {
        // Lazy: windows that are not built yet (report, before its snapshot) never ask.
        *values() {
          yield* build();
        },
        get size() {
          return build().length;
        },
      };
    }
    const c = this.bucketColumns!;
    function* rows(): IterableIterator<BucketDelta> {
      for (let r = 0; r < c.n; r++) {
        const p = c.pairs[c.pair[r]];
        yield { number: p.number, carrier: p.carrier, bucket: c.bucket[r], v: c.v.subarray(r * FIELDS, (r + 1) * FIELDS) };
      }
    }
    return { values: rows, size: c.n };
  }

  /** The bucket rows as columns (views, valid until the next call is added); null in call-log batches. */
  get bucketColumns(): BucketColumns | null {
    if (this.calls !== null) return null;
    const n = this.rowCount;
    return { n, pairs: this.pairList, pair: this.rowPair.subarray(0, n), bucket: this.rowBucket.subarray(0, n), v: this.rowV.subarray(0, n * FIELDS) };
  }

  /** First and last call time per number in this batch. */
  get seen(): Map<string, NumberSeen> {
    const m = new Map<string, NumberSeen>();
    for (const [n, e] of this.numbers) m.set(n, e.seen);
    return m;
  }

  /** number × carrier × outcome counts. */
  get totals(): Map<string, { number: string; carrier: string; outcome: string; count: number }> {
    const m = new Map<string, { number: string; carrier: string; outcome: string; count: number }>();
    for (const e of this.numbers.values()) {
      for (const p of e.pairs) {
        for (let i = 0; i < OUTCOMES.length; i++) {
          const count = this.pairOutcomes[p.outcomes + i];
          if (count > 0) m.set(`${p.number}\u0000${p.carrier}\u0000${OUTCOMES[i]}`, { number: p.number, carrier: p.carrier, outcome: OUTCOMES[i], count });
        }
      }
    }
    return m;
  }

  /**
   * The numbers in string order, the order of the store's keys: a commit's upserts then walk the totals and
   * numbers tables' B-trees front to back. In arrival order (callers interleaved) each one landed on another
   * page, ~7 µs a totals row against ~2.6 sorted (docs/performance.md, stop 29).
   */
  private entriesInKeyOrder(): NumberEntry[] {
    return [...this.numbers.values()].sort((a, b) => (a.seen.number < b.seen.number ? -1 : a.seen.number > b.seen.number ? 1 : 0));
  }

  /** The number × carrier × outcome rows of `totals`, by number, without keying them (a commit only iterates them). */
  private totalRows(entries: NumberEntry[]): { number: string; carrier: string; outcome: string; count: number }[] {
    const rows: { number: string; carrier: string; outcome: string; count: number }[] = [];
    const counts = this.pairOutcomes;
    for (const e of entries) {
      for (const p of e.pairs) {
        for (let i = 0; i < OUTCOMES.length; i++) {
          const count = counts[p.outcomes + i];
          if (count > 0) rows.push({ number: p.number, carrier: p.carrier, outcome: OUTCOMES[i], count });
        }
      }
    }
    return rows;
  }

  /** Records by format, result and reason. */
  get counters(): Map<string, CounterDelta> {
    this.flushSourceCount();
    const m = new Map<string, CounterDelta>();
    for (const [format, count] of this.accepted) m.set(`${format}\u0000accepted\u0000ok`, { format, result: 'accepted', reason: 'ok', count });
    for (const [k, c] of this.rejections) m.set(k, c);
    return m;
  }

  add(r: CallRecord): void {
    this.addCall(r, r.carrier);
  }

  /** The number's pair for `carrier`, made on its first call. */
  private pairOf(ne: NumberEntry, caller: string, carrier: string): PairEntry {
    const list = ne.pairs;
    if (ne.byCarrier === null) {
      for (let k = 0; k < list.length; k++) if (list[k].carrier === carrier) return list[k];
    } else {
      const p = ne.byCarrier.get(carrier);
      if (p !== undefined) return p;
    }
    const width = OUTCOMES.length;
    if ((this.pairCount + 1) * width > this.pairOutcomes.length) {
      const more = new Float64Array(this.pairOutcomes.length * 2);
      more.set(this.pairOutcomes);
      this.pairOutcomes = more;
    }
    const p: PairEntry = { number: caller, carrier, index: this.pairList.length, newest: -1, last: -1, lastBucket: Number.NaN, byBucket: null, outcomes: this.pairCount++ * width, id: -1 };
    list.push(p);
    this.pairList.push(p);
    if (ne.byCarrier !== null) ne.byCarrier.set(carrier, p);
    else if (list.length > PAIR_LIST_MAX) ne.byCarrier = new Map(list.map((q) => [q.carrier, q]));
    return p;
  }

  /** A record whose carrier was resolved apart (saves building a CallRecord per line). */
  addCall(r: Call, carrier: string): void {
    const ts = r.ts;
    const caller = r.caller;
    let ne = this.lastNumber;
    if (ne === null || this.lastCaller !== caller) {
      ne = this.numbers.get(caller) ?? null;
      if (ne === null) {
        ne = { seen: { number: caller, first: ts, last: ts }, pairs: [], byCarrier: null };
        this.numbers.set(caller, ne);
      }
      this.lastNumber = ne;
      this.lastCaller = caller;
    }
    const s = ne.seen;
    if (ts < s.first) s.first = ts;
    if (ts > s.last) s.last = ts;

    const p = this.pairOf(ne, caller, carrier);
    const bucket = Math.floor(ts / this.bucketMs) * this.bucketMs;
    const outcome = OUTCOME_INDEX[r.outcome as Outcome];
    this.pairOutcomes[p.outcomes + outcome] += 1;
    const log = this.calls;
    if (log !== null) {
      if (p.id < 0) {
        p.id = log.pairs.length;
        log.pairs.push({ number: caller, carrier });
      }
      const answered = r.outcome === 'answered';
      const short = answered && r.talkSec < this.tally.shortCallSeconds ? 32 : 0;
      const disp = r.disposition === undefined ? 0 : DISPOSITION_CODE[r.disposition] << 6;
      log.push(p.id, bucket, outcome | (ATTESTATION_INDEX[r.attestation] << 3) | short | disp, answered ? r.talkSec : 0);
    } else {
      let row = p.last;
      if (row < 0 || p.lastBucket !== bucket) {
        // Rows of one file come in time order: a bucket past the pair's latest is a new row, found without a lookup.
        row = p.newest < 0 || bucket > this.rowBucket[p.newest] ? -1 : this.rowOf(p, bucket);
        if (row < 0) row = this.newRow(p, bucket);
        p.last = row;
        p.lastBucket = bucket;
      }
      addRecordAt(this.rowV, row * FIELDS, r, this.tally);
    }

    if (r.outcome === 'blocked') {
      const engine = r.blockEngine ?? 'unknown';
      const bkey = `${carrier}\u0000${engine}`;
      const bl = this.blocks.get(bkey);
      if (bl) bl.count++;
      else this.blocks.set(bkey, { carrier, engine, count: 1 });
    }
    if (r.source === this.lastSource) this.lastSourceCount++;
    else this.countSource(r.source);
    this.records++;
    if (this.newestTs === null || ts > this.newestTs) this.newestTs = ts;
  }

  /**
   * The pair's row for an earlier bucket than its newest (a call out of time order), or -1: its rows are walked
   * back from the newest while there are few, then kept in a Map.
   */
  private rowOf(p: PairEntry, bucket: number): number {
    if (p.byBucket !== null) return p.byBucket.get(bucket) ?? -1;
    let steps = 0;
    for (let r = p.newest; r >= 0; r = this.rowPrev[r]) {
      if (this.rowBucket[r] === bucket) return r;
      if (++steps === ROW_WALK_MAX) {
        const m = new Map<number, number>();
        for (let q = p.newest; q >= 0; q = this.rowPrev[q]) m.set(this.rowBucket[q], q);
        p.byBucket = m;
        return m.get(bucket) ?? -1;
      }
    }
    return -1;
  }

  /** A new bucket row for pair `p`; the head of the pair's chain if its bucket is the latest. */
  private newRow(p: PairEntry, bucket: number): number {
    const r = this.rowCount;
    if (r === this.rowPair.length) this.growRows();
    this.rowCount = r + 1;
    this.rowPair[r] = p.index;
    this.rowBucket[r] = bucket; // its sums are zero: rows are only ever appended to arrays made zeroed
    p.byBucket?.set(bucket, r);
    if (p.newest < 0 || bucket > this.rowBucket[p.newest]) {
      this.rowPrev[r] = p.newest;
      p.newest = r;
    } else {
      // An earlier bucket: linked after the latest row, so the walk from the latest still meets every row.
      this.rowPrev[r] = this.rowPrev[p.newest];
      this.rowPrev[p.newest] = r;
    }
    return r;
  }

  private growRows(): void {
    // Small first (a live step holds a few calls), then doubling.
    const cap = Math.max(32, this.rowPair.length * 2);
    const grow = <T extends Int32Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.rowPair = grow(this.rowPair, cap);
    this.rowBucket = grow(this.rowBucket, cap);
    this.rowPrev = grow(this.rowPrev, cap);
    this.rowV = grow(this.rowV, cap * FIELDS);
  }

  /** Accepted records of the format of the last call, not yet in `accepted` (one Map update per run of a format). */
  private lastSource = '';
  private lastSourceCount = 0;

  private countSource(source: string): void {
    this.flushSourceCount();
    this.lastSource = source;
    this.lastSourceCount = 1;
  }

  private flushSourceCount(): void {
    if (this.lastSourceCount > 0) this.accepted.set(this.lastSource, (this.accepted.get(this.lastSource) ?? 0) + this.lastSourceCount);
    this.lastSourceCount = 0;
  }

  /** Rows accepted that are not calls (engine labels, inventory). */
  acceptOther(format: string, n: number): void {
    if (n <= 0) return;
    this.accepted.set(format, (this.accepted.get(format) ?? 0) + n);
    this.records += n;
  }

  /** A record the classification stage skipped (inbound, internal, leg, …): counted, never quarantined. */
  skip(format: string, reason: SkipReason): void {
    const key = `${format}\u0000skipped\u0000${reason}`;
    const c = this.rejections.get(key);
    if (c) c.count++;
    else this.rejections.set(key, { format, result: 'skipped', reason, count: 1 });
    this.skipped++;
  }

  rememberKey(hi: number, lo: number, source: number, tsSec: number): void {
    let w = this.keyWords;
    if (this.keyCount + 4 > w.length) {
      w = new Uint32Array(Math.max(4096, w.length * 2));
      w.set(this.keyWords);
      this.keyWords = w;
    }
    const i = this.keyCount;
    w[i] = hi;
    w[i + 1] = lo;
    w[i + 2] = source;
    w[i + 3] = tsSec;
    this.keyCount = i + 4;
  }

  addDial(caller: string, hi: number, lo: number, tsSec: number): void {
    const i = this.dialNumbers.length * 3;
    let w = this.dialWords;
    if (i + 3 > w.length) {
      w = new Uint32Array(Math.max(3072, w.length * 2));
      w.set(this.dialWords);
      this.dialWords = w;
    }
    w[i] = hi;
    w[i + 1] = lo;
    w[i + 2] = tsSec;
    this.dialNumbers.push(caller);
  }

  /** The dials' (hash hi, hash lo, start second) triples, in dialNumbers order (a view). */
  get dials(): { numbers: string[]; words: Uint32Array } {
    return { numbers: this.dialNumbers, words: this.dialWords.subarray(0, this.dialNumbers.length * 3) };
  }

  /** The remembered keys' quads (a view: valid until the next rememberKey). */
  get callKeys(): Uint32Array {
    return this.keyWords.subarray(0, this.keyCount);
  }

  /**
   * A rejected record: always counted; kept with its line masked and cut (redact.ts), up to maxPerStep per
   * batch, so a flood of bad lines costs bounded memory, database and disk.
   */
  reject(entry: QuarantineEntry): void {
    const l = this.limits;
    if (this.quarantine.length < l.maxPerStep) {
      this.quarantine.push({ ...entry, raw: keptText(entry.raw, l.maxRawChars), detail: keptText(entry.detail, l.maxDetailChars) });
    } else this.quarantineDropped++;
    const key = `${entry.format}\u0000rejected\u0000${entry.reason}`;
    const c = this.rejections.get(key);
    if (c) c.count++;
    else this.rejections.set(key, { format: entry.format, result: 'rejected', reason: entry.reason, count: 1 });
    this.rejected++;
  }

  get empty(): boolean {
    return this.records === 0 && this.rejected === 0 && this.skipped === 0;
  }

  toCommit(): Omit<BatchCommit, 'source'> {
    if (this.calls !== null) {
      // A one-shot run's store is in memory: no B-tree to walk in order.
      return { ...this.sideRows(), buckets: this.buckets.values(), calls: this.calls, seen: this.seen.values(), totals: { [Symbol.iterator]: () => this.totals.values() } };
    }
    const entries = this.entriesInKeyOrder();
    const buckets = this.buckets;
    return { ...this.sideRows(), buckets: { [Symbol.iterator]: () => buckets.values() }, bucketColumns: this.bucketColumns, seen: entries.map((e) => e.seen), totals: this.totalRows(entries) };
  }

  private sideRows(): Omit<BatchCommit, 'source' | 'buckets' | 'calls' | 'seen' | 'totals'> {
    return {
      blocks: this.blocks.values(),
      counters: this.counters.values(),
      quarantine: this.quarantine,
      callKeys: this.callKeys,
      dials: this.dials,
    };
  }
}

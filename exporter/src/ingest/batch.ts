import type { CallRecord } from '../model/types.js';
import type { BatchCommit, BucketDelta, CounterDelta, NumberSeen, QuarantineEntry } from '../store/db.js';
import { addRecord, emptyVector, type TallyOptions, DEFAULT_TALLY } from '../stats/vector.js';

/**
 * Everything one chunk of input adds, aggregated in memory before one SQLite commit:
 * per number × carrier × bucket vectors, first/last seen, all-time totals, counters,
 * quarantined lines.
 */
export class Batch {
  readonly buckets = new Map<string, BucketDelta>();
  readonly seen = new Map<string, NumberSeen>();
  readonly totals = new Map<string, { number: string; carrier: string; outcome: string; count: number }>();
  readonly blocks = new Map<string, { carrier: string; engine: string; count: number }>();
  readonly counters = new Map<string, CounterDelta>();
  readonly quarantine: QuarantineEntry[] = [];
  records = 0;
  rejected = 0;
  newestTs: number | null = null;

  constructor(private readonly bucketMs: number, private readonly tally: TallyOptions = DEFAULT_TALLY) {}

  add(r: CallRecord): void {
    const bucket = Math.floor(r.ts / this.bucketMs) * this.bucketMs;
    const key = `${r.caller}\u0000${r.carrier}\u0000${bucket}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { number: r.caller, carrier: r.carrier, bucket, v: emptyVector() };
      this.buckets.set(key, b);
    }
    addRecord(b.v, r, this.tally);

    const s = this.seen.get(r.caller);
    if (!s) this.seen.set(r.caller, { number: r.caller, first: r.ts, last: r.ts });
    else {
      if (r.ts < s.first) s.first = r.ts;
      if (r.ts > s.last) s.last = r.ts;
    }

    const tkey = `${r.caller}\u0000${r.carrier}\u0000${r.outcome}`;
    const t = this.totals.get(tkey);
    if (t) t.count++;
    else this.totals.set(tkey, { number: r.caller, carrier: r.carrier, outcome: r.outcome, count: 1 });

    if (r.outcome === 'blocked') {
      const engine = r.blockEngine ?? 'unknown';
      const bkey = `${r.carrier}\u0000${engine}`;
      const bl = this.blocks.get(bkey);
      if (bl) bl.count++;
      else this.blocks.set(bkey, { carrier: r.carrier, engine, count: 1 });
    }
    this.count(r.source, 'accepted', 'ok');
    this.records++;
    if (this.newestTs === null || r.ts > this.newestTs) this.newestTs = r.ts;
  }

  /** Rows accepted that are not calls (engine labels, inventory). */
  acceptOther(format: string, n: number): void {
    for (let i = 0; i < n; i++) this.count(format, 'accepted', 'ok');
    this.records += n;
  }

  reject(entry: QuarantineEntry): void {
    this.quarantine.push(entry);
    this.count(entry.format, 'rejected', entry.reason);
    this.rejected++;
  }

  private count(format: string, result: 'accepted' | 'rejected', reason: string): void {
    const key = `${format}\u0000${result}\u0000${reason}`;
    const c = this.counters.get(key);
    if (c) c.count++;
    else this.counters.set(key, { format, result, reason, count: 1 });
  }

  get empty(): boolean {
    return this.records === 0 && this.rejected === 0;
  }

  toCommit(): Omit<BatchCommit, 'source'> {
    return {
      buckets: this.buckets.values(),
      seen: this.seen.values(),
      totals: this.totals.values(),
      blocks: this.blocks.values(),
      counters: this.counters.values(),
      quarantine: this.quarantine,
    };
  }
}

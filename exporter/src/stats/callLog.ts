import { F_ATT0, F_CALLS, F_OUTCOME0, F_SHORT, F_TALK, OUTCOME_INDEX, addDisposition } from './vector.js';

/**
 * One-shot runs (report) keep buckets in memory (store/db.ts MemoryBuckets) and their buckets
 * are one second wide, so nearly every call is a bucket of its own: there the batch logs calls
 * in columns instead of building a vector per bucket, and the store sums them when asked.
 */
export class CallLog {
  pairs: { number: string; carrier: string }[] = [];
  pair = new Int32Array(1024);
  bucket = new Float64Array(1024);
  /** outcome index | attestation index << 3 | short << 5 | disposition code << 6 (vector.ts DISPOSITION_CODE) */
  code = new Uint8Array(1024);
  talk = new Float64Array(1024);
  n = 0;

  push(pair: number, bucket: number, code: number, talk: number): void {
    if (this.n === this.pair.length) this.grow();
    const i = this.n++;
    this.pair[i] = pair;
    this.bucket[i] = bucket;
    this.code[i] = code;
    this.talk[i] = talk;
  }

  private grow(): void {
    const cap = this.pair.length * 2;
    const pair = new Int32Array(cap);
    pair.set(this.pair);
    const bucket = new Float64Array(cap);
    bucket.set(this.bucket);
    const code = new Uint8Array(cap);
    code.set(this.code);
    const talk = new Float64Array(cap);
    talk.set(this.talk);
    this.pair = pair;
    this.bucket = bucket;
    this.code = code;
    this.talk = talk;
  }
}

const ANSWERED = OUTCOME_INDEX.answered;

/** Add one logged call into the vector at v[o…o+FIELDS), exactly as stats/vector.ts addRecord does. */
export function addLogged(v: Float64Array, o: number, code: number, talk: number): void {
  const outcome = code & 7;
  v[o + F_CALLS] += 1;
  v[o + F_OUTCOME0 + outcome] += 1;
  if (outcome === ANSWERED) {
    v[o + F_TALK] += talk;
    if (code & 32) v[o + F_SHORT] += 1;
  }
  v[o + F_ATT0 + ((code >> 3) & 3)] += 1;
  if (code >= 64) addDisposition(v, o, code >> 6);
}


import Database from 'better-sqlite3';
import { accessSync, chmodSync, closeSync, constants as fsConstants, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { VECTOR_COLUMNS, FIELDS, type Vector } from '../stats/vector.js';
import { addLogged, type CallLog } from '../stats/callLog.js';
import { OUTCOMES } from '../model/types.js';
import { keyFromRowId, type CallKeySet } from '../classify/callKeys.js';
import { createRemediationTables, Remediations } from './remediation.js';
import { StateSealer } from './sealed.js';
import { BLOCK_HOUR_MS, bucketBlocksOf, decodeBucketBlock, filterBucketBlock } from './bucketBlocks.js';

/** Order of text as SQLite's BINARY collation gives it for the numbers and carrier ids stored (UTF-16 order; they differ only past U+FFFF). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * SQLite state (docs/architecture.md#durability). better-sqlite3 is synchronous, so one `transaction()` call
 * commits a batch's buckets together with the file offset that produced them: a crash
 * lands either before or after the whole batch, never between.
 */

export const SCHEMA_VERSION = 8;


function byCarrierOutcome(a: { carrier: string; outcome: string }, b: { carrier: string; outcome: string }): number {
  return Buffer.compare(Buffer.from(a.carrier), Buffer.from(b.carrier)) || Buffer.compare(Buffer.from(a.outcome), Buffer.from(b.outcome));
}

function addCarrierTotal(rows: Map<string, { carrier: string; outcome: string; count: number }>, t: { carrier: string; outcome: string; count: number }): void {
  const k = `${t.carrier}\u0000${t.outcome}`;
  const cur = rows.get(k);
  if (cur) cur.count += t.count;
  else rows.set(k, { carrier: t.carrier, outcome: t.outcome, count: t.count });
}

export interface SourceState {
  id: number;
  path: string;
  dev: string;
  ino: string;
  /** sha1 of the first fpLen bytes: tells a new file from an old one on the same inode or path. */
  fingerprint: string;
  fpLen: number;
  offset: number;
  line: number;
  format: string | null;
  readerState: unknown;
  newestTs: number | null;
  rotations: number;
  truncations: number;
  bytesTotal: number;
  lastReadAt: number | null;
  /** `size:sha256` of a dropped file when first read whole, to skip the same file dropped twice. */
  contentHash: string | null;
  /** What this file's rows became, `result:reason` → rows (`accepted:ok`, `skipped:inbound`, `rejected:bad_timestamp`). */
  counts: Record<string, number>;
}

export interface BucketDelta {
  number: string;
  carrier: string;
  bucket: number;
  v: Vector;
}

/**
 * A batch's buckets as columns (Batch.bucketColumns): row r is the pair `pairs[pair[r]]` in the bucket starting at
 * `bucket[r]`, its sums at `v[r × FIELDS…]`. The same rows, in the same order, as the batch's BucketDelta iterable,
 * without an object and a view per bucket: a backfill's transaction holds ~45k of them for a second or more, long
 * enough for the young generation to copy them twice and promote them.
 */
export interface BucketColumns {
  n: number;
  pairs: readonly { readonly number: string; readonly carrier: string }[];
  pair: Int32Array;
  bucket: Float64Array;
  v: Float64Array;
}

export interface NumberSeen {
  number: string;
  first: number;
  last: number;
}

export interface CounterDelta {
  format: string;
  result: 'accepted' | 'rejected' | 'skipped';
  reason: string;
  count: number;
}

export interface BatchCommit {
  buckets: Iterable<BucketDelta>;
  /** The same buckets as columns, when the batch has them: a database store upserts these instead of `buckets`. */
  bucketColumns?: BucketColumns | null;
  /** The same calls as a call log (one-shot batches): a memory store takes these instead of `buckets`. */
  calls?: CallLog;
  seen: Iterable<NumberSeen>;
  /** number × carrier × outcome call counts for numrep_calls_total (never pruned). */
  totals: Iterable<{ number: string; carrier: string; outcome: string; count: number }>;
  blocks: Iterable<{ carrier: string; engine: string; count: number }>;
  counters: Iterable<CounterDelta>;
  quarantine: Iterable<QuarantineEntry>;
  /** Keys of counted calls, (hash hi, hash lo, source, start second) quads: remembered to count each call once. */
  callKeys?: ArrayLike<number>;
  /** Dials of counted calls (stats/fatigue.ts): our number and (consumer hash hi, lo, start second) triples. */
  dials?: { numbers: string[]; words: ArrayLike<number> };
  source?: SourceState;
  /**
   * A live capture's dialog changes (ingest/sip/dialogs.ts DialogChanges), with the rows that came of them in
   * the same transaction: open dialogs as JSON keyed by Call-ID in `live_dialogs` (`closed`: stored ones that
   * ended), finished Call-IDs appended as one row of `live_done` a commit, rows dropped once older than
   * `keepFrom` or beyond the newest `maxDone` Call-IDs.
   */
  dialogs?: { sourceId: number; open: Array<{ callId: string }>; closed: string[]; done: Array<[string, number]>; keepFrom: number; maxDone: number };
  /** Engine-label snapshots and inventory rows imported from a side file. */
  labels?: Iterable<LabelSnapshot>;
  inventory?: Iterable<InventoryEntry>;
}

export interface LabelSnapshot {
  number: string;
  engine: string;
  label: string;
  checkedAt: number;
  reports: number | null;
}

export interface HistoryRow {
  number: string;
  at: number;
  status: string;
  score: number;
  action: string;
  subscores: Record<string, number>;
  reason: string;
  /** 'status_change' when the status differs from the previous row, else null (periodic or score move). */
  event: string | null;
}

function rowToHistory(r: Record<string, unknown>): HistoryRow {
  return {
    number: String(r.number),
    at: Number(r.at),
    status: String(r.status),
    score: Number(r.score),
    action: String(r.action),
    subscores: JSON.parse(String(r.subscores)),
    reason: String(r.reason),
    event: (r.event as string | null) ?? null,
  };
}

export interface InventoryEntry {
  number: string;
  pool: string;
  campaign: string | null;
  registered: boolean | null;
  registeredAt: number | null;
}

export interface QuarantineEntry {
  file: string;
  line: number;
  format: string;
  reason: string;
  detail: string;
  raw: string;
  at: number;
}

const COLS = VECTOR_COLUMNS.join(', ');

/** MemoryBuckets' logged calls grouped by key: key id's calls are at [start[id], start[id + 1]). */
interface CallsByKey {
  version: number;
  start: Int32Array;
  times: Float64Array;
  code: Uint8Array;
  talk: Float64Array;
}

/**
 * Buckets kept in process memory instead of the `buckets` table: for one-shot runs into
 * `:memory:` (report), where nothing has to survive the process and the 1-second buckets
 * of a report are nearly one per call. Columnar (typed arrays), append-only; the window
 * queries are one linear pass. Same answers as the SQL queries.
 */
export class MemoryBuckets {
  private readonly keyIds = new Map<string, Map<string, number>>();
  private readonly keyNumber: string[] = [];
  private readonly keyCarrier: string[] = [];
  /** keysInOrder's answer for the keys there were then (keys are only ever added). */
  private sortedKeys = new Int32Array(0);
  /** Bumped whenever the logged calls change (added, pruned): callsByKey's copy is of one version. */
  private callsVersion = 0;
  private grouped: CallsByKey | null = null;
  private scratch = new Float64Array(0);
  private ids = new Int32Array(1024);
  private times = new Float64Array(1024);
  private values = new Float64Array(1024 * FIELDS);
  private n = 0;
  // Logged calls (CallLog), one row per call.
  private cIds = new Int32Array(1024);
  private cTimes = new Float64Array(1024);
  private cCode = new Uint8Array(1024);
  private cTalk = new Float64Array(1024);
  private cn = 0;

  private readonly totalRows = new Map<string, { number: string; carrier: string; outcome: string; count: number }>();

  get size(): number {
    return this.n;
  }

  /** All-time number × carrier × outcome counts (the `totals` table), kept here too. */
  addTotal(t: { number: string; carrier: string; outcome: string; count: number }): void {
    const k = t.number + '\u0000' + t.carrier + '\u0000' + t.outcome;
    const cur = this.totalRows.get(k);
    if (cur) cur.count += t.count;
    else this.totalRows.set(k, { number: t.number, carrier: t.carrier, outcome: t.outcome, count: t.count });
  }

  totals(): { number: string; carrier: string; outcome: string; count: number }[] {
    const rows = new Map<string, { number: string; carrier: string; outcome: string; count: number }>();
    for (const [k, t] of this.totalRows) rows.set(k, { ...t });
    // Logged calls: count per key × outcome.
    const counts = new Float64Array(this.keyNumber.length * OUTCOMES.length);
    for (let i = 0; i < this.cn; i++) counts[this.cIds[i] * OUTCOMES.length + (this.cCode[i] & 7)] += 1;
    for (let id = 0; id < this.keyNumber.length; id++) {
      for (let o = 0; o < OUTCOMES.length; o++) {
        const c = counts[id * OUTCOMES.length + o];
        if (c === 0) continue;
        const number = this.keyNumber[id];
        const carrier = this.keyCarrier[id];
        const k = number + '\u0000' + carrier + '\u0000' + OUTCOMES[o];
        const cur = rows.get(k);
        if (cur) cur.count += c;
        else rows.set(k, { number, carrier, outcome: OUTCOMES[o], count: c });
      }
    }
    const key = (t: { number: string; carrier: string; outcome: string }) => [t.number, t.carrier, t.outcome];
    return [...rows.values()].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return 0;
    });
  }

  private keyOf(number: string, carrier: string): number {
    let byCarrier = this.keyIds.get(number);
    if (byCarrier === undefined) this.keyIds.set(number, (byCarrier = new Map()));
    let id = byCarrier.get(carrier);
    if (id === undefined) {
      id = this.keyNumber.length;
      byCarrier.set(carrier, id);
      this.keyNumber.push(number);
      this.keyCarrier.push(carrier);
    }
    return id;
  }

  /** A batch's call log. */
  addCalls(log: CallLog): void {
    const ids = log.pairs.map((p) => this.keyOf(p.number, p.carrier));
    const need = this.cn + log.n;
    if (need > this.cIds.length) {
      let cap = this.cIds.length;
      while (cap < need) cap *= 2;
      const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      this.cIds = grow(this.cIds, (n) => new Int32Array(n));
      this.cTimes = grow(this.cTimes, (n) => new Float64Array(n));
      this.cCode = grow(this.cCode, (n) => new Uint8Array(n));
      this.cTalk = grow(this.cTalk, (n) => new Float64Array(n));
    }
    const base = this.cn;
    this.callsVersion++;
    for (let i = 0; i < log.n; i++) this.cIds[base + i] = ids[log.pair[i]];
    this.cTimes.set(log.bucket.subarray(0, log.n), base);
    this.cCode.set(log.code.subarray(0, log.n), base);
    this.cTalk.set(log.talk.subarray(0, log.n), base);
    this.cn = need;
  }

  add(b: BucketDelta): void {
    const id = this.keyOf(b.number, b.carrier);
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = id;
    this.times[i] = b.bucket;
    this.values.set(b.v.length === FIELDS ? b.v : b.v.subarray(0, FIELDS), i * FIELDS);
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const ids = new Int32Array(cap);
    ids.set(this.ids);
    const times = new Float64Array(cap);
    times.set(this.times);
    const values = new Float64Array(cap * FIELDS);
    values.set(this.values);
    this.ids = ids;
    this.times = times;
    this.values = values;
  }

  /** As Store.sumBuckets: one row per number × carrier with buckets in [from, to), in (number, carrier) order. */
  sum(from: number, to: number): BucketDelta[] {
    const keys = this.keyNumber.length;
    // One scratch array for every call (rows get copies of their sums): 5.8 MB a window at 40k keys, allocated
    // afresh, was external memory that set off garbage collections.
    if (this.scratch.length < keys * FIELDS) this.scratch = new Float64Array(keys * FIELDS);
    const sums = this.scratch.fill(0, 0, keys * FIELDS);
    const hit = new Uint8Array(keys);
    const { ids, times, values } = this;
    for (let i = 0; i < this.n; i++) {
      const t = times[i];
      if (t < from || t >= to) continue;
      const id = ids[i];
      hit[id] = 1;
      const o = id * FIELDS;
      const s = i * FIELDS;
      for (let f = 0; f < FIELDS; f++) sums[o + f] += values[s + f];
    }
    // The logged calls key by key (each key's in their order, so every sum adds the same values in the same order
    // as a pass in reading order): one key's sums stay in cache while its calls are added.
    const { start, times: cTimes, code: cCode, talk: cTalk } = this.callsByKey();
    for (let id = 0; id < keys; id++) {
      const o = id * FIELDS;
      for (let i = start[id], end = start[id + 1]; i < end; i++) {
        const t = cTimes[i];
        if (t < from || t >= to) continue;
        hit[id] = 1;
        addLogged(sums, o, cCode[i], cTalk[i]);
      }
    }
    const out: BucketDelta[] = [];
    for (const id of this.keysInOrder()) {
      if (hit[id] === 0) continue;
      out.push({ number: this.keyNumber[id], carrier: this.keyCarrier[id], bucket: from, v: sums.slice(id * FIELDS, id * FIELDS + FIELDS) });
    }
    return out;
  }

  /**
   * The logged calls grouped by key id, each key's calls in reading order (a stable counting sort by key), made
   * again only after calls were added or pruned. Summing calls in reading order wrote to a random key's sums for
   * each call (~40k keys × 144 bytes: out of cache); five windows of 1M calls were ~0.2 s of a report's sums.
   */
  private callsByKey(): CallsByKey {
    const keys = this.keyNumber.length;
    if (this.grouped?.version === this.callsVersion && this.grouped.start.length === keys + 1) return this.grouped;
    const { cIds, cTimes, cCode, cTalk, cn } = this;
    const start = new Int32Array(keys + 1);
    for (let i = 0; i < cn; i++) start[cIds[i] + 1]++;
    for (let id = 0; id < keys; id++) start[id + 1] += start[id];
    const next = start.slice(0, keys);
    const times = new Float64Array(cn);
    const code = new Uint8Array(cn);
    const talk = new Float64Array(cn);
    for (let i = 0; i < cn; i++) {
      const j = next[cIds[i]]++;
      times[j] = cTimes[i];
      code[j] = cCode[i];
      talk[j] = cTalk[i];
    }
    return (this.grouped = { version: this.callsVersion, start, times, code, talk });
  }

  /**
   * Key ids in (number, carrier) order, sorted again only when keys were added: a report sums five windows over
   * the same keys, and sorting their rows by two strings each time was ~30 ms a window at 12,000 numbers.
   */
  private keysInOrder(): Int32Array {
    if (this.sortedKeys.length === this.keyNumber.length) return this.sortedKeys;
    const { keyNumber: numbers, keyCarrier: carriers } = this;
    const ids = Array.from(numbers, (_, id) => id);
    ids.sort((a, b) => (numbers[a] < numbers[b] ? -1 : numbers[a] > numbers[b] ? 1 : carriers[a] < carriers[b] ? -1 : carriers[a] > carriers[b] ? 1 : 0));
    return (this.sortedKeys = Int32Array.from(ids));
  }

  /** As Store.bucketsBetween: every stored delta with a bucket in [from, to). */
  between(from: number, to: number): BucketDelta[] {
    const out: BucketDelta[] = [];
    for (let i = 0; i < this.n; i++) {
      const t = this.times[i];
      if (t < from || t >= to) continue;
      const id = this.ids[i];
      out.push({ number: this.keyNumber[id], carrier: this.keyCarrier[id], bucket: t, v: this.values.slice(i * FIELDS, i * FIELDS + FIELDS) });
    }
    for (let i = 0; i < this.cn; i++) {
      const t = this.cTimes[i];
      if (t < from || t >= to) continue;
      const id = this.cIds[i];
      const v = new Float64Array(FIELDS);
      addLogged(v, 0, this.cCode[i], this.cTalk[i]);
      out.push({ number: this.keyNumber[id], carrier: this.keyCarrier[id], bucket: t, v });
    }
    return out;
  }

  prune(before: number): number {
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.times[i] < before) continue;
      if (w !== i) {
        this.ids[w] = this.ids[i];
        this.times[w] = this.times[i];
        this.values.copyWithin(w * FIELDS, i * FIELDS, i * FIELDS + FIELDS);
      }
      w++;
    }
    let removed = this.n - w;
    this.n = w;
    w = 0;
    for (let i = 0; i < this.cn; i++) {
      if (this.cTimes[i] < before) continue;
      this.cIds[w] = this.cIds[i];
      this.cTimes[w] = this.cTimes[i];
      this.cCode[w] = this.cCode[i];
      this.cTalk[w] = this.cTalk[i];
      w++;
    }
    removed += this.cn - w;
    if (w !== this.cn) this.callsVersion++;
    this.cn = w;
    return removed;
  }

  newest(): number | null {
    let m: number | null = null;
    for (let i = 0; i < this.n; i++) if (m === null || this.times[i] > m) m = this.times[i];
    for (let i = 0; i < this.cn; i++) if (m === null || this.cTimes[i] > m) m = this.cTimes[i];
    return m;
  }
}

export interface StoreOptions {
  bucketMs?: number;
  /** Keep buckets in process memory (MemoryBuckets), not in SQLite: only for `:memory:` one-shot runs. */
  memoryBuckets?: boolean;
  /**
   * Mode of the database file, and so of its WAL and SHM (SQLite gives them the database's mode): a new
   * database is created with it (default 0600); given, an existing database, WAL and SHM with more
   * permissions than it are narrowed to it (serve: 0600, or 0640 with group_readable).
   */
  fileMode?: number;
  /** Rows kept in the quarantine table, the newest (`quarantine.db_max_rows`); unbounded when absent. */
  quarantineMaxRows?: number;
  /** Engine labels that flag nothing (`reputation.labels.benign`): any other label suggests a remediation case. */
  benignLabels?: readonly string[];
  /** The wall clock stamped on remediation cases suggested by an import (tests pass their own). */
  now?: () => number;
  /** Told how a long move to a newer layout goes (serve logs it): at its start, every 10 s, at its end. */
  onMigrate?: (message: string) => void;
}

/** Create `file` with `mode` if missing; narrow it (and its WAL/SHM) to `enforce` when given. Returns files narrowed. */
function secureDatabaseFiles(file: string, mode: number, enforce: number | undefined): string[] {
  try {
    closeSync(openSync(file, 'wx', mode)); // an empty file is an empty database; SQLite keeps this mode for WAL and SHM
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const narrowed: string[] = [];
  if (enforce === undefined) return narrowed;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (!st || (st.mode & 0o777 & ~enforce) === 0) continue;
    try {
      chmodSync(f, st.mode & 0o777 & enforce);
      narrowed.push(f);
    } catch {
      // another user's file: left as it is (the caller may say so)
    }
  }
  return narrowed;
}

/** Why SQLite could not open a database file, when the folder says so. */
export function openHint(file: string): string {
  if (file === ':memory:') return '';
  const dir = dirname(file);
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    return ` (directory ${dir} is not writable by this user: SQLite needs to create the database and its -wal and -shm files there)`;
  }
  return '';
}

/** Numbers per multi-row first/last-seen upsert (one statement's call into SQLite instead of one per number). */
const SEEN_ROWS_PER_UPSERT = 256;

function upsertSeenSql(rows: number): string {
  return `INSERT INTO numbers (number, first_seen, last_seen) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')}
         ON CONFLICT (number) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`;
}

/** Upsert every number's first/last seen: full statements of SEEN_ROWS_PER_UPSERT rows, the rest one by one, in order. */
function upsertSeenRows(many: Database.Statement, one: Database.Statement, seen: Iterable<NumberSeen>): void {
  const args: (string | number)[] = new Array(SEEN_ROWS_PER_UPSERT * 3);
  let k = 0;
  for (const n of seen) {
    args[k++] = n.number;
    args[k++] = n.first;
    args[k++] = n.last;
    if (k === args.length) {
      many.run(args);
      k = 0;
    }
  }
  for (let i = 0; i < k; i += 3) one.run(args[i], args[i + 1], args[i + 2]);
}

/** Keys per block when a schema-4 call_keys table is moved into blocks. */
const KEYS_PER_MOVED_BLOCK = 65_536;

/** A transaction's call keys, (hash hi, hash lo, source, start second) quads, as one stored block: 32-bit words, little-endian. */
export function keyBlock(keys: ArrayLike<number>): { blob: Buffer; minTs: number; maxTs: number } {
  const n = keys.length - (keys.length % 4);
  const words = new Uint32Array(n);
  let maxTs = 0;
  let minTs = Infinity;
  for (let i = 0; i < n; i += 4) {
    words[i] = keys[i];
    words[i + 1] = keys[i + 1];
    words[i + 2] = keys[i + 2];
    words[i + 3] = keys[i + 3];
    if (keys[i + 3] > maxTs) maxTs = keys[i + 3];
    if (keys[i + 3] < minTs) minTs = keys[i + 3];
  }
  return { blob: littleEndianBlob(words), minTs: n === 0 ? 0 : minTs, maxTs };
}

/** Whether this machine stores a Uint32Array's words little-endian, as the blocks are stored (x86 and ARM do). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * 32-bit words as the little-endian bytes the blocks are stored as: the words' own memory where the machine is
 * little-endian (filling a typed array is ~10× faster than writeUInt32LE per word), a copy in that order otherwise.
 */
function littleEndianBlob(words: Uint32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  const blob = Buffer.allocUnsafe(words.byteLength);
  for (let i = 0; i < words.length; i++) blob.writeUInt32LE(words[i], i * 4);
  return blob;
}

/**
 * A transaction's dials (stats/fatigue.ts) as one stored block: our numbers once each, as a JSON array, and per dial
 * (index of our number, consumer hash hi, hash lo, start second) quads of 32-bit little-endian words. `words` holds
 * (hash hi, hash lo, start second) triples, one per entry of `numbers`.
 */
export function dialBlock(numbers: readonly string[], words: ArrayLike<number>): { numbers: string; blob: Buffer; minTs: number; maxTs: number } {
  const ids = new Map<string, number>();
  const quads = new Uint32Array(numbers.length * 4);
  let minTs = Infinity;
  let maxTs = 0;
  for (let i = 0; i < numbers.length; i++) {
    let id = ids.get(numbers[i]);
    if (id === undefined) ids.set(numbers[i], (id = ids.size));
    const ts = words[i * 3 + 2] >>> 0;
    quads[i * 4] = id;
    quads[i * 4 + 1] = words[i * 3];
    quads[i * 4 + 2] = words[i * 3 + 1];
    quads[i * 4 + 3] = ts;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
  }
  return { numbers: JSON.stringify([...ids.keys()]), blob: littleEndianBlob(quads), minTs: numbers.length === 0 ? 0 : minTs, maxTs };
}

/** Each dial of a stored block: our number, the consumer hash's halves and the start second, in the order counted. */
export function forEachDial(numbersJson: string, blob: Buffer, each: (number: string, hi: number, lo: number, tsSec: number) => void): void {
  const numbers = JSON.parse(numbersJson) as string[];
  for (let o = 0; o + 16 <= blob.length; o += 16) each(numbers[blob.readUInt32LE(o)], blob.readUInt32LE(o + 4), blob.readUInt32LE(o + 8), blob.readUInt32LE(o + 12));
}

/** Dials per block when a schema-5 consumer_dials table (a row per dial) is moved into blocks. */
const DIALS_PER_MOVED_BLOCK = 65_536;

/** Rows per multi-row totals upsert (ten values a row: number, carrier and a count per outcome). */
const TOTAL_ROWS_PER_UPSERT = 64;

/** The totals table's count columns: one per outcome, in OUTCOMES order (schema 7). */
const TOTALS_COLUMNS = OUTCOMES.map((o) => `${o} INTEGER NOT NULL DEFAULT 0`).join(', ');

const OUTCOME_COLUMN = new Map<string, number>(OUTCOMES.map((o, i) => [o, i]));

/** OUTCOMES' indexes in the outcomes' byte order: a pair's rows read back in the order a (number, carrier, outcome) key gave. */
const OUTCOMES_BY_NAME = OUTCOMES.map((o, i) => [o, i] as const)
  .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])))
  .map(([, i]) => i);

function upsertTotalSql(rows: number): string {
  const cols = OUTCOMES.join(', ');
  const row = `(?, ?, ${OUTCOMES.map(() => '?').join(', ')})`;
  return `INSERT INTO totals (number, carrier, ${cols}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}
         ON CONFLICT (number, carrier) DO UPDATE SET ${OUTCOMES.map((o) => `${o} = ${o} + excluded.${o}`).join(', ')}`;
}

/**
 * Upsert a batch's number × carrier × outcome counts as one row per number × carrier (schema 7): a batch hands a
 * pair's outcomes one after the other (ingest/batch.ts), so consecutive rows of one pair become one row. Rows of a
 * pair that come apart are two rows of a statement, and SQLite adds the second to the first.
 */
function upsertTotalRows(
  many: Database.Statement,
  one: Database.Statement,
  totals: Iterable<{ number: string; carrier: string; outcome: string; count: number }>,
  each?: (t: { number: string; carrier: string; outcome: string; count: number }) => void,
): void {
  const width = 2 + OUTCOMES.length;
  const args: (string | number)[] = new Array(TOTAL_ROWS_PER_UPSERT * width);
  let k = -width; // start of the row being filled; none yet
  for (const t of totals) {
    const col = OUTCOME_COLUMN.get(t.outcome);
    if (col === undefined) throw new Error(`totals: unknown outcome ${JSON.stringify(t.outcome)} (expected one of ${OUTCOMES.join(', ')})`);
    if (k < 0 || args[k] !== t.number || args[k + 1] !== t.carrier) {
      k += width;
      if (k === args.length) {
        many.run(args);
        k = 0;
      }
      args[k] = t.number;
      args[k + 1] = t.carrier;
      args.fill(0, k + 2, k + width);
    }
    (args[k + 2 + col] as number) += t.count;
    each?.(t);
  }
  for (let i = 0; i <= k; i += width) one.run(args.slice(i, i + width));
}

/** A totals row (number, carrier, a count per outcome) as the (number, carrier, outcome) rows it holds, in key order. */
function totalsRowOutcomes<T>(row: unknown[], first: number, make: (outcome: string, count: number) => T, out: T[]): void {
  for (const i of OUTCOMES_BY_NAME) {
    const count = row[first + i] as number;
    if (count !== 0) out.push(make(OUTCOMES[i], count));
  }
}

/** Buckets per page when a schema-7 buckets table is moved into blocks. */
const BUCKETS_PER_MOVED_PAGE = 65_536;

/** Buckets given as objects (a commit made by hand) as columns, one pair per row. */
export function bucketColumnsOf(buckets: Iterable<BucketDelta>): BucketColumns {
  const list = [...buckets];
  const c: BucketColumns = { n: list.length, pairs: list, pair: new Int32Array(list.length), bucket: new Float64Array(list.length), v: new Float64Array(list.length * FIELDS) };
  list.forEach((b, r) => {
    c.pair[r] = r;
    c.bucket[r] = b.bucket;
    c.v.set(b.v.subarray(0, FIELDS), r * FIELDS);
  });
  return c;
}

export class Store {
  readonly db: Database.Database;
  private readonly stmts: ReturnType<Store['prepare']>;
  private readonly mem: MemoryBuckets | null;

  /** True when buckets live in process memory: batches may then log calls (Batch callLog). */
  get memoryBuckets(): boolean {
    return this.mem !== null;
  }

  /** Files whose permissions were narrowed at open (to say so in the log). */
  readonly narrowed: string[] = [];
  /** Quarantine rows deleted to keep the table at quarantineMaxRows, by this connection. */
  quarantinePruned = 0;
  private readonly quarantineMaxRows: number | undefined;
  private readonly onMigrate: ((message: string) => void) | undefined;
  /** Remediation cases and their events (store/remediation.ts), over this connection. */
  readonly remediations: Remediations;
  private readonly benign: ReadonlySet<string>;
  private readonly now: () => number;
  /** Seals reader state at rest (store/sealed.ts); made on first use, null for a database in memory. */
  private sealer: StateSealer | null | undefined;
  /** Reader states that could not be opened (sealed under another secret): dropped, counted for the log. */
  unreadableStates = 0;

  constructor(readonly file: string, opts: StoreOptions = {}) {
    this.mem = opts.memoryBuckets && file === ':memory:' ? new MemoryBuckets() : null;
    this.quarantineMaxRows = opts.quarantineMaxRows;
    this.onMigrate = opts.onMigrate;
    this.benign = new Set(opts.benignLabels ?? ['clean', 'unknown']);
    this.now = opts.now ?? Date.now;
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true });
      try {
        this.narrowed = secureDatabaseFiles(file, opts.fileMode ?? 0o600, opts.fileMode);
      } catch (err) {
        throw new Error(`cannot create database ${file}: ${(err as Error).message}`);
      }
    }
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      // SQLite's own default page cache (2 MB), not the driver's 16 MB: for serve the file is in the OS cache anyway (an in-memory database is its cache: left as it is).
      if (file !== ':memory:') this.db.pragma('cache_size = -2000');
    } catch (err) {
      throw new Error(`cannot open database ${file}: ${(err as Error).message}${openHint(file)}`);
    }
    if (file !== ':memory:') {
      const check = this.db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        throw new Error(`database ${file} failed its integrity check (${String(check)}); restore it from a backup (numrep backup) or move it aside to start afresh`);
      }
    }
    this.migrate();
    const stored = this.getMeta('bucket_ms');
    if (stored === null) this.setMeta('bucket_ms', String(opts.bucketMs ?? 60_000));
    else if (opts.bucketMs !== undefined && Number(stored) !== opts.bucketMs) {
      throw new Error(`database ${file} was created with ${Number(stored) / 1000}s buckets, not ${opts.bucketMs / 1000}s; use the same bucket width or a new database`);
    }
    this.stmts = this.prepare();
    this.remediations = new Remediations(this.db);
  }

  private migrate(): void {
    const vec = VECTOR_COLUMNS.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(', ');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS bucket_blocks (id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, min_b INTEGER NOT NULL, max_b INTEGER NOT NULL,
        n INTEGER NOT NULL, pairs TEXT NOT NULL, rows BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS bucket_blocks_by_hour ON bucket_blocks (hour);
      CREATE TABLE IF NOT EXISTS numbers (number TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS totals (number TEXT NOT NULL, carrier TEXT NOT NULL, ${TOTALS_COLUMNS},
        PRIMARY KEY (number, carrier)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS blocks (carrier TEXT NOT NULL, engine TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (carrier, engine)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS ingest_counts (format TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (format, result, reason)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY, file TEXT NOT NULL, line INTEGER NOT NULL, format TEXT NOT NULL,
        reason TEXT NOT NULL, detail TEXT NOT NULL, raw TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sources (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL, dev TEXT NOT NULL, ino TEXT NOT NULL, fingerprint TEXT NOT NULL, fp_len INTEGER NOT NULL,
        offset INTEGER NOT NULL, line INTEGER NOT NULL, format TEXT, reader_state TEXT, newest_ts INTEGER,
        rotations INTEGER NOT NULL DEFAULT 0, truncations INTEGER NOT NULL DEFAULT 0, bytes_total INTEGER NOT NULL DEFAULT 0,
        last_read_at INTEGER, content_hash TEXT);
      CREATE INDEX IF NOT EXISTS sources_by_inode ON sources (dev, ino);
      CREATE INDEX IF NOT EXISTS sources_by_content ON sources (content_hash);
      CREATE TABLE IF NOT EXISTS labels (number TEXT NOT NULL, engine TEXT NOT NULL, label TEXT NOT NULL, checked_at INTEGER NOT NULL,
        reports INTEGER, PRIMARY KEY (number, engine, checked_at)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS history (number TEXT NOT NULL, at INTEGER NOT NULL, status TEXT NOT NULL, score REAL NOT NULL,
        action TEXT NOT NULL, subscores TEXT NOT NULL, reason TEXT NOT NULL, event TEXT, PRIMARY KEY (number, at)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS call_key_blocks (id INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, keys BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS call_key_blocks_by_time ON call_key_blocks (min_ts);
      CREATE TABLE IF NOT EXISTS consumer_dial_blocks (id INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, numbers TEXT NOT NULL,
        dials BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS live_dialogs (source INTEGER NOT NULL, call_id TEXT NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (source, call_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS live_done (id INTEGER PRIMARY KEY, source INTEGER NOT NULL, last_at INTEGER NOT NULL, n INTEGER NOT NULL,
        call_ids TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS inventory (number TEXT PRIMARY KEY, pool TEXT NOT NULL, campaign TEXT, registered INTEGER,
        registered_at INTEGER) WITHOUT ROWID;
    `);
    // Schema 7 and older keep a buckets table (moved to bucket_blocks below). Added later than that table: the
    // dialer's dispositions (stats/vector.ts), 0 in older buckets.
    const bucketCols = new Set((this.db.prepare('PRAGMA table_info(buckets)').all() as { name: string }[]).map((c) => c.name));
    if (bucketCols.size > 0) for (const c of VECTOR_COLUMNS) if (!bucketCols.has(c)) this.db.exec(`ALTER TABLE buckets ADD COLUMN ${c} REAL NOT NULL DEFAULT 0`);
    // Remediation cases (tables of their own: a numrep without them reads this database as before).
    createRemediationTables(this.db);
    // Added with schema 2 (classification): what each file's rows became.
    if (!(this.db.prepare('PRAGMA table_info(sources)').all() as { name: string }[]).some((c) => c.name === 'counts')) {
      this.db.exec('ALTER TABLE sources ADD COLUMN counts TEXT');
    }
    const v = this.getMeta('schema_version');
    if (v !== null && Number(v) > SCHEMA_VERSION) {
      throw new Error(`database ${this.file} has schema ${v}, newer than this numrep (${SCHEMA_VERSION}); upgrade numrep`);
    }
    // Schema 3: call keys appended in the order they are counted (a rowid table), no longer a B-tree keyed by the hash,
    // where every key of a backfill landed on a random page (and each transaction wrote a page per key to the WAL).
    // The set in memory (classify/callKeys.ts) is what looks keys up; the table is read back whole at start.
    const keyCols = this.db.prepare('PRAGMA table_info(call_keys)').all() as { name: string; pk: number }[];
    if (keyCols.some((c) => c.name === 'h' && c.pk > 0)) {
      this.db.transaction(() => {
        this.db.exec(`ALTER TABLE call_keys RENAME TO call_keys_v2;
          CREATE TABLE call_keys (h INTEGER NOT NULL, source INTEGER NOT NULL, ts INTEGER NOT NULL);
          INSERT INTO call_keys (h, source, ts) SELECT h, source, ts FROM call_keys_v2 ORDER BY ts;
          DROP TABLE call_keys_v2;`);
      })();
    }
    // Schema 5: the keys a transaction counted are one row (a block of (hash hi, hash lo, source, start second) quads),
    // no longer a row each: a real-shaped backfill remembers ~3 keys a call, and their inserts were a tenth of its CPU.
    // The table is only read back whole at start and pruned by age, so nothing needs a key's own row.
    if (keyCols.length > 0) {
      this.db.transaction(() => {
        const put = this.db.prepare('INSERT INTO call_key_blocks (min_ts, max_ts, keys) VALUES (?, ?, ?)');
        let quads: number[] = [];
        const flush = () => {
          if (quads.length === 0) return;
          const b = keyBlock(quads);
          put.run(b.minTs, b.maxTs, b.blob);
          quads = [];
        };
        // A block at a time (no write while a statement is reading).
        const read = this.db.prepare('SELECT rowid, h, source, ts FROM call_keys WHERE rowid > ? ORDER BY rowid LIMIT ?').raw(true).safeIntegers(true);
        for (let after = -(1n << 63n); ; ) {
          const rows = read.all(after, KEYS_PER_MOVED_BLOCK) as [bigint, bigint, bigint, bigint][];
          if (rows.length === 0) break;
          for (const [rowid, h, source, ts] of rows) {
            const { hi, lo } = keyFromRowId(h);
            quads.push(hi, lo, Number(source), Number(ts));
            after = rowid;
          }
          flush();
        }
        this.db.exec('DROP TABLE call_keys');
      })();
    }
    // Schema 6: the dials a transaction counted are one row of consumer_dial_blocks, no longer a row each: a backfill
    // leaves a dial a call, and their inserts (a rowid table and its index on the start second) were ~5 % of its CPU.
    if ((this.db.prepare('PRAGMA table_info(consumer_dials)').all() as unknown[]).length > 0) {
      this.db.transaction(() => {
        const put = this.db.prepare('INSERT INTO consumer_dial_blocks (min_ts, max_ts, numbers, dials) VALUES (?, ?, ?, ?)');
        // A block at a time, oldest first (no write while a statement is reading).
        const read = this.db.prepare('SELECT ts, rowid, h, number FROM consumer_dials WHERE (ts, rowid) > (?, ?) ORDER BY ts, rowid LIMIT ?').raw(true).safeIntegers(true);
        for (let afterTs = -1n, afterRow = -(1n << 63n); ; ) {
          const rows = read.all(afterTs, afterRow, DIALS_PER_MOVED_BLOCK) as [bigint, bigint, bigint, string][];
          if (rows.length === 0) break;
          const numbers: string[] = [];
          const words: number[] = [];
          for (const [ts, rowid, h, number] of rows) {
            const { hi, lo } = keyFromRowId(h);
            numbers.push(number);
            words.push(hi, lo, Number(ts));
            afterTs = ts;
            afterRow = rowid;
          }
          const b = dialBlock(numbers, words);
          put.run(b.minTs, b.maxTs, b.numbers, b.blob);
        }
        this.db.exec('DROP TABLE consumer_dials');
      })();
    }
    // Schema 7: totals as one row per number × carrier with a count per outcome, no longer a row per outcome: a
    // backfill's transaction upserted ~0.7 totals rows a call (a dialer's numbers end calls in several ways), about
    // a third of the store's time after the buckets.
    if ((this.db.prepare('PRAGMA table_info(totals)').all() as { name: string }[]).some((c) => c.name === 'outcome')) {
      this.db.transaction(() => {
        const known = OUTCOMES.map((o) => `'${o}'`).join(', ');
        const other = this.db.prepare(`SELECT outcome FROM totals WHERE outcome NOT IN (${known}) LIMIT 1`).get() as { outcome: string } | undefined;
        if (other) throw new Error(`database ${this.file}: totals hold an unknown outcome ${JSON.stringify(other.outcome)}; cannot move them to schema 7`);
        const sums = OUTCOMES.map((o) => `sum(CASE WHEN outcome = '${o}' THEN count ELSE 0 END)`).join(', ');
        this.db.exec(`ALTER TABLE totals RENAME TO totals_v6;
          CREATE TABLE totals (number TEXT NOT NULL, carrier TEXT NOT NULL, ${TOTALS_COLUMNS}, PRIMARY KEY (number, carrier)) WITHOUT ROWID;
          INSERT INTO totals (number, carrier, ${OUTCOMES.join(', ')}) SELECT number, carrier, ${sums} FROM totals_v6 GROUP BY number, carrier;
          DROP TABLE totals_v6;`);
      })();
    }
    // Schema 4: buckets keyed by time first. Keyed by number first, a backfill's rows (in time order, over thousands of
    // numbers) landed on every leaf page of the table in every transaction, and each page went to the WAL again; keyed by
    // time they are appended at the end of the B-tree, and the window queries (a time range) need no second index.
    if ((this.db.prepare('PRAGMA table_info(buckets)').all() as { name: string; pk: number }[]).some((c) => c.name === 'number' && c.pk === 1)) {
      this.db.transaction(() => {
        this.db.exec(`ALTER TABLE buckets RENAME TO buckets_v3;
          DROP INDEX IF EXISTS buckets_by_time;
          CREATE TABLE buckets (number TEXT NOT NULL, carrier TEXT NOT NULL, bucket INTEGER NOT NULL, ${vec},
            PRIMARY KEY (bucket, number, carrier)) WITHOUT ROWID;
          INSERT INTO buckets (number, carrier, bucket, ${COLS}) SELECT number, carrier, bucket, ${COLS} FROM buckets_v3 ORDER BY bucket, number, carrier;
          DROP TABLE buckets_v3;`);
      })();
    }
    // Schema 8: a transaction's buckets are a block per hour (store/bucketBlocks.ts), no longer a row each.
    if (bucketCols.size > 0) this.moveBucketsToBlocks();
    if (v === null || Number(v) < SCHEMA_VERSION) this.setMeta('schema_version', String(SCHEMA_VERSION));
  }

  /** Schema 7's buckets table into bucket_blocks, in time order, a page of rows at a time; then the table goes. */
  private moveBucketsToBlocks(): void {
    const total = Number(this.db.prepare('SELECT count(*) FROM buckets').pluck().get());
    const t0 = Date.now();
    let said = t0;
    let moved = 0;
    this.onMigrate?.(`${this.file}: moving ${total.toLocaleString('en-US')} stored buckets into hourly blocks (schema 8), once`);
    this.db.transaction(() => {
      const put = this.db.prepare('INSERT INTO bucket_blocks (hour, min_b, max_b, n, pairs, rows) VALUES (?, ?, ?, ?, ?, ?)');
      // A page at a time (no write while a statement is reading), by the table's own key.
      const read = this.db.prepare(`SELECT bucket, number, carrier, ${COLS} FROM buckets WHERE (bucket, number, carrier) > (?, ?, ?)
        ORDER BY bucket, number, carrier LIMIT ?`).raw(true);
      for (let after: [number, string, string] = [-Number.MAX_SAFE_INTEGER, '', '']; ; ) {
        const rows = read.all(...after, BUCKETS_PER_MOVED_PAGE) as unknown[][];
        if (rows.length === 0) break;
        const pairs: { number: string; carrier: string }[] = [];
        const ids = new Map<string, number>();
        const c = { n: rows.length, pairs, pair: new Int32Array(rows.length), bucket: new Float64Array(rows.length), v: new Float64Array(rows.length * FIELDS) };
        rows.forEach((row, r) => {
          const number = row[1] as string;
          const carrier = row[2] as string;
          const key = `${number}\u0000${carrier}`;
          let id = ids.get(key);
          if (id === undefined) {
            ids.set(key, (id = pairs.length));
            pairs.push({ number, carrier });
          }
          c.pair[r] = id;
          c.bucket[r] = row[0] as number;
          for (let i = 0; i < FIELDS; i++) c.v[r * FIELDS + i] = row[3 + i] as number;
        });
        for (const b of bucketBlocksOf(c)) put.run(b.hour, b.minBucket, b.maxBucket, b.n, b.pairs, b.rows);
        const last = rows[rows.length - 1];
        after = [last[0] as number, last[1] as string, last[2] as string];
        moved += rows.length;
        if (Date.now() - said >= 10_000) {
          said = Date.now();
          this.onMigrate?.(`${this.file}: ${Math.floor((100 * moved) / total)} % of the stored buckets moved`);
        }
      }
      this.db.exec('DROP TABLE buckets');
    })();
    this.onMigrate?.(`${this.file}: ${moved.toLocaleString('en-US')} stored buckets moved into hourly blocks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  private prepare() {
    const db = this.db;
    return {
      insertBucketBlock: db.prepare('INSERT INTO bucket_blocks (hour, min_b, max_b, n, pairs, rows) VALUES (?, ?, ?, ?, ?, ?)'),
      upsertSeen: db.prepare(upsertSeenSql(1)),
      /** SEEN_ROWS_PER_UPSERT numbers in one statement: a dialer's step carries thousands. */
      upsertSeenMany: db.prepare(upsertSeenSql(SEEN_ROWS_PER_UPSERT)),
      upsertTotal: db.prepare(upsertTotalSql(1)),
      /** TOTAL_ROWS_PER_UPSERT number × carrier rows in one statement. */
      upsertTotalMany: db.prepare(upsertTotalSql(TOTAL_ROWS_PER_UPSERT)),
      upsertBlock: db.prepare(
        `INSERT INTO blocks (carrier, engine, count) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count`,
      ),
      upsertCounter: db.prepare(
        `INSERT INTO ingest_counts (format, result, reason, count) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET count = count + excluded.count`,
      ),
      putDialog: db.prepare(
        `INSERT INTO live_dialogs (source, call_id, state) VALUES (?, ?, ?)
         ON CONFLICT (source, call_id) DO UPDATE SET state = excluded.state`,
      ),
      deleteDialog: db.prepare('DELETE FROM live_dialogs WHERE source = ? AND call_id = ?'),
      appendDone: db.prepare('INSERT INTO live_done (source, last_at, n, call_ids) VALUES (?, ?, ?, ?)'),
      pruneDoneByAge: db.prepare('DELETE FROM live_done WHERE source = ? AND last_at < ?'),
      // Rows older than the one that takes the count (newest first) past maxDone: what is left holds the newest
      // maxDone Call-IDs and at most one row more (a few hundred rows: 120 s of commits).
      pruneDoneByCount: db.prepare(
        `DELETE FROM live_done WHERE source = @source AND id < (SELECT max(id) FROM
           (SELECT id, sum(n) OVER (ORDER BY id DESC) AS upto FROM live_done WHERE source = @source) WHERE upto > @max)`,
      ),
      insertDialBlock: db.prepare('INSERT INTO consumer_dial_blocks (min_ts, max_ts, numbers, dials) VALUES (?, ?, ?, ?)'),
      insertKeyBlock: db.prepare('INSERT INTO call_key_blocks (min_ts, max_ts, keys) VALUES (?, ?, ?)'),
      insertQuarantine: db.prepare(
        `INSERT INTO quarantine (file, line, format, reason, detail, raw, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      pruneQuarantine: db.prepare('DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?'),
      insertSource: db.prepare(
        `INSERT INTO sources (path, dev, ino, fingerprint, fp_len, offset, line, format, reader_state, newest_ts, rotations, truncations, bytes_total, last_read_at, content_hash, counts)
         VALUES (@path, @dev, @ino, @fingerprint, @fpLen, @offset, @line, @format, @readerState, @newestTs, @rotations, @truncations, @bytesTotal, @lastReadAt, @contentHash, @counts)`,
      ),
      upsertLabel: db.prepare(
        `INSERT INTO labels (number, engine, label, checked_at, reports) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET label = excluded.label, reports = excluded.reports`,
      ),
      upsertInventory: db.prepare(
        `INSERT INTO inventory (number, pool, campaign, registered, registered_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (number) DO UPDATE SET pool = excluded.pool, campaign = excluded.campaign, registered = excluded.registered,
         registered_at = excluded.registered_at`,
      ),
      updateSource: db.prepare(
        `UPDATE sources SET path = @path, dev = @dev, ino = @ino, fingerprint = @fingerprint, fp_len = @fpLen, offset = @offset, line = @line,
         format = @format, reader_state = @readerState, newest_ts = @newestTs, rotations = @rotations, truncations = @truncations,
         bytes_total = @bytesTotal, last_read_at = @lastReadAt, content_hash = @contentHash, counts = @counts WHERE id = @id`,
      ),
    };
  }

  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Commits through this connection so far: the counters (totals, blocks, records) change only with one. */
  commits = 0;

  /** Commit one batch atomically: buckets, totals, counters, quarantine and the source offset together. */
  commit(batch: BatchCommit): void {
    this.commits++;
    const s = this.stmts;
    // totalsByCarrier's sums are kept up to date with what this connection commits.
    const added: { carrier: string; outcome: string; count: number }[] | null = this.byCarrier ? [] : null;
    let pruned = 0;
    this.db.transaction(() => {
      if (!this.mem) {
        for (const b of bucketBlocksOf(batch.bucketColumns ?? bucketColumnsOf(batch.buckets))) s.insertBucketBlock.run(b.hour, b.minBucket, b.maxBucket, b.n, b.pairs, b.rows);
      }
      upsertSeenRows(s.upsertSeenMany, s.upsertSeen, batch.seen);
      if (!this.mem) upsertTotalRows(s.upsertTotalMany, s.upsertTotal, batch.totals, added ? (t) => added.push(t) : undefined);
      for (const b of batch.blocks) s.upsertBlock.run(b.carrier, b.engine, b.count);
      for (const c of batch.counters) s.upsertCounter.run(c.format, c.result, c.reason, c.count);
      let quarantined = 0;
      for (const q of batch.quarantine) {
        s.insertQuarantine.run(q.file, q.line, q.format, q.reason, q.detail, q.raw, q.at);
        quarantined++;
      }
      // The newest rows are kept: ids grow, so the bound is one range delete on the primary key.
      if (quarantined > 0 && this.quarantineMaxRows !== undefined) {
        pruned = s.pruneQuarantine.run(this.quarantineMaxRows).changes;
      }
      const keys = batch.callKeys;
      // A one-shot run keeps its call keys in memory only (classify/callKeys.ts): nothing here outlives it.
      if (keys && keys.length >= 4 && !this.mem) {
        const b = keyBlock(keys);
        s.insertKeyBlock.run(b.minTs, b.maxTs, b.blob);
      }
      const dials = batch.dials;
      // As the call keys: the dials are only read back whole at start and pruned by age, so a transaction's are one row.
      if (dials && dials.numbers.length > 0 && !this.mem) {
        const b = dialBlock(dials.numbers, dials.words);
        s.insertDialBlock.run(b.minTs, b.maxTs, b.numbers, b.blob);
      }
      const labels = batch.labels ? [...batch.labels] : [];
      for (const l of labels) s.upsertLabel.run(l.number, l.engine, l.label, l.checkedAt, l.reports);
      // A flag suggests a remediation case in the same transaction as the label that raised it.
      if (labels.length > 0) this.remediations.onLabels(labels, this.benign, this.now());
      for (const i of batch.inventory ?? [])
        s.upsertInventory.run(i.number, i.pool, i.campaign, i.registered === null ? null : i.registered ? 1 : 0, i.registeredAt);
      if (batch.source) this.saveSource(batch.source);
      const dl = batch.dialogs;
      if (dl) {
        for (const d of dl.open) s.putDialog.run(dl.sourceId, d.callId, this.sealState(d)); // holds the consumer's number: sealed
        for (const id of dl.closed) s.deleteDialog.run(dl.sourceId, id);
        if (dl.done.length > 0) {
          s.appendDone.run(dl.sourceId, dl.done[dl.done.length - 1][1], dl.done.length, JSON.stringify(dl.done));
          s.pruneDoneByAge.run(dl.sourceId, dl.keepFrom);
          s.pruneDoneByCount.run({ source: dl.sourceId, max: dl.maxDone });
        }
      }
    })();
    // In memory only once the transaction stood: a failed commit leaves no trace here either.
    this.quarantinePruned += pruned;
    if (added && this.byCarrier) for (const t of added) addCarrierTotal(this.byCarrier.rows, t);
    if (this.mem) {
      if (batch.calls) this.mem.addCalls(batch.calls); // totals too: MemoryBuckets counts them from the log
      else {
        for (const b of batch.buckets) this.mem.add(b);
        for (const t of batch.totals) this.mem.addTotal(t);
      }
    }
  }

  private stateSealer(): StateSealer | null {
    if (this.sealer === undefined) this.sealer = StateSealer.forDatabase(this.file);
    return this.sealer;
  }

  /** A reader's state as stored: JSON, sealed when the database is a file (it may hold consumers' numbers). */
  private sealState(state: unknown): string | null {
    if (state === undefined) return null;
    const json = JSON.stringify(state);
    return this.stateSealer()?.seal(json) ?? json;
  }

  private openState(stored: unknown): unknown {
    if (stored == null) return undefined;
    const sealer = this.stateSealer();
    const json = sealer ? sealer.open(String(stored)) : String(stored);
    if (json === null) {
      this.unreadableStates++;
      return undefined;
    }
    return JSON.parse(json);
  }

  saveSource(src: SourceState): void {
    const row = { ...src, readerState: this.sealState(src.readerState), counts: JSON.stringify(src.counts) };
    if (src.id > 0) this.stmts.updateSource.run(row);
    else src.id = Number(this.stmts.insertSource.run(row).lastInsertRowid);
  }

  /** Every source; `readerState: false` leaves the (sealed) reader states unread, for listings. */
  sources(opts: { readerState?: boolean } = {}): SourceState[] {
    const withState = opts.readerState !== false;
    const rows = this.db.prepare('SELECT * FROM sources ORDER BY id').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: Number(r.id),
      path: String(r.path),
      dev: String(r.dev),
      ino: String(r.ino),
      fingerprint: String(r.fingerprint),
      fpLen: Number(r.fp_len),
      offset: Number(r.offset),
      line: Number(r.line),
      format: (r.format as string | null) ?? null,
      readerState: withState ? this.openState(r.reader_state) : undefined,
      newestTs: r.newest_ts == null ? null : Number(r.newest_ts),
      rotations: Number(r.rotations),
      truncations: Number(r.truncations),
      bytesTotal: Number(r.bytes_total),
      lastReadAt: r.last_read_at == null ? null : Number(r.last_read_at),
      contentHash: (r.content_hash as string | null) ?? null,
      counts: r.counts == null ? {} : JSON.parse(String(r.counts)),
    }));
  }

  /** A live capture's dialogs (BatchCommit.dialogs): the open ones as stored, finished Call-IDs as appended (oldest first). */
  liveDialogs(sourceId: number): { open: unknown[]; done: Array<[string, number]> } {
    const open: unknown[] = [];
    for (const r of this.db.prepare('SELECT state FROM live_dialogs WHERE source = ?').iterate(sourceId) as Iterable<{ state: string }>) {
      const d = this.openState(r.state);
      if (d !== undefined) open.push(d);
    }
    const done: Array<[string, number]> = [];
    for (const r of this.db.prepare('SELECT call_ids FROM live_done WHERE source = ? ORDER BY id').iterate(sourceId) as Iterable<{ call_ids: string }>) {
      for (const e of JSON.parse(r.call_ids) as Array<[string, number]>) done.push(e);
    }
    return { open, done };
  }

  /** Another source with this content hash that was read (not itself skipped as a duplicate). */
  findByContent(contentHash: string, exceptId: number): { id: number; path: string } | undefined {
    return this.db
      .prepare("SELECT id, path FROM sources WHERE content_hash = ? AND id != ? AND coalesce(format, '') != 'duplicate' LIMIT 1")
      .get(contentHash, exceptId) as { id: number; path: string } | undefined;
  }

  /** The stored blocks with a bucket in [from, to), oldest first: by their hour, then their first and last bucket. */
  private blocksIn(from: number, to: number): IterableIterator<[number, string, Buffer]> {
    const stmt = (this.blocksInStmt ??= this.db
      .prepare('SELECT hour, pairs, rows FROM bucket_blocks WHERE hour >= ? AND hour <= ? AND max_b >= ? AND min_b < ? ORDER BY id')
      .raw(true));
    const hourTo = to >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : Math.floor((to - 1) / BLOCK_HOUR_MS);
    return stmt.iterate(Math.floor(from / BLOCK_HOUR_MS), hourTo, from, to) as IterableIterator<[number, string, Buffer]>;
  }

  private blocksInStmt: Database.Statement | undefined;

  /** Sum of buckets per number × carrier with from ≤ bucket < to, in (number, carrier) order. */
  sumBuckets(from: number, to: number): BucketDelta[] {
    if (this.mem) return this.mem.sum(from, to);
    const byPair = new Map<string, BucketDelta>();
    for (const [, pairs, rows] of this.blocksIn(from, to)) {
      const d = decodeBucketBlock(pairs, rows);
      // A block's pair once: its sums in the map, not a key string a row.
      const sums: (Float64Array | undefined)[] = new Array(d.names.length / 2);
      for (let r = 0; r < d.n; r++) {
        const b = d.bucket[r];
        if (b < from || b >= to) continue;
        const p = d.pair[r];
        let v = sums[p];
        if (v === undefined) {
          const number = d.names[2 * p];
          const carrier = d.names[2 * p + 1];
          const key = `${number}\u0000${carrier}`;
          let row = byPair.get(key);
          if (row === undefined) byPair.set(key, (row = { number, carrier, bucket: from, v: new Float64Array(FIELDS) }));
          v = sums[p] = row.v;
        }
        const o = r * FIELDS;
        for (let i = 0; i < FIELDS; i++) v[i] += d.v[o + i];
      }
    }
    return [...byPair.values()].sort((a, b) => compareText(a.number, b.number) || compareText(a.carrier, b.carrier));
  }

  /**
   * Per-bucket rows in [from, to), one per number × carrier × bucket (added up over the blocks that hold it), in
   * (bucket, number, carrier) order: used when a window's lower edge moves past them.
   */
  bucketsBetween(from: number, to: number): BucketDelta[] {
    if (this.mem) return this.mem.between(from, to);
    const out: BucketDelta[] = [];
    for (const [, pairs, rows] of this.blocksIn(from, to)) {
      const d = decodeBucketBlock(pairs, rows);
      for (let r = 0; r < d.n; r++) {
        const b = d.bucket[r];
        if (b < from || b >= to) continue;
        const p = d.pair[r];
        out.push({ number: d.names[2 * p], carrier: d.names[2 * p + 1], bucket: b, v: Float64Array.from(d.v.subarray(r * FIELDS, r * FIELDS + FIELDS)) });
      }
    }
    out.sort((a, b) => a.bucket - b.bucket || compareText(a.number, b.number) || compareText(a.carrier, b.carrier));
    let k = 0;
    for (let i = 0; i < out.length; i++) {
      const prev = k > 0 ? out[k - 1] : null;
      if (prev !== null && prev.bucket === out[i].bucket && prev.number === out[i].number && prev.carrier === out[i].carrier) {
        for (let f = 0; f < FIELDS; f++) prev.v[f] += out[i].v[f];
      } else out[k++] = out[i];
    }
    out.length = k;
    return out;
  }

  numbersSeen(): NumberSeen[] {
    return (this.db.prepare('SELECT number, first_seen AS first, last_seen AS last FROM numbers').all() as NumberSeen[]);
  }

  totals(): { number: string; carrier: string; outcome: string; count: number }[] {
    if (this.mem) return this.mem.totals();
    const out: { number: string; carrier: string; outcome: string; count: number }[] = [];
    for (const row of this.db.prepare(`SELECT number, carrier, ${OUTCOMES.join(', ')} FROM totals`).raw(true).all() as unknown[][]) {
      const number = row[0] as string;
      const carrier = row[1] as string;
      totalsRowOutcomes(row, 2, (outcome, count) => ({ number, carrier, outcome, count }), out);
    }
    return out;
  }

  /** totals() summed over numbers: carrier × outcome (what /metrics needs when every number is in one pool). */
  totalsByCarrier(): { carrier: string; outcome: string; count: number }[] {
    if (this.mem) {
      const m = new Map<string, { carrier: string; outcome: string; count: number }>();
      for (const t of this.mem.totals()) {
        const k = t.carrier + '\u0000' + t.outcome;
        const cur = m.get(k);
        if (cur) cur.count += t.count;
        else m.set(k, { carrier: t.carrier, outcome: t.outcome, count: t.count });
      }
      return [...m.values()];
    }
    // Kept in memory (a GROUP BY over every number was ~25 ms at 10k numbers, after every commit): loaded once,
    // moved by this connection's commits, loaded again when another connection committed (data_version).
    const version = this.dataVersion();
    if (this.byCarrier?.version !== version) {
      const rows = new Map<string, { carrier: string; outcome: string; count: number }>();
      const sums = OUTCOMES.map((o) => `sum(${o})`).join(', ');
      for (const row of this.db.prepare(`SELECT carrier, ${sums} FROM totals GROUP BY carrier`).raw(true).all() as unknown[][]) {
        const carrier = row[0] as string;
        const outcomes: { carrier: string; outcome: string; count: number }[] = [];
        totalsRowOutcomes(row, 1, (outcome, count) => ({ carrier, outcome, count }), outcomes);
        for (const t of outcomes) addCarrierTotal(rows, t);
      }
      this.byCarrier = { version, rows };
    }
    // In (carrier, outcome) order by bytes, as the GROUP BY (BINARY collation) gives them: the same text as a fresh read.
    return [...this.byCarrier.rows.values()].sort(byCarrierOutcome).map((t) => ({ ...t }));
  }

  private byCarrier: { version: number; rows: Map<string, { carrier: string; outcome: string; count: number }> } | null = null;

  blocks(): { carrier: string; engine: string; count: number }[] {
    return this.db.prepare('SELECT carrier, engine, count FROM blocks').all() as never;
  }

  ingestCounts(): CounterDelta[] {
    return this.db.prepare('SELECT format, result, reason, count FROM ingest_counts').all() as never;
  }

  quarantined(limit = 1000): QuarantineEntry[] {
    return this.db.prepare('SELECT file, line, format, reason, detail, raw, at FROM quarantine ORDER BY id DESC LIMIT ?').all(limit) as never;
  }

  addHistory(rows: HistoryRow[]): void {
    const stmt = this.db.prepare(
      `INSERT INTO history (number, at, status, score, action, subscores, reason, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET status = excluded.status, score = excluded.score, action = excluded.action,
       subscores = excluded.subscores, reason = excluded.reason, event = coalesce(excluded.event, event)`,
    );
    this.db.transaction(() => {
      for (const r of rows) stmt.run(r.number, r.at, r.status, r.score, r.action, JSON.stringify(r.subscores), r.reason, r.event);
    })();
  }

  history(number: string, from: number, to: number, limit = 10_000): HistoryRow[] {
    return (this.db.prepare('SELECT * FROM history WHERE number = ? AND at >= ? AND at <= ? ORDER BY at LIMIT ?').all(number, from, to, limit) as Record<string, unknown>[]).map(rowToHistory);
  }

  /** The newest history row of every number (to resume change detection after a restart). */
  latestHistory(): HistoryRow[] {
    return (this.db
      .prepare('SELECT h.* FROM history h JOIN (SELECT number, max(at) AS m FROM history GROUP BY number) x ON x.number = h.number AND x.m = h.at')
      .all() as Record<string, unknown>[]).map(rowToHistory);
  }

  /** The latest label per number and engine. */
  latestLabels(): LabelSnapshot[] {
    return this.db
      .prepare(
        `SELECT l.number, l.engine, l.label, l.checked_at AS checkedAt, l.reports FROM labels l
         JOIN (SELECT number, engine, max(checked_at) AS m FROM labels GROUP BY number, engine) x
           ON x.number = l.number AND x.engine = l.engine AND x.m = l.checked_at`,
      )
      .all() as LabelSnapshot[];
  }

  inventory(): InventoryEntry[] {
    return (this.db.prepare('SELECT number, pool, campaign, registered, registered_at AS registeredAt FROM inventory').all() as Record<string, unknown>[]).map(
      (r) => ({
        number: String(r.number),
        pool: String(r.pool),
        campaign: (r.campaign as string | null) ?? null,
        registered: r.registered === null ? null : Number(r.registered) === 1,
        registeredAt: (r.registeredAt as number | null) ?? null,
      }),
    );
  }

  /** Changes when another connection commits (serve is the only writer while it runs: store/lock.ts). */
  dataVersion(): number {
    return Number(this.db.pragma('data_version', { simple: true }));
  }

  /**
   * Drop buckets older than the retention edge, and the keys of calls that old; totals keep the all-time counts. A
   * block whose buckets are all that old goes; one that holds some is written again without them. Returns the
   * bucket rows dropped.
   */
  prune(before: number): number {
    if (this.mem) return this.mem.prune(before);
    this.pruneCallKeys(Math.floor(before / 1000));
    let removed = 0;
    this.db.transaction(() => {
      removed += Number(this.db.prepare('SELECT coalesce(sum(n), 0) FROM bucket_blocks WHERE max_b < ?').pluck().get(before));
      this.db.prepare('DELETE FROM bucket_blocks WHERE max_b < ?').run(before);
      const straddling = this.db.prepare('SELECT id, hour, n, pairs, rows FROM bucket_blocks WHERE min_b < ?').raw(true).all(before) as [number, number, number, string, Buffer][];
      const rewrite = this.db.prepare('UPDATE bucket_blocks SET min_b = ?, max_b = ?, n = ?, pairs = ?, rows = ? WHERE id = ?');
      for (const [id, hour, n, pairs, rows] of straddling) {
        const kept = filterBucketBlock(hour, decodeBucketBlock(pairs, rows), (b) => b >= before);
        // max_b ≥ before: at least one row is kept.
        rewrite.run(kept!.minBucket, kept!.maxBucket, kept!.n, kept!.pairs, kept!.rows, id);
        removed += n - kept!.n;
      }
    })();
    return removed;
  }

  /**
   * Merge the blocks of each hour before `beforeHour` that holds more than `minBlocks` of them into one block, rows of
   * the same number × carrier × bucket added up. A live tail commits about once a second, so an hour of live calls is
   * up to 3,600 small blocks, each read at start and by every window edge that crosses it; merged, an hour is one
   * block, and reads give the same rows (the rows are added in the order they are read). Returns the blocks merged
   * away.
   */
  compactBuckets(beforeHour: number, minBlocks = 8): number {
    if (this.mem) return 0;
    let merged = 0;
    const hours = this.db
      .prepare('SELECT hour FROM bucket_blocks WHERE hour < ? GROUP BY hour HAVING count(*) > ?')
      .pluck()
      .all(beforeHour, minBlocks) as number[];
    const read = this.db.prepare('SELECT id, pairs, rows FROM bucket_blocks WHERE hour = ? ORDER BY id').raw(true);
    const drop = this.db.prepare('DELETE FROM bucket_blocks WHERE hour = ? AND id <= ?');
    const put = this.db.prepare('INSERT INTO bucket_blocks (hour, min_b, max_b, n, pairs, rows) VALUES (?, ?, ?, ?, ?, ?)');
    for (const hour of hours) {
      // An hour at a time: one short transaction each, so a scrape or a commit never waits long behind it.
      this.db.transaction(() => {
        const blocks = read.all(hour) as [number, string, Buffer][];
        const pairs: { number: string; carrier: string }[] = [];
        const pairIds = new Map<string, number>();
        const rowOf = new Map<string, number>();
        const bucket: number[] = [];
        const pair: number[] = [];
        const sums: number[] = [];
        for (const [, pairsJson, rows] of blocks) {
          const d = decodeBucketBlock(pairsJson, rows);
          const ids = new Int32Array(d.names.length / 2).fill(-1);
          for (let r = 0; r < d.n; r++) {
            const p = d.pair[r];
            if (ids[p] < 0) {
              const key = `${d.names[2 * p]}\u0000${d.names[2 * p + 1]}`;
              let id = pairIds.get(key);
              if (id === undefined) {
                pairIds.set(key, (id = pairs.length));
                pairs.push({ number: d.names[2 * p], carrier: d.names[2 * p + 1] });
              }
              ids[p] = id;
            }
            const key = `${ids[p]}:${d.bucket[r]}`;
            let row = rowOf.get(key);
            if (row === undefined) {
              rowOf.set(key, (row = bucket.length));
              bucket.push(d.bucket[r]);
              pair.push(ids[p]);
              for (let f = 0; f < FIELDS; f++) sums.push(0);
            }
            for (let f = 0; f < FIELDS; f++) sums[row * FIELDS + f] += d.v[r * FIELDS + f];
          }
        }
        const [block] = bucketBlocksOf({ n: bucket.length, pairs, pair: Int32Array.from(pair), bucket: Float64Array.from(bucket), v: Float64Array.from(sums) });
        drop.run(hour, blocks[blocks.length - 1][0]);
        put.run(block.hour, block.minBucket, block.maxBucket, block.n, block.pairs, block.rows);
        merged += blocks.length - 1;
      })();
    }
    return merged;
  }

  /**
   * Forget the keys of calls that started before `beforeSec`: a block whose keys are all that old goes, one that
   * holds some (a backfill's transaction spans hours of calls, a file out of time order more) is written again
   * without them, so no key outlives the retention in the database either.
   */
  private pruneCallKeys(beforeSec: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM call_key_blocks WHERE max_ts < ?').run(beforeSec);
      const rewrite = this.db.prepare('UPDATE call_key_blocks SET min_ts = ?, max_ts = ?, keys = ? WHERE id = ?');
      const straddling = this.db.prepare('SELECT id, keys FROM call_key_blocks WHERE min_ts < ?').raw(true).all(beforeSec) as [number, Buffer][];
      for (const [id, blob] of straddling) {
        const kept: number[] = [];
        for (let o = 0; o + 16 <= blob.length; o += 16) {
          const ts = blob.readUInt32LE(o + 12);
          if (ts >= beforeSec) kept.push(blob.readUInt32LE(o), blob.readUInt32LE(o + 4), blob.readUInt32LE(o + 8), ts);
        }
        const b = keyBlock(kept);
        rewrite.run(b.minTs, b.maxTs, b.blob, id);
      }
    })();
  }

  /** The remembered call keys (classify/callKeys.ts) of calls that started at or after `fromSec`. */
  loadCallKeys(into: CallKeySet, fromSec: number): void {
    const stmt = this.db.prepare('SELECT keys FROM call_key_blocks WHERE max_ts >= ? ORDER BY id').pluck();
    for (const blob of stmt.iterate(fromSec) as IterableIterator<Buffer>) {
      for (let o = 0; o + 16 <= blob.length; o += 16) {
        const ts = blob.readUInt32LE(o + 12);
        if (ts >= fromSec) into.add(blob.readUInt32LE(o), blob.readUInt32LE(o + 4), blob.readUInt32LE(o + 8), ts);
      }
    }
  }

  /** Dials (stats/fatigue.ts) of calls that started at or after `fromSec`: block by block, oldest first, each in the order counted. */
  loadDials(add: (number: string, hi: number, lo: number, tsSec: number) => void, fromSec: number): void {
    const stmt = this.db.prepare('SELECT numbers, dials FROM consumer_dial_blocks WHERE max_ts >= ? ORDER BY min_ts, id').raw(true);
    for (const [numbers, blob] of stmt.iterate(fromSec) as IterableIterator<[string, Buffer]>) {
      forEachDial(numbers, blob, (n, hi, lo, ts) => {
        if (ts >= fromSec) add(n, hi, lo, ts);
      });
    }
  }

  /**
   * Forget the dials of calls that started before `beforeSec` (kept only as long as the fatigue windows need): a block
   * whose dials are all that old goes, one that holds some is written again without them. Returns the dials forgotten.
   */
  pruneDials(beforeSec: number): number {
    let forgotten = 0;
    this.db.transaction(() => {
      for (const n of this.db.prepare('SELECT length(dials) FROM consumer_dial_blocks WHERE max_ts < ?').pluck().all(beforeSec) as number[]) forgotten += n / 16;
      this.db.prepare('DELETE FROM consumer_dial_blocks WHERE max_ts < ?').run(beforeSec);
      const rewrite = this.db.prepare('UPDATE consumer_dial_blocks SET min_ts = ?, max_ts = ?, numbers = ?, dials = ? WHERE id = ?');
      const straddling = this.db.prepare('SELECT id, numbers, dials FROM consumer_dial_blocks WHERE min_ts < ?').raw(true).all(beforeSec) as [number, string, Buffer][];
      for (const [id, numbersJson, blob] of straddling) {
        const numbers: string[] = [];
        const words: number[] = [];
        forEachDial(numbersJson, blob, (n, hi, lo, ts) => {
          if (ts < beforeSec) forgotten++;
          else {
            numbers.push(n);
            words.push(hi, lo, ts);
          }
        });
        const b = dialBlock(numbers, words);
        rewrite.run(b.minTs, b.maxTs, b.numbers, b.blob, id);
      }
    })();
    return forgotten;
  }

  newestBucket(): number | null {
    if (this.mem) return this.mem.newest();
    const row = this.db.prepare('SELECT max(max_b) AS b FROM bucket_blocks').get() as { b: number | null };
    return row.b;
  }

  backup(target: string): Promise<unknown> {
    return this.db.backup(target);
  }

  close(): void {
    this.db.close();
  }
}

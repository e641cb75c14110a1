import { endianness } from 'node:os';
import { FIELDS } from '../stats/vector.js';

/** A batch's buckets as columns (store/db.ts BucketColumns): row r is pair `pairs[pair[r]]` in bucket `bucket[r]`. */
export interface BucketColumnsLike {
  n: number;
  pairs: readonly { readonly number: string; readonly carrier: string }[];
  pair: Int32Array;
  bucket: Float64Array;
  v: ArrayLike<number>;
}

// Schema 8: a transaction's buckets are stored as one row per hour they fall in (`bucket_blocks`), a block of
// columns, not a row each. A backfill's buckets are nearly one a call (minute buckets; a dialer's DID calls a
// carrier about once an hour), and upserting them row by row, 18 sums bound a row, was ~23 s of a 10M-row
// catch-up's ~145 s. Nothing looks a bucket up by its key: the windows read time ranges (the block's hour, then
// its rows), so a block per hour is all the index they need. The same (number, carrier, bucket) may then be in
// several blocks; readers add them up.

/** Blocks are cut at the hour: a window edge reads the blocks of the hours it moves across, nothing older. */
export const BLOCK_HOUR_MS = 3_600_000;

/** Header: format version, sum width in bytes, two bytes unused, rows (u32), the block's first bucket (f64, ms). */
const HEADER = 16;
const VERSION = 1;

/** One stored block: its hour, first and last bucket, rows, pairs (JSON [number, carrier, …]) and the columns. */
export interface BucketBlock {
  hour: number;
  minBucket: number;
  maxBucket: number;
  n: number;
  pairs: string;
  rows: Buffer;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The narrowest of u8, u16, i32 and f64 that holds every sum exactly (most hold one call: 0s and 1s, talk seconds). */
function widthOf(v: Float64Array, n: number): 1 | 2 | 4 | 8 {
  let max = 0;
  let min = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (!Number.isInteger(x)) return 8;
    if (x > max) max = x;
    else if (x < min) min = x;
  }
  if (min >= 0 && max <= 0xff) return 1;
  if (min >= 0 && max <= 0xffff) return 2;
  if (min >= -0x80000000 && max <= 0x7fffffff) return 4;
  return 8;
}

/** The typed array a width is stored as, over `len` elements from `offset` of `buf`. */
function sumsView(width: number, buf: ArrayBuffer, offset: number, len: number): Uint8Array | Uint16Array | Int32Array | Float64Array {
  if (width === 1) return new Uint8Array(buf, offset, len);
  if (width === 2) return new Uint16Array(buf, offset, len);
  if (width === 4) return new Int32Array(buf, offset, len);
  if (width === 8) return new Float64Array(buf, offset, len);
  throw new Error(`bucket block: unknown sum width ${width}`);
}

/** Bytes little-endian on disk: typed arrays are the host's order, swapped on a big-endian host. */
function toDisk(b: Buffer, width: number, sumsAt: number): Buffer {
  if (LITTLE_ENDIAN) return b; // the header is written little-endian already
  b.subarray(HEADER, sumsAt).swap32();
  if (width === 2) b.subarray(sumsAt).swap16();
  else if (width === 4) b.subarray(sumsAt).swap32();
  else if (width === 8) b.subarray(sumsAt).swap64();
  return b;
}

/**
 * A batch's bucket columns as blocks, one per hour its buckets fall in, rows in the batch's order. A block keeps the
 * pairs it uses (numbers are ours, never a consumer's) and, per row, the pair's index, the bucket's offset from the
 * block's first bucket (ms, under an hour) and the FIELDS sums.
 */
export function bucketBlocksOf(c: BucketColumnsLike): BucketBlock[] {
  if (c.n === 0) return [];
  // Rows per hour, in two passes over typed arrays (a backfill's transaction holds ~45k rows over an hour or two).
  const counts = new Map<number, number>();
  for (let r = 0; r < c.n; r++) {
    const h = Math.floor(c.bucket[r] / BLOCK_HOUR_MS);
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  const rowsOf = new Map<number, { rows: Int32Array; k: number }>();
  for (const [h, n] of counts) rowsOf.set(h, { rows: new Int32Array(n), k: 0 });
  for (let r = 0; r < c.n; r++) {
    const e = rowsOf.get(Math.floor(c.bucket[r] / BLOCK_HOUR_MS))!;
    e.rows[e.k++] = r;
  }
  const out: BucketBlock[] = [];
  const local = new Int32Array(c.pairs.length).fill(-1);
  for (const [hour, e] of rowsOf) out.push(encode(c, hour, e.rows, local));
  return out;
}

function encode(c: BucketColumnsLike, hour: number, rows: Int32Array, local: Int32Array): BucketBlock {
  const n = rows.length;
  let minB = Infinity;
  let maxB = -Infinity;
  const sums = new Float64Array(n * FIELDS);
  const v = c.v;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const b = c.bucket[r];
    if (b < minB) minB = b;
    if (b > maxB) maxB = b;
    const from = r * FIELDS;
    const to = i * FIELDS;
    for (let f = 0; f < FIELDS; f++) sums[to + f] = v[from + f];
  }
  const width = widthOf(sums, sums.length);
  const sumsAt = HEADER + 8 * n;
  const buf = new ArrayBuffer(sumsAt + width * n * FIELDS);
  const head = new DataView(buf, 0, HEADER);
  head.setUint8(0, VERSION);
  head.setUint8(1, width);
  head.setUint32(4, n, LITTLE_ENDIAN);
  head.setFloat64(8, minB, LITTLE_ENDIAN);
  const pairIdx = new Uint32Array(buf, HEADER, n);
  const offsets = new Uint32Array(buf, HEADER + 4 * n, n);
  const names: string[] = [];
  const used: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const p = c.pair[r];
    let l = local[p];
    if (l < 0) {
      l = local[p] = used.length;
      used.push(p);
      names.push(c.pairs[p].number, c.pairs[p].carrier);
    }
    pairIdx[i] = l;
    offsets[i] = c.bucket[r] - minB;
  }
  for (const p of used) local[p] = -1; // ready for the next hour's block
  sumsView(width, buf, sumsAt, n * FIELDS).set(sums);
  return { hour, minBucket: minB, maxBucket: maxB, n, pairs: JSON.stringify(names), rows: toDisk(Buffer.from(buf), width, sumsAt) };
}

/** The stored width's typed array: its elements read as numbers, so a read converts only the rows it takes. */
export type StoredSums = Uint8Array | Uint16Array | Int32Array | Float64Array;

/** A stored block's rows: its pairs (number, carrier alternating), and per row the pair's index, its bucket and sums. */
export interface DecodedBlock {
  names: string[];
  n: number;
  pair: Uint32Array;
  bucket: Float64Array;
  /** n × FIELDS sums, row-major, at the width they were stored in. */
  v: StoredSums;
}

/**
 * A stored block read back. Its bytes are read in place (a window edge reads a minute of an hour's block every
 * minute: converting the whole block each time was ~5 ms); copied first only when typed arrays cannot view them
 * (unaligned) or on a big-endian host, which swaps the copy.
 */
export function decodeBucketBlock(pairsJson: string, stored: Uint8Array): DecodedBlock {
  let b = stored;
  if (!LITTLE_ENDIAN || b.byteOffset % 8 !== 0) {
    const copy = new Uint8Array(b.length);
    copy.set(b);
    b = copy;
  }
  if (b.length < HEADER) throw new Error(`bucket block: ${b.length} bytes, shorter than its header`);
  const head = new DataView(b.buffer, b.byteOffset, HEADER);
  const version = head.getUint8(0);
  if (version !== VERSION) throw new Error(`bucket block: unknown version ${version}`);
  const width = head.getUint8(1);
  const n = head.getUint32(4, true);
  const base = head.getFloat64(8, true);
  const sumsAt = HEADER + 8 * n;
  if (b.length !== sumsAt + width * n * FIELDS) throw new Error(`bucket block: ${b.length} bytes, not the ${sumsAt + width * n * FIELDS} its ${n} rows take`);
  if (!LITTLE_ENDIAN) {
    const bytes = Buffer.from(b.buffer, b.byteOffset, b.length);
    bytes.subarray(HEADER, sumsAt).swap32();
    if (width === 2) bytes.subarray(sumsAt).swap16();
    else if (width === 4) bytes.subarray(sumsAt).swap32();
    else if (width === 8) bytes.subarray(sumsAt).swap64();
  }
  const pair = new Uint32Array(b.buffer, b.byteOffset + HEADER, n);
  const offsets = new Uint32Array(b.buffer, b.byteOffset + HEADER + 4 * n, n);
  const bucket = new Float64Array(n);
  for (let i = 0; i < n; i++) bucket[i] = base + offsets[i];
  const v = sumsView(width, b.buffer as ArrayBuffer, b.byteOffset + sumsAt, n * FIELDS);
  const names = JSON.parse(pairsJson) as string[];
  for (let i = 0; i < n; i++) if (2 * pair[i] + 1 >= names.length) throw new Error(`bucket block: row ${i} names pair ${pair[i]} of ${names.length / 2}`);
  return { names, n, pair, bucket, v };
}

/** The rows of a block kept (`keep(bucket)`), as a block again; null when none is kept. */
export function filterBucketBlock(hour: number, d: DecodedBlock, keep: (bucket: number) => boolean): BucketBlock | null {
  const pairs: { number: string; carrier: string }[] = [];
  for (let i = 0; i + 1 < d.names.length; i += 2) pairs.push({ number: d.names[i], carrier: d.names[i + 1] });
  const rows: number[] = [];
  for (let r = 0; r < d.n; r++) if (keep(d.bucket[r])) rows.push(r);
  if (rows.length === 0) return null;
  return encode({ n: d.n, pairs, pair: Int32Array.from(d.pair), bucket: d.bucket, v: d.v }, hour, Int32Array.from(rows), new Int32Array(pairs.length).fill(-1));
}

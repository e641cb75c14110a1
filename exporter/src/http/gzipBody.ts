import { constants, crc32, deflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw) as (b: Buffer, o: { finishFlush: number }) => Promise<Buffer>;
/** Segments end on a sync flush (byte-aligned, no final block), so they can be joined into one deflate stream. */
const SEGMENT = { finishFlush: constants.Z_SYNC_FLUSH };

/**
 * A piece of a body kept only compressed: a raw deflate segment of its own (no shared window, sync-flushed, no
 * final block), its CRC-32 and plain length — what /metrics keeps of its per-number text between scrapes, so 10k
 * numbers hold ~4 MB of segments instead of ~80 MB of text. Segments join into one gzip member (gzipStream).
 */
export class Packed {
  constructor(readonly seg: Buffer, readonly crc: number, readonly length: number) {}
  /** The plain bytes (made on demand: a rebuild that copies from it, a scraper without gzip, a test). */
  text(): Buffer {
    return this.length === 0 ? Buffer.alloc(0) : inflateRawSync(this.seg, SEGMENT);
  }
}

/** A body: plain Buffers and kept segments, in order. */
export type BodyChunk = Buffer | Packed;

/** One segment for `buf` (on zlib's thread pool). */
async function pack(buf: Buffer, level: number): Promise<Packed> {
  return new Packed(buf.length === 0 ? Buffer.alloc(0) : exactCopy(await deflateRawAsync(buf, { level, ...SEGMENT })), crc32(buf), buf.length);
}

/**
 * `b` in a backing store of its own size. zlib hands back a one-chunk result as a view of its 16 KiB output
 * buffer: a kept segment of ~2 KB held the whole 16 KiB (32 MB for the ~4.5 MB of segments at 10k numbers).
 * Not Buffer's shared pool either: one long-lived segment would keep a whole 8 KiB pool slab alive.
 */
export function exactCopy(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const own = new ArrayBuffer(b.length);
  new Uint8Array(own).set(b);
  return Buffer.from(own);
}

/** Compress `bufs` (a segment each), at most GZIP_IN_FLIGHT at a time on zlib's thread pool. */
export async function packAll(bufs: Buffer[], level = 1): Promise<Packed[]> {
  const out: Packed[] = new Array(bufs.length);
  let next = 0;
  const worker = async () => {
    while (next < bufs.length) {
      const i = next++;
      out[i] = await pack(bufs[i], level);
    }
  };
  await Promise.all(Array.from({ length: Math.min(GZIP_IN_FLIGHT, bufs.length) }, worker));
  return out;
}

/**
 * The plain body in order (a scraper without gzip), kept segments inflated on zlib's thread pool at most
 * GZIP_IN_FLIGHT ahead of the one being handed out. Not all at once: at 10k numbers the inflated body is ~80 MB of
 * ~40 KB buffers, which left glibc's heap ~70 MB larger for good after one plain scrape.
 */
export async function* plainChunks(chunks: readonly BodyChunk[]): AsyncGenerator<Buffer> {
  const ahead: Promise<Buffer>[] = [];
  let next = 0;
  const plain = (c: BodyChunk): Promise<Buffer> =>
    !(c instanceof Packed) ? Promise.resolve(c) : c.length === 0 ? Promise.resolve(Buffer.alloc(0)) : inflateRawAsync(c.seg, SEGMENT);
  try {
    while (next < chunks.length || ahead.length > 0) {
      while (next < chunks.length && ahead.length < GZIP_IN_FLIGHT) ahead.push(plain(chunks[next++]));
      yield await ahead.shift()!;
    }
  } finally {
    // Left early (the scraper went away): what is still inflating is dropped, its failure too.
    for (const p of ahead) p.catch(() => {});
  }
}

/** The plain bytes' length, without inflating anything (a Packed knows its own). */
export function plainLength(chunks: readonly BodyChunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** The body as one plain Buffer (tests, tools). */
export function joinPlain(chunks: BodyChunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (c instanceof Packed ? c.text() : c)));
}

// CRC-32 of a concatenation from the parts' CRCs (zlib's crc32_combine, as multmodp/x2nmodp in its crc32.c):
// the whole body's CRC for the gzip trailer without its plain bytes, which /metrics no longer keeps.
const POLY = 0xedb88320;
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}
/** X2N[k] = x^(2^k) mod p. */
const X2N = (() => {
  const t = new Array<number>(32);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let n = 1; n < 32; n++) t[n] = p = multModP(p, p);
  return t;
})();
/** CRC-32 of A followed by B, from crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  let p = 0x80000000; // x^0
  let k = 3; // bytes → bits: x^(8 × length)
  for (let n = lengthB; n > 0; n = Math.floor(n / 2), k++) if (n % 2) p = multModP(X2N[k & 31], p);
  return (multModP(p, crcA) ^ crcB) >>> 0;
}

/** gzip header (RFC 1952): deflate, no name, no time, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final stored block: ends the joined deflate stream. */
const FINAL_BLOCK = Buffer.from([3, 0]);

/** The segments as one gzip member: header, segments, a final block, CRC-32 and length (mod 2^32) of the plain body. */
export function gzipStream(parts: Packed[]): Buffer[] {
  let crc = 0;
  let length = 0;
  const out: Buffer[] = [GZIP_HEADER];
  for (const p of parts) {
    if (p.length === 0) continue;
    crc = crc32Combine(crc, p.crc, p.length);
    length += p.length;
    out.push(p.seg);
  }
  const trailer = Buffer.alloc(10);
  FINAL_BLOCK.copy(trailer, 0);
  trailer.writeUInt32LE(crc, 2);
  trailer.writeUInt32LE(length % 2 ** 32, 6);
  out.push(trailer);
  return out;
}

/**
 * /metrics compressed for a scraper that asks for gzip (Prometheus always does). The body is a list of chunks
 * that /metrics keeps between scrapes: the per-number blocks come as segments kept compressed (Packed), sent as
 * they are; every other Buffer gets a segment of its own, kept beside its Buffer while that Buffer lives, so an
 * unchanged chunk is compressed once, not at every scrape. The segments are joined into one gzip member (one
 * deflate stream, as pigz joins its blocks): every gzip reader reads it — curl's --compressed reads only the
 * first member of a multi-member file, so one member a chunk is not an option.
 */
export class GzipMembers {
  private readonly kept = new WeakMap<Buffer, Packed>();
  /** Bytes compressed by the last call (what was not found kept): for tests and the docs' figures. */
  lastCompressedBytes = 0;

  constructor(private readonly level = 1) {}

  /** The gzip body to write for `body`: header, one segment per chunk, trailer. */
  async of(body: BodyChunk[]): Promise<Buffer[]> {
    const parts: Packed[] = new Array(body.length);
    const todo: number[] = [];
    let compressed = 0;
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c instanceof Packed) parts[i] = c; // kept compressed already
      else {
        const kept = this.kept.get(c);
        if (kept) parts[i] = kept;
        else {
          todo.push(i);
          compressed += c.length;
        }
      }
    }
    // On zlib's thread pool (the event loop stays free, a second core does the work), a few at a time: each
    // stream in flight holds its own window and hash tables (~300 KB), so a first scrape of a thousand chunks
    // all at once would cost hundreds of MB.
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const i = todo[next++];
        const c = body[i] as Buffer;
        const p = await pack(c, this.level);
        parts[i] = p;
        this.kept.set(c, p);
      }
    };
    await Promise.all(Array.from({ length: Math.min(GZIP_IN_FLIGHT, todo.length) }, worker));
    this.lastCompressedBytes = compressed;
    return gzipStream(parts);
  }
}

/** Chunks compressed at once (libuv's thread pool has 4 threads by default). */
const GZIP_IN_FLIGHT = 2;

/** True when an Accept-Encoding header accepts gzip (a `q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().split(';');
    const name = coding.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find((m) => m);
    return !q || Number(q[1]) > 0;
  }
  return false;
}

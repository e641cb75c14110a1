import { gunzip, gunzipSync, gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * A piece of a body kept only compressed (one gzip member) with its plain length: what /metrics keeps of its
 * per-number text between scrapes, so 10k numbers hold ~4 MB of members instead of ~80 MB of text.
 */
export class Packed {
  constructor(readonly gz: Buffer, readonly length: number) {}
  /** The plain bytes (made on demand: a rebuild that copies from it, a scraper without gzip, a test). */
  text(): Buffer {
    return this.length === 0 ? Buffer.alloc(0) : gunzipSync(this.gz);
  }
}

/** A body: plain Buffers and kept members, in order. */
export type BodyChunk = Buffer | Packed;

/** Compress `bufs` (each one member), at most GZIP_IN_FLIGHT at a time on zlib's thread pool. */
export async function packAll(bufs: Buffer[], level = 1): Promise<Packed[]> {
  const out: Packed[] = new Array(bufs.length);
  let next = 0;
  const worker = async () => {
    while (next < bufs.length) {
      const i = next++;
      out[i] = new Packed(await gzipAsync(bufs[i], { level }), bufs[i].length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(GZIP_IN_FLIGHT, bufs.length) }, worker));
  return out;
}

/** The plain body (a scraper without gzip): kept members inflated a few at a time off the event loop. */
export async function plainOf(chunks: BodyChunk[]): Promise<Buffer[]> {
  const out: Buffer[] = new Array(chunks.length);
  const todo: number[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    if (c instanceof Packed) todo.push(i);
    else out[i] = c;
  }
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const i = todo[next++];
      const p = chunks[i] as Packed;
      out[i] = p.length === 0 ? Buffer.alloc(0) : await gunzipAsync(p.gz);
    }
  };
  await Promise.all(Array.from({ length: Math.min(GZIP_IN_FLIGHT, todo.length) }, worker));
  return out;
}

/** The body as one plain Buffer (tests, tools). */
export function joinPlain(chunks: BodyChunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (c instanceof Packed ? c.text() : c)));
}

/**
 * /metrics compressed for a scraper that asks for gzip (Prometheus always does). The body is a list of chunks
 * that /metrics keeps between scrapes: the per-number blocks come as members kept compressed (Packed), sent as
 * they are; every other Buffer becomes a gzip member of its own, kept beside its Buffer while that Buffer lives,
 * so an unchanged chunk is compressed once, not at every scrape. A gzip file may hold several members one after the other (RFC 1952 §2.2); Go's gzip reader (Prometheus),
 * zlib's gunzip (Node, curl) and browsers read them as one stream.
 */
export class GzipMembers {
  private readonly members = new WeakMap<Buffer, Buffer>();
  /** Bytes compressed by the last call (what was not found kept): for tests and the docs' figures. */
  lastCompressedBytes = 0;

  constructor(private readonly level = 1) {}

  async of(body: BodyChunk[]): Promise<Buffer[]> {
    const out: Buffer[] = new Array(body.length);
    const todo: number[] = [];
    const chunks = body as Buffer[]; // read only where the chunk is not Packed
    let compressed = 0;
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c instanceof Packed) {
        out[i] = c.gz; // kept compressed already
        continue;
      }
      const kept = this.members.get(c);
      if (kept) out[i] = kept;
      else {
        todo.push(i);
        compressed += chunks[i].length;
      }
    }
    // On zlib's thread pool (the event loop stays free, a second core does the work), a few at a time: each
    // stream in flight holds its own window and hash tables (~300 KB), so a first scrape of a thousand chunks
    // all at once would cost hundreds of MB.
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const i = todo[next++];
        const g = await gzipAsync(chunks[i], { level: this.level });
        out[i] = g;
        this.members.set(chunks[i], g);
      }
    };
    await Promise.all(Array.from({ length: Math.min(GZIP_IN_FLIGHT, todo.length) }, worker));
    this.lastCompressedBytes = compressed;
    return out;
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

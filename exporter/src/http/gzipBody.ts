import { gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);

/**
 * /metrics compressed for a scraper that asks for gzip (Prometheus always does). The body is a list of Buffers
 * that /metrics keeps between scrapes (one per family and block of numbers): each becomes a gzip member of its
 * own, kept beside its Buffer while that Buffer lives, so an unchanged block is compressed once, not at every
 * scrape. A gzip file may hold several members one after the other (RFC 1952 §2.2); Go's gzip reader (Prometheus),
 * zlib's gunzip (Node, curl) and browsers read them as one stream.
 */
export class GzipMembers {
  private readonly members = new WeakMap<Buffer, Buffer>();
  /** Bytes compressed by the last call (what was not found kept): for tests and the docs' figures. */
  lastCompressedBytes = 0;

  constructor(private readonly level = 1) {}

  async of(chunks: Buffer[]): Promise<Buffer[]> {
    const out: Buffer[] = new Array(chunks.length);
    const todo: number[] = [];
    let compressed = 0;
    for (let i = 0; i < chunks.length; i++) {
      const kept = this.members.get(chunks[i]);
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

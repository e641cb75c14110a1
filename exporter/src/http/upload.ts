// POST /api/v1/upload: the request body, inflated when it says gzip or deflate or is itself a gzip file (by its
// magic bytes: `--data-binary @Master.csv.1.gz`), streams through a byte counter
// into a `.part` file in the inbox, and is renamed once it is complete and its format recognised. Nothing from
// the request ever becomes a path; nothing waits whole in memory.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, pipeline as pipeStreams, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';

export interface UploadOptions {
  inbox: string;
  /** Cap on the body after inflating (`max_upload_bytes`). */
  maxBytes: number;
  /** Uploads in progress at once (`web.max_concurrent_uploads`); one more gets 429. */
  maxConcurrent: number;
  /** The format of a file from its first lines (blank ones dropped), or null when it is none numrep reads. */
  detectFormat(head: string[]): string | null;
  log(msg: string): void;
  /** Called with the inbox file name once an upload is in place. */
  saved(name: string): void;
}

/** Format detection looks at the first 10 lines within the first 64 KiB. */
const HEAD_BYTES = 65_536;
const HEAD_LINES = 10;
/** Seconds a client refused for concurrency is told to wait. */
const RETRY_AFTER_SECONDS = 5;

const DECODERS: Record<string, () => Transform> = {
  identity: () => new PassThrough(),
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
};

/** A body that is itself a gzip file (a compressed rotation posted as it is) is inflated; any other passes as it is. */
export async function* inflateGzipFile(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < 2) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    first.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(first);
  async function* whole(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return yield* whole();
  // The callback form hands back the last stream; a failure anywhere destroys it, and reading it then throws.
  const inflated = pipeStreams(Readable.from(whole()), createGunzip(), () => undefined);
  for await (const chunk of inflated) yield chunk as Buffer;
}

/** A refusal with the status and message the client gets. */
class UploadRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Counts the bytes against the cap and keeps the head of the file, deciding its format once that is known. */
class UploadMeter extends Transform {
  bytes = 0;
  format: string | null = null;
  private head: Buffer[] = [];
  private headBytes = 0;
  private decided = false;

  constructor(
    private readonly maxBytes: number,
    private readonly detect: (head: string[]) => string | null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(new UploadRefused(413, `upload larger than ${this.maxBytes} bytes (max_upload_bytes; inflated size when compressed)`));
    if (!this.decided) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes >= HEAD_BYTES) return done(this.decide(), chunk);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes === 0) return done(new UploadRefused(400, 'empty body: POST the CDR file as the request body'));
    done(this.decided ? null : this.decide());
  }

  /** Refuses the upload as soon as its head says it is nothing numrep reads. */
  private decide(): UploadRefused | null {
    this.decided = true;
    const text = Buffer.concat(this.head).subarray(0, HEAD_BYTES).toString('utf8');
    this.head = [];
    const lines = text.split('\n').slice(0, HEAD_LINES).map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
    this.format = this.detect(lines);
    if (this.format) return null;
    return new UploadRefused(415, 'not a recognised CDR or log format (asterisk, freeswitch, kamailio, generic CSV with header, sipp, sofia, engine labels, inventory)');
  }
}

/** The status and message for why an upload failed, or null for an error that is ours (500 internal error). */
function refusal(err: NodeJS.ErrnoException, encoding: string, inbox: string): UploadRefused | null {
  if (err instanceof UploadRefused) return err;
  // zlib's own codes: a body that says gzip/deflate but is not, or ends early
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return new UploadRefused(400, `request body is not valid ${encoding === 'identity' ? 'gzip' : encoding} data (${err.message})`);
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return new UploadRefused(507, `inbox ${inbox} is full (${err.code})`);
  if (err.syscall && err.code && ['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR'].includes(err.code)) return new UploadRefused(500, `inbox ${inbox} is not writable (${err.code})`);
  return null;
}

export function uploadHandler(o: UploadOptions): (req: Request, res: Response, next: NextFunction) => void {
  let inProgress = 0;

  const upload = async (req: Request, res: Response): Promise<void> => {
    // The rest of a refused body is read and thrown away (Node does so for a body never read): closing the
    // connection instead could reset it before the client has read the answer.
    const refuse = (r: UploadRefused, headers: Record<string, string> = {}) => {
      res.set(headers).status(r.status).json({ error: r.message });
    };

    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    const decoder = DECODERS[encoding];
    if (!decoder) return refuse(new UploadRefused(415, `Content-Encoding ${encoding.slice(0, 40)} is not supported: send the file uncompressed, or as gzip or deflate`));
    if (encoding === 'identity' && Number(req.get('content-length')) > o.maxBytes) return refuse(new UploadRefused(413, `upload larger than ${o.maxBytes} bytes (max_upload_bytes)`));
    if (inProgress >= o.maxConcurrent) {
      return refuse(new UploadRefused(429, `${inProgress} uploads in progress (web.max_concurrent_uploads); retry later`), { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    }

    inProgress++;
    const stem = `upload-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    const part = join(o.inbox, `.${stem}.part`);
    const meter = new UploadMeter(o.maxBytes, o.detectFormat);
    const body = decoder();
    // req stays outside the pipeline: a failing pipeline destroys its streams, and destroying req would take
    // the socket, and our answer, with it.
    const clientGone = () => body.destroy(new Error('the client closed the connection before the end of the body'));
    req.once('aborted', clientGone);
    req.once('error', clientGone);
    req.pipe(body);
    try {
      // 'wx': a fresh file, never one that exists (or a symlink planted under that name); 0640 like the inbox files
      await pipeline(body, inflateGzipFile, meter, createWriteStream(part, { flags: 'wx', mode: 0o640 }));
      const name = `${stem}.${meter.format}`;
      await rename(part, join(o.inbox, name));
      o.log(`upload: ${meter.bytes} bytes of ${meter.format}${encoding === 'identity' ? '' : ` (${encoding})`} saved as ${name}`);
      o.saved(name);
      res.status(202).json({ accepted: name, format: meter.format, bytes: meter.bytes });
    } catch (err) {
      await rm(part, { force: true });
      req.unpipe(body);
      req.resume(); // discard the rest of the body
      if (req.socket.destroyed) {
        o.log(`upload: ${(err as Error).message}; nothing saved`);
        return;
      }
      const r = refusal(err as NodeJS.ErrnoException, encoding, o.inbox);
      if (!r) throw err;
      if (r.status >= 500) o.log(`upload: ${r.message}`);
      refuse(r);
    } finally {
      inProgress--;
      req.off('aborted', clientGone);
      req.off('error', clientGone);
    }
  };

  return (req, res, next) => void upload(req, res).catch(next);
}

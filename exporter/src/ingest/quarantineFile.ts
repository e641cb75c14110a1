import { chmodSync, closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { QuarantineEntry } from '../store/db.js';

/**
 * quarantine.jsonl beside the database: one JSON object per rejected record, one per line.
 *
 * - Whole lines only. Lines are written in chunks; when a write fails part-way (ENOSPC on a full disk),
 *   the file is cut back to the end of the last whole line, so the next append never glues onto half a
 *   line. The lines not written are counted (`droppedDiskFull`) and said once in the log, not per batch.
 * - Bounded: at `maxBytes` the file is renamed `.1` (`.1` → `.2` …), keeping `keep` old files; the lines
 *   of the file that falls off the end are counted (`droppedRotated`).
 * - Created with `mode` (0600, or 0640 with group_readable); an existing file with more permissions is narrowed.
 * - No string of a whole batch is ever built (a 4 MiB step of rejects once took 2.4 GB and 30 s).
 */
export interface QuarantineFileOptions {
  path: string;
  maxBytes: number;
  keep: number;
  mode: number;
  log(msg: string): void;
  /** The write the lines go through (fs.writeSync's shape); tests inject a full disk here. */
  write?: (fd: number, buf: Buffer, offset: number, length: number) => number;
}

const CHUNK = 256 * 1024;

export class QuarantineFile {
  /** Lines written whole since start. */
  written = 0;
  /** Lines not written because the disk was full (ENOSPC, EDQUOT). */
  droppedDiskFull = 0;
  /** Lines not written for another write error. */
  droppedWriteError = 0;
  /** Lines of old rotations deleted to keep `keep` files. */
  droppedRotated = 0;

  private fd: number | null = null;
  /** Bytes of whole lines in the current file. */
  private size = 0;
  /** The error code of the outage already logged (null: writing fine). */
  private failing: string | null = null;
  private failedLines = 0;
  private readonly write: (fd: number, buf: Buffer, offset: number, length: number) => number;

  constructor(private readonly opts: QuarantineFileOptions) {
    this.write = opts.write ?? ((fd, buf, off, len) => writeSync(fd, buf, off, len));
  }

  /** Append the entries, each as one whole line, or count those that could not be written. */
  append(entries: readonly QuarantineEntry[]): void {
    if (entries.length === 0) return;
    let i = 0;
    try {
      this.open();
      while (i < entries.length) {
        const lines: Buffer[] = [];
        let bytes = 0;
        // One chunk: whole lines, not past the size cap (the first line of an empty file always goes in).
        while (i + lines.length < entries.length && bytes < CHUNK) {
          const line = Buffer.from(JSON.stringify(entries[i + lines.length]) + '\n');
          if (this.size + bytes + line.length > this.opts.maxBytes && this.size + bytes > 0) {
            if (lines.length === 0) this.rotate();
            else break;
            continue;
          }
          lines.push(line);
          bytes += line.length;
        }
        const done = this.writeLines(lines);
        i += done;
        if (done < lines.length) break;
      }
    } catch (err) {
      this.failed(err as NodeJS.ErrnoException, 0);
    }
    if (i < entries.length) this.failed(null, entries.length - i);
    else if (this.failing !== null) {
      this.opts.log(`${this.opts.path}: writing again; ${this.failedLines.toLocaleString('en-US')} rejected line(s) were not written while it failed (${this.failing}); they are counted in numrep_quarantine_dropped_total`);
      this.failing = null;
      this.failedLines = 0;
    }
  }

  /** Write the lines as one chunk; on a failed write, cut back to the last whole line. Returns the lines written whole. */
  private writeLines(lines: Buffer[]): number {
    const buf = lines.length === 1 ? lines[0] : Buffer.concat(lines);
    let done = 0;
    try {
      while (done < buf.length) {
        const n = this.write(this.fd!, buf, done, buf.length - done);
        if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        done += n;
      }
    } catch (err) {
      let whole = 0;
      let count = 0;
      for (const l of lines) {
        if (whole + l.length > done) break;
        whole += l.length;
        count++;
      }
      try {
        if (done > whole) ftruncateSync(this.fd!, this.size + whole); // the torn tail goes; freeing space cannot fail for want of it
      } catch {
        this.close(); // reopened (and its tail repaired) on the next append
      }
      this.size += whole;
      this.written += count;
      this.failed(err as NodeJS.ErrnoException, 0);
      return count;
    }
    this.size += buf.length;
    this.written += lines.length;
    return lines.length;
  }

  /** Count `lines` not written; log the first failure of an outage once. */
  private failed(err: NodeJS.ErrnoException | null, lines: number): void {
    if (err) {
      const code = err.code ?? err.message;
      if (this.failing === null) {
        this.opts.log(
          `${this.opts.path}: cannot write rejected lines (${err.message}); they are still counted and kept in the database's quarantine table. ` +
            'Said once until writing works again; the lines lost are counted in numrep_quarantine_dropped_total',
        );
      }
      this.failing = code;
    }
    if (lines === 0) return;
    this.failedLines += lines;
    if (this.failing === 'ENOSPC' || this.failing === 'EDQUOT') this.droppedDiskFull += lines;
    else this.droppedWriteError += lines;
  }

  private open(): void {
    if (this.fd !== null) return;
    const fd = openSync(this.opts.path, 'a+', this.opts.mode); // read too: a torn tail is found and cut
    try {
      const st = fstatSync(fd);
      if ((st.mode & 0o777 & ~this.opts.mode) !== 0) chmodSync(this.opts.path, st.mode & 0o777 & this.opts.mode);
      this.size = repairTail(fd, st.size);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  private rotate(): void {
    this.close();
    const { path, keep } = this.opts;
    const last = keep === 0 ? path : `${path}.${keep}`;
    if (statSync(last, { throwIfNoEntry: false })) {
      this.droppedRotated += countLines(last);
      unlinkSync(last);
    }
    for (let k = keep - 1; k >= 1; k--) {
      if (statSync(`${path}.${k}`, { throwIfNoEntry: false })) renameSync(`${path}.${k}`, `${path}.${k + 1}`);
    }
    if (keep > 0 && statSync(path, { throwIfNoEntry: false })) renameSync(path, `${path}.1`);
    this.open();
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The size of the file's whole lines: a tail without its newline (torn by an older version or a crash) is cut off. */
function repairTail(fd: number, size: number): number {
  if (size === 0) return 0;
  const buf = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - buf.length);
    const n = readSync(fd, buf, 0, end - from, from);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    if (nl >= 0) {
      const whole = from + nl + 1;
      if (whole < size) ftruncateSync(fd, whole);
      return whole;
    }
    end = from;
  }
  ftruncateSync(fd, 0);
  return 0;
}

function countLines(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return lines;
      for (let at = buf.indexOf(10); at >= 0 && at < n; at = buf.indexOf(10, at + 1)) lines++;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

// Progress of a long read (a month of CDRs dropped into the inbox, a source found far behind at start):
// a log line every `everyMs` while a file is read, with how far it is, rows and bytes per second since the
// read began, and when it should be done. Pure: the clock is passed in; serve prints what `commit` returns.

export interface ProgressOptions {
  /** Files with less than this left to read when a read begins are not reported (a tailed file's few lines). */
  minBytes: number;
  /** Least time between two lines of one file. */
  everyMs: number;
}

export const DEFAULT_PROGRESS: ProgressOptions = { minBytes: 64 * 1_048_576, everyMs: 10_000 };

interface Read {
  startedAt: number;
  startOffset: number;
  rows: number;
  lastAt: number;
}

/** Seconds as `1 h 02 min`, `3 min 05 s` or `42 s`. */
export function durationText(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
  if (t >= 60) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${t} s`;
}

const mb = (b: number) => (b / 1_048_576).toLocaleString('en-US', { maximumFractionDigits: 0 });

export class ReadProgress {
  private readonly reads = new Map<string, Read>();

  constructor(private readonly opts: ProgressOptions = DEFAULT_PROGRESS) {}

  /**
   * A step of `path` was committed: `rows` rows read in it, the committed offset now `offset` of a file of `size`
   * bytes, at `now`. Returns the line to log, or null. A read is measured from the first step committed while the
   * file is at least minBytes behind (rates count the steps after it), and ends when the file is read to its end
   * (then the last line says so).
   */
  commit(path: string, rows: number, offset: number, size: number | null, now: number): string | null {
    const r = this.reads.get(path);
    if (r === undefined) {
      if (size !== null && size - offset >= this.opts.minBytes) this.reads.set(path, { startedAt: now, startOffset: offset, rows: 0, lastAt: now });
      return null;
    }
    r.rows += rows;
    const done = size === null || offset >= size;
    if (!done && now - r.lastAt < this.opts.everyMs) return null;
    r.lastAt = now;
    const secs = Math.max(0.001, (now - r.startedAt) / 1000);
    const read = offset - r.startOffset;
    const total = (size ?? offset) - r.startOffset;
    const rowsPerS = Math.round(r.rows / secs).toLocaleString('en-US');
    const mbPerS = (read / 1_048_576 / secs).toLocaleString('en-US', { maximumFractionDigits: 1 });
    if (done) {
      this.reads.delete(path);
      return `source ${path}: read to its end: ${mb(read)} MB, ${r.rows.toLocaleString('en-US')} rows in ${durationText(secs)} (${rowsPerS} rows/s, ${mbPerS} MB/s)`;
    }
    const pct = Math.floor((100 * read) / Math.max(1, total));
    const eta = read > 0 ? ((total - read) * secs) / read : NaN;
    return `source ${path}: reading, ${pct} % (${mb(read)} of ${mb(total)} MB), ${rowsPerS} rows/s, ${mbPerS} MB/s, ETA ${durationText(eta)} (numrep_source_bytes_behind)`;
  }

  /** Forget a file (removed, or its read failed): a later read starts afresh. */
  forget(path: string): void {
    this.reads.delete(path);
  }
}

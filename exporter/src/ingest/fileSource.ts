import { open, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { RawCall } from '../model/types.js';
import type { Reader, ReaderOptions } from './reader.js';
import type { SourceState, Store } from '../store/db.js';
import { Batch } from './batch.js';
import { isCleanAscii } from './bytes.js';
import { captureKind } from './pcap/capture.js';
import { detectCsvKind, parseReputationCsv, type InventoryRow, type LabelRow } from '../reputation/labels.js';
import type { InventoryEntry, LabelSnapshot } from '../store/db.js';
import type { Classifier, ClassifySink, Uncommitted } from '../classify/classifier.js';
import type { QuarantineLimits } from './redact.js';

/** How a file turns into committed batches: shared by the live tailer and one-shot reports. */
export interface IngestOptions {
  store: Store;
  bucketMs: number;
  readerOptions: ReaderOptions;
  /** Build the reader for a detected (or configured) format. */
  createReader(format: string, options: ReaderOptions): Reader;
  detectFormat(lines: string[]): string | null;
  /** The classification stage every row goes through (outbound attempts are counted, the rest skipped). */
  classifier: Classifier;
  /** Forced format for every file (CLI --format), or per path. */
  formatFor?(path: string): string | undefined;
  /** Bytes read per step. */
  chunkBytes: number;
  /**
   * Input bytes per SQLite transaction (default 16 MiB): steps are read into one batch until this many bytes
   * or `transactionMs` have gone into it, then committed with the offset past them. 0: a commit per step.
   */
  transactionBytes?: number;
  /** The longest a transaction stays open while steps are read into it (default 1 s): how stale a scrape may be. */
  transactionMs?: number;
  /**
   * Keep the event loop responsive (serve): slow steps shrink, and each step ends with a turn for I/O. A
   * one-shot run reads in full steps without turns.
   */
  responsive?: boolean;
  /** Longest accepted line; longer ones are rejected (`record_too_long`) without being held in memory. */
  maxRecordBytes: number;
  /** Reject records whose start lies further than this in the future (serve only). */
  futureToleranceMs?: number;
  /** What a rejected record keeps (redact.ts); the defaults when absent. */
  quarantine?: QuarantineLimits;
  now(): number;
  onCommit?(batch: Batch, src: SourceState): void;
  onProgress?(bytes: number): void;
  /** Labels or inventory imported from a side file (detected by its header). */
  onSideImport?(labels: LabelSnapshot[], inventory: InventoryEntry[]): void;
}

/** Formats read by records of their own length, not by lines (packet captures). */
const FRAMED = new Set(['pcap']);

/** Engine-label snapshots and inventories ride the same inbox; they are small and read whole once settled. */
export const SIDE_FORMATS = new Set(['labels', 'inventory']);
/** Labels and inventory files are read whole: larger ones are refused (inbox, CLI import). */
export const MAX_SIDE_FILE = 64 * 1_048_576;

export const FINGERPRINT_BYTES = 1024;

export async function fingerprintOf(fh: FileHandle, len: number): Promise<string> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, 0);
  return createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex');
}

export function newSourceState(path: string, dev: number | bigint, ino: number | bigint): SourceState {
  return {
    id: 0,
    path,
    dev: String(dev),
    ino: String(ino),
    fingerprint: '',
    fpLen: 0,
    offset: 0,
    line: 0,
    format: null,
    readerState: undefined,
    newestTs: null,
    rotations: 0,
    truncations: 0,
    bytesTotal: 0,
    lastReadAt: null,
    contentHash: null,
    counts: {},
  };
}

const NL = 10;

// 16 MiB: a commit upserts the totals and seen rows of every number the transaction touched, which for callers
// interleaved in time is nearly all of them whatever the size; at 4 MiB those upserts were a third of the commits'
// time on a 1M-row backfill. The 1 s bound still caps how stale a scrape may be (docs/performance.md, stop 28).
export const DEFAULT_TRANSACTION_BYTES = 16 * 1_048_576;
export const DEFAULT_TRANSACTION_MS = 1000;

/** A step slower than this is halved next time (adaptStep). */
const SLOW_STEP_MS = 200;

/** Let the event loop run its I/O (two hops: one queued from an I/O callback runs before the next poll phase). */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(() => setImmediate(r)));
}

/**
 * Reads one file from its committed offset to `size`, committing a batch per chunk with
 * the offset just past the last complete line. A partial last line stays unread until its
 * newline arrives, unless `final` (end of a one-shot run, or a settled dropped file).
 */
export class FileIngestor {
  private reader: Reader | null = null;
  /** The read buffer (chunkBytes, or maxRecordBytes + 1), allocated on first read and freed by releaseBuffer. */
  private bufOrNull: Buffer | null = null;
  /** The last drain stopped before the end, waiting for a line's newline (the writer is on it). */
  waitingOnLine = false;
  /** Bytes [offset, pos) hold no newline: where the search for the end of an over-long line goes on. */
  private longLine: { offset: number; pos: number } | null = null;
  /** The rows of the current step, for the classification stage, with their line numbers and where their text is. */
  private rows: RawCall[] = [];
  /**
   * Per row of the step, in columns kept from step to step (a 16 MiB step holds ~60k rows: five arrays grown
   * from empty every step were 3-4 % of a report's profile): its line number, and where its text is — the
   * line's text by row index for the string path (rare), else its byte range in the step buffer.
   */
  private rowLines = new Float64Array(1024);
  private rowTexts = new Map<number, string>();
  private rowStarts = new Int32Array(1024);
  private rowEnds = new Int32Array(1024);
  private stepBuf: Buffer | null = null;
  /**
   * The first row of the step that may be left for the next step and read again there (Classifier.step's
   * openTailFrom): past every line that left a trace when parsed (a rejection in the batch) or gave several rows.
   */
  private rereadableFrom = 0;
  /**
   * The transaction being filled: the steps read since the last commit, in one batch, with the source state to
   * put back and the keys and callers they remembered (forgotten if it is not committed).
   */
  private tx: { batch: Batch; undo: () => void; pending: Uncommitted; bytes: number; startedAt: number } | null = null;

  constructor(readonly state: SourceState, private readonly opts: IngestOptions) {}

  private get buf(): Buffer {
    return (this.bufOrNull ??= Buffer.allocUnsafe(Math.max(this.opts.chunkBytes, this.opts.maxRecordBytes + 1)));
  }

  /** Free the read buffer of a file read to its end (a dropped file keeps no 4 MiB buffer while idle). */
  releaseBuffer(): void {
    this.bufOrNull = null;
  }

  /**
   * Bytes read (and committed) per step: the full chunk while steps are quick, halved when one takes
   * long (input that makes every row costly — thousands of carriers, a flood of new numbers), so no
   * single step holds the event loop for long; never below one whole record. 0: the full chunk.
   */
  private stepBytes = 0;

  private adaptStep(ms: number): void {
    const full = this.buf.length;
    const cur = this.stepBytes || full;
    const floor = Math.min(full, Math.max(256 * 1024, this.opts.maxRecordBytes + 1));
    if (ms > SLOW_STEP_MS && cur > floor) this.stepBytes = Math.max(floor, cur >> 1);
    else if (ms < SLOW_STEP_MS / 4 && cur < full) this.stepBytes = Math.min(full, cur * 2);
  }

  private addRow(raw: RawCall, line: number, text: string, start = -1, end = -1): void {
    const i = this.rows.length;
    this.rows.push(raw);
    if (i === this.rowLines.length) this.growRowColumns();
    this.rowLines[i] = line;
    if (text !== '') this.rowTexts.set(i, text);
    this.rowStarts[i] = start;
    this.rowEnds[i] = end;
  }

  private growRowColumns(): void {
    const cap = this.rowLines.length * 2;
    const lines = new Float64Array(cap);
    lines.set(this.rowLines);
    const starts = new Int32Array(cap);
    starts.set(this.rowStarts);
    const ends = new Int32Array(cap);
    ends.set(this.rowEnds);
    this.rowLines = lines;
    this.rowStarts = starts;
    this.rowEnds = ends;
  }

  /** A new step: no rows (the columns keep their room). */
  private clearRows(): void {
    this.rows = [];
    if (this.rowTexts.size > 0) this.rowTexts = new Map();
    this.rereadableFrom = 0;
  }

  /**
   * The step's rows through the classification stage, into the batch. The source needs its id first:
   * keys remember which file counted a call (a key met again in the same file is a leg). `openTailFrom`: rows
   * from there on may be left for the next step (Classifier.step). Returns how many rows were judged.
   */
  private classifyRows(batch: Batch, pending?: Uncommitted, openTailFrom?: number): number {
    if (this.rows.length === 0) return 0;
    const st = this.state;
    if (st.id === 0) this.opts.store.saveSource(st);
    const now = this.opts.now();
    const sink: ClassifySink = {
      count: (raw, carrier) => batch.addCall(raw, carrier),
      skip: (raw, reason) => batch.skip(raw.source, reason),
      reject: (i, reason, detail) => {
        const text = this.rowTexts.get(i) ?? (this.stepBuf === null ? '' : this.stepBuf.toString('utf8', this.rowStarts[i], this.rowEnds[i]));
        batch.reject({ file: st.path, line: this.rowLines[i], format: this.rows[i].source, reason, detail, raw: text.slice(0, 65536), at: now });
      },
      remember: (hi, lo, source, tsSec) => batch.rememberKey(hi, lo, source, tsSec),
      dial: (caller, hi, lo, tsSec) => batch.addDial(caller, hi, lo, tsSec),
    };
    try {
      return this.opts.classifier.step(this.rows, st.id, sink, pending, openTailFrom);
    } finally {
      this.clearRows();
      this.stepBuf = null;
    }
  }

  private newBatch(): Batch {
    return new Batch(this.opts.bucketMs, undefined, { callLog: this.opts.store.memoryBuckets, quarantine: this.opts.quarantine });
  }

  /** Keep the fingerprint of the first bytes up to date while the file is still short. */
  async refreshFingerprint(fh: FileHandle, size: number): Promise<void> {
    if (this.state.fpLen >= FINGERPRINT_BYTES || size <= this.state.fpLen) return;
    this.state.fpLen = Math.min(size, FINGERPRINT_BYTES);
    this.state.fingerprint = await fingerprintOf(fh, this.state.fpLen);
  }

  private ensureReader(format: string): Reader {
    if (!this.reader) {
      this.reader = this.opts.createReader(format, this.opts.readerOptions);
      if (this.state.readerState !== undefined && this.reader.restore) this.reader.restore(this.state.readerState);
    }
    return this.reader;
  }

  /** Records a reader still holds (e.g. Kamailio calls waiting for a BYE): emitted at the end of a one-shot run. */
  flushReader(): void {
    if (!this.reader?.flush) return;
    this.commitTransaction();
    const undo = this.checkpoint();
    const pending = this.reader.flush();
    if (pending.length === 0) return;
    const batch = this.newBatch();
    for (const raw of pending) this.accept(batch, raw, this.state.line);
    this.classifyRows(batch);
    this.commit(batch, undo);
  }

  async drain(fh: FileHandle, size: number, final: boolean): Promise<number> {
    const st = this.state;
    if (st.format === null && st.offset === 0 && size > 0) {
      const head = Buffer.alloc(Math.min(size, 4096));
      await fh.read(head, 0, head.length, 0);
      const first = head.toString('utf8').replace(/^\uFEFF/, '').split('\n')[0].replace(/\r$/, '');
      const kind = captureKind(head) ?? (this.opts.formatFor?.(st.path) === undefined ? detectCsvKind(first) : null);
      if (kind) st.format = kind === 'pcapng' ? 'pcap' : kind;
    }
    this.waitingOnLine = false;
    if (st.format === 'duplicate' || st.format === 'gzip') return 0; // skipped whole (duplicate_file), a passed-over archive
    if (st.format !== null && SIDE_FORMATS.has(st.format)) return this.importSideFile(fh, size, final);
    let consumed = 0;
    // Read-ahead: the next step's read runs while this step is parsed (a second buffer, for this drain only).
    let ahead: { buf: Buffer; at: number; read: Promise<{ bytesRead: number }> } | null = null;
    let spare: Buffer | null = null;
    try {
      while (st.offset < size) {
        let buf = this.buf;
        let bytesRead: number;
        if (ahead !== null && ahead.at === st.offset) {
          buf = ahead.buf;
          bytesRead = (await ahead.read).bytesRead;
        } else {
          if (ahead !== null) await ahead.read.catch(() => undefined);
          bytesRead = (await fh.read(buf, 0, Math.min(this.stepBytes || buf.length, buf.length, size - st.offset), st.offset)).bytesRead;
        }
        ahead = null;
        if (bytesRead === 0) break;
        const atEnd = st.offset + bytesRead >= size;
        const framed = st.format !== null && FRAMED.has(st.format) ? this.ensureReader(st.format) : null;
        let end = framed ? framed.frameEnd!(buf, bytesRead, st.offset === 0) : buf.lastIndexOf(NL, bytesRead - 1);
        if (framed) {
          // Whole records only; lengths that cannot be true make the rest of the file unreadable (said once).
          if (end < 0 || (end === 0 && final && atEnd)) {
            this.commitTransaction();
            consumed += this.skipUnframed(size);
            break;
          }
          if (end === 0) break; // the writer is still on the record
        } else if (end < 0) {
          if (bytesRead > this.opts.maxRecordBytes) {
            this.commitTransaction();
            const skipped = await this.skipLongLine(fh, size, final);
            if (skipped === 0) {
              this.waitingOnLine = true; // no newline yet: the writer is still on it
              break;
            }
            consumed += skipped;
            continue;
          }
          if (!(final && atEnd)) {
            this.waitingOnLine = true; // partial line: wait for its newline
            break;
          }
          end = bytesRead; // the unterminated last line of a finished file
        } else if (!framed) {
          end += 1;
          if (final && atEnd && end < bytesRead) end = bytesRead;
        }
        const nextAt: number = st.offset + end;
        if (nextAt < size) {
          const other = buf === this.buf ? (spare ??= Buffer.allocUnsafe(this.buf.length)) : this.buf;
          ahead = { buf: other, at: nextAt, read: fh.read(other, 0, Math.min(this.stepBytes || other.length, other.length, size - nextAt), nextAt) };
        }
        const t0 = performance.now();
        // A step cut by the read size (not by the end of the file as it is now) may leave its last calls to the next.
        const used = this.process(buf, end, !atEnd);
        consumed += used;
        this.opts.onProgress?.(used);
        if (this.opts.responsive) {
          this.adaptStep(performance.now() - t0);
          // A turn for the event loop between steps (health probes, scrapes, SIGTERM): the read-ahead is
          // usually done already, and awaiting a settled promise alone would not let a socket be read.
          if (st.offset < size) await turn();
        }
      }
      this.commitTransaction(); // a drain ends with everything it read committed
    } catch (err) {
      this.rollBackTransaction();
      throw err;
    } finally {
      // Never leave a read writing into a buffer the next drain may use.
      if (ahead !== null) await ahead.read.catch(() => undefined);
    }
    return consumed;
  }

  private async importSideFile(fh: FileHandle, size: number, final: boolean): Promise<number> {
    const st = this.state;
    if (!final || st.offset >= size) return 0; // read whole once the file is complete
    const undo = this.checkpoint();
    const batch = this.newBatch();
    const format = st.format!;
    const now = this.opts.now();
    if (size > MAX_SIDE_FILE) {
      batch.reject({ file: st.path, line: 1, format, reason: 'record_too_long', detail: `a ${format} file larger than ${MAX_SIDE_FILE.toLocaleString('en-US')} bytes is not imported`, raw: '', at: now });
    } else {
      const buf = Buffer.alloc(size);
      await fh.read(buf, 0, size, 0);
      const text = buf.toString('utf8');
      const parsed = parseReputationCsv(text, { file: st.path, defaultCountryCode: this.opts.readerOptions.defaultCountryCode, now });
      const labels: LabelSnapshot[] = [];
      const inventory: InventoryEntry[] = [];
      if (parsed.kind === 'labels') {
        for (const r of parsed.rows as LabelRow[]) labels.push({ number: r.number, engine: r.engine, label: r.label, checkedAt: r.checkedAtMs, reports: r.reports });
      } else if (parsed.kind === 'inventory') {
        for (const r of parsed.rows as InventoryRow[]) inventory.push({ number: r.number, pool: r.pool, campaign: r.campaign, registered: r.registered, registeredAt: r.registeredAt });
      }
      batch.acceptOther(format, labels.length + inventory.length);
      const rawLines = text.split('\n');
      for (const e of parsed.errors) {
        batch.reject({ file: st.path, line: e.line, format, reason: format === 'labels' ? 'bad_label_row' : 'bad_inventory_row', detail: e.reason, raw: (rawLines[e.line - 1] ?? '').slice(0, 65536), at: now });
      }
      st.line = rawLines.length - (text.endsWith('\n') ? 1 : 0);
      st.offset = size;
      st.bytesTotal += size;
      st.lastReadAt = now;
      countInto(st, batch);
      try {
        this.opts.store.commit({ ...batch.toCommit(), labels, inventory, source: st });
      } catch (err) {
        undo();
        throw err;
      }
      this.opts.onSideImport?.(labels, inventory);
      this.opts.onCommit?.(batch, st);
      this.opts.onProgress?.(size);
      return size;
    }
    st.offset = size;
    this.commit(batch, undo);
    return size;
  }

  /**
   * A line longer than maxRecordBytes: reject it once and move past its newline without holding it. The
   * search for the newline goes on where the last one stopped (a writer still on a huge line is not read
   * again from its start on every poll). When `final` (a settled dropped file, or a one-shot run) the file
   * ends in this line: it is rejected to the end, and the file is done.
   */
  private async skipLongLine(fh: FileHandle, size: number, final: boolean): Promise<number> {
    const st = this.state;
    const buf = this.buf;
    let pos = this.longLine !== null && this.longLine.offset === st.offset ? this.longLine.pos : st.offset;
    let end = -1;
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      const nl = buf.indexOf(NL);
      if (nl >= 0 && nl < bytesRead) {
        end = pos + nl + 1;
        break;
      }
      pos += bytesRead;
    }
    if (end < 0) {
      this.longLine = { offset: st.offset, pos };
      if (!final || pos < size) return 0;
      end = size;
    }
    this.longLine = null;
    const skipped = end - st.offset;
    const undo = this.checkpoint();
    const batch = this.newBatch();
    st.line += 1;
    batch.reject({
      file: st.path, line: st.line, format: st.format ?? 'unknown', reason: 'record_too_long',
      detail: `${end === size && final ? 'last line (no newline at the end of the file)' : 'line'} is ${skipped.toLocaleString('en-US')} bytes, over the ${this.opts.maxRecordBytes.toLocaleString('en-US')}-byte limit (max_record_bytes)`,
      raw: '', at: this.opts.now(),
    });
    st.offset += skipped;
    st.bytesTotal += skipped;
    this.commit(batch, undo);
    return skipped;
  }

  /**
   * One step: the complete lines in buf[0, byteLen) go into the open transaction's batch, which is committed
   * (with the offset past them) once it holds transactionBytes of input or has been open transactionMs. A
   * crash before then loses nothing: the restart reads again from the last committed offset.
   *
   * `moreToRead`: the file goes on past this step. Then, for a reader whose lines parse alone, the calls of the
   * step's last rows may be left open: the offset stops at the first line of their rows, which the next step reads
   * again with the rows after them (a failover's second leg, just past the cut, still picks the call's outcome).
   * Returns the bytes the step used (byteLen, or less when it left rows to the next step).
   */
  private process(buf: Buffer, byteLen: number, moreToRead = false): number {
    const st = this.state;
    const tx = (this.tx ??= { batch: this.newBatch(), undo: this.checkpoint(), pending: this.opts.classifier.begin(), bytes: 0, startedAt: performance.now() });
    this.clearRows();
    if (st.format === null) st.format = this.opts.formatFor?.(st.path) ?? this.detect(headLines(buf, byteLen, st.offset === 0)) ?? 'unknown';
    const batch = tx.batch;
    const reader = st.format === 'unknown' ? null : this.ensureReader(st.format);
    let openTailFrom: number | undefined;
    if (reader?.parseFrame) this.processFrames(batch, reader, buf, byteLen);
    else {
      this.processLines(batch, reader, buf, byteLen);
      if (moreToRead && reader?.independentLines === true) openTailFrom = this.rereadableFrom;
    }
    const rows = this.rows.length;
    const judged = this.classifyRows(batch, tx.pending, openTailFrom);
    let used = byteLen;
    if (judged < rows) {
      // Rows from `judged` on are read again by the next step, from the start of the first one's line.
      used = this.rowStarts[judged];
      st.line = this.rowLines[judged] - 1;
    }
    st.offset += used;
    st.bytesTotal += used;
    tx.bytes += used;
    const maxBytes = this.opts.transactionBytes ?? DEFAULT_TRANSACTION_BYTES;
    if (tx.bytes >= maxBytes || performance.now() - tx.startedAt >= (this.opts.transactionMs ?? DEFAULT_TRANSACTION_MS)) this.commitTransaction();
    return used;
  }

  /** Commit the open transaction, if any (a failed commit puts the source state back and forgets its keys). */
  private commitTransaction(): void {
    const tx = this.tx;
    if (tx === null) return;
    this.tx = null;
    this.commit(tx.batch, tx.undo, tx.pending);
  }

  /** Drop the open transaction: the source state goes back to the last commit, its steps are read again. */
  private rollBackTransaction(): void {
    const tx = this.tx;
    if (tx === null) return;
    this.tx = null;
    tx.undo();
    this.opts.classifier.rolledBack(tx.pending);
  }

  /**
   * The lines of a step: each goes to the reader's parseBytes first when it has one (the byte fast
   * path); the lines it declines, and every line of other readers, are decoded and go through
   * processLine. A line that is not UTF-8 is read as Latin-1: a stray byte in a caller-ID name (a
   * field numrep does not use) must not cost the call.
   */
  private processLines(batch: Batch, reader: Reader | null, buf: Buffer, byteLen: number): void {
    const st = this.state;
    const now = this.opts.now();
    const tolerance = this.opts.futureToleranceMs;
    const latest = tolerance === undefined ? Infinity : now + tolerance;
    const maxBytes = this.opts.maxRecordBytes;
    const atFileStart = st.offset === 0;
    const fast = reader !== null && reader.parseBytes !== undefined ? reader : null;
    // ASCII without NUL: the byte fast path may skip its checks, and a row's text is its bytes (read again only if
    // the row is rejected), so no line string outlives its parsing.
    const clean = isCleanAscii(buf, byteLen);
    this.stepBuf = buf;
    let lineNo = st.line;
    let pos = 0;
    while (pos < byteLen) {
      let nl = buf.indexOf(NL, pos);
      if (nl < 0 || nl >= byteLen) nl = byteLen;
      const s = pos;
      let e = nl;
      pos = nl + 1;
      lineNo++;
      if (e > s && buf[e - 1] === 13) e--;
      if (e === s) continue;
      if (fast !== null && e - s <= maxBytes) {
        const r = fast.parseBytes!(buf, s, e, clean);
        if (r === 'skip') continue;
        if (Array.isArray(r)) {
          // A stateful reader's records (never read again): as processLine takes a line's records.
          const rowsBefore = this.rows.length;
          const rejectedBefore = batch.rejected;
          for (const raw of r) this.accept(batch, raw, lineNo, '', now, s, e);
          if (batch.rejected !== rejectedBefore || this.rows.length - rowsBefore > 1) this.rereadableFrom = this.rows.length;
          continue;
        }
        if (r !== null && r.ts <= latest) {
          this.addRow(r, lineNo, '', s, e);
          continue;
        }
      }
      let line = decodeLine(buf, s, e);
      if (atFileStart && s === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.length === 0) continue;
      const rowsBefore = this.rows.length;
      const rejectedBefore = batch.rejected;
      this.processLine(batch, reader, line, lineNo, now, clean ? s : -1, e);
      const added = this.rows.length - rowsBefore;
      // Read again, this line would be rejected twice or its rows split: no row before it is left to the next step.
      if (batch.rejected !== rejectedBefore || added > 1) this.rereadableFrom = this.rows.length;
      else if (added === 1) this.rowStarts[rowsBefore] = s; // where to read it again from (its text stays the reject text)
    }
    st.line = lineNo;
  }

  /** The records of a binary format (FRAMED): each through the reader, its rows to classification (never its bytes to the quarantine). */
  private processFrames(batch: Batch, reader: Reader, buf: Buffer, byteLen: number): void {
    const st = this.state;
    const now = this.opts.now();
    let start = 0;
    const atFileStart = st.offset === 0;
    for (const end of reader.frameEnds ?? []) {
      if (end > byteLen) break;
      st.line++;
      const res = reader.parseFrame!(buf, start, end, atFileStart);
      start = end;
      if (res.kind === 'records') for (const raw of res.records) this.accept(batch, raw, st.line, '', now);
      else if (res.kind === 'reject') batch.reject({ file: st.path, line: st.line, format: st.format!, reason: res.rejection.reason, detail: res.rejection.detail, raw: '', at: now });
    }
  }

  /** A binary file whose record lengths cannot be true from here on: one rejection, the rest skipped. */
  private skipUnframed(size: number): number {
    const st = this.state;
    const undo = this.checkpoint();
    const batch = this.newBatch();
    st.line++;
    const skipped = size - st.offset;
    batch.reject({ file: st.path, line: st.line, format: st.format ?? 'unknown', reason: 'bad_capture', detail: `record lengths that cannot be true at byte ${st.offset}: the last ${skipped} bytes are not read`, raw: '', at: this.opts.now() });
    st.offset = size;
    st.bytesTotal += skipped;
    this.commit(batch, undo);
    return skipped;
  }

  /** One decoded line (no newline, no CR): its records into the batch, or its rejection into the quarantine. */
  /**
   * `start`, `end`: where the line's bytes lie in the step's buffer when its text is exactly their UTF-8 (a clean
   * step): its rows keep those offsets instead of the text (-1: they keep the text).
   */
  private processLine(batch: Batch, reader: Reader | null, line: string, lineNo: number, now: number, start = -1, end = -1): void {
    const file = this.state.path;
    const format = this.state.format!;
    let reason: string | null = null;
    let detail = '';
    if (reader === null) {
      reason = 'unknown_format';
      detail = 'the file matches no known format; set --format or a source format in the config';
    } else if (line.length > this.opts.maxRecordBytes) {
      reason = 'record_too_long';
      detail = `line is ${line.length.toLocaleString('en-US')} characters, over the ${this.opts.maxRecordBytes.toLocaleString('en-US')}-byte limit (max_record_bytes)`;
    } else if (line.indexOf('\u0000') >= 0) {
      reason = 'nul_byte';
      detail = 'line contains a NUL byte';
    }
    if (reason === null) {
      let res;
      try {
        res = reader!.parseLine(line, { file, line: lineNo });
      } catch (err) {
        res = { kind: 'reject' as const, rejection: { reason: 'reader_error', detail: (err as Error).message } };
      }
      if (res.kind === 'records') {
        for (const raw of res.records) this.accept(batch, raw, lineNo, line, now, start, end);
        return;
      }
      if (res.kind === 'skip') return;
      reason = res.rejection.reason;
      detail = res.rejection.detail;
    }
    batch.reject({ file, line: lineNo, format, reason, detail, raw: line.slice(0, 65536), at: now });
  }

  /**
   * The format from the first lines; when junk among them defeats detection, the format most of the
   * individually recognisable lines agree on (a few bad lines must not cost the good ones).
   */
  private detect(lines: string[]): string | null {
    const head = lines.slice(0, 50).map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
    const whole = this.opts.detectFormat(head.slice(0, 10));
    if (whole) return whole;
    const votes = new Map<string, number>();
    for (const l of head) {
      const f = this.opts.detectFormat([l]);
      if (f) votes.set(f, (votes.get(f) ?? 0) + 1);
    }
    let best: string | null = null;
    for (const [f, n] of votes) if (best === null || n > votes.get(best)!) best = f;
    return best;
  }

  /** A row a reader produced: to the classification stage, unless it lies in the future. */
  private accept(batch: Batch, raw: RawCall, lineNo: number, line = '', now = this.opts.now(), start = -1, end = -1): void {
    const tol = this.opts.futureToleranceMs;
    if (tol !== undefined && raw.ts > now + tol) {
      batch.reject({
        file: this.state.path, line: lineNo, format: raw.source, reason: 'future_timestamp',
        detail: `call start ${new Date(raw.ts).toISOString()} is more than ${Math.round(tol / 1000)}s ahead of the clock`,
        raw: (line !== '' || start < 0 || this.stepBuf === null ? line : this.stepBuf.toString('utf8', start, end)).slice(0, 65536), at: now,
      });
      return;
    }
    this.addRow(raw, lineNo, start >= 0 ? '' : line, start, end);
  }

  /**
   * The source state before a step, to put back if its commit fails (disk full, I/O error): the step is then
   * read again on the next poll, so a failed commit loses nothing and counts nothing twice.
   */
  private checkpoint(): () => void {
    const st = this.state;
    const saved = { ...st, counts: { ...st.counts } };
    return () => {
      Object.assign(st, saved);
      this.reader = null; // rebuilt from st.readerState on next use
    };
  }

  private commit(batch: Batch, undo: () => void, pending?: Uncommitted): void {
    const st = this.state;
    st.lastReadAt = this.opts.now();
    countInto(st, batch);
    if (batch.newestTs !== null && (st.newestTs === null || batch.newestTs > st.newestTs)) st.newestTs = batch.newestTs;
    if (this.reader?.snapshot) st.readerState = this.reader.snapshot();
    try {
      this.opts.store.commit({ ...batch.toCommit(), source: st });
    } catch (err) {
      undo();
      if (pending !== undefined) this.opts.classifier.rolledBack(pending);
      throw err;
    }
    // Only a committed step's calls are remembered: a failed commit's rows are judged afresh when read again.
    this.opts.classifier.committed(batch.callKeys, pending);
    this.opts.onCommit?.(batch, st);
  }
}

/** A batch's rows by result and reason, added to its source's account (saved with the source in the batch's transaction). */
function countInto(st: SourceState, batch: Batch): void {
  for (const c of batch.counters.values()) {
    const k = `${c.result}:${c.reason}`;
    st.counts[k] = (st.counts[k] ?? 0) + c.count;
  }
}

/** One line's text: UTF-8, or Latin-1 when the bytes are not UTF-8 (every byte is then one character). */
export function decodeLine(buf: Buffer, s: number, e: number): string {
  const t = buf.toString('utf8', s, e);
  return t.indexOf('\ufffd') >= 0 && !isUtf8(buf.subarray(s, e)) ? buf.toString('latin1', s, e) : t;
}

/** The first 50 lines of a step, decoded, for format detection (a BOM dropped at the start of the file). */
function headLines(buf: Buffer, byteLen: number, atFileStart: boolean): string[] {
  let end = 0;
  for (let k = 0; k < 50 && end < byteLen; k++) {
    const nl = buf.indexOf(NL, end);
    end = nl < 0 || nl >= byteLen ? byteLen : nl + 1;
  }
  const lines = buf.toString('utf8', 0, end).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (atFileStart && lines.length > 0 && lines[0].charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  return lines;
}

export async function statOrNull(path: string) {
  try {
    return await stat(path, { bigint: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export { open };

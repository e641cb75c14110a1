import { open, readdir, lstat, stat, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { constants, createWriteStream, type Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { SourceState } from '../store/db.js';
import { Batch } from './batch.js';
import { FileIngestor, FINGERPRINT_BYTES, fingerprintOf, newSourceState, statOrNull, type IngestOptions } from './fileSource.js';

/**
 * Follows files like `tail -F`, across restarts (docs/architecture.md#durability):
 * - a file is known by device+inode plus a fingerprint of its first bytes;
 * - rename rotation: the old inode is drained to its end through the handle still open,
 *   then the new file at the path starts at 0; a rotated name matched later resumes, not repeats;
 * - copytruncate / truncation: size below the committed offset restarts at 0;
 * - a partial last line waits for its newline (dropped files: until they settle).
 * And it reads only what it should (hardening, docs/operations.md "Limits"):
 * - files are opened O_NONBLOCK and checked on the handle (fstat): a FIFO, device or directory swapped in
 *   at the path is skipped, never waited on; numrep's own files (compared by device and inode) are never read;
 * - a symbolic link is never followed in the inbox (O_NOFOLLOW), nor among the sources unless they say so;
 * - a problem with one path (unreadable, not a regular file, commits failing) is reported once per change,
 *   and `stalled()` says which sources have made no progress for `stallAfterMs`;
 * - a dropped file read to its end and settled is closed (no handle, no read buffer) until it changes;
 * - gzip (by its magic bytes): a dropped file is unpacked beside itself once settled and read as any other
 *   drop; a followed log's compressed rotation (`Master.csv.2.gz`) is passed over, its lines were read while
 *   it was the live file.
 * Nothing here sleeps: callers decide when to `poll()` (watch events, a timer, or a test).
 */
export interface TailerOptions extends IngestOptions {
  /** Drop folder: every regular file directly inside it (dotfiles and *.tmp / *.part ignored). */
  inbox?: string;
  /** Live files: paths or simple globs (`*`, `?` in the last path segment). */
  globs: string[];
  /** A dropped file whose last line has no newline is taken as complete once unchanged this long. */
  settleMs: number;
  /** One-shot runs (report): every file is complete, so a last line without newline is read too. */
  oneShot?: boolean;
  /** Whether the matches of a glob (`globs` entry) are read when they are symbolic links; default yes. Inbox links never are. */
  followSymlinks?(glob: string): boolean;
  /** numrep's own files (database, WAL, SHM, secret, lock, quarantine files): never read, whatever path leads to them. */
  ownFiles?: string[];
  /** A source with a problem, or bytes it does not read, for this long is stalled (`stalled()`). Default 5 min. */
  stallAfterMs?: number;
  onRotation?(src: SourceState, kind: 'rename' | 'truncate'): void;
  /** A problem with one path: said once, again only when it changes. */
  onError?(path: string, err: Error): void;
  /** A dropped gzip file was unpacked (compressed and inflated bytes). */
  onUnpack?(gz: string, unpacked: string, bytes: number, inflatedBytes: number): void;
  /** A path whose problem was reported reads again. */
  onRecover?(path: string): void;
}

/** Why a source cannot make progress (the `reason` label of numrep_source_stalled: a bounded set). */
export type StallReason = 'unreadable' | 'not_regular' | 'commit_failed' | 'disk_full' | 'no_progress' | 'error';

export interface Stall {
  source: string;
  reason: StallReason;
  /** Epoch ms since when. */
  since: number;
  message: string;
}

interface Problem {
  reason: StallReason | 'own_file';
  message: string;
  since: number;
}

interface Tracked {
  path: string;
  ingestor: FileIngestor;
  /** null: read to its end and settled, closed until it changes (a dropped file). */
  fh: FileHandle | null;
  /** size/mtime last seen, to tell when a dropped file has settled */
  lastSize: number;
  lastMtimeMs: number;
  lastChangeAt: number;
  /** When the committed offset last moved (or the file was first seen). */
  movedAt: number;
  /** The drain stopped short of the end waiting for a line's newline (not a stall). */
  waitingOnLine: boolean;
  /** The last drain read nothing at this size and settledness: the next one would not either. */
  idle: { size: number; settled: boolean } | null;
}

/** Formats whose reader state spans files: a call can start before a rotation and end after it. */
const CROSS_FILE_STATE = new Set(['kamailio', 'sipp', 'sofia']);

const IGNORED = /^\.|\.(tmp|part|swp)$|~$/;

const DEFAULT_STALL_AFTER_MS = 5 * 60_000;

/** The bounded reason for an error met while polling a path. */
export function stallReasonOf(err: Error & { code?: unknown }): StallReason {
  const code = typeof err.code === 'string' ? err.code : (/^(SQLITE_[A-Z_]+|E[A-Z]+)\b/.exec(err.message)?.[1] ?? '');
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code.startsWith('SQLITE')) return 'commit_failed';
  if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO' || code === 'ENODEV') return 'not_regular';
  if (/^E[A-Z]+$/.test(code)) return 'unreadable';
  return 'error';
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

const GZIP_MAGIC = [0x1f, 0x8b];

async function isGzip(fh: FileHandle, size: number): Promise<boolean> {
  if (size < 2) return false;
  const head = Buffer.alloc(2);
  const { bytesRead } = await fh.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

// Never blocks on a FIFO swapped in at the path between our stat and open; never follows a last-component link.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

export class Tailer {
  private readonly tracked = new Map<string, Tracked>();
  private readonly byInode = new Map<string, SourceState>();
  private polling: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Paths with a problem, reported once. */
  private readonly problems = new Map<string, Problem>();
  /** The glob each path was found by (for followSymlinks). */
  private readonly globOf = new Map<string, string>();
  private readonly ingestOpts: IngestOptions;
  private pollStartedAt: number | null = null;
  private pollingPath: string | null = null;
  /** When any source last moved forward. */
  private progressAt: number;

  constructor(private readonly opts: TailerOptions) {
    for (const s of opts.store.sources()) this.byInode.set(`${s.dev}:${s.ino}`, s);
    this.progressAt = opts.now();
    this.ingestOpts = {
      ...opts,
      onProgress: (bytes) => {
        this.progressAt = this.opts.now();
        opts.onProgress?.(bytes);
      },
    };
  }

  /** All files the tailer currently follows. */
  paths(): string[] {
    return [...this.tracked.keys()];
  }

  /** Size of the file at `path` when last polled (for bytes-behind), if followed. */
  sizeOf(path: string): number | null {
    const t = this.tracked.get(path);
    return t && t.lastSize >= 0 ? t.lastSize : null;
  }

  states(): SourceState[] {
    return [...this.tracked.values()].map((t) => t.ingestor.state);
  }

  async discover(): Promise<string[]> {
    const found = new Set<string>();
    this.globOf.clear(); // rebuilt: names matched once (rotated away long ago) are not kept forever
    if (this.opts.inbox) {
      for (const ent of await readdir(this.opts.inbox, { withFileTypes: true }).catch(() => [])) {
        if ((ent.isFile() || ent.isSymbolicLink()) && !IGNORED.test(ent.name)) found.add(resolve(this.opts.inbox, ent.name));
      }
    }
    for (const g of this.opts.globs) {
      const abs = resolve(g);
      if (!/[*?]/.test(abs)) {
        found.add(abs);
        this.globOf.set(abs, g);
        continue;
      }
      const dir = dirname(abs);
      const re = globToRegExp(basename(abs));
      for (const ent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if ((ent.isFile() || ent.isSymbolicLink()) && re.test(ent.name)) {
          found.add(join(dir, ent.name));
          this.globOf.set(join(dir, ent.name), g);
        }
      }
    }
    return [...found].sort();
  }

  /** One pass over every known and newly discovered file. Concurrent calls coalesce. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      this.pollStartedAt = this.opts.now();
      try {
        do {
          this.again = false;
          this.pollingPath = this.opts.inbox ?? null; // a listing that never returns is the inbox's
          const paths = new Set([...(await this.discover()), ...this.tracked.keys()]);
          for (const p of paths) {
            if (this.closed) return;
            this.pollingPath = p;
            let problem: Omit<Problem, 'since'> | null;
            try {
              problem = await this.pollPath(p);
            } catch (err) {
              problem = { reason: stallReasonOf(err as Error), message: (err as Error).message };
            }
            this.note(p, problem);
          }
          // A path no longer found (the unreadable file was deleted) has no problem any more.
          for (const p of this.problems.keys()) if (!paths.has(p)) this.problems.delete(p);
        } while (this.again && !this.closed);
      } finally {
        this.polling = null;
        this.pollStartedAt = null;
        this.pollingPath = null;
      }
    })();
    return this.polling;
  }

  /** Record how polling `path` went: a new or changed problem is said once; a solved one is forgotten. */
  private note(path: string, problem: Omit<Problem, 'since'> | null): void {
    const was = this.problems.get(path);
    if (problem === null) {
      if (was) {
        this.problems.delete(path);
        if (was.reason !== 'own_file') this.opts.onRecover?.(path);
      }
      return;
    }
    if (was && was.reason === problem.reason && was.message === problem.message) return;
    this.problems.set(path, { ...problem, since: was && was.reason === problem.reason ? was.since : this.opts.now() });
    this.opts.onError?.(path, new Error(problem.message));
  }

  /**
   * Sources that cannot make progress, each for at least stallAfterMs: a problem that has lasted that
   * long (unreadable, not a regular file, commits failing, disk full), or unread complete lines and no
   * offset movement for that long (no_progress), or a poll that has not returned while nothing moved.
   */
  stalled(now = this.opts.now()): Stall[] {
    const after = this.opts.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
    const out: Stall[] = [];
    for (const [source, p] of this.problems) {
      if (p.reason !== 'own_file' && now - p.since >= after) out.push({ source, reason: p.reason, since: p.since, message: p.message });
    }
    for (const t of this.tracked.values()) {
      if (this.problems.has(t.path)) continue;
      const behind = t.lastSize - t.ingestor.state.offset;
      if (behind > 0 && !t.waitingOnLine && now - t.movedAt >= after) {
        out.push({ source: t.path, reason: 'no_progress', since: t.movedAt, message: `${behind.toLocaleString('en-US')} bytes unread and nothing read for ${Math.round((now - t.movedAt) / 1000)} s` });
      }
    }
    const started = this.pollStartedAt;
    if (started !== null && now - Math.max(started, this.progressAt) >= after && !out.some((s) => s.source === this.pollingPath)) {
      const since = Math.max(started, this.progressAt);
      out.push({ source: this.pollingPath ?? '', reason: 'no_progress', since, message: `a poll has not returned for ${Math.round((now - since) / 1000)} s` });
    }
    return out;
  }

  private isInboxFile(path: string): boolean {
    return this.opts.inbox !== undefined && dirname(path) === resolve(this.opts.inbox);
  }

  /** Whether `path` may be read through a symbolic link. */
  private follows(path: string): boolean {
    if (this.isInboxFile(path)) return false;
    const glob = this.globOf.get(path);
    return this.opts.followSymlinks === undefined || glob === undefined ? true : this.opts.followSymlinks(glob);
  }

  private symlinkRefusal(path: string): Omit<Problem, 'since'> {
    const why = this.isInboxFile(path)
      ? 'links in the inbox are never followed: copy or move the file in'
      : 'not followed (set follow_symlinks: true on its sources: entry to read it)';
    return { reason: 'not_regular', message: `is a symbolic link; ${why}` };
  }

  /** One path: follow it, or say why not (a problem), or throw what went wrong. */
  private async pollPath(path: string): Promise<Omit<Problem, 'since'> | null> {
    const follow = this.follows(path);
    let st = await lstatOrNull(path);
    const t = this.tracked.get(path);
    if (st !== null && st.isSymbolicLink()) {
      if (!follow) {
        if (t) await this.letGo(t);
        return this.symlinkRefusal(path);
      }
      st = await statOrNull(path); // a dangling link is no file
    }
    if (st === null || !st.isFile()) {
      if (t) await this.letGo(t); // deleted or renamed away: what was written before is still readable
      return st === null ? null : { reason: 'not_regular', message: `is ${kindOf(st)}, not a regular file; skipped` };
    }
    const id = `${st.dev}:${st.ino}`;
    let handover: { format: string; readerState: unknown } | null = null;
    if (t && `${t.ingestor.state.dev}:${t.ingestor.state.ino}` !== id) {
      await this.finish(t); // rename rotation: drain the old inode, then follow the new file
      const old = t.ingestor.state;
      old.rotations++;
      // Calls open at the rotation (a Kamailio INVITE 200 waiting for its BYE, a SIP dialog) continue in
      // the new file: its reader starts from the old reader's state, which the old file gives up.
      if (old.format !== null && CROSS_FILE_STATE.has(old.format) && old.readerState !== undefined) {
        handover = { format: old.format, readerState: old.readerState };
        old.readerState = undefined;
      }
      this.opts.store.saveSource(old);
      this.opts.onRotation?.(old, 'rename');
      this.tracked.delete(path);
    }
    let cur = this.tracked.get(path);
    let parked: Tracked | undefined;
    if (cur && cur.fh === null) {
      // Read to its end and settled: nothing to do until it changes; then it is opened again.
      if (st.size === cur.lastSize && st.mtimeMs === cur.lastMtimeMs) return null;
      parked = cur;
      this.tracked.delete(path);
      cur = undefined;
    }
    if (!cur) {
      const attached = await this.attach(path, follow);
      if (attached === undefined) return null;
      if (!('ingestor' in attached)) return attached;
      cur = attached;
      if (parked && parked.ingestor.state === cur.ingestor.state) {
        // The same file, changed: it settles again from now (not from its mtime), and keeps its reader.
        cur.ingestor = parked.ingestor;
        cur.lastSize = parked.lastSize;
        cur.lastChangeAt = parked.lastChangeAt;
      }
      const fresh = cur.ingestor.state;
      if (handover && fresh.offset === 0 && fresh.format === null) {
        fresh.format = handover.format;
        fresh.readerState = handover.readerState;
        this.opts.store.saveSource(fresh);
      }
    }
    const fh = cur.fh!;
    const fst = await fh.stat();
    const size = fst.size;
    const state = cur.ingestor.state;
    if (size < state.offset) {
      // copytruncate or truncation: the content we read is gone; start over.
      state.offset = 0;
      state.line = 0;
      state.fpLen = 0;
      state.fingerprint = '';
      state.truncations++;
      cur.idle = null;
      this.opts.onRotation?.(state, 'truncate');
    }
    const now = this.opts.now();
    if (size !== cur.lastSize) {
      if (cur.lastSize >= 0) cur.lastChangeAt = now; // first sight: the file's own mtime stands
      cur.lastSize = size;
    }
    cur.lastMtimeMs = fst.mtimeMs;
    await cur.ingestor.refreshFingerprint(fh, size);
    const inbox = this.isInboxFile(path);
    const settled = this.opts.oneShot === true || (inbox && now - cur.lastChangeAt >= this.opts.settleMs);
    if (state.format === null && state.offset === 0 && (await isGzip(fh, size))) {
      if (!inbox) {
        this.passOverArchive(state, size);
        return null;
      }
      if (!settled) return null;
      await this.unpack(cur, size);
      return null;
    }
    if (inbox && !this.opts.oneShot && state.contentHash === null) {
      // A dropped file is read once it has settled, and only if the same content was not dropped before.
      if (!settled) return null;
      if (await this.isDuplicate(cur, size)) {
        await this.park(cur);
        return null;
      }
    }
    // Nothing new since a drain that read nothing: do not read the same partial line again.
    if (cur.idle !== null && cur.idle.size === size && cur.idle.settled === settled) return null;
    const before = state.offset;
    await cur.ingestor.drain(fh, size, settled);
    if (state.id === 0 || state.offset === 0) this.opts.store.saveSource(state);
    if (state.offset !== before) cur.movedAt = now;
    cur.waitingOnLine = state.offset < size && cur.ingestor.waitingOnLine;
    cur.idle = state.offset === before ? { size, settled } : null;
    if (inbox && settled && !this.opts.oneShot && state.offset >= size) await this.park(cur);
    return null;
  }

  /** A dropped file read to its end and settled: close it and free its buffer; it is opened again if it changes. */
  private async park(t: Tracked): Promise<void> {
    if (t.fh === null) return;
    const fh = t.fh;
    t.fh = null;
    t.ingestor.releaseBuffer();
    await fh.close().catch(() => undefined);
  }

  /** The path no longer leads to the file: read what is left of it, and stop following it. */
  private async letGo(t: Tracked): Promise<void> {
    try {
      await this.finish(t);
    } finally {
      this.tracked.delete(t.path);
    }
  }

  /** Whether the file behind `st` is one of numrep's own (compared by device and inode: links and other names count). */
  private async isOwnFile(st: Stats): Promise<boolean> {
    for (const f of this.opts.ownFiles ?? []) {
      const o = await stat(f).catch(() => null);
      if (o !== null && o.dev === st.dev && o.ino === st.ino) return true;
    }
    return false;
  }

  /** Open and follow `path`: its state by inode, or a new one. A problem instead when it must not be read. */
  private async attach(path: string, follow: boolean): Promise<Tracked | Omit<Problem, 'since'> | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(path, OPEN_FLAGS | (follow ? 0 : constants.O_NOFOLLOW));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP' && !follow) return this.symlinkRefusal(path); // swapped for a link since the lstat
      throw err;
    }
    try {
      // The handle is the truth: whatever the path was when stat'ed, this is what we would read.
      const fst = await fh.stat();
      if (!fst.isFile()) {
        await fh.close();
        return { reason: 'not_regular', message: `is ${kindOf(fst)}, not a regular file; skipped` };
      }
      if (await this.isOwnFile(fst)) {
        await fh.close();
        return { reason: 'own_file', message: "is one of numrep's own files (database, WAL, lock, secret or quarantine); never read" };
      }
      const key = `${fst.dev}:${fst.ino}`;
      let state = this.byInode.get(key);
      if (state) {
        // Same inode: the same file (restart, or a rotated name) unless its first bytes changed (inode reuse).
        const fp = state.fpLen > 0 && fst.size >= state.fpLen ? await fingerprintOf(fh, state.fpLen) : state.fingerprint;
        if (fp !== state.fingerprint || fst.size < state.fpLen) {
          state = undefined;
        } else {
          state.path = path;
        }
      }
      if (!state) {
        state = newSourceState(path, fst.dev, fst.ino);
        state.fpLen = Math.min(fst.size, FINGERPRINT_BYTES);
        state.fingerprint = await fingerprintOf(fh, state.fpLen);
        this.opts.store.saveSource(state); // may fail (disk full): the handle is closed below
        this.byInode.set(key, state);
      }
      const now = this.opts.now();
      const t: Tracked = {
        path, ingestor: new FileIngestor(state, this.ingestOpts), fh, lastSize: -1, lastMtimeMs: fst.mtimeMs,
        lastChangeAt: Math.min(fst.mtimeMs, now), movedAt: now, waitingOnLine: false, idle: null,
      };
      this.tracked.set(path, t);
      return t;
    } catch (err) {
      await fh.close().catch(() => undefined); // nothing keeps a handle we could not set up
      throw err;
    }
  }

  /**
   * Hash a settled dropped file; if a file with the same size and content was ingested before,
   * skip it whole (counted as rejected, reason duplicate_file) instead of counting its calls twice.
   */
  private async isDuplicate(t: Tracked, size: number): Promise<boolean> {
    const state = t.ingestor.state;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await t.fh!.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    state.contentHash = `${size}:${hash.digest('hex')}`;
    const twin = this.opts.store.findByContent(state.contentHash, state.id);
    if (!twin) {
      this.opts.store.saveSource(state);
      return false;
    }
    state.format = 'duplicate';
    this.rejectWhole(state, size, 'duplicate_file', `same content as ${twin.path}, already ingested; skipped whole`);
    return true;
  }

  /**
   * A settled gzip file in the inbox: inflated to a dot-part file (ignored while written), renamed to its
   * name without `.gz` (a free name if taken), and the compressed original removed; the unpacked file is
   * then a drop like any other (settle, duplicate check, read). Damaged data is rejected whole, once.
   */
  private async unpack(t: Tracked, size: number): Promise<void> {
    const state = t.ingestor.state;
    const dir = dirname(t.path);
    const name = basename(t.path).replace(/\.gz$/i, '') || 'unpacked';
    let target = name === basename(t.path) ? `${name}.unpacked` : name;
    for (let n = 1; (await lstatOrNull(join(dir, target))) !== null; n++) target = `${name}.${n}`;
    const part = join(dir, `.${target}.part`);
    let bytes = 0;
    try {
      const out = createWriteStream(part, { flags: 'wx', mode: 0o640 });
      await pipeline(t.fh!.createReadStream({ start: 0, end: size - 1, autoClose: false }), createGunzip(), async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          bytes += chunk.length;
          yield chunk;
        }
      }, out);
    } catch (err) {
      await rm(part, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code !== 'string' || !code.startsWith('Z_')) throw err; // disk full, unwritable inbox: said as a problem
      this.rejectWhole(state, size, 'bad_gzip', `gzip data is damaged (${(err as Error).message}); nothing read`);
      return;
    }
    await rename(part, join(dir, target));
    await this.park(t);
    this.tracked.delete(t.path);
    await unlink(t.path).catch(() => undefined); // unpacked: the copy we read is the inflated one
    this.opts.onUnpack?.(t.path, join(dir, target), size, bytes);
  }

  /** A followed log's compressed rotation: marked read to its end without a record (not a stall, not a duplicate count). */
  private passOverArchive(state: SourceState, size: number): void {
    state.format = 'gzip';
    state.offset = size;
    state.bytesTotal += size;
    state.lastReadAt = this.opts.now();
    this.opts.store.saveSource(state);
  }

  /** A whole file refused with one rejected record (duplicate_file, bad_gzip), committed with the source read to its end. */
  private rejectWhole(state: SourceState, size: number, reason: string, detail: string): void {
    const batch = new Batch(this.opts.bucketMs, undefined, { quarantine: this.opts.quarantine });
    batch.reject({ file: state.path, line: 0, format: 'unknown', reason, detail, raw: '', at: this.opts.now() });
    state.offset = size;
    state.bytesTotal += size;
    this.opts.store.commit({ ...batch.toCommit(), source: state });
    this.opts.onCommit?.(batch, state);
  }

  /** Read what is left of a file whose path no longer leads to it, then let go of it. */
  private async finish(t: Tracked): Promise<void> {
    const fh = t.fh;
    if (fh === null) return; // closed when read to its end
    try {
      const size = (await fh.stat()).size;
      await t.ingestor.drain(fh, size, true);
    } finally {
      t.fh = null;
      await fh.close().catch(() => undefined);
    }
  }

  /** End of a one-shot run: emit records the readers still hold. */
  flushReaders(): void {
    for (const t of this.tracked.values()) t.ingestor.flushReader();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.polling) await this.polling.catch(() => undefined);
    for (const t of this.tracked.values()) await t.fh?.close().catch(() => undefined);
    this.tracked.clear();
  }
}

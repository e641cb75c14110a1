import { open, readdir, type FileHandle } from 'node:fs/promises';
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
  onRotation?(src: SourceState, kind: 'rename' | 'truncate'): void;
  onError?(path: string, err: Error): void;
}

interface Tracked {
  path: string;
  ingestor: FileIngestor;
  fh: FileHandle;
  /** size/mtime last seen, to tell when a dropped file has settled */
  lastSize: number;
  lastChangeAt: number;
}

/** Formats whose reader state spans files: a call can start before a rotation and end after it. */
const CROSS_FILE_STATE = new Set(['kamailio', 'sipp', 'sofia']);

const IGNORED = /^\.|\.(tmp|part|swp)$|~$/;

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

  constructor(private readonly opts: TailerOptions) {
    for (const s of opts.store.sources()) this.byInode.set(`${s.dev}:${s.ino}`, s);
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
    if (this.opts.inbox) {
      for (const ent of await readdir(this.opts.inbox, { withFileTypes: true }).catch(() => [])) {
        if ((ent.isFile() || ent.isSymbolicLink()) && !IGNORED.test(ent.name)) found.add(resolve(this.opts.inbox, ent.name));
      }
    }
    for (const g of this.opts.globs) {
      const abs = resolve(g);
      if (!/[*?]/.test(abs)) {
        found.add(abs);
        continue;
      }
      const dir = dirname(abs);
      const re = globToRegExp(basename(abs));
      for (const ent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if ((ent.isFile() || ent.isSymbolicLink()) && re.test(ent.name)) found.add(join(dir, ent.name));
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
      try {
        do {
          this.again = false;
          const paths = new Set([...(await this.discover()), ...this.tracked.keys()]);
          for (const p of paths) {
            if (this.closed) return;
            try {
              await this.pollPath(p);
            } catch (err) {
              this.opts.onError?.(p, err as Error);
            }
          }
        } while (this.again && !this.closed);
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  private isInboxFile(path: string): boolean {
    return this.opts.inbox !== undefined && dirname(path) === resolve(this.opts.inbox);
  }

  private async pollPath(path: string): Promise<void> {
    const st = await statOrNull(path);
    const t = this.tracked.get(path);
    if (st === null || !st.isFile()) {
      if (t) {
        await this.finish(t); // deleted or renamed away: what was written before is still readable
        this.tracked.delete(path);
      }
      return;
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
    if (!cur) {
      cur = await this.attach(path, st.dev, st.ino);
      if (!cur) return;
      const fresh = cur.ingestor.state;
      if (handover && fresh.offset === 0 && fresh.format === null) {
        fresh.format = handover.format;
        fresh.readerState = handover.readerState;
        this.opts.store.saveSource(fresh);
      }
    }
    const size = (await cur.fh.stat()).size;
    const state = cur.ingestor.state;
    if (size < state.offset) {
      // copytruncate or truncation: the content we read is gone; start over.
      state.offset = 0;
      state.line = 0;
      state.fpLen = 0;
      state.fingerprint = '';
      state.truncations++;
      this.opts.onRotation?.(state, 'truncate');
    }
    const now = this.opts.now();
    if (size !== cur.lastSize) {
      if (cur.lastSize >= 0) cur.lastChangeAt = now; // first sight: the file's own mtime stands
      cur.lastSize = size;
    }
    await cur.ingestor.refreshFingerprint(cur.fh, size);
    const inbox = this.isInboxFile(path);
    const settled = this.opts.oneShot === true || (inbox && now - cur.lastChangeAt >= this.opts.settleMs);
    if (inbox && !this.opts.oneShot && state.contentHash === null) {
      // A dropped file is read once it has settled, and only if the same content was not dropped before.
      if (!settled) return;
      if (await this.isDuplicate(cur, size)) return;
    }
    await cur.ingestor.drain(cur.fh, size, settled);
    if (state.id === 0 || state.offset === 0) this.opts.store.saveSource(state);
  }

  private async attach(path: string, dev: number, ino: number): Promise<Tracked | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const fst = await fh.stat();
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
      this.opts.store.saveSource(state);
      this.byInode.set(key, state);
    }
    void dev;
    void ino;
    const t: Tracked = { path, ingestor: new FileIngestor(state, this.opts), fh, lastSize: -1, lastChangeAt: Math.min(fst.mtimeMs, this.opts.now()) };
    this.tracked.set(path, t);
    return t;
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
      const { bytesRead } = await t.fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
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
    const batch = new Batch(this.opts.bucketMs);
    batch.reject({
      file: state.path, line: 0, format: 'unknown', reason: 'duplicate_file',
      detail: `same content as ${twin.path}, already ingested; skipped whole`, raw: '', at: this.opts.now(),
    });
    state.format = 'duplicate';
    state.offset = size;
    state.bytesTotal += size;
    this.opts.store.commit({ ...batch.toCommit(), source: state });
    this.opts.onCommit?.(batch, state);
    return true;
  }

  /** Read what is left of a file whose path no longer leads to it, then let go of it. */
  private async finish(t: Tracked): Promise<void> {
    try {
      const size = (await t.fh.stat()).size;
      await t.ingestor.drain(t.fh, size, true);
    } finally {
      await t.fh.close().catch(() => undefined);
    }
  }

  /** End of a one-shot run: emit records the readers still hold. */
  flushReaders(): void {
    for (const t of this.tracked.values()) t.ingestor.flushReader();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.polling) await this.polling.catch(() => undefined);
    for (const t of this.tracked.values()) await t.fh.close().catch(() => undefined);
    this.tracked.clear();
  }
}

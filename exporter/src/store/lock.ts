import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * One writer per database. Two `serve` processes on one database would both read every file and commit
 * against the same offsets, counting every call twice, for good.
 *
 * The lock is `<db>.lock`, a tiny SQLite database whose write lock (a RESERVED lock, an fcntl lock the kernel
 * holds for us) the owner keeps for as long as it runs. The kernel drops it when the process dies, however it
 * dies (kill -9, OOM, power loss): a stale lock cannot block a restart, and a pid reused by another
 * program cannot fake one. A RESERVED lock still lets others read, so whoever is refused can read the
 * owner's row (pid, host, since, inbox, listen) and say who holds the database. (Network file systems
 * without working fcntl locks give no protection: keep the database on a local disk.)
 */
export interface LockOwner {
  pid: number;
  host: string;
  /** Epoch ms the owner took the lock. */
  since: number;
  /** `serve` or `labels import` / `inventory import`. */
  command: string;
  /** serve's inbox and listen address, so a refused import can say where to send its file instead. */
  inbox: string | null;
  listen: string | null;
}

export class DatabaseLockedError extends Error {
  constructor(readonly db: string, readonly owner: LockOwner | null) {
    super(
      owner
        ? `database ${db} is in use by numrep ${owner.command} (pid ${owner.pid} on ${owner.host}, since ${new Date(owner.since).toISOString()})`
        : `database ${db} is in use by another numrep process`,
    );
  }
}

/** Lock files this process holds (its own row then names a live holder, not a stale one). */
const heldHere = new Set<string>();

export class DbLock {
  private constructor(readonly file: string, private conn: Database.Database | null) {
    heldHere.add(file);
  }

  /**
   * Take the lock of `db` or throw DatabaseLockedError naming the holder. Creates `<db>.lock` (and the
   * database's directory) with `mode` when missing; writes nothing else.
   */
  static async acquire(db: string, who: Omit<LockOwner, 'pid' | 'host' | 'since'>, mode = 0o600): Promise<DbLock> {
    const file = `${db}.lock`;
    mkdirSync(dirname(file), { recursive: true });
    const conn = new Database(file, { timeout: 0 });
    try {
      if (conn.pragma('journal_mode', { simple: true }) !== 'delete') conn.pragma('journal_mode = DELETE'); // readers pass a RESERVED lock only without WAL
      try {
        chmodSync(file, mode);
      } catch {
        // not ours to chmod (another user's lock file): the lock still works
      }
      // A few rounds: between our commit of the owner row and taking the lock for good, another process may win.
      for (let round = 0; round < 50; round++) {
        if (tryBegin(conn)) {
          conn.exec(`CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,
            since INTEGER NOT NULL, command TEXT NOT NULL, inbox TEXT, listen TEXT)`);
          conn
            .prepare('INSERT OR REPLACE INTO owner (id, pid, host, since, command, inbox, listen) VALUES (1, ?, ?, ?, ?, ?, ?)')
            .run(process.pid, hostname(), Date.now(), who.command, who.inbox, who.listen);
          conn.exec('COMMIT');
          if (tryBegin(conn)) return new DbLock(file, conn);
          continue;
        }
        const owner = readOwner(conn);
        // No row yet, or an old row of ours: the holder is between taking the lock and writing its row.
        if (owner && (heldHere.has(file) || !(owner.pid === process.pid && owner.host === hostname()))) throw new DatabaseLockedError(db, owner);
        await new Promise((r) => setTimeout(r, 20)); // backing off from a lock another process holds
      }
      throw new DatabaseLockedError(db, readOwner(conn));
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** Who holds the lock of `db` now, if anyone (null: nobody, or the lock file does not exist). */
  static holder(db: string): LockOwner | null {
    let conn: Database.Database;
    try {
      conn = new Database(`${db}.lock`, { timeout: 0, fileMustExist: true });
    } catch {
      return null;
    }
    try {
      if (!tryBegin(conn)) return readOwner(conn);
      conn.exec('ROLLBACK');
      return null;
    } finally {
      conn.close();
    }
  }

  release(): void {
    if (this.conn === null) return;
    this.conn.close(); // rolls the held transaction back: the lock is free
    this.conn = null;
    heldHere.delete(this.file);
  }
}

function tryBegin(conn: Database.Database): boolean {
  try {
    conn.exec('BEGIN IMMEDIATE');
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw err;
  }
}

function readOwner(conn: Database.Database): LockOwner | null {
  try {
    const row = conn.prepare('SELECT pid, host, since, command, inbox, listen FROM owner WHERE id = 1').get() as LockOwner | undefined;
    return row ?? null;
  } catch {
    return null; // no table yet, or the holder is mid-commit
  }
}

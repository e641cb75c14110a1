import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseLockedError, DbLock } from '../../src/store/lock.js';
import { tmp } from './helpers.js';

// One writer per database (store/lock.ts), in one process: the lock is SQLite's own file lock, which is
// also held between connections of one process. Across processes, and after kill -9: test/e2e/oneWriter.test.ts.

describe('database lock', () => {
  it('is refused to a second taker, naming the holder, and free again once released', async () => {
    const db = join(tmp(), 'numrep.db');
    const lock = await DbLock.acquire(db, { command: 'serve', inbox: '/var/spool/numrep/inbox', listen: '127.0.0.1:9847' });
    const refused = await DbLock.acquire(db, { command: 'labels import', inbox: null, listen: null }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseLockedError);
    expect((refused as DatabaseLockedError).owner).toMatchObject({ pid: process.pid, command: 'serve', inbox: '/var/spool/numrep/inbox', listen: '127.0.0.1:9847' });
    expect((refused as Error).message).toContain(`is in use by numrep serve (pid ${process.pid} on `);
    expect(DbLock.holder(db)).toMatchObject({ pid: process.pid, command: 'serve' });
    lock.release();
    expect(DbLock.holder(db)).toBeNull();
    const again = await DbLock.acquire(db, { command: 'labels import', inbox: null, listen: null });
    again.release();
  });

  it('is a file of mode 0600 beside the database (0640 when asked)', async () => {
    const dir = tmp();
    (await DbLock.acquire(join(dir, 'a.db'), { command: 'serve', inbox: null, listen: null })).release();
    (await DbLock.acquire(join(dir, 'b.db'), { command: 'serve', inbox: null, listen: null }, 0o640)).release();
    expect(statSync(join(dir, 'a.db.lock')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'b.db.lock')).mode & 0o777).toBe(0o640);
  });

  it('names nobody when no lock file exists', () => {
    expect(DbLock.holder(join(tmp(), 'none.db'))).toBeNull();
  });
});

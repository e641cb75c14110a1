// The call_keys table (schema 3): keys appended as they are counted, read back whole at start; a schema-2
// database (keys in a B-tree on the hash) is moved to it at open without losing a key.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store } from '../../src/store/db.js';
import { CallKeySet, keyRowId } from '../../src/classify/callKeys.js';

const keysOf = (store: Store) => {
  const set = new CallKeySet();
  store.loadCallKeys(set, 0);
  return set;
};

describe('call_keys', () => {
  it('a schema-2 database is moved to the appended layout at open, every key kept', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    new Store(file).close();
    // Make it what numrep wrote before schema 3.
    const db = new Database(file);
    db.exec(`DROP TABLE call_keys; CREATE TABLE call_keys (h INTEGER PRIMARY KEY, source INTEGER NOT NULL, ts INTEGER NOT NULL);
      UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO call_keys (h, source, ts) VALUES (?, ?, ?)');
    for (let i = 0; i < 500; i++) ins.run(keyRowId((i * 2654435761) >>> 0, (i * 40503 + 7) >>> 0), 1 + (i % 3), 1_795_000_000 + i);
    db.close();

    const store = new Store(file);
    const cols = store.db.prepare('PRAGMA table_info(call_keys)').all() as { name: string; pk: number }[];
    expect(cols.map((c) => [c.name, c.pk])).toEqual([['h', 0], ['source', 0], ['ts', 0]]);
    expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
    const set = keysOf(store);
    expect(set.size).toBe(500);
    for (let i = 0; i < 500; i++) expect(set.sourceOf((i * 2654435761) >>> 0, (i * 40503 + 7) >>> 0)).toBe(1 + (i % 3));
    store.close();
  });

  it('keys committed with a batch are appended in commit order and read back, a key met twice kept once in memory', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    const store = new Store(file);
    const batch = (quads: number[]) => ({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], callKeys: Uint32Array.from(quads) });
    store.commit(batch([5, 6, 1, 100, 0xffffffff, 1, 1, 101]));
    store.commit(batch([7, 8, 2, 102, 5, 6, 2, 99]));
    const rows = store.db.prepare('SELECT h, source, ts FROM call_keys ORDER BY rowid').raw(true).safeIntegers(false).all();
    expect(rows).toEqual([[Number(keyRowId(5, 6)), 1, 100], [Number(keyRowId(0xffffffff, 1)), 1, 101], [Number(keyRowId(7, 8)), 2, 102], [Number(keyRowId(5, 6)), 2, 99]]);
    const set = keysOf(store);
    expect(set.size).toBe(3);
    // The first file that counted it, as the set kept it while running.
    expect(set.sourceOf(5, 6)).toBe(1);
    expect(set.sourceOf(0xffffffff, 1)).toBe(1);
    store.close();
  });
});

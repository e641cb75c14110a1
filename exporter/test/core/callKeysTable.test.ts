// The call keys (schema 5): one row of call_key_blocks per transaction, its keys as (hash hi, hash lo, source, start
// second) quads, read back whole at start and pruned by age; a schema-2 database (keys in a B-tree on the hash) and a
// schema-3/4 one (a row per key) are moved to it at open without losing a key.
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
  it('a schema-2 database is moved to the block layout at open, every key kept', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    new Store(file).close();
    // Make it what numrep wrote before schema 3.
    const db = new Database(file);
    db.exec(`DROP TABLE IF EXISTS call_keys; CREATE TABLE call_keys (h INTEGER PRIMARY KEY, source INTEGER NOT NULL, ts INTEGER NOT NULL);
      UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO call_keys (h, source, ts) VALUES (?, ?, ?)');
    for (let i = 0; i < 500; i++) ins.run(keyRowId((i * 2654435761) >>> 0, (i * 40503 + 7) >>> 0), 1 + (i % 3), 1_795_000_000 + i);
    db.close();

    const store = new Store(file);
    expect(store.db.prepare('PRAGMA table_info(call_keys)').all()).toEqual([]);
    expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
    const set = keysOf(store);
    expect(set.size).toBe(500);
    for (let i = 0; i < 500; i++) expect(set.sourceOf((i * 2654435761) >>> 0, (i * 40503 + 7) >>> 0)).toBe(1 + (i % 3));
    store.close();
  });

  it('a schema-4 database (a row per key) is moved to blocks at open, in the order the keys were counted', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    new Store(file).close();
    const db = new Database(file);
    db.exec(`CREATE TABLE call_keys (h INTEGER NOT NULL, source INTEGER NOT NULL, ts INTEGER NOT NULL);
      UPDATE meta SET value = '4' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO call_keys (h, source, ts) VALUES (?, ?, ?)');
    // 70,000 keys: more than one moved block; the same key from two sources, the first one counted wins.
    for (let i = 0; i < 70_000; i++) ins.run(keyRowId((i * 2654435761) >>> 0, 0xffffffff - i), 1 + (i % 3), 1_795_000_000 + i);
    ins.run(keyRowId(0, 0xffffffff), 9, 1_795_100_000);
    db.close();
    const store = new Store(file);
    expect(store.db.prepare('PRAGMA table_info(call_keys)').all()).toEqual([]);
    expect(store.db.prepare('SELECT count(*) FROM call_key_blocks').pluck().get()).toBe(2);
    const set = keysOf(store);
    expect(set.size).toBe(70_000);
    for (let i = 0; i < 70_000; i += 997) expect(set.sourceOf((i * 2654435761) >>> 0, 0xffffffff - i)).toBe(1 + (i % 3));
    expect(set.sourceOf(0, 0xffffffff)).toBe(1);
    // Read back from a start second: the keys before it are left out, even in a block kept for its newer keys.
    const later = new CallKeySet();
    store.loadCallKeys(later, 1_795_000_000 + 69_990);
    expect(later.size).toBe(11);
    store.close();
  });

  it('pruning drops a block whose keys are all older than the edge and writes one that holds some again without them', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    const store = new Store(file);
    const batch = (quads: number[]) => ({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], callKeys: Uint32Array.from(quads) });
    store.commit(batch([1, 1, 1, 100, 2, 2, 1, 200]));
    store.commit(batch([3, 3, 1, 150, 4, 4, 1, 300, 5, 5, 2, 250]));
    store.prune(250_000);
    const rows = (store.db.prepare('SELECT min_ts, max_ts, keys FROM call_key_blocks ORDER BY id').raw(true).all() as [number, number, Buffer][]).map(([a, b, k]) => [
      a,
      b,
      Array.from({ length: k.length / 4 }, (_, i) => k.readUInt32LE(i * 4)),
    ]);
    expect(rows).toEqual([[250, 300, [4, 4, 1, 300, 5, 5, 2, 250]]]);
    const set = keysOf(store);
    expect(set.size).toBe(2);
    expect(set.sourceOf(4, 4)).toBe(1);
    expect(set.sourceOf(5, 5)).toBe(2);
    expect(set.sourceOf(3, 3)).toBe(-1);
    store.close();
  });

  it('keys committed with a batch are appended in commit order and read back, a key met twice kept once in memory', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-keys-')), 'numrep.db');
    const store = new Store(file);
    const batch = (quads: number[]) => ({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], callKeys: Uint32Array.from(quads) });
    store.commit(batch([5, 6, 1, 100, 0xffffffff, 1, 1, 101]));
    store.commit(batch([7, 8, 2, 102, 5, 6, 2, 99]));
    const rows = (store.db.prepare('SELECT min_ts, max_ts, keys FROM call_key_blocks ORDER BY id').raw(true).all() as [number, number, Buffer][]).map(([minTs, maxTs, b]) => [
      minTs,
      maxTs,
      Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4)),
    ]);
    expect(rows).toEqual([[100, 101, [5, 6, 1, 100, 0xffffffff, 1, 1, 101]], [99, 102, [7, 8, 2, 102, 5, 6, 2, 99]]]);
    const set = keysOf(store);
    expect(set.size).toBe(3);
    // The first file that counted it, as the set kept it while running.
    expect(set.sourceOf(5, 6)).toBe(1);
    expect(set.sourceOf(0xffffffff, 1)).toBe(1);
    store.close();
  });
});

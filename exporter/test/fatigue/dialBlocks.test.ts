// The dials (schema 6): one row of consumer_dial_blocks per transaction, our numbers once each and the dials as
// (number index, consumer hash hi, hash lo, start second) quads, read back whole at start and pruned by age; a
// schema-5 database (a row per dial) is moved to it at open without losing a dial.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store } from '../../src/store/db.js';
import { keyRowId } from '../../src/classify/callKeys.js';
import { tmp } from '../core/helpers.js';

type Dial = [string, number, number, number];

const dialsOf = (store: Store, fromSec = 0): Dial[] => {
  const out: Dial[] = [];
  store.loadDials((n, hi, lo, t) => out.push([n, hi, lo, t]), fromSec);
  return out;
};

const commitDials = (store: Store, dials: Dial[]) =>
  store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], dials: { numbers: dials.map((d) => d[0]), words: dials.flatMap((d) => [d[1], d[2], d[3]]) } });

describe('consumer dial blocks', () => {
  it('a schema-5 database (a row per dial) is moved to blocks at open, oldest first, every dial kept', () => {
    const file = join(tmp('numrep-dials-'), 'numrep.db');
    new Store(file).close();
    // Make it what numrep wrote at schema 5.
    const db = new Database(file);
    db.exec(`DROP TABLE consumer_dial_blocks;
      CREATE TABLE consumer_dials (h INTEGER NOT NULL, number TEXT NOT NULL, ts INTEGER NOT NULL);
      CREATE INDEX consumer_dials_by_time ON consumer_dials (ts);
      UPDATE meta SET value = '5' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO consumer_dials (h, number, ts) VALUES (?, ?, ?)');
    // 70,000 dials, more than one moved block, inserted newest first: the blocks hold them oldest first. Hashes with the
    // top bit set are negative as stored.
    const want: Dial[] = [];
    for (let i = 0; i < 70_000; i++) want.push([`+1202555${String(i % 50).padStart(4, '0')}`, (0xfffffff0 + i * 2654435761) >>> 0, (i * 40503 + 0x80000000) >>> 0, 1_795_000_000 + i]);
    for (const [n, hi, lo, ts] of [...want].reverse()) ins.run(keyRowId(hi, lo), n, ts);
    db.close();

    const store = new Store(file);
    try {
      expect(store.db.prepare('PRAGMA table_info(consumer_dials)').all()).toEqual([]);
      expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
      expect(store.db.prepare('SELECT min_ts, max_ts FROM consumer_dial_blocks ORDER BY id').raw(true).all()).toEqual([
        [1_795_000_000, 1_795_065_535],
        [1_795_065_536, 1_795_069_999],
      ]);
      expect(dialsOf(store)).toEqual(want);
      // Read back from a start second: the dials before it are left out, even in a block kept for its newer ones.
      expect(dialsOf(store, 1_795_069_990)).toEqual(want.slice(69_990));
    } finally {
      store.close();
    }
  });

  it('pruning drops a block whose dials are all older than the edge and writes one that holds some again without them', () => {
    const store = new Store(join(tmp('numrep-dials-'), 'numrep.db'));
    try {
      commitDials(store, [
        ['+12025550101', 1, 1, 100],
        ['+12025550102', 2, 2, 200],
      ]);
      commitDials(store, [
        ['+12025550101', 3, 3, 150],
        ['+12025550103', 4, 4, 300],
        ['+12025550101', 5, 5, 250],
      ]);
      expect(store.pruneDials(250)).toBe(3);
      const rows = store.db.prepare('SELECT min_ts, max_ts, numbers FROM consumer_dial_blocks ORDER BY id').raw(true).all();
      // The rewritten block names only the numbers it still holds.
      expect(rows).toEqual([[250, 300, '["+12025550103","+12025550101"]']]);
      expect(dialsOf(store)).toEqual([
        ['+12025550103', 4, 4, 300],
        ['+12025550101', 5, 5, 250],
      ]);
      expect(store.pruneDials(250)).toBe(0);
      expect(store.pruneDials(301)).toBe(2);
      expect(store.db.prepare('SELECT count(*) FROM consumer_dial_blocks').pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  });

  it('a commit without dials writes no block', () => {
    const store = new Store(join(tmp('numrep-dials-'), 'numrep.db'));
    try {
      commitDials(store, []);
      store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [] });
      expect(store.db.prepare('SELECT count(*) FROM consumer_dial_blocks').pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  });
});

// The buckets table (schema 4): keyed by time first (bucket, number, carrier), so a backfill's rows, read in time
// order, are appended at the end of the B-tree instead of landing on every page of it; a schema-3 database (keyed by
// number first, with an index on bucket) is moved to it at open, every bucket kept.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store } from '../../src/store/db.js';
import { FIELDS, VECTOR_COLUMNS } from '../../src/stats/vector.js';

const vec = (calls: number, answered: number) => {
  const v = new Float64Array(FIELDS);
  v[0] = calls;
  v[1] = answered;
  return v;
};
const commitOf = (buckets: { number: string; carrier: string; bucket: number; v: Float64Array }[]) => ({ buckets, seen: [], totals: [], blocks: [], counters: [], quarantine: [] });

describe('buckets', () => {
  it('a schema-3 database (keyed by number first) is moved to the time-first layout at open, every bucket kept', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-buckets-')), 'numrep.db');
    new Store(file, { bucketMs: 60_000 }).close();
    // Make it what numrep wrote before schema 4.
    const db = new Database(file);
    const cols = VECTOR_COLUMNS.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(', ');
    db.exec(`DROP TABLE buckets; CREATE TABLE buckets (number TEXT NOT NULL, carrier TEXT NOT NULL, bucket INTEGER NOT NULL, ${cols},
        PRIMARY KEY (number, carrier, bucket)) WITHOUT ROWID;
      CREATE INDEX buckets_by_time ON buckets (bucket);
      UPDATE meta SET value = '3' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO buckets (number, carrier, bucket, calls, answered, talk_sec) VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 300; i++) ins.run(`+1202555${String(i % 50).padStart(4, '0')}`, ['att', 'verizon', 'tmobile'][i % 3], 60_000 * (1 + Math.floor(i / 3)), 1 + (i % 4), i % 2, i);
    const before = db.prepare(`SELECT number, carrier, bucket, ${VECTOR_COLUMNS.join(', ')} FROM buckets ORDER BY number, carrier, bucket`).raw(true).all();
    db.close();

    const store = new Store(file, { bucketMs: 60_000 });
    try {
      const pk = (store.db.prepare('PRAGMA table_info(buckets)').all() as { name: string; pk: number }[]).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      expect(pk).toEqual(['bucket', 'number', 'carrier']);
      expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'buckets_by_time'").pluck().get()).toBe(0);
      expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
      const after = store.db.prepare(`SELECT number, carrier, bucket, ${VECTOR_COLUMNS.join(', ')} FROM buckets ORDER BY number, carrier, bucket`).raw(true).all();
      expect(after).toEqual(before);
      // Upserts still add into the moved rows, and the window queries read them.
      store.commit(commitOf([{ number: '+12025550000', carrier: 'att', bucket: 60_000, v: vec(2, 1) }]));
      const sum = store.sumBuckets(0, 120_000).find((r) => r.number === '+12025550000' && r.carrier === 'att')!;
      expect([sum.v[0], sum.v[1]]).toEqual([3, 1]);
      expect(store.bucketsBetween(60_000, 120_000).length).toBe(3);
    } finally {
      store.close();
    }
    // Opened again: nothing to move, nothing lost.
    const again = new Store(file, { bucketMs: 60_000 });
    try {
      expect(again.db.prepare('SELECT count(*) FROM buckets').pluck().get()).toBe(300);
    } finally {
      again.close();
    }
  });

  it('a batch of buckets is upserted in multi-row statements and the rest one by one: every row stored, stored rows added into', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-buckets-')), 'numrep.db');
    const store = new Store(file, { bucketMs: 60_000 });
    try {
      const rows = (n: number, calls: number) =>
        Array.from({ length: n }, (_, i) => ({ number: `+1202555${String(i % 7).padStart(4, '0')}`, carrier: ['att', 'verizon'][i % 2], bucket: 60_000 * (1 + i), v: vec(calls, i % 2) }));
      store.commit(commitOf(rows(37, 1))); // two statements of 16, then 5 rows one by one
      store.commit(commitOf(rows(21, 2))); // the first 21 again: added into what is stored
      expect(store.db.prepare('SELECT count(*) FROM buckets').pluck().get()).toBe(37);
      const stored = store.bucketsBetween(0, 60_000 * 40);
      expect(stored.length).toBe(37);
      for (const r of stored) {
        const i = r.bucket / 60_000 - 1;
        expect([r.number, r.carrier, r.v[0], r.v[1]]).toEqual([`+1202555${String(i % 7).padStart(4, '0')}`, ['att', 'verizon'][i % 2], i < 21 ? 3 : 1, i < 21 ? 2 * (i % 2) : i % 2]);
      }
    } finally {
      store.close();
    }
  });
});

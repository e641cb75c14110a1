// The all-time totals (schema 7): one row per number × carrier with a count per outcome, no longer a row per
// number × carrier × outcome. A commit folds a pair's consecutive outcome rows into one upsert; a schema-6 database is
// moved at open, every count kept; what the store reads back (totals(), totalsByCarrier()) is what it read before.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store } from '../../src/store/db.js';
import { OUTCOMES } from '../../src/model/types.js';

type Total = { number: string; carrier: string; outcome: string; count: number };
const commitOf = (totals: Total[]) => ({ buckets: [], seen: [], totals, blocks: [], counters: [], quarantine: [] });
const fresh = () => join(mkdtempSync(join(tmpdir(), 'numrep-totals-')), 'numrep.db');

/** Every total in a stable order, to compare two reads. */
const sorted = (rows: Total[]) => [...rows].sort((a, b) => (a.number + a.carrier + a.outcome < b.number + b.carrier + b.outcome ? -1 : 1));

/** A small random mix of totals rows: some pairs' outcomes consecutive, some apart, some repeated. */
function randomTotals(seed: number, n: number): Total[] {
  let s = seed;
  const r = (k: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % k);
  return Array.from({ length: n }, () => ({
    number: `+1202555${String(r(40)).padStart(4, '0')}`,
    carrier: ['att', 'verizon', 'tmobile'][r(3)],
    outcome: OUTCOMES[r(OUTCOMES.length)],
    count: 1 + r(5),
  }));
}

/** What the totals add up to, per number × carrier × outcome. */
function expected(rows: Total[]): Total[] {
  const m = new Map<string, Total>();
  for (const t of rows) {
    const k = `${t.number}\u0000${t.carrier}\u0000${t.outcome}`;
    const cur = m.get(k);
    if (cur) cur.count += t.count;
    else m.set(k, { ...t });
  }
  return sorted([...m.values()]);
}

describe('totals (schema 7)', () => {
  it('stores one row per number × carrier, and reads back every outcome it was given', () => {
    const store = new Store(fresh(), { bucketMs: 60_000 });
    try {
      const rows = randomTotals(7, 500);
      // In key order (what a batch hands over) and then shuffled (rows of a pair apart, and across statements).
      store.commit(commitOf(sorted(rows.slice(0, 300))));
      store.commit(commitOf(rows.slice(300)));
      const pairs = new Set(rows.map((t) => `${t.number} ${t.carrier}`)).size;
      expect(store.db.prepare('SELECT count(*) FROM totals').pluck().get()).toBe(pairs);
      expect(sorted(store.totals())).toEqual(expected(rows));
      const byCarrier = new Map<string, number>();
      for (const t of rows) byCarrier.set(`${t.carrier} ${t.outcome}`, (byCarrier.get(`${t.carrier} ${t.outcome}`) ?? 0) + t.count);
      expect(new Map(store.totalsByCarrier().map((t) => [`${t.carrier} ${t.outcome}`, t.count]))).toEqual(byCarrier);
    } finally {
      store.close();
    }
  });

  it('reads a pair’s outcomes back in the order a (number, carrier, outcome) key gave them', () => {
    const store = new Store(fresh(), { bucketMs: 60_000 });
    try {
      store.commit(commitOf(OUTCOMES.map((outcome, i) => ({ number: '+12025550100', carrier: 'att', outcome, count: i + 1 }))));
      expect(store.totals().map((t) => t.outcome)).toEqual([...OUTCOMES].sort());
      // A fresh connection's sums (no commit of its own seen) are in (carrier, outcome) byte order too.
      const other = new Store(store.file, { bucketMs: 60_000 });
      try {
        expect(other.totalsByCarrier().map((t) => t.outcome)).toEqual([...OUTCOMES].sort());
      } finally {
        other.close();
      }
    } finally {
      store.close();
    }
  });

  it('refuses an outcome it has no column for, naming it, and commits nothing of that batch', () => {
    const store = new Store(fresh(), { bucketMs: 60_000 });
    try {
      expect(() => store.commit(commitOf([{ number: '+12025550100', carrier: 'att', outcome: 'answered', count: 1 }, { number: '+12025550100', carrier: 'att', outcome: 'teleported', count: 1 }]))).toThrow(/unknown outcome "teleported"/);
      expect(store.totals()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('moves a schema-6 database (a row per outcome) at open, every count kept', () => {
    const file = fresh();
    new Store(file, { bucketMs: 60_000 }).close();
    const rows = expected(randomTotals(11, 400));
    const db = new Database(file);
    db.exec(`DROP TABLE totals;
      CREATE TABLE totals (number TEXT NOT NULL, carrier TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (number, carrier, outcome)) WITHOUT ROWID;
      UPDATE meta SET value = '6' WHERE key = 'schema_version';`);
    const ins = db.prepare('INSERT INTO totals (number, carrier, outcome, count) VALUES (?, ?, ?, ?)');
    for (const t of rows) ins.run(t.number, t.carrier, t.outcome, t.count);
    db.close();

    const store = new Store(file, { bucketMs: 60_000 });
    try {
      expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
      const cols = (store.db.prepare('PRAGMA table_info(totals)').all() as { name: string }[]).map((c) => c.name);
      expect(cols).toEqual(['number', 'carrier', ...OUTCOMES]);
      expect(sorted(store.totals())).toEqual(rows);
      // Upserts add into the moved rows.
      store.commit(commitOf([{ number: rows[0].number, carrier: rows[0].carrier, outcome: rows[0].outcome, count: 5 }]));
      expect(store.totals().find((t) => t.number === rows[0].number && t.carrier === rows[0].carrier && t.outcome === rows[0].outcome)!.count).toBe(rows[0].count + 5);
    } finally {
      store.close();
    }
  });

  it('does not move a schema-6 table holding an outcome it has no column for: the open fails naming it, nothing changed', () => {
    const file = fresh();
    new Store(file, { bucketMs: 60_000 }).close();
    const db = new Database(file);
    db.exec(`DROP TABLE totals;
      CREATE TABLE totals (number TEXT NOT NULL, carrier TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (number, carrier, outcome)) WITHOUT ROWID;
      INSERT INTO totals VALUES ('+12025550100', 'att', 'answered', 3), ('+12025550100', 'att', 'teleported', 1);
      UPDATE meta SET value = '6' WHERE key = 'schema_version';`);
    db.close();
    expect(() => new Store(file, { bucketMs: 60_000 })).toThrow(/unknown outcome "teleported"/);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT count(*) FROM totals').pluck().get()).toBe(2);
    } finally {
      after.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/db.js';
import { FIELDS, F_CONVERSION, F_HUMAN, F_ABANDONED } from '../../src/stats/vector.js';
import { tmp } from '../core/helpers.js';

// A database made before dispositions and recipient fatigue opens as it is: its buckets gain the disposition
// columns (0 for the calls already counted), the dial table appears, and nothing counted before moves.

const OLD = ['calls', 'answered', 'voicemail', 'cancelled', 'no_answer', 'busy', 'rejected', 'blocked', 'failed', 'short_calls', 'talk_sec', 'att_a', 'att_b', 'att_c', 'att_none'];

describe('a database from before dispositions', () => {
  it('gains the new bucket columns and the dial table; old sums are kept', () => {
    const file = join(tmp('numrep-migrate-'), 'old.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE buckets (number TEXT NOT NULL, carrier TEXT NOT NULL, bucket INTEGER NOT NULL, ${OLD.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(', ')},
      PRIMARY KEY (number, carrier, bucket)) WITHOUT ROWID;`);
    db.prepare(`INSERT INTO buckets (number, carrier, bucket, calls, answered, talk_sec, att_a) VALUES ('+12025550101', 'att', 60000, 3, 2, 80, 3)`).run();
    db.close();
    const store = new Store(file, { bucketMs: 60_000 });
    try {
      const [row] = store.sumBuckets(0, 120_000);
      expect(row.v.length).toBe(FIELDS);
      expect(Array.from(row.v.subarray(0, 2))).toEqual([3, 2]);
      expect([row.v[F_HUMAN], row.v[F_CONVERSION], row.v[F_ABANDONED]]).toEqual([0, 0, 0]);
      const v = new Float64Array(FIELDS);
      v[0] = 1;
      v[F_HUMAN] = 1;
      v[F_CONVERSION] = 1;
      store.commit({ buckets: [{ number: '+12025550101', carrier: 'att', bucket: 60_000, v }], seen: [], totals: [], blocks: [], counters: [], quarantine: [], dials: { numbers: ['+12025550101'], words: [1, 2, 100] } });
      const [after] = store.sumBuckets(0, 120_000);
      expect([after.v[0], after.v[F_HUMAN], after.v[F_CONVERSION]]).toEqual([4, 1, 1]);
      const dials: number[][] = [];
      store.loadDials((n, hi, lo, t) => dials.push([hi, lo, t]), 0);
      expect(dials).toEqual([[1, 2, 100]]);
      expect(store.pruneDials(101)).toBe(1);
    } finally {
      store.close();
    }
  });
});

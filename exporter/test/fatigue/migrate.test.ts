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

describe('dials survive a restart', () => {
  it('a new Runtime on the same database has the same fatigue figures', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { Runtime } = await import('../../src/runtime.js');
    const { CarrierResolver } = await import('../../src/model/carrier.js');
    const NOW = Date.parse('2026-11-20T18:00:00Z');
    const dir = tmp('numrep-dials-restart-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const rows = ['caller,called,start,billsec,disposition'];
    for (let k = 0; k < 5; k++) for (let c = 0; c < 3; c++) rows.push(`+12025550101,+1312555014${c},${new Date(NOW - (k * 3 + 1) * 3_600_000 - c * 1000).toISOString()},0,no_answer`);
    writeFileSync(join(inbox, 'calls.csv'), rows.join('\n') + '\n');
    const open = () => new Runtime({ db: join(dir, 'numrep.db'), bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: () => NOW });
    const first = open();
    await first.poll();
    const before = first.fatigueAt(NOW).numbers.get('+12025550101');
    await first.close();
    expect(before!['24h']).toMatchObject({ calls: 15, consumers: 3, consumers_over_cap: 3, attempts_over_cap: 6 });
    const second = open();
    try {
      await second.poll();
      expect(second.dials.n).toBe(15);
      expect(second.fatigueAt(NOW).numbers.get('+12025550101')).toEqual(before);
    } finally {
      await second.close();
    }
  });
});

// A commit's totals go to SQLite in multi-row statements (64 rows each, the rest one by one): every row is stored as
// a statement a row would store it, totals added into stored ones. Its dials are one block, their hashes as keyRowId made them.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDial, Store } from '../../src/store/db.js';
import { keyRowId } from '../../src/classify/callKeys.js';
import { Batch } from '../../src/ingest/batch.js';
import type { CallRecord } from '../../src/model/types.js';

const OUTCOMES = ['answered', 'cancelled', 'no_answer'];

describe('commit rows', () => {
  it('totals and dials over several multi-row statements and a rest', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'numrep-rows-')), 'numrep.db');
    const store = new Store(file, { bucketMs: 60_000 });
    try {
      const totals = (n: number, count: number) =>
        Array.from({ length: n }, (_, i) => ({ number: `+1202555${String(Math.floor(i / 3)).padStart(4, '0')}`, carrier: 'att', outcome: OUTCOMES[i % 3], count }));
      const words: number[] = [];
      const numbers: string[] = [];
      for (let i = 0; i < 131; i++) {
        numbers.push(`+1202555${String(i % 9).padStart(4, '0')}`);
        words.push((0xfffffff0 + i * 2654435761) >>> 0, (i * 40503 + 0x80000000) >>> 0, 1_795_000_000 + i);
      }
      store.commit({ buckets: [], seen: [], totals: totals(150, 1), blocks: [], counters: [], quarantine: [], dials: { numbers, words: Uint32Array.from(words) } });
      store.commit({ buckets: [], seen: [], totals: totals(70, 2), blocks: [], counters: [], quarantine: [] });
      const stored = store.totals();
      expect(stored.length).toBe(150);
      const byKey = new Map(stored.map((t) => [`${t.number}|${t.carrier}|${t.outcome}`, t.count]));
      const want = totals(150, 1);
      for (let i = 0; i < 150; i++) expect(byKey.get(`${want[i].number}|att|${want[i].outcome}`)).toBe(i < 70 ? 3 : 1);
      const dials: [string, number, number, number][] = [];
      store.loadDials((n, hi, lo, t) => dials.push([n, hi, lo, t]), 0);
      expect(dials).toEqual(numbers.map((n, i) => [n, words[i * 3], words[i * 3 + 1], words[i * 3 + 2]]));
      // One row for the transaction: our nine numbers once each, the dials as (number index, hi, lo, second) quads.
      const blocks = store.db.prepare('SELECT min_ts, max_ts, numbers, dials FROM consumer_dial_blocks ORDER BY id').raw(true).all() as [number, number, string, Buffer][];
      expect(blocks.length).toBe(1);
      const [minTs, maxTs, numbersJson, blob] = blocks[0];
      expect([minTs, maxTs]).toEqual([1_795_000_000, 1_795_000_130]);
      expect(JSON.parse(numbersJson)).toEqual(numbers.slice(0, 9));
      expect(blob.length).toBe(131 * 16);
      const h: bigint[] = [];
      forEachDial(numbersJson, blob, (_n, hi, lo) => h.push(keyRowId(hi, lo)));
      expect(h).toEqual(numbers.map((_, i) => keyRowId(words[i * 3], words[i * 3 + 1])));
    } finally {
      store.close();
    }
  });

  it("a batch hands its numbers' rows over in the tables' key order, whatever order the calls came in", () => {
    // Callers interleaved in time: in arrival order each totals upsert landed on another page of the B-tree.
    const b = new Batch(60_000);
    const callers = ['+13125550199', '+12025550101', '+19175550123', '+12025550100', '+14155550111'];
    const carriers = ['verizon', 'att', 'tmobile'];
    for (let i = 0; i < 40; i++) {
      const call: CallRecord = { ts: 1_795_000_000_000 + i * 1000, caller: callers[(i * 3) % 5], called: '+13125550000', carrier: carriers[i % 3], outcome: i % 4 === 0 ? 'answered' : 'no_answer', talkSec: i % 4 === 0 ? 30 : 0, source: 'test' };
      b.add(call);
    }
    const rows = b.toCommit();
    const seen = [...rows.seen].map((s) => s.number);
    expect(seen).toEqual([...callers].sort());
    const totalNumbers = [...rows.totals].map((t) => t.number);
    expect(totalNumbers).toEqual([...totalNumbers].sort());
    expect(new Set(totalNumbers).size).toBe(5);
    expect([...rows.totals].reduce((s, t) => s + t.count, 0)).toBe(40);
  });
});

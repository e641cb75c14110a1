import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Batch } from '../../src/ingest/batch.js';
import { OUTCOMES, type CallRecord } from '../../src/model/types.js';
import { addRecord, emptyVector, FIELDS } from '../../src/stats/vector.js';

// Batch keeps a number's carriers in a short list (a Map past 8 of them) and every pair's outcome counts in one
// array: its totals, first/last seen and logged pairs must equal plain counts of the calls, however many carriers.

const T0 = Date.UTC(2026, 10, 1);

type Call = Pick<CallRecord, 'ts' | 'caller' | 'outcome' | 'talkSec' | 'attestation' | 'source'> & { carrier: string };

const callArb = fc.record({
  ts: fc.integer({ min: T0, max: T0 + 86_400_000 }),
  caller: fc.constantFrom('+12025550101', '+12025550102', '+12025550103'),
  outcome: fc.constantFrom(...OUTCOMES),
  talkSec: fc.integer({ min: 0, max: 300 }),
  attestation: fc.constantFrom('A', 'B', 'C', 'unknown') as fc.Arbitrary<CallRecord['attestation']>,
  source: fc.constant('test'),
  // Up to 20 carriers per number: past the list into the Map.
  carrier: fc.integer({ min: 0, max: 19 }).map((k) => `carrier-${k}`),
});

describe('Batch: pairs of number × carrier', () => {
  for (const callLog of [true, false]) {
    it(`totals and seen equal plain counts, up to 20 carriers a number (${callLog ? 'call log' : 'buckets'})`, () => {
      fc.assert(
        fc.property(fc.array(callArb, { maxLength: 200 }), (calls: Call[]) => {
          const b = new Batch(60_000, undefined, { callLog });
          for (const c of calls) b.addCall(c, c.carrier);
          const totals = new Map<string, number>();
          const seen = new Map<string, { first: number; last: number }>();
          for (const c of calls) {
            const k = `${c.caller}\u0000${c.carrier}\u0000${c.outcome}`;
            totals.set(k, (totals.get(k) ?? 0) + 1);
            const s = seen.get(c.caller);
            seen.set(c.caller, { first: Math.min(s?.first ?? Infinity, c.ts), last: Math.max(s?.last ?? -Infinity, c.ts) });
          }
          expect(new Map([...b.totals].map(([k, t]) => [k, t.count]))).toEqual(totals);
          expect(new Map([...b.seen].map(([n, s]) => [n, { first: s.first, last: s.last }]))).toEqual(seen);
          if (callLog) {
            const pairs = b.calls!.pairs.map((p) => `${p.number}\u0000${p.carrier}`);
            expect(new Set(pairs).size).toBe(pairs.length);
            expect(new Set(pairs)).toEqual(new Set(calls.map((c) => `${c.caller}\u0000${c.carrier}`)));
          }
        }),
        { numRuns: 200 },
      );
    });
  }

  // A database batch keeps its buckets as rows of typed arrays, found without a lookup while a pair's calls come in
  // time order; a call back in time walks the pair's rows, then a Map past 8 of them. Calls here go back and forth
  // over up to 40 minutes, so pairs have more buckets than the walk and come back to old ones.
  it('bucket rows equal plain sums per number × carrier × bucket, calls in any order (buckets)', () => {
    const minute = 60_000;
    const arb = fc.record({
      ts: fc.integer({ min: 0, max: 40 * minute - 1 }).map((t) => T0 + t),
      caller: fc.constantFrom('+12025550101', '+12025550102'),
      outcome: fc.constantFrom(...OUTCOMES),
      talkSec: fc.integer({ min: 0, max: 300 }),
      attestation: fc.constantFrom('A', 'B', 'C', 'unknown') as fc.Arbitrary<CallRecord['attestation']>,
      source: fc.constant('test'),
      carrier: fc.constantFrom('att', 'verizon'),
    });
    fc.assert(
      fc.property(fc.array(arb, { minLength: 1, maxLength: 400, size: 'max' }), fc.boolean(), (calls: Call[], sorted) => {
        if (sorted) calls.sort((a, b) => a.ts - b.ts);
        const b = new Batch(minute);
        const model = new Map<string, Float64Array>();
        for (const c of calls) {
          b.addCall(c, c.carrier);
          const k = `${c.caller}|${c.carrier}|${Math.floor(c.ts / minute) * minute}`;
          const v = model.get(k) ?? emptyVector();
          addRecord(v, c);
          model.set(k, v);
        }
        const rows = [...b.buckets.values()];
        const got = new Map(rows.map((r) => [`${r.number}|${r.carrier}|${r.bucket}`, Array.from(r.v)]));
        expect(got.size).toBe(rows.length); // one row per number × carrier × bucket
        expect(got).toEqual(new Map([...model].map(([k, v]) => [k, Array.from(v)])));
        const cols = b.bucketColumns!;
        expect(cols.n).toBe(rows.length);
        for (let r = 0; r < cols.n; r++) {
          const p = cols.pairs[cols.pair[r]];
          expect([p.number, p.carrier, cols.bucket[r], Array.from(cols.v.subarray(r * FIELDS, (r + 1) * FIELDS))]).toEqual([rows[r].number, rows[r].carrier, rows[r].bucket, Array.from(rows[r].v)]);
        }
        // A commit's rows in the order their buckets were first met (the store's upserts and the windows' order).
        const firstMet = [...new Set(calls.map((c) => `${c.caller}|${c.carrier}|${Math.floor(c.ts / minute) * minute}`))];
        expect(rows.map((r) => `${r.number}|${r.carrier}|${r.bucket}`)).toEqual(firstMet);
      }),
      { numRuns: 300 },
    );
  });
});

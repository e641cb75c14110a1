import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Batch } from '../../src/ingest/batch.js';
import { OUTCOMES, type CallRecord } from '../../src/model/types.js';

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
});

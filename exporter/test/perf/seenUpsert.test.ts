import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Store, type BatchCommit } from '../../src/store/db.js';
import type { NumberSeen } from '../../src/store/db.js';

// A commit upserts its numbers' first/last seen 256 to a statement, the rest one by one: the table must hold the
// earliest first and the latest last of every number over all commits, whatever the batch sizes.

const batch = (seen: NumberSeen[]): BatchCommit => ({ buckets: [], seen, blocks: [], counters: [], quarantine: [], totals: [] });

describe('Store: numbers first and last seen', () => {
  it('equal the plain min/max over commits of 0 to 700 numbers (full statements of 256 and the rest)', () => {
    const sizes = fc.constantFrom(0, 1, 255, 256, 257, 511, 512, 700);
    fc.assert(
      fc.property(fc.array(fc.tuple(sizes, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 4 }), (commits) => {
        const store = new Store(':memory:', { bucketMs: 60_000 });
        const ref = new Map<string, NumberSeen>();
        try {
          for (const [size, offset, spread] of commits) {
            const seen: NumberSeen[] = Array.from({ length: size }, (_, i) => {
              const number = `+1202555${String((i * 7 + offset) % 900).padStart(4, '0')}`;
              const first = offset + ((i * 13) % 97);
              return { number, first, last: first + ((i * spread) % 50) };
            });
            // One row per number in a batch, as Batch.seen gives them.
            const unique = [...new Map(seen.map((s) => [s.number, s])).values()];
            store.commit(batch(unique));
            for (const s of unique) {
              const r = ref.get(s.number);
              ref.set(s.number, r ? { number: s.number, first: Math.min(r.first, s.first), last: Math.max(r.last, s.last) } : { ...s });
            }
          }
          const got = store.numbersSeen().map((s) => ({ ...s }));
          expect(new Map(got.map((s) => [s.number, s]))).toEqual(ref);
          expect(got.length).toBe(ref.size);
        } finally {
          store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

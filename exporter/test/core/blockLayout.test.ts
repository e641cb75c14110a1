// The stored layout of the call-key and dial blocks (schemas 5 and 6): 32-bit words, little-endian, in the order
// given. A database written by one build is read by the next, so the bytes are pinned here, not only a round trip.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dialBlock, keyBlock } from '../../src/store/db.js';

/** The reference layout: each word written with writeUInt32LE (what the blocks were first stored as). */
function wordsLE(words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
}

const word = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -0x80000000, max: -1 }));

describe('block layout', () => {
  it('keyBlock: (hash hi, hash lo, source, start second) quads as little-endian words, the seconds’ range beside them', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(word, word, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 0xffffffff })), { maxLength: 50 }), (quads) => {
        const flat = quads.flat();
        const b = keyBlock(flat);
        expect(b.blob.equals(wordsLE(flat))).toBe(true);
        expect(b.minTs).toBe(quads.length === 0 ? 0 : Math.min(...quads.map((q) => q[3])));
        expect(b.maxTs).toBe(quads.length === 0 ? 0 : Math.max(...quads.map((q) => q[3])));
      }),
      { numRuns: 300 },
    );
    // A trailing partial quad is not stored.
    expect(keyBlock([1, 2, 3, 4, 5, 6]).blob.equals(wordsLE([1, 2, 3, 4]))).toBe(true);
  });

  it('dialBlock: our numbers once, in first-seen order, and (number index, hash hi, hash lo, second) quads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('+12025550100', '+12025550101', '+13125550199'), word, word, fc.integer({ min: 1, max: 0xffffffff })), { maxLength: 50 }), (dials) => {
        const b = dialBlock(dials.map((d) => d[0]), dials.flatMap((d) => [d[1], d[2], d[3]]));
        const numbers = [...new Set(dials.map((d) => d[0]))];
        expect(JSON.parse(b.numbers)).toEqual(numbers);
        expect(b.blob.equals(wordsLE(dials.flatMap((d) => [numbers.indexOf(d[0]), d[1], d[2], d[3]])))).toBe(true);
        expect(b.minTs).toBe(dials.length === 0 ? 0 : Math.min(...dials.map((d) => d[3])));
      }),
      { numRuns: 300 },
    );
  });
});

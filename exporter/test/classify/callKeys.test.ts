import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CallKeySet, RowKeys, hashKeyFrom, keyFromRowId, keyHash, keyRowId, pushKeyBytes, sipHash, sipHash64, sipHashBytes } from '../../src/classify/callKeys.js';

// SipHash-2-4 reference vectors (key 00…0f, message 00…n-1), as printed by the reference implementation.
const VECTORS: Record<number, string> = {
  0: '726fdb47dd0e0e31', 1: '74f839c593dc67fd', 2: '0d6c8009d9a94f5a', 3: '85676696d7fb7e2d', 7: 'ab0200f58b01d137',
  8: '93f5f5799a932462', 9: '9e0082df0ba9e4b0', 15: 'a129ca6149be45e5', 16: '3f2acc7f57c29bdb', 39: '9abfd8766a33735c',
};

const hex = (o: Uint32Array) => o[0].toString(16).padStart(8, '0') + o[1].toString(16).padStart(8, '0');

describe('sipHash', () => {
  const key = hashKeyFrom(Uint8Array.from({ length: 16 }, (_, i) => i));
  for (const [n, want] of Object.entries(VECTORS)) {
    it(`matches the reference vector for ${n} bytes`, () => {
      const out = new Uint32Array(2);
      sipHash(key, String.fromCharCode(...Array.from({ length: Number(n) }, (_, i) => i)), out);
      expect(hex(out)).toBe(want);
    });
  }
  it('sipHash64 (the hot path, in WebAssembly) equals the reference on the 8-byte little-endian word', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (k, hi, lo) => {
        const key = hashKeyFrom(k);
        const bytes = new Uint8Array(8);
        for (let i = 0; i < 4; i++) {
          bytes[i] = (lo >>> (8 * i)) & 0xff;
          bytes[4 + i] = (hi >>> (8 * i)) & 0xff;
        }
        const a = new Uint32Array(2);
        const b = new Uint32Array(2);
        sipHash64(key, hi, lo, a);
        sipHashBytes(key, bytes, b);
        expect(hex(a)).toBe(hex(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('depends on the secret', () => {
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    sipHash(key, 'fp:+12025550101|+13105551001|1795097365', a);
    sipHash(hashKeyFrom(Uint8Array.from({ length: 16 }, (_, i) => i + 1)), 'fp:+12025550101|+13105551001|1795097365', b);
    expect(hex(a)).not.toBe(hex(b));
  });
});

describe('keyHash', () => {
  it('hashes parts as if joined by a separator: no two splits of one text collide, and it spreads', () => {
    const out = new Uint32Array(2);
    const seen = new Set<string>();
    for (const parts of [['ab', 'c'], ['a', 'bc'], ['abc'], ['abc', ''], ['', 'abc']] as [string, string?][]) {
      keyHash(out, parts[0], parts[1]);
      seen.add(hex(out));
    }
    expect(seen.size).toBe(5);
    const many = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      keyHash(out, '+12025550101', `+1312${2_000_000 + i}`, String(1_795_000_000 + (i % 7)));
      many.add(hex(out));
    }
    expect(many.size).toBe(200_000);
  });
});

describe('CallKeySet', () => {
  it('remembers keys with their source, grows, and forgets by start time', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 3000 }), fc.integer({ min: 0, max: 1000 }), (keys, edge) => {
        const set = new CallKeySet(4);
        const ref = new Map<string, { src: number; ts: number }>();
        for (const [hi, lo, src, ts] of keys) {
          set.add(hi, lo, src, ts);
          const k = `${hi}:${hi === 0 && lo === 0 ? 1 : lo}`;
          const cur = ref.get(k);
          if (!cur) ref.set(k, { src, ts });
          else cur.ts = Math.min(cur.ts, ts);
        }
        expect(set.size).toBe(ref.size);
        for (const [k, v] of ref) {
          const [hi, lo] = k.split(':').map(Number);
          expect(set.sourceOf(hi, lo)).toBe(v.src);
        }
        const forgotten = set.forgetBefore(edge);
        expect(forgotten).toBe([...ref.values()].filter((v) => v.ts < edge).length);
        for (const [k, v] of ref) {
          const [hi, lo] = k.split(':').map(Number);
          expect(set.sourceOf(hi, lo)).toBe(v.ts < edge ? -1 : v.src);
        }
      }),
      { numRuns: 60 },
    );
  });
  it('keys that share a high word (one bit of the bitmap that screens misses) are told apart, held or not', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(0, 7, 0x80000007, 0xffffffff), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }), (keys) => {
        const set = new CallKeySet(4);
        const held = new Set<string>();
        keys.forEach(([hi, lo], i) => {
          if (i % 3 === 2) return; // every third key is only looked up
          set.add(hi, lo, 1 + (i % 5), i);
          held.add(`${hi}:${hi === 0 && lo === 0 ? 1 : lo}`);
        });
        for (const [hi, lo] of keys) expect(set.sourceOf(hi, lo) >= 0).toBe(held.has(`${hi}:${hi === 0 && lo === 0 ? 1 : lo}`));
      }),
      { numRuns: 200 },
    );
  });
  it('round-trips a key through its SQLite rowid', () => {
    for (const [hi, lo] of [[0, 1], [0xffffffff, 0xffffffff], [0x80000000, 0], [0x7fffffff, 0x12345678]]) {
      expect(keyFromRowId(keyRowId(hi, lo))).toEqual({ hi, lo });
    }
  });
});

describe('RowKeys (a reader\'s keys of one row, from bytes)', () => {
  it('takes what pushKeyBytes would have pushed, at its exact length, row after row', () => {
    const keys = new RowKeys();
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.constantFrom('ast:l', 'ast:u', 'ast:c', 'fs'), fc.uint8Array({ minLength: 0, maxLength: 40 })), { maxLength: 11 }), { minLength: 1, maxLength: 4 }),
        (rows) => {
          for (const row of rows) {
            keys.clear();
            const want: number[] = [];
            for (const [kind, bytes] of row) {
              keys.addBytes(kind, bytes, 0, bytes.length);
              pushKeyBytes(want, kind, bytes, 0, bytes.length);
            }
            expect(keys.size).toBe(row.length);
            const got = keys.take();
            if (row.length === 0) expect(got).toBeUndefined();
            else {
              expect(got).toEqual(want);
              expect(got!.length).toBe(want.length);
              // A fresh array each time: the row keeps it while the reader goes on with the next.
              expect(keys.take()).not.toBe(got);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { indentedJsonChunks, writePiecesUtf8 } from '../../src/cli/jsonChunks.js';
import { runReport } from '../../src/cli/report.js';
import { generateReal } from '../../src/bench/genReal.js';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';

// `report --json` writes its JSON in pieces (cli/jsonChunks.ts); the pieces must join to JSON.stringify(x, null, 2).

const joined = (v: unknown) => [...indentedJsonChunks(v)].join('');

function utf8Of(pieces: string[], size: number): Buffer {
  const chunks: Buffer[] = [];
  writePiecesUtf8(pieces, (c) => chunks.push(Buffer.from(c)), size);
  return Buffer.concat(chunks);
}

describe('indentedJsonChunks', () => {
  const cases: [string, unknown][] = [
    ['an empty object', {}],
    ['scalars and nested objects', { a: 1, b: 'x', c: null, d: true, e: { f: [1, { g: [] }], h: {} } }],
    ['members JSON leaves out, first and later', { u: undefined, a: 1, f: () => 1, b: [], s: Symbol('x') }],
    ['only members JSON leaves out', { u: undefined, f: () => 1 }],
    ['arrays of objects, empty arrays and elements JSON turns into null', { numbers: [{ n: '+1', w: { '24h': { calls: 3 } } }, undefined, () => 1, [], [1, [2]]], pools: [], z: [null] }],
    ['non-Latin-1 text and keys needing escapes', { 'a"b\n': ['≥ 3× ✓', { 'é': '\u2028' }], __proto__x: 1 }],
    ['a Date (toJSON) as a member and as an element', { at: new Date(0), list: [new Date(1)] }],
    ['a top-level array', [{ a: 1 }, 2]],
    ['a top-level string', 'x'],
    ['a top-level Date', new Date(2)],
    ['a class instance', new (class { a = [1, { b: 2 }]; })()],
  ];
  for (const [what, v] of cases) it(`joins to JSON.stringify(…, null, 2): ${what}`, () => expect(joined(v)).toBe(JSON.stringify(v, null, 2)));

  it('joins to JSON.stringify(…, null, 2) on a real report, and no piece holds two numbers', async () => {
    const dir = tmp('json-chunks-');
    const file = join(dir, 'Master.csv');
    generateReal('asterisk', file, { rows: 3000, numbers: 40, endMs: Date.UTC(2026, 0, 10), spanMs: 2 * 86_400_000 });
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const { json } = await runReport([file], { format: 'asterisk', timezone: 'UTC' });
      expect(json.numbers.length).toBeGreaterThan(10);
      const pieces = [...indentedJsonChunks(json)];
      expect(pieces.join('')).toBe(JSON.stringify(json, null, 2));
      expect(pieces.length).toBeGreaterThan(json.numbers.length);
      expect(pieces.every((p) => (p.match(/"number": /g) ?? []).length <= 1)).toBe(true);
      expect(utf8Of(pieces, 4096).equals(Buffer.from(pieces.join('')))).toBe(true);
    } finally {
      process.stderr.write = write;
    }
  });
});

describe('writePiecesUtf8', () => {
  it('writes the UTF-8 of the pieces joined, in buffers no larger than asked unless one piece is', () => {
    const piece = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('≥ 3× ✓', '😀🎉', 'x'.repeat(200)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 8, max: 300 }), (pieces, size) => {
        const chunks: Buffer[] = [];
        writePiecesUtf8(pieces, (c) => chunks.push(Buffer.from(c)), size);
        expect(Buffer.concat(chunks).equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
        for (const c of chunks) expect(c.length <= size || pieces.some((p) => Buffer.byteLength(p) === c.length)).toBe(true);
        expect(chunks.every((c) => c.length > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

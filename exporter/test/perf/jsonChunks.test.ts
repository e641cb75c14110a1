import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { indentedJsonChunks, StreamedArray, writePiecesUtf8 } from '../../src/cli/jsonChunks.js';
import { reportExitCode, runReport, runReportStreamed } from '../../src/cli/report.js';
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

  // A StreamedArray member is written as the array of its elements would be; anywhere else JSON.stringify says that array.
  const streamed = <T>(xs: T[]) => new StreamedArray(() => xs.values());
  const asArrays = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof StreamedArray ? x.toJSON() : x)) ?? 'null');
  const streamedCases: [string, () => unknown, unknown][] = [
    ['first, with objects', () => ({ numbers: streamed([{ a: 1, b: [1, { c: 'x' }] }, { a: 2 }]), z: 1 }), { numbers: [{ a: 1, b: [1, { c: 'x' }] }, { a: 2 }], z: 1 }],
    ['empty, first and later', () => ({ a: streamed([]), b: 1, c: streamed([]) }), { a: [], b: 1, c: [] }],
    ['after members JSON leaves out', () => ({ u: undefined, n: streamed([1, 'é≥\n', null]) }), { u: undefined, n: [1, 'é≥\n', null] }],
    ['holding elements JSON turns into null, and nested deeper', () => ({ n: streamed([undefined, () => 1, { d: streamed([3]) }]) }), { n: [null, null, { d: [3] }] }],
    ['as the whole value', () => streamed([{ a: [] }]), [{ a: [] }]],
  ];
  for (const [what, make, plain] of streamedCases) {
    it(`writes a StreamedArray as the array it holds: ${what}`, () => {
      expect(joined(make())).toBe(JSON.stringify(plain, null, 2));
      expect(JSON.stringify(make(), null, 2)).toBe(JSON.stringify(plain, null, 2));
    });
  }

  it('makes a StreamedArray\'s elements only as it writes them, and keeps none', () => {
    const made: number[] = [];
    function* elements() {
      for (let i = 0; i < 3; i++) {
        made.push(i);
        yield { i };
      }
    }
    const pieces = indentedJsonChunks({ a: 1, n: new StreamedArray(elements) });
    const seen: number[][] = [];
    for (const _ of pieces) seen.push([...made]);
    expect(seen[0]).toEqual([]); // `{ "a": 1` before any element
    expect(seen.at(-1)).toEqual([0, 1, 2]);
    expect(seen.filter((m) => m.length === 1).length).toBeGreaterThan(0); // one element made, the next not yet
    expect(asArrays({ n: new StreamedArray(elements) })).toEqual({ n: [{ i: 0 }, { i: 1 }, { i: 2 }] });
  });

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
      // report --json's run: the same text with the numbers made as they are written, and the same exit code.
      const streamedRun = await runReportStreamed([file], { format: 'asterisk', timezone: 'UTC' });
      expect([...indentedJsonChunks(streamedRun.json)].join('')).toBe(pieces.join(''));
      expect(streamedRun.noCallIn7d).toBe(false);
      expect(reportExitCode(streamedRun, { allowRejects: false })).toBe(0);
      // Evaluated a month later, no number called in the 7 d window: exit code 1, said by both runs alike.
      const later = { format: 'asterisk', timezone: 'UTC', at: '2026-02-10T00:00:00Z' };
      const [quietEager, quietStreamed] = [await runReport([file], later), await runReportStreamed([file], later)];
      expect(quietEager.json.numbers.every((n) => (n.windows['7d']?.calls ?? 0) === 0)).toBe(true);
      expect([quietEager.noCallIn7d, quietStreamed.noCallIn7d]).toEqual([true, true]);
      expect(reportExitCode(quietStreamed, { allowRejects: true })).toBe(1);
      expect([...indentedJsonChunks(quietStreamed.json)].join('')).toBe(JSON.stringify(quietEager.json, null, 2));
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

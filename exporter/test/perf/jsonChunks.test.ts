import { describe, expect, it } from 'vitest';
import { batchedChunks, indentedJsonChunks } from '../../src/cli/jsonChunks.js';
import { runReport } from '../../src/cli/report.js';
import { generateReal } from '../../src/bench/genReal.js';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';

// `report --json` writes its JSON in pieces (cli/jsonChunks.ts); the pieces must join to JSON.stringify(x, null, 2).

const joined = (v: unknown) => [...indentedJsonChunks(v)].join('');

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
      expect([...batchedChunks(pieces, 4096)].join('')).toBe(pieces.join(''));
    } finally {
      process.stderr.write = write;
    }
  });
});

describe('batchedChunks', () => {
  it('joins pieces into strings of at least the size asked but the last, in order', () => {
    const pieces = Array.from({ length: 100 }, (_, i) => `${i},`.repeat(i % 7));
    const batches = [...batchedChunks(pieces, 50)];
    expect(batches.join('')).toBe(pieces.join(''));
    expect(batches.slice(0, -1).every((b) => b.length >= 50)).toBe(true);
    expect([...batchedChunks([], 50)]).toEqual([]);
  });
});

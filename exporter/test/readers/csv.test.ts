import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CSV_UNTERMINATED_QUOTE, cleanLine, quoteCsvField, splitCsv, splitCsvLine } from '../../src/ingest/csv.js';

describe('splitCsvLine', () => {
  const cases: Array<[string, string[]]> = [
    ['a,b,c', ['a', 'b', 'c']],
    ['', ['']],
    [',', ['', '']],
    ['a,,c', ['a', '', 'c']],
    ['a,b,', ['a', 'b', '']],
    ['"a","b"', ['a', 'b']],
    ['"",""', ['', '']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['"""8001"" <8001>",SIP/3035-0000063a', ['"8001" <8001>', 'SIP/3035-0000063a']],
    ['"2026-11-20 09:15:02",,"2026-11-20 09:16:31",89,82', ['2026-11-20 09:15:02', '', '2026-11-20 09:16:31', '89', '82']],
    ['ab"c,d', ['ab"c', 'd']], // a quote inside an unquoted field is data
    ['"ab"c,d', ['abc', 'd']], // junk after a closing quote is kept
    ['""""', ['"']],
    ['"a""",b', ['a"', 'b']],
    ['x,"y"', ['x', 'y']],
    ['x,""', ['x', '']],
  ];
  for (const [line, want] of cases) {
    it(JSON.stringify(line), () => {
      const out: string[] = [];
      expect(splitCsvLine(line, out)).toBe(want.length);
      expect(out).toEqual(want);
    });
  }

  it('reports an unterminated quote', () => {
    const out: string[] = [];
    expect(splitCsvLine('a,"b,c', out)).toBe(CSV_UNTERMINATED_QUOTE);
    expect(out).toEqual(['a']);
    expect(splitCsvLine('"abc""', out)).toBe(CSV_UNTERMINATED_QUOTE);
    expect(() => splitCsv('"x')).toThrow(/unterminated/);
  });

  it('reuses the output array', () => {
    const out: string[] = [];
    splitCsvLine('a,b,c,d', out);
    splitCsvLine('x', out);
    expect(out).toEqual(['x']);
  });

  it('supports another delimiter', () => {
    expect(splitCsv('"a;b";c', ';')).toEqual(['a;b', 'c']);
    expect(splitCsv('a\tb', '\t')).toEqual(['a', 'b']);
  });

  it('round-trips arbitrary fields (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', ';', 'é', '\t', '<', '>') , maxLength: 12 });
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 25 }), fc.boolean(), (fields, always) => {
        const line = fields.map((f) => quoteCsvField(f, always)).join(',');
        const out: string[] = [];
        expect(splitCsvLine(line, out)).toBe(fields.length);
        expect(out).toEqual(fields);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any unicode text (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => !/[\r\n]/.test(s)), { minLength: 1, maxLength: 10 }), (fields) => {
        const out: string[] = [];
        splitCsvLine(fields.map((f) => quoteCsvField(f)).join(','), out);
        expect(out).toEqual(fields);
      }),
      { numRuns: 500 },
    );
  });
});

describe('cleanLine', () => {
  it('strips a trailing CR and a leading BOM', () => {
    expect(cleanLine('a,b\r')).toBe('a,b');
    expect(cleanLine('\ufeffa,b\r')).toBe('a,b');
    expect(cleanLine('a\rb')).toBe('a\rb');
    expect(cleanLine('')).toBe('');
  });
});

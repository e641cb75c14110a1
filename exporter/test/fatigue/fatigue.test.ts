import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DialLog, fatigueAt, fatigueAtSliced, pairHash, sortRecordsByKey, type FatigueFigures, type FatigueScope } from '../../src/stats/fatigue.js';

// Recipient fatigue (stats/fatigue.ts) against a plain loop: for every scope (a number, a pool) and consumer, the
// calls in time order; a call is over the cap when `cap` earlier calls to that consumer from that scope started less
// than 24 h before it.

const DAY = 86_400;
const AT = Date.parse('2026-11-20T18:00:00Z');
const AT_SEC = AT / 1000;

interface Dial {
  number: string;
  consumer: number;
  ts: number;
}

const POOL_OF: Record<string, string> = { '+12025550101': 'collections', '+12025550102': 'collections', '+12025550103': 'sales' };
const CAPS: Record<string, number> = { collections: 3, sales: 2, default: 3 };
const poolOf = (n: string) => POOL_OF[n] ?? 'default';
const capOf = (p: string) => CAPS[p];

function reference(dials: Dial[], scopeOf: (d: Dial) => string, capOfScope: (s: string) => number): Map<string, FatigueScope> {
  const out = new Map<string, FatigueScope>();
  const inLook = dials.filter((d) => d.ts > AT_SEC - 8 * DAY && d.ts <= AT_SEC);
  const by = new Map<string, Dial[]>();
  for (const d of inLook) {
    const k = `${scopeOf(d)}|${d.consumer}`;
    by.set(k, [...(by.get(k) ?? []), d]);
  }
  const zero = (): FatigueFigures => ({ calls: 0, consumers: 0, repeat_dial_ratio: null, consumers_over_cap: 0, attempts_over_cap: 0 });
  for (const [k, list] of by) {
    const scope = k.split('|')[0];
    const cap = capOfScope(scope);
    const f = out.get(scope) ?? { cap, '24h': zero(), '7d': zero() };
    out.set(scope, f);
    const sorted = [...list].sort((a, b) => a.ts - b.ts);
    for (const [w, width] of [['24h', DAY], ['7d', 7 * DAY]] as const) {
      let any = false;
      let anyOver = false;
      sorted.forEach((d, i) => {
        if (d.ts <= AT_SEC - width) return;
        any = true;
        f[w].calls++;
        const before = sorted.slice(0, i).filter((e) => d.ts - e.ts < DAY).length;
        if (before >= cap) {
          f[w].attempts_over_cap++;
          anyOver = true;
        }
      });
      if (any) f[w].consumers++;
      if (anyOver) f[w].consumers_over_cap++;
    }
  }
  for (const f of out.values()) for (const w of ['24h', '7d'] as const) f[w].repeat_dial_ratio = f[w].calls > 0 ? (f[w].calls - f[w].consumers) / f[w].calls : null;
  return out;
}

function logOf(dials: Dial[]): DialLog {
  const log = new DialLog();
  // The consumer's hash: any two words that tell consumers apart.
  for (const d of dials) log.add(d.number, (d.consumer * 2654435761) >>> 0, d.consumer ^ 0x5bd1e995, d.ts);
  return log;
}

const dialArb = fc.record({
  number: fc.constantFrom('+12025550101', '+12025550102', '+12025550103', '+12025550104'),
  consumer: fc.integer({ min: 1, max: 12 }),
  // Mostly the last two days, some of the week, some too old or after `at`.
  ts: fc.oneof(
    fc.integer({ min: AT_SEC - 2 * DAY, max: AT_SEC }),
    fc.integer({ min: AT_SEC - 9 * DAY, max: AT_SEC + 3600 }),
  ),
});

describe('recipient fatigue', () => {
  it('equals the plain loop per number and per pool, in any reading order', () => {
    fc.assert(
      fc.property(fc.array(dialArb, { minLength: 0, maxLength: 150 }), (dials) => {
        const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
        const numbers = reference(dials, (d) => d.number, (n) => capOf(poolOf(n)));
        const pools = reference(dials, (d) => poolOf(d.number), capOf);
        expect(Object.fromEntries(snap.numbers)).toEqual(Object.fromEntries(numbers));
        expect(Object.fromEntries(snap.pools)).toEqual(Object.fromEntries(pools));
      }),
      { numRuns: 300 },
    );
  });

  it('equals the plain loop with dials on the edges of the lookback, windows and cap, many in one second', () => {
    // The lookback (8 days before `at`, exclusive) is sorted by start second: each edge, a second either side.
    const edges = [8 * DAY, 7 * DAY, DAY, 0].flatMap((back) => [AT_SEC - back - 1, AT_SEC - back, AT_SEC - back + 1]);
    const edgeDial = fc.record({
      number: fc.constantFrom('+12025550101', '+12025550102', '+12025550103'),
      consumer: fc.integer({ min: 1, max: 4 }),
      ts: fc.oneof(fc.constantFrom(...edges), fc.integer({ min: AT_SEC - 8 * DAY - 2, max: AT_SEC + 2 })),
    });
    fc.assert(
      fc.property(fc.array(edgeDial, { maxLength: 200 }), (dials) => {
        const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
        expect(Object.fromEntries(snap.numbers)).toEqual(Object.fromEntries(reference(dials, (d) => d.number, (n) => capOf(poolOf(n)))));
        expect(Object.fromEntries(snap.pools)).toEqual(Object.fromEntries(reference(dials, (d) => poolOf(d.number), capOf)));
      }),
      { numRuns: 300 },
    );
  });

  it('equals the plain loop when most consumers are dialled once (pairs of one dial), some again', () => {
    const sparseDial = fc.record({
      number: fc.constantFrom('+12025550101', '+12025550102', '+12025550103', '+12025550104'),
      consumer: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 3 })),
      ts: fc.integer({ min: AT_SEC - 9 * DAY, max: AT_SEC + 60 }),
    });
    fc.assert(
      fc.property(fc.array(sparseDial, { maxLength: 200 }), (dials) => {
        const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
        expect(Object.fromEntries(snap.numbers)).toEqual(Object.fromEntries(reference(dials, (d) => d.number, (n) => capOf(poolOf(n)))));
        expect(Object.fromEntries(snap.pools)).toEqual(Object.fromEntries(reference(dials, (d) => poolOf(d.number), capOf)));
      }),
      { numRuns: 300 },
    );
  });

  it('a campaign that re-dials the same consumers 5 times a day is over the cap; one call a day each is not', () => {
    const dials: Dial[] = [];
    // +…101 calls consumers 1–4 five times each today (hourly); +…102 calls consumers 10–19 once a day all week.
    for (let c = 1; c <= 4; c++) for (let k = 0; k < 5; k++) dials.push({ number: '+12025550101', consumer: c, ts: AT_SEC - 10 * 3600 + k * 3600 + c });
    for (let c = 10; c < 20; c++) for (let day = 0; day < 7; day++) dials.push({ number: '+12025550102', consumer: c, ts: AT_SEC - day * DAY - 60 });
    const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
    const redial = snap.numbers.get('+12025550101')!;
    expect(redial.cap).toBe(3);
    expect(redial['24h']).toEqual({ calls: 20, consumers: 4, repeat_dial_ratio: 0.8, consumers_over_cap: 4, attempts_over_cap: 8 });
    const daily = snap.numbers.get('+12025550102')!;
    expect(daily['24h']).toMatchObject({ calls: 10, consumers: 10, consumers_over_cap: 0, attempts_over_cap: 0 });
    expect(daily['7d']).toMatchObject({ calls: 70, consumers: 10, consumers_over_cap: 0 });
    expect(daily['7d'].repeat_dial_ratio).toBeCloseTo(60 / 70);
    expect(snap.pools.get('collections')!['24h']).toMatchObject({ consumers: 14, consumers_over_cap: 4, attempts_over_cap: 8 });
  });

  it('the pool counts its numbers together: rotating caller IDs does not reset a consumer', () => {
    // Three numbers of one pool each call consumer 7 twice today: no number is over 3, the pool (6 calls) is.
    const dials: Dial[] = [];
    ['+12025550101', '+12025550102'].forEach((n, i) => {
      for (let k = 0; k < 2; k++) dials.push({ number: n, consumer: 7, ts: AT_SEC - 5000 + i * 100 + k * 1000 });
    });
    const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
    for (const n of ['+12025550101', '+12025550102']) expect(snap.numbers.get(n)!['24h'].consumers_over_cap).toBe(0);
    expect(snap.pools.get('collections')!['24h']).toMatchObject({ calls: 4, consumers: 1, consumers_over_cap: 1, attempts_over_cap: 1 });
  });

  it('a pool judged by its own cap', () => {
    // sales has cap 2: the third call of the day is over it.
    const dials: Dial[] = [0, 1, 2].map((k) => ({ number: '+12025550103', consumer: 3, ts: AT_SEC - 3000 + k * 600 }));
    const snap = fatigueAt(logOf(dials), AT, { poolOf, capOf });
    expect(snap.numbers.get('+12025550103')).toMatchObject({ cap: 2, '24h': { attempts_over_cap: 1, consumers_over_cap: 1 } });
  });
});

describe('recipient fatigue: pairs whose grouping hashes collide', () => {
  // fatigue groups a scope's dials by pairHash; consumers whose hashes collide must still be counted apart. For one
  // number (scope 0 in the per-number pass) the consumers (x, lo ^ x·0x9e3779b1) all hash alike for any x.
  const lo0 = 0x1234567;
  const consumerHalves = (c: number): [number, number] => [c, (lo0 ^ Math.imul(c, 0x9e3779b1)) >>> 0];

  it('the constructed consumers do collide', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((c) => pairHash(0, ...consumerHalves(c))));
    expect(hashes.size).toBe(1);
  });

  it('equals the plain loop when every consumer of a number collides with the others', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ consumer: fc.integer({ min: 1, max: 5 }), ts: fc.integer({ min: AT_SEC - 3 * DAY, max: AT_SEC }) }), { minLength: 1, maxLength: 80 }), (raw) => {
        const dials: Dial[] = raw.map((d) => ({ number: '+12025550104', ...d }));
        const log = new DialLog();
        for (const d of dials) log.add(d.number, ...consumerHalves(d.consumer), d.ts);
        const snap = fatigueAt(log, AT, { poolOf, capOf });
        expect(Object.fromEntries(snap.numbers)).toEqual(Object.fromEntries(reference(dials, (d) => d.number, (n) => capOf(poolOf(n)))));
      }),
      { numRuns: 200 },
    );
  });
});

describe('sortRecordsByKey', () => {
  it('orders records by their first word, equal keys in their order, like a stable comparator sort', () => {
    const key = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x800, 0x7ff, 0x400000, 0x3fffff, 0xffffffff));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), (keys) => {
        // Records of 3 words: the key, its position, a check word.
        const records = Uint32Array.from(keys.flatMap((k, j) => [k, j, j ^ 0xabcdef]));
        const expected = keys.map((_, j) => j).sort((a, b) => keys[a] - keys[b] || a - b).flatMap((j) => [keys[j], j, j ^ 0xabcdef]);
        expect(Array.from(sortRecordsByKey(records, 3))).toEqual(expected);
        expect(Array.from(records)).toEqual(keys.flatMap((k, j) => [k, j, j ^ 0xabcdef]));
      }),
      { numRuns: 300 },
    );
  });

  it('moves every word of 5-word records (the passes\' own width, copied without a loop)', () => {
    const key = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x800, 0x7ff, 0x400000, 0x3fffff, 0xffffffff));
    const words = (k: number, j: number) => [k, j, (j ^ 0xabcdef) >>> 0, (~j) >>> 0, Math.imul(j, 0x9e3779b1) >>> 0];
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), (keys) => {
        const records = Uint32Array.from(keys.flatMap((k, j) => words(k, j)));
        const expected = keys.map((_, j) => j).sort((a, b) => keys[a] - keys[b] || a - b).flatMap((j) => words(keys[j], j));
        expect(Array.from(sortRecordsByKey(records, 5))).toEqual(expected);
        // Sorting the records where they are: the same order.
        expect(Array.from(sortRecordsByKey(records.slice(), 5, true))).toEqual(expected);
        // A trailing partial record is left out, as with any width.
        expect(Array.from(sortRecordsByKey(Uint32Array.from([...records, 1, 2]), 5))).toEqual(expected);
        expect(Array.from(sortRecordsByKey(Uint32Array.from([...records, 1, 2]), 5, true))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the dial log: bounded, forgets with the windows', () => {
  it('forgetBefore drops old dials; beyond max_dials the earliest read go first and are counted', () => {
    const log = new DialLog(16);
    for (let i = 0; i < 16; i++) log.add('+12025550101', i, i, 1000 + i);
    expect(log.n).toBe(16);
    log.add('+12025550101', 99, 99, 2000);
    // An eighth of the cap (2) forgotten to make room.
    expect(log.n).toBe(15);
    expect(log.dropped).toBe(2);
    expect(log.ts[0]).toBe(1002);
    expect(log.forgetBefore(1010)).toBe(8);
    expect(Array.from(log.ts.subarray(0, log.n))).toEqual([1010, 1011, 1012, 1013, 1014, 1015, 2000]);
    for (let i = 0; i < 1000; i++) log.add('+12025550102', i, i, 3000 + i);
    expect(log.n).toBeLessThanOrEqual(16);
  });
});

describe('fatigue in slices (serve)', () => {
  it('gives the event loop turns and the same figures, whatever is committed or pruned between slices', async () => {
    const log = new DialLog();
    for (let i = 0; i < 300_000; i++) log.add(`+1202555${String(i % 50).padStart(4, '0')}`, (i * 2654435761) >>> 0, i % 7919, AT_SEC - 2 * DAY + Math.floor(i / 3));
    const o = { poolOf, capOf };
    const want = fatigueAt(log, AT, o);
    let turns = 0;
    const got = await fatigueAtSliced(log, AT, o, async () => {
      turns++;
      // A commit and a prune between slices: the pass works on the dials as they were when it began.
      log.add('+12025550199', 1, 2, AT_SEC - 10);
      log.forgetBefore(AT_SEC - DAY);
    });
    expect(turns).toBeGreaterThanOrEqual(6);
    expect(Object.fromEntries(got.numbers)).toEqual(Object.fromEntries(want.numbers));
    expect(Object.fromEntries(got.pools)).toEqual(Object.fromEntries(want.pools));
  });
});

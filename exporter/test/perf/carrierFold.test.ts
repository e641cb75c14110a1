import { describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { OTHER_CARRIER, takeSnapshot, type Snapshot } from '../../src/stats/snapshot.js';
import { F_CALLS } from '../../src/stats/vector.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { numberJson } from '../../src/http/json.js';
import { assessSnapshot, assessView, enrichByAssessing, verdictOf } from '../../src/reputation/evaluate.js';
import { carrierBaselines, flagCarriers } from '../../src/reputation/carrierFlag.js';
import { DEFAULT_REPUTATION_CONFIG as D } from '../../src/reputation/config.js';
import { WINDOWS, type Outcome, type WindowName } from '../../src/model/types.js';
import { kpis, plus, type Traffic } from '../reputation/helpers.js';
import { TestReader, line, tmp } from '../core/helpers.js';

const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

// A number's carriers beyond max_carriers_per_number are summed into one carrier "other" in the snapshot,
// before anything per carrier runs (flags, /metrics pairs, JSON): the worst are kept by name.

const NOW = Date.UTC(2026, 10, 20, 18, 0);
const A = '+12025550101';
const B = '+12025550102';
const CAP = 4;

function runtime(file: string, now: () => number, max = CAP): Runtime {
  return new Runtime({
    db: join(tmp('numrep-fold-'), 'numrep.db'),
    bucketMs: 60_000,
    globs: [file],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: 65_536,
    now,
    readers: { createReader: () => new TestReader(), detectFormat: () => 'test' },
    maxCarriersPerNumber: max,
  });
}

/** [number, carrier, outcome, count] */
type Calls = [string, string, Outcome, number][];
const CALLS: Calls = [
  [A, 'blk', 'blocked', 3], // most blocks: kept first
  [A, 'blk1', 'blocked', 1],
  [A, 'blk1', 'answered', 5],
  [A, 'canc', 'cancelled', 6], // most unanswered among the rest
  [A, 'mid', 'no_answer', 3],
  [A, 'big', 'answered', 50], // more calls than any kept carrier, but fewer unanswered (2 < 3): folded
  [A, 'big', 'no_answer', 2],
  [A, 'other', 'cancelled', 10], // a real carrier named "other": always folded, the name stays unambiguous
  ...Array.from({ length: 10 }, (_, i): [string, string, Outcome, number] => [A, `z${i}`, 'answered', 1]),
  [B, 'att', 'answered', 5],
  [B, 'big', 'cancelled', 2],
  [B, 'tmobile', 'answered', 1],
];

function text(calls: Calls, startSec: number): string {
  let s = '';
  let k = 0;
  for (const [number, carrier, outcome, n] of calls) for (let i = 0; i < n; i++) s += line(startSec - k++ * 7, number, carrier, outcome, outcome === 'answered' ? 40 : 0);
  return s;
}

/** Everything a snapshot says, in its Map orders (as the incremental-snapshot test compares them). */
function flat(s: Snapshot) {
  // By name: a snapshot's per-number sums are read through getters (stats/snapshot.ts SlabWindows), not own keys.
  const vec = (r: Partial<Record<WindowName, Float64Array>>) => WINDOW_NAMES.filter((w) => r[w]).map((w) => [w, [...r[w]!]]);
  return {
    numbers: [...s.numbers].map(([k, v]) => [k, v.pool, v.firstSeen, v.lastSeen, v.foldedCarriers, vec(v.windows), [...v.carriers].map(([c, w]) => [c, vec(w)])]),
    carriers: [...s.carriers].map(([c, w]) => [c, vec(w)]),
  };
}

const calls7d = (w: Record<string, Float64Array>) => w['7d'][F_CALLS];

describe('carriers per number are capped (max_carriers_per_number)', () => {
  it('keeps the worst carriers by name, sums the rest into "other", and leaves the number and pool totals alone', async () => {
    const dir = tmp('numrep-fold-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, text(CALLS, Math.floor(NOW / 1000) - 600));
    const rt = runtime(file, () => NOW);
    await rt.poll();
    const snap = rt.snapshotNow();
    const a = snap.numbers.get(A)!;
    expect([...a.carriers.keys()].sort()).toEqual(['blk', 'blk1', 'canc', 'mid', OTHER_CARRIER]);
    expect(a.foldedCarriers).toBe(12); // big, the real "other", z0 … z9
    expect(calls7d(a.carriers.get(OTHER_CARRIER)!)).toBe(52 + 10 + 10);
    // The number's own windows count every call; its carriers still add up to them.
    let sum = 0;
    for (const w of a.carriers.values()) sum += calls7d(w);
    expect(calls7d(a.windows)).toBe(3 + 6 + 6 + 3 + 52 + 10 + 10);
    expect(sum).toBe(calls7d(a.windows));
    // Pool-wide sums are per real carrier; a number under the cap is untouched.
    expect(snap.carriers.has('z9')).toBe(true);
    expect(calls7d(snap.carriers.get('big')!)).toBe(54);
    const b = snap.numbers.get(B)!;
    expect([...b.carriers.keys()].sort()).toEqual(['att', 'big', 'tmobile']);
    expect(b.foldedCarriers).toBeUndefined();

    // The JSON says how many carriers "other" sums; the engine flags the kept ones as before.
    const json = numberJson(a, enrichByAssessing(snap));
    expect(Object.keys(json.carriers).sort()).toEqual(['blk', 'blk1', 'canc', 'mid', OTHER_CARRIER]);
    expect(json.carriers[OTHER_CARRIER]).toMatchObject({ folded_carriers: 12 });
    expect(json.carriers.blk.flag).toBe('flagged');
    expect(numberJson(b).carriers[OTHER_CARRIER]).toBeUndefined();

    // /metrics: at most cap + 1 pairs for the number, and the folded count.
    const m = new MetricsExporter(rt, { version: 'test', seriesBudget: 0, verdicts: (s) => new Map([...assessSnapshot(s)].map(([n, x]) => [n, verdictOf(x)])) });
    const body = await m.render();
    const pairs = new Set([...body.matchAll(/^numrep_number_carrier_calls\{number="\+12025550101",pool="default",carrier="([^"]+)"/gm)].map((x) => x[1]));
    expect([...pairs].sort()).toEqual(['blk', 'blk1', 'canc', 'mid', OTHER_CARRIER]);
    expect(body).toMatch(/^numrep_carriers_folded 12$/m);
    await rt.close();
  });

  it('an incremental snapshot folds as a whole one does', async () => {
    const dir = tmp('numrep-fold-');
    const file = join(dir, 'calls.test');
    const start = Math.floor(NOW / 1000) - 600;
    writeFileSync(file, text(CALLS, start));
    let now = NOW;
    const rt = runtime(file, () => now);
    await rt.poll();
    rt.snapshotNow();
    // A folded carrier overtakes a kept one (z3: 4 blocks), B goes over the cap, the windows slide.
    const more: Calls[] = [
      [[A, 'z3', 'blocked', 4]],
      [[B, 'c1', 'cancelled', 1], [B, 'c2', 'cancelled', 1], [B, 'c3', 'answered', 1]],
      [[A, 'new', 'answered', 1]],
    ];
    for (const add of more) {
      now += 60_000;
      appendFileSync(file, text(add, Math.floor(now / 1000) - 30));
      await rt.poll();
      const snap = rt.snapshotNow();
      expect(flat(snap)).toEqual(flat(takeSnapshot(rt.windows, rt.seen, rt.poolOf, [], { maxCarriersPerNumber: CAP })));
    }
    const a = rt.snapshotNow().numbers.get(A)!;
    expect(a.carriers.has('z3')).toBe(true);
    expect(a.carriers.has('mid')).toBe(false);
    expect(rt.snapshotNow().numbers.get(B)!.foldedCarriers).toBe(2); // 6 carriers, 4 kept
    await rt.close();
  });

  it('"other" mixes carriers: its evidence is the number\'s own, with no pool to move with', () => {
    // The number: 30 answered calls on att (named), 40 calls folded from carriers x and y (half cancelled).
    const ownX: Traffic = { cancelled: 10, answered: 10 };
    const ownY: Traffic = { cancelled: 10, answered: 10 };
    const restXY: Traffic = { answered: 200, cancelled: 15, no_answer: 85 }; // per carrier, without the number
    const att: Traffic = { answered: 30 };
    const day = (t: Traffic) => ({ '24h': kpis(t), '7d': kpis(t) });
    const own = { att: day(att), [OTHER_CARRIER]: day(plus(ownX, ownY)) };
    const baselines = carrierBaselines({
      att: day(plus(att, { answered: 470, cancelled: 0, no_answer: 500 })),
      x: day(plus(ownX, restXY)),
      y: day(plus(ownY, restXY)),
    });
    const folded = flagCarriers(own, baselines, {}, D, { folded: OTHER_CARRIER });
    expect(folded[OTHER_CARRIER]!.evidence).toMatchObject({ poolMoved: false, calls: 40 });
    expect(folded[OTHER_CARRIER]!.flag).toBe('clean');
  });

  it('assessing one number of a snapshot equals assessing the whole snapshot', async () => {
    const dir = tmp('numrep-fold-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, text(CALLS, Math.floor(NOW / 1000) - 600));
    const rt = runtime(file, () => NOW);
    await rt.poll();
    const snap = rt.snapshotNow();
    const all = assessSnapshot(snap);
    for (const v of snap.numbers.values()) expect(assessView(v, snap)).toEqual(all.get(v.number));
    await rt.close();
  });
});

// The own-history refusal test (docs/scoring.md §6.2) and the status rules measured with it
// (velocity as a signal, a moderate answer drop needing corroboration, docs/scoring.md §7).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig, ReputationConfigError } from '../../src/reputation/config.js';
import { countsOf, newcombeLower, type Counts } from '../../src/reputation/math.js';
import { carrierBaselines, flagCarriers, flagCarrierWindow, ownRefusalRise, type CarrierWindowInput } from '../../src/reputation/carrierFlag.js';
import { decideStatus, numberSignals, windowFlagged, type Signal } from '../../src/reputation/status.js';
import { velocity } from '../../src/reputation/recommendation.js';
import { kpis, type Traffic } from './helpers.js';

const C = (t: Traffic): Counts => countsOf(kpis(t));
/** The rest of the pool on the carrier: 5000 calls, 8 % cancels, 4 % rejections, 40 % answered. */
const POOL_REST = C({ answered: 2000, cancelled: 400, rejected: 100, busy: 100, no_answer: 2400 });

const win = (own: Traffic, prior: Traffic | null, over: Partial<CarrierWindowInput> = {}): CarrierWindowInput => ({
  carrier: 'tmobile',
  window: '24h',
  own: C(own),
  rest: POOL_REST,
  prior: prior ? C(prior) : null,
  ...over,
});

/** n calls with `refusals` of them 487s / rejections / busies (2 : 1 : 0 split), half the rest answered. */
function traffic(n: number, refusals: number): Traffic {
  const cancelled = Math.round((refusals * 2) / 3);
  const rejected = refusals - cancelled;
  const answered = Math.floor((n - refusals) / 2);
  return { cancelled, rejected, answered, no_answer: n - refusals - answered };
}

/** Deterministic binomial draw from a seed (mulberry32), for the noise property. */
function binomial(n: number, p: number, seed: number): number {
  let a = seed >>> 0;
  let x = 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    if (((t ^ (t >>> 14)) >>> 0) / 4294967296 < p) x++;
  }
  return x;
}

describe('own-history refusal test (24h vs the same number × carrier over its prior 6 days)', () => {
  it('fires on a real rise against its own history, naming the figures', () => {
    // 17 of 50 refused in 24h (34 %) against 28 of 250 (11 %) before: not enough to beat the pool by 10 points,
    // a clear rise against itself.
    const r = flagCarrierWindow(win({ cancelled: 12, rejected: 5, answered: 20, no_answer: 13 }, { cancelled: 20, rejected: 8, answered: 120, no_answer: 102 }), D);
    expect(r.flag).toBe('warning');
    expect(r.kinds).toEqual(['own_refusal']);
    expect(r.reason).toBe(
      '487+rejections 34 % on tmobile in 24h vs 11 % over its prior 6 days (50 calls vs 250 before; lower bound of the rise 10 points)',
    );
    // The bound is Newcombe's hybrid score interval at carrier.ownHistory.z.
    const rise = ownRefusalRise(C({ cancelled: 12, rejected: 5, answered: 20, no_answer: 13 }), C({ cancelled: 20, rejected: 8, answered: 120, no_answer: 102 }), D)!;
    expect(rise.lower).toBeCloseTo(newcombeLower(17, 50, 28, 250, 1.96)!, 12);
    expect(rise).toMatchObject({ calls: 50, priorCalls: 250, warn: true });
  });

  it('busy counts as a refusal (rejection_ratio numerator), blocks do not (they flag the carrier instead)', () => {
    const busy = ownRefusalRise(C({ busy: 17, answered: 20, no_answer: 13 }), C(traffic(250, 28)), D)!;
    expect(busy.now).toBeCloseTo(0.34, 10);
    const blocked = ownRefusalRise(C({ blocked: 17, answered: 20, no_answer: 13 }), C(traffic(250, 28)), D)!;
    expect(blocked.now).toBe(0);
  });

  it('never fires on 3 calls — nor on anything under 20 calls in 24h, whatever the history', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 0, max: 19 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 2000 }),
        (n, r, m, y) => {
          const refusals = Math.min(n, r);
          const prior = C(traffic(m, Math.min(m, y)));
          return ownRefusalRise(C(traffic(n, refusals)), prior, D) === null && !flagCarrierWindow(win(traffic(n, refusals), traffic(m, Math.min(m, y))), D).kinds.includes('own_refusal');
        },
      ),
    );
    // All 3 of 3 refused after a spotless week: still nothing.
    expect(flagCarrierWindow(win({ cancelled: 3 }, { answered: 300 }), D).flag).toBe('clean');
    // 20 of 20 does: the floor is the only thing that held it back.
    expect(flagCarrierWindow(win({ cancelled: 20 }, { answered: 150, no_answer: 150 }), D).kinds).toContain('own_refusal');
  });

  it('needs its own baseline: fewer than 40 calls in the prior 6 days never fire', () => {
    expect(ownRefusalRise(C(traffic(60, 30)), C(traffic(39, 0)), D)).toBeNull();
    expect(ownRefusalRise(C(traffic(60, 30)), C(traffic(40, 0)), D)?.warn).toBe(true);
    expect(ownRefusalRise(C(traffic(60, 30)), null, D)).toBeNull();
  });

  it('never fires when the rise is at most the margin (a property: the bound is below the observed rise)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 400 }),
        fc.integer({ min: 40, max: 3000 }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.double({ min: -0.5, max: 0.03, noNaN: true }),
        (n, m, before, delta) => {
          const y = Math.round(before * m);
          const x = Math.max(0, Math.min(n, Math.floor((y / m + delta) * n)));
          if (x / n - y / m > D.carrier.ownHistory.margin) return true;
          return ownRefusalRise(C(traffic(n, x)), C(traffic(m, y)), D)?.warn !== true;
        },
      ),
    );
  });

  it('rarely fires on noise: the same refusal rate before and after, drawn at random', () => {
    // 2000 number × carrier windows whose true refusal rate did not change (5–50 %), 20–120 calls in 24h and
    // 40–600 before: the one-sided 97.5 % bound above a 3-point margin fires on well under 1 % of them.
    const cases = fc.sample(
      fc.record({
        p: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        n: fc.integer({ min: 20, max: 120 }),
        m: fc.integer({ min: 40, max: 600 }),
        s1: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        s2: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      }),
      { numRuns: 2000, seed: 42 },
    );
    let fired = 0;
    for (const c of cases) {
      const x = binomial(c.n, c.p, c.s1);
      const y = binomial(c.m, c.p, c.s2);
      if (ownRefusalRise(C(traffic(c.n, x)), C(traffic(c.m, y)), D)?.warn) fired++;
    }
    expect(fired / cases.length).toBeLessThan(0.01);
  });

  it('catches a real rise of 20 points over a normal day of calls most of the time', () => {
    const cases = fc.sample(
      fc.record({ p: fc.double({ min: 0.1, max: 0.3, noNaN: true }), n: fc.integer({ min: 50, max: 120 }), s1: fc.integer({ min: 1, max: 2 ** 31 - 1 }), s2: fc.integer({ min: 1, max: 2 ** 31 - 1 }) }),
      { numRuns: 500, seed: 7 },
    );
    let fired = 0;
    for (const c of cases) {
      const x = binomial(c.n, c.p + 0.2, c.s1);
      const y = binomial(6 * c.n, c.p, c.s2);
      if (ownRefusalRise(C(traffic(c.n, x)), C(traffic(6 * c.n, y)), D)?.warn) fired++;
    }
    expect(fired / cases.length).toBeGreaterThan(0.8);
  });

  it('runs in the 24h window only, and can be switched off', () => {
    const own = traffic(60, 30);
    const prior = traffic(300, 30);
    expect(flagCarrierWindow(win(own, prior, { window: '7d' }), D).kinds).not.toContain('own_refusal');
    const off = parseReputationConfig({ carrier: { ownHistory: { enabled: false } } });
    expect(flagCarrierWindow(win(own, prior), off).kinds).not.toContain('own_refusal');
    expect(flagCarrierWindow(win(own, prior), D).kinds).toContain('own_refusal');
  });

  it('flagCarriers derives the prior 6 days as 7d − 24h on the same carrier', () => {
    const own = {
      tmobile: { '24h': kpis({ cancelled: 12, rejected: 5, answered: 20, no_answer: 13 }), '7d': kpis({ cancelled: 32, rejected: 13, answered: 140, no_answer: 115 }) },
      att: { '24h': kpis(traffic(40, 6)), '7d': kpis(traffic(240, 36)) },
    };
    const pool = {
      tmobile: { '24h': kpis({ cancelled: 12 + 60, rejected: 5 + 30, answered: 20 + 300, no_answer: 13 + 350 }), '7d': kpis({ cancelled: 32 + 360, rejected: 13 + 180, answered: 140 + 1800, no_answer: 115 + 2100 }) },
      att: { '24h': kpis(traffic(640, 96)), '7d': kpis(traffic(3840, 576)) },
    };
    const r = flagCarriers(own, carrierBaselines(pool), {}, D);
    expect(r.tmobile!.flag).toBe('warning');
    expect(r.tmobile!.windows['24h'].kinds).toEqual(['own_refusal']);
    expect(r.tmobile!.reason).toBe('487+rejections 34 % on tmobile in 24h vs 11 % over its prior 6 days (50 calls vs 250 before; lower bound of the rise 10 points)');
    expect(r.tmobile!.windows['7d'].flag).toBe('clean');
    expect(r.att!.flag).toBe('clean'); // 15 % then 15 %: no change
  });

  it('config: defaults, overrides and validation', () => {
    expect(D.carrier.ownHistory).toEqual({ enabled: true, minCalls: 20, minPriorCalls: 40, z: 1.96, margin: 0.03 });
    expect(parseReputationConfig({ carrier: { ownHistory: { margin: 0.05 } } }).carrier.ownHistory).toEqual({ ...D.carrier.ownHistory, margin: 0.05 });
    expect(() => parseReputationConfig({ carrier: { ownHistory: { margin: 3 } } })).toThrow('carrier.ownHistory.margin: must be a ratio between 0 and 1');
    expect(() => parseReputationConfig({ carrier: { ownHistory: { minCalls: 0 } } })).toThrow(ReputationConfigError);
    expect(() => parseReputationConfig({ carrier: { ownHistory: { window: '48h' } } })).toThrow(/carrier\.ownHistory: unknown key\(s\) "window"/);
    expect(() => parseReputationConfig({ signals: { answerDropAlonePoints: 101 } })).toThrow('signals.answerDropAlonePoints: must be between 0 and 100');
    expect(() => parseReputationConfig({ signals: { velocity: 'yes' } })).toThrow(/signals\.velocity: expected boolean/);
  });
});

describe('status: velocity is a signal, a moderate answer drop needs corroboration', () => {
  const quiet = { pool: null, carriers: {}, reportRatio: null };
  const w7d = C({ answered: 220, no_answer: 180, cancelled: 40, rejected: 10 });

  it('over the daily cap is a velocity warning (24h) that makes the number mixed, but never flags a window', () => {
    const w24h = C({ answered: 60, no_answer: 50, cancelled: 10 });
    const v = velocity(null, w24h, D);
    const s = numberSignals({ ...quiet, w24h, w7d: C({ answered: 400, no_answer: 300, cancelled: 60 }), velocity: v }, D);
    expect(s).toEqual([{ window: '24h', kind: 'velocity', severity: 'warning', reason: '120 calls in 24h over the 100/day cap' }]);
    expect(decideStatus({ calls7d: 760, labels: [], signals: s }, D).status).toBe('mixed');
    const two: Signal[] = [...s, { window: '24h', kind: 'cancel', severity: 'warning', reason: 'c' }, { window: '24h', kind: 'rejection', severity: 'warning', reason: 'r' }];
    expect(windowFlagged(two, '24h', D)).toBe(false); // velocity + 2 warnings: not 3 pieces of evidence
    const off = parseReputationConfig({ signals: { velocity: false } });
    expect(numberSignals({ ...quiet, w24h, w7d, velocity: v }, off).map((x) => x.kind)).not.toContain('velocity');
  });

  it('a moderate significant answer drop is listed but alone leaves the number healthy', () => {
    // Prior 6 days 200/400 = 50 %, last 24h 57/150 = 38 %: a 12-point drop, significant but not confidently > 10.
    const w24h = C({ answered: 57, no_answer: 93 });
    const week = C({ answered: 257, no_answer: 293 });
    const s = numberSignals({ ...quiet, w24h, w7d: week }, D);
    expect(s.map((x) => [x.kind, x.needsCorroboration])).toEqual([['answer_drop', true]]);
    const st = decideStatus({ calls7d: 550, labels: [], signals: s }, D);
    expect(st.status).toBe('healthy');
    expect(st.reason).toBe(`no warnings over 550 calls in 7d (${s[0]!.reason}: not corroborated by any other signal)`);
    // With another warning it counts: mixed.
    expect(decideStatus({ calls7d: 550, labels: [], signals: [...s, { window: '24h', kind: 'cancel', severity: 'warning', reason: 'c' }] }, D).status).toBe('mixed');
    // answerDropAlonePoints 0 restores the old rule: any significant drop is mixed alone.
    const old = parseReputationConfig({ signals: { answerDropAlonePoints: 0 } });
    expect(decideStatus({ calls7d: 550, labels: [], signals: numberSignals({ ...quiet, w24h, w7d: week }, old) }, old).status).toBe('mixed');
  });

  it('a collapse (lower bound of the drop above 10 points) is mixed on its own', () => {
    // 60 % over the prior 6 days → 35 % in 24h (not yet under the 25 % answer_low line).
    const w24h = C({ answered: 35, no_answer: 65 });
    const week = C({ answered: 275, no_answer: 225 });
    const s = numberSignals({ ...quiet, w24h, w7d: week }, D);
    expect(s.map((x) => [x.kind, x.needsCorroboration])).toEqual([['answer_drop', undefined]]);
    expect(decideStatus({ calls7d: 500, labels: [], signals: s }, D).status).toBe('mixed');
  });
});

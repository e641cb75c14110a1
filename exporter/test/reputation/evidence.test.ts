import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig } from '../../src/reputation/config.js';
import { budgetLevel, categories, chiSquareTail, outcomeShift, thresholdFor, type EvidenceCounts } from '../../src/reputation/evidence.js';
import { countsOf, type Counts } from '../../src/reputation/math.js';
import { mulberry32 } from '../../src/sim/demo.js';
import { kpis, mix, type Traffic } from './helpers.js';

// The early-warning evidence (docs/scoring.md §6.3): a one-sided two-sample likelihood-ratio test of the
// outcome mix of the last 24/48/72 h against the days before, at the level the false-alarm budget sets.

const HEALTHY = { answered: 0.42, voicemail: 0.12, cancelled: 0.15, busy: 0.03, rejected: 0.03, failed: 0.02 };
const DEGRADED = { answered: 0.25, voicemail: 0.12, cancelled: 0.25, busy: 0.04, rejected: 0.09, failed: 0.02 };

const add = (...ts: Traffic[]): Traffic => {
  const out: Traffic = { short: 0, talk: 90 };
  for (const t of ts) for (const [k, v] of Object.entries(t)) if (k !== 'talk') (out as Record<string, number>)[k] = ((out as Record<string, number>)[k] ?? 0) + (v as number);
  return out;
};
const c = (t: Traffic): Counts => countsOf(kpis(t));

/** Seven days, newest first, as the engine's windows. */
function windows(days: Traffic[]): EvidenceCounts {
  return { '24h': c(add(...days.slice(0, 1))), '48h': c(add(...days.slice(0, 2))), '72h': c(add(...days.slice(0, 3))), '7d': c(add(...days)) };
}

const threshold = thresholdFor(budgetLevel(12, D), 4);

describe('evidence: outcome shift against the number’s own earlier days', () => {
  it('takes its level from the budget: 1 per 1,000 number-days ÷ (5 crossings a day × tests)', () => {
    expect(budgetLevel(12, D)).toBeCloseTo(1e-3 / 60, 12);
    expect(0.5 * chiSquareTail(threshold, 4)).toBeCloseTo(budgetLevel(12, D), 9);
    // A looser budget is a lower threshold.
    expect(thresholdFor(budgetLevel(12, parseReputationConfig({ earlyWarning: { falseWarningsPer1000NumberDays: 10 } })), 4)).toBeLessThan(threshold);
    expect(chiSquareTail(9.4877, 4)).toBeCloseTo(0.05, 4); // χ²(4) 95th percentile
    expect(chiSquareTail(3.8415, 1)).toBeCloseTo(0.05, 4); // χ²(1) 95th percentile
  });

  it('reads five categories: answered ≥ 10 s, answered < 10 s, 487, declined or busy, the rest (blocks left out)', () => {
    expect(categories(c({ answered: 10, short: 3, cancelled: 4, rejected: 2, busy: 1, voicemail: 5, no_answer: 6, blocked: 9 }))).toEqual([7, 3, 4, 3, 11]);
  });

  it('does not fire on unchanged traffic, fires on two days of ring-outs, declines and short calls at 15 calls a day', () => {
    const days = Array.from({ length: 7 }, () => mix(15, HEALTHY, { shortShare: 0.06 }));
    const quiet = outcomeShift(windows(days), null, threshold, D)!;
    expect(quiet.met).toBe(false);
    expect(quiet.g).toBeLessThan(1);
    const bad = [mix(15, DEGRADED, { shortShare: 0.3 }), mix(15, DEGRADED, { shortShare: 0.3 }), ...days.slice(2)];
    // 30 calls of that shift are not enough at the budget: the information is not there (docs/early-warning.md).
    expect(outcomeShift(windows(bad), null, threshold, D)!.met).toBe(false);
    const worse = { answered: 0.1, voicemail: 0.12, cancelled: 0.4, busy: 0.04, rejected: 0.2, failed: 0.02 };
    const collapse = [mix(15, worse, { shortShare: 0.5 }), mix(15, worse, { shortShare: 0.5 }), ...days.slice(2)];
    const ev = outcomeShift(windows(collapse), null, threshold, D)!;
    expect(ev.met).toBe(true);
    expect(ev.window).toBe('48h');
    expect(ev.calls).toBe(30);
  });

  it('needs earlyWarning.minCalls calls in a window', () => {
    const days = Array.from({ length: 7 }, () => mix(3, HEALTHY));
    expect(outcomeShift(windows(days), null, threshold, D)).toBeNull();
  });

  it('moves with the pool on the same carrier (a holiday): a shared shift is not the number’s', () => {
    const worse = { answered: 0.1, voicemail: 0.12, cancelled: 0.4, busy: 0.04, rejected: 0.2, failed: 0.02 };
    const own = [mix(60, worse, { shortShare: 0.3 }), ...Array.from({ length: 6 }, () => mix(60, HEALTHY, { shortShare: 0.06 }))];
    const alone = outcomeShift(windows(own), null, threshold, D)!;
    expect(alone.met).toBe(true);
    // Forty numbers doing the same: the pool (which includes the number) moved the same way.
    const pool = windows(own.map((d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k === 'talk' ? v : (v as number) * 40])) as Traffic));
    const shared = outcomeShift(windows(own), pool, threshold, D)!;
    expect(shared.poolMoved).toBe(true);
    expect(shared.met).toBe(false);
  });

  it('a pool that improves does not make an unchanged number look worse', () => {
    const days = Array.from({ length: 7 }, () => mix(40, HEALTHY, { shortShare: 0.06 }));
    const better = { answered: 0.6, voicemail: 0.12, cancelled: 0.08, busy: 0.02, rejected: 0.02, failed: 0.02 };
    const poolDays = [mix(4000, better, { shortShare: 0.03 }), ...Array.from({ length: 6 }, () => mix(4000, HEALTHY, { shortShare: 0.06 }))];
    const ev = outcomeShift(windows(days), windows(poolDays), threshold, D)!;
    expect(ev.poolMoved).toBe(false);
    expect(ev.met).toBe(false);
  });

  it('keeps close to its level on unchanging traffic: at 1 % per window, about 3 windows’ worth of random tests exceed it', () => {
    const rand = mulberry32(7);
    const shares = [0.39, 0.03, 0.15, 0.06, 0.37];
    const draw = (n: number): Traffic => {
      const t: Traffic = { answered: 0, short: 0, cancelled: 0, rejected: 0, no_answer: 0, talk: 90 };
      for (let i = 0; i < n; i++) {
        let u = rand();
        const k = shares.findIndex((p) => (u -= p) < 0);
        if (k === 0) t.answered! += 1;
        else if (k === 1) (t.answered! += 1), (t.short! += 1);
        else if (k === 2) t.cancelled! += 1;
        else if (k === 3) t.rejected! += 1;
        else t.no_answer! += 1;
      }
      return t;
    };
    const loose = thresholdFor(0.01, 4);
    let over = 0;
    const trials = 3000;
    for (let i = 0; i < trials; i++) {
      const ev = outcomeShift(windows(Array.from({ length: 7 }, () => draw(15))), null, loose, D);
      if (ev?.met) over++;
    }
    // The largest of three windows: 3 × 1 % if they were independent, which the budget counts (3 tests per
    // carrier). Measured 3.7 %: the G statistic is a little liberal at 15 calls a day, and the windows overlap.
    expect(over / trials).toBeLessThan(0.045);
  });
});

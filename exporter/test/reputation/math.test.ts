import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countsOf, piecewise, shrink, subCounts, wilson, wilsonLower, pct } from '../../src/reputation/math.js';
import { kpis } from './helpers.js';

describe('piecewise', () => {
  const c = [[0, 0], [0.25, 40], [0.4, 80], [0.6, 100]] as const;
  it('hits every knot and interpolates between', () => {
    expect(piecewise(0, c)).toBe(0);
    expect(piecewise(0.25, c)).toBe(40);
    expect(piecewise(0.4, c)).toBeCloseTo(80, 10);
    expect(piecewise(0.6, c)).toBe(100);
    expect(piecewise(0.325, c)).toBeCloseTo(60, 10);
  });
  it('is flat outside the knots', () => {
    expect(piecewise(-1, c)).toBe(0);
    expect(piecewise(2, c)).toBe(100);
  });
});

describe('shrink', () => {
  it('pulls small samples to the prior and leaves large ones alone', () => {
    expect(shrink(0, 0, 0.35, 10)).toBe(0.35);
    expect(shrink(3, 3, 0.35, 10)).toBeCloseTo((3 + 3.5) / 13, 12);
    expect(shrink(4000, 10000, 0.35, 10)).toBeCloseTo(0.39995, 4);
    expect(shrink(1, 2, 0.3, 0)).toBe(0.5);
  });
});

describe('Wilson score interval', () => {
  it('matches the closed form for 60/200 at z = 1.96', () => {
    const [lo, hi] = wilson(60, 200, 1.96);
    expect(lo).toBeCloseTo(0.2407, 4);
    expect(hi).toBeCloseTo(0.3668, 4);
  });
  it('is [0, 1] with no data and never leaves [0, 1]', () => {
    expect(wilson(0, 0, 1.96)).toEqual([0, 1]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
        const x = Math.round(p * n);
        const [lo, hi] = wilson(x, n, 1.96);
        return lo >= 0 && hi <= 1 && lo <= x / n + 1e-12 && hi >= x / n - 1e-12;
      }),
    );
  });
  it('keeps three-of-three well below certainty', () => {
    expect(wilsonLower(3, 3, 1.96)).toBeCloseTo(3 / (3 + 1.96 ** 2), 10);
  });
});

describe('counts', () => {
  it('reads counts back from Kpis and subtracts with a floor', () => {
    const c = countsOf(kpis({ answered: 10, busy: 2, rejected: 1, blocked: 3, cancelled: 4, short: 5, talk: 30 }));
    expect(c).toEqual({ calls: 20, answered: 10, cancelled: 4, rejected: 3, blocked: 3, voicemail: 0, short: 5, talkSec: 300 });
    expect(countsOf(null).calls).toBe(0);
    expect(subCounts(c, { ...c, calls: 25 }).calls).toBe(0);
  });
  it('formats percentages', () => {
    expect(pct(0.3125)).toBe('31 %');
    expect(pct(0.004)).toBe('0.4 %');
    expect(pct(null)).toBe('n/a');
    expect(pct(0.0512, 1)).toBe('5.1 %');
  });
});

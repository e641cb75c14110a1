// Small numeric building blocks of the reputation model: piecewise-linear curves, shrinkage,
// the Wilson score interval, and count extraction from Kpis.

import type { Kpis } from '../model/types.js';

export type Curve = ReadonlyArray<readonly [x: number, y: number]>;

export const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/**
 * Piecewise-linear interpolation through points sorted by x; flat outside the first/last point.
 * Points with equal x make a step (the later point wins at and beyond that x).
 */
export function piecewise(x: number, pts: Curve): number {
  if (pts.length === 0) throw new Error('piecewise: no points');
  if (Number.isNaN(x)) return pts[0]![1];
  if (x <= pts[0]![0]) return pts[0]![1];
  for (let i = 1; i < pts.length; i++) {
    const [x1, y1] = pts[i]!;
    if (x < x1) {
      const [x0, y0] = pts[i - 1]!;
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return pts[pts.length - 1]![1];
}

/** Shrink `hits / n` toward `prior` with `k` pseudo-observations: (hits + k·prior) / (n + k). */
export function shrink(hits: number, n: number, prior: number, k: number): number {
  if (n + k <= 0) return prior;
  return (hits + k * prior) / (n + k);
}

/**
 * Wilson score interval for a binomial proportion x/n at normal quantile z.
 * Returns [lower, upper]; for n = 0 the interval is [0, 1].
 */
export function wilson(x: number, n: number, z: number): [number, number] {
  if (n <= 0) return [0, 1];
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [clamp((centre - half) / denom, 0, 1), clamp((centre + half) / denom, 0, 1)];
}

export const wilsonLower = (x: number, n: number, z: number): number => wilson(x, n, z)[0];

/**
 * Lower confidence bound of p1 − p2 (x1/n1 − x2/n2) by Newcombe's hybrid score method: the Wilson
 * intervals of each proportion combined. Null when either sample is empty.
 */
export function newcombeLower(x1: number, n1: number, x2: number, n2: number, z: number): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const [l1] = wilson(x1, n1, z);
  const [, u2] = wilson(x2, n2, z);
  return p1 - p2 - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
}
export const wilsonUpper = (x: number, n: number, z: number): number => wilson(x, n, z)[1];

/** The additive counts the model needs, read back from a Kpis. */
export interface Counts {
  calls: number;
  answered: number;
  cancelled: number;
  /** rejected + busy (docs/architecture.md#kpis rejection_ratio numerator). */
  rejected: number;
  blocked: number;
  voicemail: number;
  /** Answered calls shorter than the short-call threshold. */
  short: number;
  /** Total talk seconds of answered calls. */
  talkSec: number;
}

export const ZERO_COUNTS: Counts = {
  calls: 0,
  answered: 0,
  cancelled: 0,
  rejected: 0,
  blocked: 0,
  voicemail: 0,
  short: 0,
  talkSec: 0,
};

export function countsOf(k: Kpis | null | undefined): Counts {
  if (!k) return { ...ZERO_COUNTS };
  const o = k.outcomes;
  const answered = k.answered ?? o.answered ?? 0;
  return {
    calls: k.calls ?? 0,
    answered,
    cancelled: o.cancelled ?? 0,
    rejected: (o.rejected ?? 0) + (o.busy ?? 0),
    blocked: o.blocked ?? 0,
    voicemail: o.voicemail ?? 0,
    short: Math.round((k.short_call_ratio ?? 0) * answered),
    talkSec: (k.avg_talk_seconds ?? 0) * answered,
  };
}

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    calls: a.calls + b.calls,
    answered: a.answered + b.answered,
    cancelled: a.cancelled + b.cancelled,
    rejected: a.rejected + b.rejected,
    blocked: a.blocked + b.blocked,
    voicemail: a.voicemail + b.voicemail,
    short: a.short + b.short,
    talkSec: a.talkSec + b.talkSec,
  };
}

/** a − b, floored at 0 (for leave-one-out baselines and "prior 6 days" = 7d − 24h). */
export function subCounts(a: Counts, b: Counts): Counts {
  const d = (x: number, y: number) => Math.max(0, x - y);
  return {
    calls: d(a.calls, b.calls),
    answered: d(a.answered, b.answered),
    cancelled: d(a.cancelled, b.cancelled),
    rejected: d(a.rejected, b.rejected),
    blocked: d(a.blocked, b.blocked),
    voicemail: d(a.voicemail, b.voicemail),
    short: d(a.short, b.short),
    talkSec: d(a.talkSec, b.talkSec),
  };
}

export const ratioOf = (x: number, n: number): number | null => (n > 0 ? x / n : null);

/** "31 %" style percentage for human reasons. */
export function pct(r: number | null | undefined, digits = 0): string {
  if (r === null || r === undefined || Number.isNaN(r)) return 'n/a';
  const v = r * 100;
  const s = v.toFixed(digits);
  return `${digits === 0 && v > 0 && v < 1 ? v.toFixed(1) : s} %`;
}

// Early-warning evidence (docs/scoring.md §6.3): did the outcomes of one number on one carrier (or on all of
// them) shift toward what consumers do before a label — let it ring out (487), decline or are busy, hang up
// fast — against the number's own earlier days there, shrunk toward the pool, and moved as the pool moved?
//
// A two-sample likelihood-ratio (G) test over the outcome distribution of the last 24, 48 and 72 h against
// the 7 d before them, one-sided (only a move for the worse counts: fewer answered in full, or more of those). Its level is not hand-tuned: it is
// the false-alarm budget divided among the tests a number is asked (budgetLevel below).

import type { WindowName } from '../model/types.js';
import type { ReputationConfig } from './config.js';
import { subCounts, type Counts } from './math.js';

export const EVIDENCE_WINDOWS = ['24h', '48h', '72h'] as const;
export type EvidenceWindow = (typeof EVIDENCE_WINDOWS)[number];
const EVIDENCE_DAYS: Record<EvidenceWindow, number> = { '24h': 1, '48h': 2, '72h': 3 };

/** Outcome categories: answered ≥ 10 s, answered < 10 s, rang out (487), declined or busy, anything else. */
export const OUTCOME_CATEGORIES = ['long', 'short', 'ringout', 'refused', 'other'] as const;
/** The categories that rise before a label. */
const BAD = [1, 2, 3];

/** The counts evidence reads, per window (24h, 48h, 72h and 7d). */
export type EvidenceCounts = Partial<Record<WindowName, Counts>>;

export function categories(c: Counts): number[] {
  const short = Math.min(c.short, c.answered);
  const other = Math.max(0, c.calls - c.blocked - c.answered - c.cancelled - c.rejected);
  return [c.answered - short, short, c.cancelled, c.rejected, other];
}

/** A pool move smaller than this (share of calls) is rounding, not a move. */
const POOL_MOVE_TOLERANCE = 0.005;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const badShare = (p: number[]) => BAD.reduce((a, i) => a + p[i]!, 0) / Math.max(1e-12, sum(p));
const longShare = (p: number[]) => p[0]! / Math.max(1e-12, sum(p));
/** The direction that precedes a label: fewer calls answered in full, or more rang out, declined or cut short. */
const worse = (now: number[], before: number[], tolerance: number) =>
  badShare(now) > badShare(before) + tolerance || longShare(now) < longShare(before) - tolerance;

/**
 * q moved as the pool moved from `before` to `now`: each category by the pool's ratio where both periods hold
 * at least MOVE_MIN_CALLS of it, else by the ratio of its group (answered ≥ 10 s; the three that rise; the rest),
 * so a category the pool rarely sees cannot swing the expectation.
 */
function movedAsPool(q: number[], now: number[], before: number[]): number[] {
  const nNow = sum(now);
  const nBefore = sum(before);
  const groupOf = (i: number) => (i === 0 ? [0] : BAD.includes(i) ? BAD : [4]);
  const ratio = (idx: number[]) => {
    const a = idx.reduce((t, i) => t + now[i]!, 0) / nNow;
    const b = idx.reduce((t, i) => t + before[i]!, 0) / nBefore;
    return b > 0 && a > 0 ? a / b : 1;
  };
  const out = q.map((v, i) => v * (now[i]! >= MOVE_MIN_CALLS && before[i]! >= MOVE_MIN_CALLS ? ratio([i]) : ratio(groupOf(i))));
  const total = sum(out);
  return out.map((v) => v / total);
}
const MOVE_MIN_CALLS = 20;

/**
 * Two-sample likelihood ratio (G) of counts x against an expectation q backed by mEff calls: 4 degrees of
 * freedom over the five categories.
 */
export function gStatistic(x: number[], q: number[], mEff: number): number {
  const n = sum(x);
  let g = 0;
  for (let i = 0; i < x.length; i++) {
    const z = mEff * q[i]!;
    const pooled = (x[i]! + z) / (n + mEff);
    if (x[i]! > 0) g += x[i]! * Math.log(x[i]! / (n * pooled));
    if (z > 0) g += z * Math.log(z / (mEff * pooled));
  }
  return 2 * g;
}

/**
 * Score test along the one direction a label is preceded by: would-be answers turning, in equal shares, into
 * short calls, ring-outs and declines/busies. Its weights are the locally most powerful ones for that move
 * (−1/q for answered ≥ 10 s, ⅓/q for each of the three, 0 for the rest); the squared z has 1 degree of
 * freedom, and the expectation's own uncertainty (mEff calls) widens its variance by 1 + n/mEff.
 */
export function scoreStatistic(x: number[], q: number[], mEff: number): number {
  const n = sum(x);
  const w = q.map((qi, i) => (i === 0 ? -1 / Math.max(qi, 0.01) : BAD.includes(i) ? 1 / (3 * Math.max(qi, 0.01)) : 0));
  let mean = 0;
  let sq = 0;
  let t = 0;
  for (let i = 0; i < x.length; i++) {
    mean += q[i]! * w[i]!;
    sq += q[i]! * w[i]! * w[i]!;
    t += x[i]! * w[i]!;
  }
  const variance = n * (sq - mean * mean) * (1 + n / mEff);
  if (variance <= 0) return 0;
  const zs = (t - n * mean) / Math.sqrt(variance);
  return zs > 0 ? zs * zs : 0;
}

/** P(χ² > g) for 1 or 4 degrees of freedom (the two tests). */
export function chiSquareTail(g: number, df: 1 | 4): number {
  if (g <= 0) return 1;
  if (df === 4) return Math.exp(-g / 2) * (1 + g / 2);
  return erfc(Math.sqrt(g / 2));
}

/** Complementary error function (Numerical Recipes' erfcc: relative error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * The level of one test from the budget: `falseWarningsPer1000NumberDays` / 1000, shared by the `tests` a
 * number is asked (carriers + the number over all carriers, × the three windows) and by the times per day a
 * test on unchanging traffic newly crosses a fixed level, per unit of that level (`crossingsPerDay`: windows
 * re-evaluated every hour are strongly correlated, so this is far below 24; measured by
 * test/reputation/evidence.test.ts).
 */
export function budgetLevel(tests: number, cfg: ReputationConfig): number {
  const e = cfg.earlyWarning;
  return e.falseWarningsPer1000NumberDays / 1000 / (e.crossingsPerDay * Math.max(1, tests));
}

/** The G threshold whose one-sided tail (half the χ² tail: only a rise counts) is `alpha`. */
export function thresholdFor(alpha: number, df: 1 | 4): number {
  let lo = 0;
  let hi = 200;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (0.5 * chiSquareTail(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface Evidence {
  window: EvidenceWindow;
  /** The test statistic after the day-to-day allowance, and the threshold it is compared with. */
  g: number;
  threshold: number;
  met: boolean;
  calls: number;
  priorCalls: number;
  /** Share of calls that rang out, were declined/busy or cut short: now, and what was expected. */
  badNow: number;
  badExpected: number;
  /** Answered ≥ 10 s: now and expected. */
  longNow: number;
  longExpected: number;
  /** The pool on the same carrier moved the expectation (a pool/carrier-wide change was allowed for). */
  poolMoved: boolean;
}

/**
 * The strongest of the three windows' tests for one number on one carrier (or over all carriers): `own` are
 * the number's counts there, `pool` the whole pool's (including the number) there. Null when no window has
 * `earlyWarning.minCalls` calls (blocked calls aside).
 */
export function outcomeShift(own: EvidenceCounts, pool: EvidenceCounts | null, threshold: number, cfg: ReputationConfig): Evidence | null {
  const e = cfg.earlyWarning;
  const w7 = own['7d'];
  if (!w7) return null;
  let best: Evidence | null = null;
  for (const w of EVIDENCE_WINDOWS) {
    const now = own[w];
    if (!now) continue;
    const x = categories(now);
    const n = sum(x);
    if (n < e.minCalls) continue;
    const y = categories(subCounts(w7, now));
    const m = sum(y);
    // The rest of the pool on the carrier, now and before, smoothed by one call per category.
    const pr = pool?.[w] && pool['7d'] ? categories(subCounts(pool[w]!, now)) : null;
    const pp = pool?.[w] && pool['7d'] ? categories(subCounts(subCounts(pool['7d']!, pool[w]!), subCounts(w7, now))) : null;
    const smooth = (v: number[]) => v.map((a) => (a + 1) / (sum(v) + v.length));
    const prior = pp && sum(pp) >= e.poolMinCalls ? smooth(pp) : smooth(y);
    let q = y.map((yi, i) => (yi + e.shrinkCalls * prior[i]!) / (m + e.shrinkCalls));
    let poolMoved = false;
    if (pr && pp && sum(pr) >= e.poolMinCalls && sum(pp) >= e.poolMinCalls && worse(pr, pp, POOL_MOVE_TOLERANCE)) {
      // Only a move for the worse is allowed for: a pool that improves must not make this number look worse.
      // Moved as the pool moved, on the two aggregates that are large enough to trust (answered ≥ 10 s, and
      // the three that rise); the rest takes up the difference.
      q = movedAsPool(q, pr, pp);
      poolMoved = true;
    }
    const mEff = m + e.shrinkCalls;
    const p0 = q[0]!;
    // Day-to-day variation beyond chance (lists and days differ): an extra variance τ² per day on the shares,
    // averaged over the days of each period (the recent window's 1–3, the 4–6 before it).
    const nh = (n * mEff) / (n + mEff);
    const days = EVIDENCE_DAYS[w];
    const dispersion = 1 + (e.dayToDay * e.dayToDay * (1 / days + 1 / (7 - days)) * nh) / Math.max(0.05, p0 * (1 - p0));
    const g = (e.test === 'multinomial' ? gStatistic(x, q, mEff) : scoreStatistic(x, q, mEff)) / dispersion;
    const rising = worse(x, q, 0);
    const ev: Evidence = {
      window: w,
      g: rising ? g : 0,
      threshold,
      met: rising && g > threshold,
      calls: n,
      priorCalls: m,
      badNow: badShare(x),
      badExpected: badShare(q),
      longNow: x[0]! / n,
      longExpected: q[0]!,
      poolMoved,
    };
    if (!best || ev.g > best.g) best = ev;
  }
  return best;
}

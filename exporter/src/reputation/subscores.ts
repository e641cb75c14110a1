// The four sub-scores (docs/scoring.md §3). Each is 0–100, built from piecewise-linear
// curves over KPIs of the number, and returns the figures it used so the result can be explained.

import type { ReputationConfig, Dimension } from './config.js';
import { clamp, piecewise, shrink, type Counts, type Curve } from './math.js';

export const RATINGS = ['good', 'normal', 'poor', 'very_poor'] as const;
export type Rating = (typeof RATINGS)[number];

export function rate(score: number, cfg: ReputationConfig): Rating {
  const r = cfg.ratings;
  if (score >= r.good) return 'good';
  if (score >= r.normal) return 'normal';
  if (score >= r.poor) return 'poor';
  return 'very_poor';
}

export interface SubscoreResult {
  /** 0–100, unrounded. */
  score: number;
  /** The intermediate figures (ratios 0–1, seconds, points) the score was built from. */
  parts: Record<string, number | null>;
}

export interface SubscoreInput {
  /** The number's own counts per window. `w1h` only feeds velocity. */
  w1h?: Counts | null;
  w24h: Counts;
  w7d: Counts;
  /** Rest of the pool (excluding this number), to tell a pool-wide answer drop from the number's own. */
  pool?: { '24h': Counts; '7d': Counts } | null;
  /** Days since the number was first seen (null: unknown). */
  ageDays: number | null;
  /** Days with at least one call in the last 7 (0–7), if the caller knows it. */
  activeDays7d?: number | null;
  /** Spam reports known for the number (null/undefined: unknown). */
  spamReports?: number | null;
  /** Any engine label that is not benign. */
  labelled: boolean;
}

// ---------- curves (exported so docs and tests can read them) ----------

export const connectionCurve = (c: ReputationConfig['connection']): Curve => [
  [0, 0],
  [c.watch, 40],
  [c.healthy, 80],
  [c.excellent, 100],
];

export const shortCallCurve = (e: ReputationConfig['engagement']): Curve => [
  [e.shortCallIdeal, 100],
  [e.shortCallLowTrust, 60],
  [e.shortCallZero, 0],
];

export const talkCurve = (e: ReputationConfig['engagement']): Curve => [
  [0, 0],
  [e.shortCallSeconds, 20],
  [e.engagedSeconds, 80],
  [2 * e.engagedSeconds, 100],
];

export const rejectionPenaltyCurve = (s: ReputationConfig['sentiment']): Curve => [
  [0, 0],
  [s.rejectionNormal, 10],
  [s.rejectionCritical, 40],
  [Math.min(1, 2 * s.rejectionCritical), 70],
  [Math.min(1, 4 * s.rejectionCritical), 100],
];

export const blockPenaltyCurve = (s: ReputationConfig['sentiment']): Curve => [
  [0, 0],
  [s.blockFull, s.blockMaxPenalty],
];

export const reportPenaltyCurve = (s: ReputationConfig['sentiment']): Curve => [
  [s.reportGreen, 0],
  [s.reportRed, s.reportMaxPenalty / 2],
  [3 * s.reportRed, s.reportMaxPenalty],
];

// ---------- connection ----------

/** Answer-ratio drop in points: prior 6 days (7d − 24h) versus the last 24h; null when either is too thin. */
export function answerDropPoints(w24h: Counts, w7d: Counts, minCalls: number): number | null {
  const priorCalls = w7d.calls - w24h.calls;
  const priorAnswered = w7d.answered - w24h.answered;
  if (w24h.calls < Math.max(1, minCalls) || priorCalls < Math.max(1, minCalls)) return null;
  return (priorAnswered / priorCalls - w24h.answered / w24h.calls) * 100;
}

/**
 * The refused-before-answer baseline: (cancelled + blocked) / calls of the rest of the pool over 7d, or
 * `carrier.defaultBaseline.cancel` when the rest of the pool has fewer than `carrier.baselineMinCalls` calls.
 */
export function refusedBaseline(pool: SubscoreInput['pool'], cfg: ReputationConfig): number {
  const p = pool?.['7d'];
  if (!p || p.calls < Math.max(1, cfg.carrier.baselineMinCalls)) return cfg.carrier.defaultBaseline.cancel;
  return (p.cancelled + p.blocked) / p.calls;
}

export function connectionScore(inp: SubscoreInput, cfg: ReputationConfig): SubscoreResult {
  const c = cfg.connection;
  const sm = cfg.smoothing;
  const answer = shrink(inp.w7d.answered, inp.w7d.calls, sm.answerPrior, sm.pseudoCalls);
  const base = piecewise(answer, connectionCurve(c));
  // 487s (and blocks) climbing is the early sign of a label: people see "Spam Likely" and let it ring.
  const refusedBase = refusedBaseline(inp.pool, cfg);
  const refused = shrink(inp.w7d.cancelled + inp.w7d.blocked, inp.w7d.calls, refusedBase, sm.pseudoCalls);
  const excessPts = (refused - refusedBase - c.cancelGrace) * 100;
  const cancelPenalty = inp.w7d.calls >= c.cancelMinCalls && excessPts > 0 ? Math.min(c.maxCancelPenalty, excessPts * c.cancelPenaltyPerPoint) : 0;
  const drop = answerDropPoints(inp.w24h, inp.w7d, c.dropMinCalls);
  const poolDrop = inp.pool ? answerDropPoints(inp.pool['24h'], inp.pool['7d'], c.dropMinCalls) : null;
  const ownDrop = drop === null ? null : drop - Math.max(0, poolDrop ?? 0);
  const penalty = ownDrop !== null && ownDrop > c.dropPoints ? Math.min(c.maxDropPenalty, ownDrop * c.dropPenaltyPerPoint) : 0;
  return {
    score: clamp(base - penalty - cancelPenalty, 0, 100),
    parts: {
      answer_ratio_smoothed: answer,
      base,
      refused_ratio_smoothed: refused,
      refused_baseline: refusedBase,
      cancel_penalty: cancelPenalty,
      drop_points: drop,
      pool_drop_points: poolDrop,
      own_drop_points: ownDrop,
      drop_penalty: penalty,
    },
  };
}

// ---------- engagement ----------

export function engagementScore(inp: SubscoreInput, cfg: ReputationConfig): SubscoreResult {
  const e = cfg.engagement;
  const sm = cfg.smoothing;
  const w = inp.w7d;
  const shortRatio = shrink(w.short, w.answered, sm.shortCallPrior, sm.pseudoAnswered);
  const talk = shrink(w.talkSec, w.answered, sm.talkPriorSeconds, sm.pseudoAnswered);
  const shortPart = piecewise(shortRatio, shortCallCurve(e));
  const talkPart = piecewise(talk, talkCurve(e));
  const score = e.shortCallWeight * shortPart + (1 - e.shortCallWeight) * talkPart;
  return {
    score: clamp(score, 0, 100),
    parts: { short_call_ratio_smoothed: shortRatio, avg_talk_smoothed: talk, short_part: shortPart, talk_part: talkPart },
  };
}

// ---------- sentiment ----------

/** Spam reports per delivered call (calls − blocked: a blocked call never rang, so cannot be reported). */
export function reportRatio(spamReports: number | null | undefined, w7d: Counts): number | null {
  if (spamReports === null || spamReports === undefined) return null;
  const delivered = w7d.calls - w7d.blocked;
  return delivered > 0 ? spamReports / delivered : null;
}

export function sentimentScore(inp: SubscoreInput, cfg: ReputationConfig): SubscoreResult {
  const s = cfg.sentiment;
  const sm = cfg.smoothing;
  const w = inp.w7d;
  const refusal = shrink(w.rejected + w.blocked, w.calls, sm.refusalPrior, sm.pseudoCalls);
  const blockRatio = w.calls > 0 ? w.blocked / w.calls : 0;
  const reports = reportRatio(inp.spamReports, w);
  const rejectionPenalty = piecewise(refusal, rejectionPenaltyCurve(s));
  const blockPenalty = piecewise(blockRatio, blockPenaltyCurve(s));
  const reportPenalty = reports === null ? 0 : piecewise(reports, reportPenaltyCurve(s));
  const labelPenalty = inp.labelled ? s.labelPenalty : 0;
  return {
    score: clamp(100 - rejectionPenalty - blockPenalty - reportPenalty - labelPenalty, 0, 100),
    parts: {
      refusal_ratio_smoothed: refusal,
      block_ratio: blockRatio,
      report_ratio: reports,
      rejection_penalty: rejectionPenalty,
      block_penalty: blockPenalty,
      report_penalty: reportPenalty,
      label_penalty: labelPenalty,
    },
  };
}

// ---------- maturity ----------

/** How far the busiest of the 1h and 24h windows is over its cap, as a fraction (0.5 = 50 % over); ≤ 0 when under. */
export function velocityOver(inp: Pick<SubscoreInput, 'w1h' | 'w24h'>, cfg: ReputationConfig): number {
  const day = inp.w24h.calls / cfg.velocity.dailyCap - 1;
  const hour = inp.w1h ? inp.w1h.calls / cfg.velocity.hourlyCap - 1 : -1;
  return Math.max(day, hour);
}

export function steadiness(inp: Pick<SubscoreInput, 'w24h' | 'w7d' | 'activeDays7d'>): number {
  if (inp.activeDays7d !== null && inp.activeDays7d !== undefined) return clamp(inp.activeDays7d / 7, 0, 1);
  if (inp.w7d.calls <= 0) return 0;
  // Share of the week's calls made before the last 24h, scaled so even use (6/7 of them) is 1.
  return clamp(((inp.w7d.calls - inp.w24h.calls) / inp.w7d.calls) * (7 / 6), 0, 1);
}

export function maturityScore(inp: SubscoreInput, cfg: ReputationConfig): SubscoreResult {
  const m = cfg.maturity;
  const age = inp.ageDays === null ? 0 : clamp(inp.ageDays / m.matureDays, 0, 1) * 100;
  const depth = clamp(inp.w7d.answered / m.depthAnswered, 0, 1) * 100;
  const steady = steadiness(inp) * 100;
  const wsum = m.ageWeight + m.depthWeight + m.steadyWeight;
  const base = (m.ageWeight * age + m.depthWeight * depth + m.steadyWeight * steady) / wsum;
  const over = velocityOver(inp, cfg);
  const penalty = over > 0 ? Math.min(m.maxVelocityPenalty, over * 100 * m.velocityPenaltyPerPercent) : 0;
  return {
    score: clamp(base - penalty, 0, 100),
    parts: { age_part: age, depth_part: depth, steady_part: steady, base, velocity_over: Math.max(0, over), velocity_penalty: penalty },
  };
}

export type Subscores = Record<Dimension, SubscoreResult>;

export function subscores(inp: SubscoreInput, cfg: ReputationConfig): Subscores {
  return {
    maturity: maturityScore(inp, cfg),
    connection: connectionScore(inp, cfg),
    engagement: engagementScore(inp, cfg),
    sentiment: sentimentScore(inp, cfg),
  };
}

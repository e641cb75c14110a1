// Composite score (docs/scoring.md §4): weighted sum of the sub-scores, then caps.

import { DIMENSIONS, type Dimension, type ReputationConfig } from './config.js';
import type { Counts } from './math.js';
import { rate, type Rating, type Subscores } from './subscores.js';

export const BANDS = ['excellent', 'degraded', 'critical'] as const;
export type Band = (typeof BANDS)[number];

export function band(score: number, cfg: ReputationConfig): Band {
  if (score >= cfg.bands.excellent) return 'excellent';
  if (score >= cfg.bands.degraded) return 'degraded';
  return 'critical';
}

export interface ScoreCap {
  kind: 'blocked' | 'labelled';
  /** The score may not exceed this. */
  max: number;
  reason: string;
}

export interface CompositeScore {
  /** 0–100, rounded to an integer. */
  score: number;
  /** Before rounding and caps. */
  weighted: number;
  band: Band;
  /** Rounded sub-scores. */
  subscores: Record<Dimension, number>;
  ratings: Record<Dimension, Rating>;
  /** Caps that applied (lowered or held the score). */
  caps: ScoreCap[];
}

export interface CapInput {
  w24h: Counts;
  w7d: Counts;
  /** The number's counts per carrier: one carrier blocking ≥ caps.blockRatio of its calls caps too. */
  carriers?: Record<string, { '24h': Counts; '7d': Counts }>;
  /** Engines whose label is not benign, with the label. */
  labels: Array<{ engine: string; label: string }>;
}

export function scoreCaps(inp: CapInput, cfg: ReputationConfig): ScoreCap[] {
  const caps: ScoreCap[] = [];
  for (const [name, w] of [['24h', inp.w24h], ['7d', inp.w7d]] as const) {
    if (w.calls > 0 && w.blocked > 0 && w.blocked / w.calls >= cfg.caps.blockRatio) {
      caps.push({
        kind: 'blocked',
        max: cfg.caps.blockedMax,
        reason: `block ratio ${((w.blocked / w.calls) * 100).toFixed(1)} % over ${w.calls} calls (${name}) ≥ ${(cfg.caps.blockRatio * 100).toFixed(1)} %`,
      });
      break;
    }
  }
  if (!caps.length) {
    outer: for (const [car, wc] of Object.entries(inp.carriers ?? {}).sort((a, b) => a[0].localeCompare(b[0]))) {
      for (const name of ['24h', '7d'] as const) {
        const w = wc[name];
        if (w.blocked >= cfg.carrier.blockMinCount && w.blocked / w.calls >= cfg.caps.blockRatio) {
          caps.push({
            kind: 'blocked',
            max: cfg.caps.blockedMax,
            reason: `${car} blocks ${((w.blocked / w.calls) * 100).toFixed(1)} % of ${w.calls} calls (${name}) ≥ ${(cfg.caps.blockRatio * 100).toFixed(1)} %`,
          });
          break outer;
        }
      }
    }
  }
  if (inp.labels.length) {
    caps.push({
      kind: 'labelled',
      max: cfg.caps.labelledMax,
      reason: `labelled ${inp.labels.map((l) => `${l.label} by ${l.engine}`).join(', ')}`,
    });
  }
  return caps;
}

export function composite(subs: Subscores, caps: ScoreCap[], cfg: ReputationConfig): CompositeScore {
  let wsum = 0;
  let acc = 0;
  for (const d of DIMENSIONS) {
    wsum += cfg.weights[d];
    acc += cfg.weights[d] * subs[d].score;
  }
  const weighted = wsum > 0 ? acc / wsum : 0;
  const max = caps.reduce((m, c) => Math.min(m, c.max), 100);
  const score = Math.round(Math.min(weighted, max));
  const rounded = {} as Record<Dimension, number>;
  const ratings = {} as Record<Dimension, Rating>;
  for (const d of DIMENSIONS) {
    rounded[d] = Math.round(subs[d].score);
    ratings[d] = rate(rounded[d], cfg);
  }
  return { score, weighted, band: band(score, cfg), subscores: rounded, ratings, caps };
}

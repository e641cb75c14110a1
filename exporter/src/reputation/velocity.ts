// Pacing (docs/scoring.md §8): calls against the hourly and daily caps. Over a cap is a cause of labels, not
// evidence that consumers or carriers react: it recommends slow_down and never changes the status.

import type { ReputationConfig } from './config.js';
import type { Counts } from './math.js';

export interface Velocity {
  calls1h: number | null;
  calls24h: number;
  /** Calls in the last 72 h, when known (sustained pacing). */
  calls72h: number | null;
  hourlyCap: number;
  dailyCap: number;
  overHourly: boolean;
  /** Over the daily cap in the last 24 h and over `sustainedDays` days' cap in 72 h: not a one-day spike. */
  overDaily: boolean;
}

export function velocity(w1h: Counts | null | undefined, w24h: Counts, cfg: ReputationConfig, w72h?: Counts | null): Velocity {
  const calls1h = w1h ? w1h.calls : null;
  const calls72h = w72h ? w72h.calls : null;
  const v = cfg.velocity;
  return {
    calls1h,
    calls24h: w24h.calls,
    calls72h,
    hourlyCap: v.hourlyCap,
    dailyCap: v.dailyCap,
    overHourly: calls1h !== null && calls1h > v.hourlyCap,
    overDaily: w24h.calls > v.dailyCap && (calls72h === null || calls72h > v.sustainedDays * v.dailyCap),
  };
}

export function velocityReason(v: Velocity): string | null {
  const parts: string[] = [];
  if (v.overHourly) parts.push(`${v.calls1h} calls in the last hour over the ${v.hourlyCap}/hour cap`);
  if (v.overDaily) {
    const sustained = v.calls72h === null ? '' : ` (${v.calls72h} in 72h)`;
    parts.push(`${v.calls24h} calls in 24h${sustained} over the ${v.dailyCap}/day cap`);
  }
  return parts.length ? parts.join(', ') : null;
}

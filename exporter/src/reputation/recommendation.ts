// Recommendation (docs/scoring.md §8): keep | slow_down | rest (until) | retire | remediate (engine),
// with a reason that names the figures.

import type { ReputationConfig } from './config.js';
import type { Band } from './score.js';
import type { Signal } from './signals.js';
import type { Status } from './status.js';
import { velocityReason, type Velocity } from './velocity.js';

export const ACTIONS = ['keep', 'slow_down', 'rest', 'retire', 'remediate'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Recommendation {
  action: Action;
  reason: string;
  /** End of the rest period (UTC ms) when action is `rest`, else null. */
  until: number | null;
  /** The engine to open a review with when action is `remediate`, else null. */
  engine: string | null;
}

export interface RecommendationInput {
  now: number;
  status: Status;
  statusReason: string;
  score: number;
  band: Band;
  /** Non-benign labels, most relevant first. */
  labels: Array<{ engine: string; label: string; checked_at?: string | null }>;
  signals: Signal[];
  velocity: Velocity;
  calls7d: number;
  /** Answer ratio 7d, for the keep reason. */
  answerRatio7d: number | null;
  /** Pool or carrier events the number is exposed to (their reasons), for the keep reason. */
  events?: string[];
}

const DAY = 86_400_000;

export function recommend(inp: RecommendationInput, cfg: ReputationConfig): Recommendation {
  const rest = (reason: string): Recommendation => {
    const until = inp.now + cfg.restDays * DAY;
    return { action: 'rest', reason: `${reason}; rest ${cfg.restDays} days until ${new Date(until).toISOString().slice(0, 10)}`, until, engine: null };
  };
  const vr = velocityReason(inp.velocity);

  if (inp.labels.length) {
    const l = inp.labels[0]!;
    const when = l.checked_at ? ` (checked ${String(l.checked_at).slice(0, 10)})` : '';
    const more = inp.labels.length > 1 ? `, also ${inp.labels.slice(1).map((x) => `${x.label} by ${x.engine}`).join(', ')}` : '';
    return {
      action: 'remediate',
      reason: `labelled ${l.label} by ${l.engine}${when}${more}: open a review with ${l.engine === 'other' ? 'the labelling engine' : l.engine} and stop dialling until it clears`,
      until: null,
      engine: l.engine,
    };
  }
  if (inp.status === 'spam') {
    if (inp.band === 'critical') return { action: 'retire', reason: `${inp.statusReason}; score ${inp.score}: rotate out of the pool`, until: null, engine: null };
    return rest(`${inp.statusReason}; score ${inp.score}`);
  }
  if (inp.status === 'mixed') {
    const blocked = inp.signals.some((s) => s.met && s.effect === 'flagged');
    if (blocked || inp.band === 'critical') return rest(`${inp.statusReason}; score ${inp.score}`);
    return { action: 'slow_down', reason: `${inp.statusReason}${vr ? `; ${vr}` : ''}: slow down before it is labelled`, until: null, engine: null };
  }
  // Pacing: over a cap recommends slow_down whatever the status; it is a cause, not a verdict on the number.
  if (vr) return { action: 'slow_down', reason: `${inp.status === 'in_progress' ? `${inp.statusReason}, but ` : ''}${vr}`, until: null, engine: null };
  if (inp.status === 'in_progress') return { action: 'keep', reason: inp.statusReason, until: null, engine: null };
  const ans = inp.answerRatio7d === null ? 'n/a' : `${Math.round(inp.answerRatio7d * 100)} %`;
  const ext = inp.events?.length ? `; ${inp.events.join('; ')}: external, not this number` : '';
  return {
    action: 'keep',
    reason: `score ${inp.score} (${inp.band}), answer rate ${ans} over ${inp.calls7d} calls in 7d, no early warning, block or label${ext}`,
    until: null,
    engine: null,
  };
}

/** A number's recipient fatigue as far as a reason needs it (stats/fatigue.ts FatigueScope). */
export interface FatigueFacts {
  cap: number;
  '24h': { consumers_over_cap: number; attempts_over_cap: number };
}

/**
 * The reason names recipient fatigue when the number called consumers more than the daily cap in the last 24 h
 * (docs/metrics.md#recipient-fatigue). The action stays the engine's: /metrics and the JSON agree on it.
 */
export function withFatigueReason<R extends { reason: string }>(r: R, f: FatigueFacts): R {
  const w = f['24h'];
  if (w.consumers_over_cap <= 0) return r;
  const who = w.consumers_over_cap === 1 ? '1 consumer' : `${w.consumers_over_cap} consumers`;
  return { ...r, reason: `${r.reason}; ${who} called more than ${f.cap} times in 24h (${w.attempts_over_cap} calls over the cap): recipient fatigue, dial them less` };
}

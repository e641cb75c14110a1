import { Rating, Status, StatusOrUnknown, Action } from '../types';

/** docs/scoring.md: good ≥ 80, normal ≥ 60, poor ≥ 40, very_poor below. */
export function ratingFor(subscore: number | null | undefined): Rating | null {
  if (subscore === null || subscore === undefined || !Number.isFinite(subscore)) {
    return null;
  }
  if (subscore >= 80) {
    return 'good';
  }
  if (subscore >= 60) {
    return 'normal';
  }
  if (subscore >= 40) {
    return 'poor';
  }
  return 'very_poor';
}

export type ScoreBand = 'excellent' | 'degraded' | 'critical';

/** docs/scoring.md bands: 80–100 excellent, 50–79 degraded, 0–49 critical (thresholds are panel options). */
export function scoreBand(score: number, bands: { excellent: number; critical: number }): ScoreBand {
  if (score >= bands.excellent) {
    return 'excellent';
  }
  if (score >= bands.critical) {
    return 'degraded';
  }
  return 'critical';
}

export const STATUS_LABEL: Record<StatusOrUnknown, string> = {
  healthy: 'Healthy',
  mixed: 'Mixed',
  spam: 'Spam',
  in_progress: 'In progress',
  unknown: 'Unknown',
};

/** Sort order for "worst first": spam, mixed, in progress, healthy, unknown last. */
export const STATUS_SEVERITY: Record<StatusOrUnknown, number> = {
  spam: 0,
  mixed: 1,
  in_progress: 2,
  healthy: 3,
  unknown: 4,
};

export const ACTION_LABEL: Record<Action, string> = {
  keep: 'Keep',
  slow_down: 'Slow down',
  rest: 'Rest',
  retire: 'Retire',
  remediate: 'Remediate',
};

/** Most urgent first. */
export const ACTION_SEVERITY: Record<Action, number> = {
  retire: 0,
  remediate: 1,
  rest: 2,
  slow_down: 3,
  keep: 4,
};

export const RATING_LABEL: Record<Rating, string> = {
  good: 'good',
  normal: 'normal',
  poor: 'poor',
  very_poor: 'very poor',
};

export function isStatus(s: string): s is Status {
  return s === 'healthy' || s === 'mixed' || s === 'spam' || s === 'in_progress';
}

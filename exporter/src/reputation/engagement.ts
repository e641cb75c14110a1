// The operators' second situation, "declining score, stable answers" (docs/scoring.md §7.1), read through the
// dialer's dispositions: recipients still answer this number as often as before, but the people reached
// convert less. That points at the list, the script or the offer — not at how carriers and analytics engines
// treat the number, so resting or rotating it would not help. Pure; context only (never changes the status).

import type { ReputationConfig } from './config.js';
import { newcombeLower, pct, type Counts } from './math.js';
import type { Signal } from './signals.js';

/** The dispositions a window held: people reached (conversions included) and conversions. */
export interface ConversionCounts {
  connected_human: number;
  conversions: number;
}

export interface EngagementInput {
  w24h: Counts;
  w7d: Counts;
  /** Dispositions of the number in 24h and 7d; absent when its records carried none. */
  dispositions?: { '24h'?: ConversionCounts | null; '7d'?: ConversionCounts | null } | null;
}

/**
 * The `conversion_drop` signal: the last 24h against the 6 days before. Met when the answer rate held (within
 * `diagnosis.stableAnswerPoints`) while the conversion ratio fell by at least `diagnosis.conversionDropPoints`
 * and the fall is beyond chance (Newcombe's lower bound of the difference above 0 at `diagnosis.z`), with
 * `diagnosis.minPeopleReached` people reached on each side. Null when the records carry no dispositions.
 */
export function conversionDrop(inp: EngagementInput, cfg: ReputationConfig): Signal | null {
  const d24 = inp.dispositions?.['24h'];
  const d7 = inp.dispositions?.['7d'];
  if (!d7 || d7.connected_human <= 0) return null;
  const c = cfg.diagnosis;
  const recentHuman = d24?.connected_human ?? 0;
  const recentConv = d24?.conversions ?? 0;
  const beforeHuman = d7.connected_human - recentHuman;
  const beforeConv = d7.conversions - recentConv;
  const base = { name: 'conversion_drop', window: '24h', threshold: c.conversionDropPoints / 100, direction: '>' as const, effect: 'context' as const };
  if (recentHuman < c.minPeopleReached || beforeHuman < c.minPeopleReached) {
    return {
      ...base,
      value: null,
      met: false,
      reason: `conversions not compared: ${recentHuman} people reached in 24h and ${beforeHuman} in the 6 days before, ${c.minPeopleReached} needed on each side`,
    };
  }
  const recent = recentConv / recentHuman;
  const before = beforeConv / beforeHuman;
  const drop = before - recent;
  const beforeCalls = inp.w7d.calls - inp.w24h.calls;
  const answer24 = inp.w24h.calls > 0 ? inp.w24h.answered / inp.w24h.calls : null;
  const answerBefore = beforeCalls > 0 ? (inp.w7d.answered - inp.w24h.answered) / beforeCalls : null;
  const answersStable = answer24 !== null && answerBefore !== null && Math.abs(answer24 - answerBefore) * 100 <= c.stableAnswerPoints;
  const lower = newcombeLower(beforeConv, beforeHuman, recentConv, recentHuman, c.z);
  const beyondChance = lower !== null && lower > 0;
  const met = answersStable && beyondChance && drop * 100 >= c.conversionDropPoints;
  const answers =
    answer24 === null || answerBefore === null
      ? 'answers not comparable'
      : `answers ${answersStable ? 'stable' : 'moved'} (${pct(answer24)} in 24h vs ${pct(answerBefore)} before)`;
  const conversions = `conversions ${pct(recent)} of ${recentHuman} people reached in 24h vs ${pct(before)} of ${beforeHuman} before`;
  const reason = met
    ? `${answers}, ${conversions}: the list, script or offer, not the number's reputation — check the campaign before resting the number`
    : `${answers}; ${conversions}${beyondChance || drop <= 0 ? '' : ' (within chance)'}`;
  return { ...base, value: drop, met, reason };
}

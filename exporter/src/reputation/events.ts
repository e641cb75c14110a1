// Pool and carrier events (docs/scoring.md §6.4): a move shared by the whole pool, or by every number on one
// carrier (a holiday, an outage, a list change for everyone), is reported once as an event, not as a
// reputation problem of each number. Carrier `*` is the pool over every carrier.

import type { ReputationConfig } from './config.js';
import type { Baselines } from './carrierFlag.js';
import { pct, subCounts, type Counts } from './math.js';

export const EVENT_KINDS = ['answer_drop', 'refusal_rise'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
/** The carrier label of a pool-wide event. */
export const ALL_CARRIERS = '*';

export interface CarrierEvent {
  carrier: string;
  event: EventKind;
  active: boolean;
  /** Points: the answer-rate fall or the refusal-share rise, 24h against the 6 days before. */
  points: number | null;
  reason: string;
}

const refusals = (c: Counts) => c.cancelled + c.rejected;

function eventsOf(carrier: string, w24h: Counts, w7d: Counts, cfg: ReputationConfig): CarrierEvent[] {
  const e = cfg.events;
  const prior = subCounts(w7d, w24h);
  const where = carrier === ALL_CARRIERS ? 'pool-wide' : `on ${carrier} pool-wide`;
  const enough = w24h.calls >= e.minCalls && prior.calls >= e.minCalls;
  const drop = enough ? 100 * (prior.answered / prior.calls - w24h.answered / w24h.calls) : null;
  const rise = enough ? 100 * (refusals(w24h) / w24h.calls - refusals(prior) / prior.calls) : null;
  return [
    {
      carrier,
      event: 'answer_drop',
      active: drop !== null && drop > e.answerDropPoints,
      points: drop,
      reason: drop === null ? `too few calls ${where} to judge` : `answer rate ${where} ${pct(w24h.answered / w24h.calls)} in 24h vs ${pct(prior.answered / prior.calls)} over the 6 days before (fell ${drop.toFixed(0)} points)`,
    },
    {
      carrier,
      event: 'refusal_rise',
      active: rise !== null && rise > e.refusalRisePoints,
      points: rise,
      reason: rise === null ? `too few calls ${where} to judge` : `487 + declined/busy ${where} ${pct(refusals(w24h) / w24h.calls)} in 24h vs ${pct(refusals(prior) / prior.calls)} over the 6 days before (rose ${rise.toFixed(0)} points)`,
    },
  ];
}

/** Every carrier's events and the pool's (carrier `*`), active or not, sorted by carrier. */
export function carrierEvents(b: Baselines, cfg: ReputationConfig): CarrierEvent[] {
  const out = eventsOf(ALL_CARRIERS, b.pool['24h'], b.pool['7d'], cfg);
  for (const c of Object.keys(b.carriers).sort()) out.push(...eventsOf(c, b.carriers[c]!['24h'], b.carriers[c]!['7d'], cfg));
  return out;
}

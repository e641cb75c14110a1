// Test helpers: build docs/architecture.md#kpis Kpis from outcome counts.
import type { Kpis, OutcomeCounts } from '../../src/model/types.js';
import { OUTCOMES } from '../../src/model/types.js';

export interface Traffic extends Partial<OutcomeCounts> {
  /** Answered calls shorter than 10 s. */
  short?: number;
  /** Mean talk seconds of answered calls. */
  talk?: number;
}

export function kpis(t: Traffic = {}): Kpis {
  const outcomes = {} as OutcomeCounts;
  let calls = 0;
  for (const o of OUTCOMES) {
    outcomes[o] = t[o] ?? 0;
    calls += outcomes[o];
  }
  const r = (x: number) => (calls > 0 ? x / calls : null);
  const answered = outcomes.answered;
  return {
    calls,
    answered,
    answer_ratio: r(answered),
    cancel_ratio: r(outcomes.cancelled),
    rejection_ratio: r(outcomes.rejected + outcomes.busy),
    block_ratio: r(outcomes.blocked),
    voicemail_ratio: r(outcomes.voicemail),
    short_call_ratio: answered > 0 ? (t.short ?? 0) / answered : null,
    avg_talk_seconds: answered > 0 ? (t.talk ?? 60) : null,
    outcomes,
  };
}

/** Sum two traffics (ratios recomputed; talk averaged by answered). */
export function plus(a: Traffic, b: Traffic): Traffic {
  const out: Traffic = {};
  for (const o of OUTCOMES) out[o] = (a[o] ?? 0) + (b[o] ?? 0);
  out.short = (a.short ?? 0) + (b.short ?? 0);
  const aa = a.answered ?? 0;
  const ba = b.answered ?? 0;
  out.talk = aa + ba > 0 ? ((a.talk ?? 60) * aa + (b.talk ?? 60) * ba) / (aa + ba) : 60;
  return out;
}

/** n calls with the given shares; the remainder is no_answer. */
export function mix(n: number, shares: Partial<Record<keyof OutcomeCounts, number>>, extra: { shortShare?: number; talk?: number } = {}): Traffic {
  const t: Traffic = {};
  let used = 0;
  for (const o of OUTCOMES) {
    if (o === 'no_answer') continue;
    const v = Math.round((shares[o] ?? 0) * n);
    t[o] = v;
    used += v;
  }
  t.no_answer = n - used;
  t.short = Math.round((extra.shortShare ?? 0.05) * (t.answered ?? 0));
  t.talk = extra.talk ?? 90;
  return t;
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const NOW = Date.parse('2026-11-22T09:00:00Z');

import { describe, expect, it } from 'vitest';
import { assessNumber, type Assessment, type NumberInput } from '../../src/reputation/assess.js';
import { carrierBaselines } from '../../src/reputation/carrierFlag.js';
import { DEFAULT_REPUTATION_CONFIG, parseReputationConfig, type ReputationConfig } from '../../src/reputation/config.js';
import { OUTCOMES, type OutcomeCounts } from '../../src/model/types.js';
import { kpis, plus, type Traffic } from './helpers.js';
import { mulberry32 } from '../../src/sim/rng.js';

// /metrics re-assesses a number after the pool baselines moved only when Assessment.pooled says its
// outcome may depend on them. Pinned here: whenever `pooled` is false, any two baselines give the same
// score, sub-scores, ratings, band, status, action and rest date, carrier flags, engine flags and report ratio.

/** Deterministic PRNG. */
const rng = mulberry32;

const CARRIERS = ['att', 'tmobile', 'verizon'];
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12);

function traffic(r: () => number, max: number): Traffic {
  const n = Math.floor(r() * (max + 1));
  const t: Traffic = {};
  // Skewed mixes so that cancels, blocks, rejections and low answer rates all occur.
  const w = OUTCOMES.map(() => r() ** 3);
  const sum = w.reduce((a, b) => a + b, 0) || 1;
  let used = 0;
  OUTCOMES.forEach((o, i) => {
    const v = i === OUTCOMES.length - 1 ? n - used : Math.min(n - used, Math.round((w[i] / sum) * n));
    (t as Record<keyof OutcomeCounts, number>)[o] = v;
    used += v;
  });
  t.short = Math.floor(r() * ((t.answered ?? 0) + 1));
  t.talk = 5 + r() * 120;
  return t;
}

/** A number's own traffic per carrier (24h and the prior 6 days), at most `max` calls per carrier and period. */
function numberInput(r: () => number, max: number): NumberInput {
  const carriers: NumberInput['carriers'] = {};
  let d24: Traffic = {};
  let d7: Traffic = {};
  for (const c of CARRIERS) {
    if (r() < 0.3) continue;
    const last = traffic(r, max);
    const prior = traffic(r, max);
    const week = plus(last, prior);
    carriers[c] = { '24h': kpis(last), '7d': kpis(week) };
    d24 = plus(d24, last);
    d7 = plus(d7, week);
  }
  const labelled = r() < 0.1;
  return {
    number: '+12025550100',
    windows: { '1h': kpis(traffic(r, 3)), '24h': kpis(d24), '7d': kpis(d7) },
    carriers,
    firstSeen: NOW - Math.floor(r() * 60) * DAY,
    lastSeen: NOW - 60_000,
    engines: labelled ? { hiya: { label: r() < 0.5 ? 'spam' : 'clean', reports: Math.floor(r() * 5) } } : r() < 0.2 ? { tns: { label: 'clean', reports: Math.floor(r() * 3) } } : undefined,
  };
}

/** Pool-wide per-carrier traffic (includes the number's own, as the exporter's snapshot does). */
function baselines(r: () => number, own: NumberInput) {
  const per: Record<string, { '24h': ReturnType<typeof kpis>; '7d': ReturnType<typeof kpis> }> = {};
  for (const c of CARRIERS) {
    if (r() < 0.15) continue;
    const scale = r() < 0.3 ? 10 : 2000; // thin pools use the default baseline
    const last = traffic(r, scale);
    const week = plus(last, traffic(r, scale * 6));
    const mine = own.carriers?.[c];
    const t24 = mine ? plus(last, fromKpis(mine['24h']!)) : last;
    const t7 = mine ? plus(week, fromKpis(mine['7d']!)) : week;
    per[c] = { '24h': kpis(t24), '7d': kpis(t7) };
  }
  return carrierBaselines(per);
}

function fromKpis(k: ReturnType<typeof kpis>): Traffic {
  return { ...k.outcomes, short: Math.round((k.short_call_ratio ?? 0) * k.answered), talk: k.avg_talk_seconds ?? 60 };
}

/** What /metrics renders from an assessment. */
function outcome(a: Assessment) {
  const carriers: Record<string, string> = {};
  for (const [c, v] of Object.entries(a.carriers)) carriers[c] = v.flag;
  return {
    score: a.score, band: a.band, subscores: a.subscores, ratings: a.ratings, status: a.status,
    action: a.recommendation.action, until: a.recommendation.until, carriers, engines: a.engineFlagged, reportRatio: a.reportRatio,
  };
}

/** Each gate in turn the loosest (the others shut), so that each one of readsBaselines' checks is needed. */
const shut = { connection: { cancelMinCalls: 400, dropMinCalls: 400 }, signals: { minCalls: 400 }, carrier: { minCalls: 400 } };
const only = (o: { connection?: object; signals?: object; carrier?: object }) =>
  parseReputationConfig({
    connection: { ...shut.connection, ...o.connection },
    signals: { ...shut.signals, ...o.signals },
    carrier: { ...shut.carrier, baselineMinCalls: 5, ...o.carrier },
  });
const configs: [string, ReputationConfig][] = [
  ['default', DEFAULT_REPUTATION_CONFIG],
  ['cancel penalty gate', only({ connection: { cancelMinCalls: 6 } })],
  ['answer drop gate', only({ connection: { dropMinCalls: 3 } })],
  ['signals gate', only({ signals: { minCalls: 5 } })],
  ['carrier gate', only({ carrier: { minCalls: 4 } })],
];

describe('Assessment.pooled: the outcome does not depend on the baselines when false', () => {
  for (const [name, cfg] of configs) {
    it(`random numbers and baselines (${name} config)`, () => {
      const r = rng(name.length * 7919);
      let free = 0;
      let pooledDiffered = 0;
      for (let i = 0; i < 3000; i++) {
        const inp = numberInput(r, i % 3 === 0 ? 30 : 9);
        const a = assessNumber(inp, { now: NOW, config: cfg, baselines: baselines(r, inp) });
        const b = assessNumber(inp, { now: NOW, config: cfg, baselines: baselines(r, inp) });
        expect(b.pooled).toBe(a.pooled); // a function of the number's own counts
        const c = assessNumber(inp, { now: NOW, config: cfg }); // no pool at all
        if (!a.pooled) {
          free++;
          expect(outcome(b), `input ${i}`).toEqual(outcome(a));
          expect(outcome(c), `input ${i}, empty baselines`).toEqual(outcome(a));
        } else if (JSON.stringify(outcome(a)) !== JSON.stringify(outcome(b))) pooledDiffered++;
      }
      // Both sides must be exercised: numbers that never read the baselines, and numbers whose outcome moved with them.
      expect(free).toBeGreaterThan(100);
      expect(pooledDiffered).toBeGreaterThan(30);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig } from '../../src/reputation/config.js';
import { countsOf, piecewise, ZERO_COUNTS, type Counts } from '../../src/reputation/math.js';
import {
  answerDropPoints,
  blockPenaltyCurve,
  connectionCurve,
  connectionScore,
  engagementScore,
  maturityScore,
  rate,
  rejectionPenaltyCurve,
  reportPenaltyCurve,
  reportRatio,
  sentimentScore,
  shortCallCurve,
  steadiness,
  talkCurve,
  velocityOver,
  type SubscoreInput,
} from '../../src/reputation/subscores.js';
import { kpis, mix } from './helpers.js';

/** No shrinkage: sub-scores read the raw ratios, so band edges are exact. */
const RAW = parseReputationConfig({
  smoothing: { pseudoCalls: 0, pseudoAnswered: 0 },
});

const C = (t: Parameters<typeof kpis>[0]): Counts => countsOf(kpis(t));
const input = (over: Partial<SubscoreInput>): SubscoreInput => ({
  w24h: { ...ZERO_COUNTS },
  w7d: { ...ZERO_COUNTS },
  ageDays: 90,
  labelled: false,
  ...over,
});

describe('ratings', () => {
  it('good ≥ 80, normal ≥ 60, poor ≥ 40, very_poor below', () => {
    expect(rate(100, D)).toBe('good');
    expect(rate(80, D)).toBe('good');
    expect(rate(79.99, D)).toBe('normal');
    expect(rate(60, D)).toBe('normal');
    expect(rate(59.99, D)).toBe('poor');
    expect(rate(40, D)).toBe('poor');
    expect(rate(39.99, D)).toBe('very_poor');
    expect(rate(0, D)).toBe('very_poor');
  });
});

describe('connection', () => {
  const curve = connectionCurve(D.connection);
  it('maps the answer-ratio bands onto the rating edges', () => {
    expect(piecewise(0, curve)).toBe(0);
    expect(piecewise(0.25, curve)).toBe(40); // alert below 25 % → very_poor
    expect(piecewise(0.2499, curve)).toBeLessThan(40);
    expect(piecewise(0.4, curve)).toBeCloseTo(80, 10); // healthy from 40 % → good
    expect(piecewise(0.3999, curve)).toBeLessThan(80);
    expect(piecewise(0.6, curve)).toBe(100);
    expect(piecewise(0.9, curve)).toBe(100);
  });

  it('scores the 7d answer ratio (raw when shrinkage is off)', () => {
    const w = C({ answered: 40, no_answer: 60 });
    expect(connectionScore(input({ w7d: w, w24h: { ...ZERO_COUNTS } }), RAW).score).toBeCloseTo(80, 8);
  });

  it('shrinks small samples toward the prior', () => {
    const none = connectionScore(input({}), D);
    expect(none.parts.answer_ratio_smoothed).toBeCloseTo(0.35, 10);
    expect(none.score).toBeCloseTo(piecewise(0.35, curve), 10);
    const three = connectionScore(input({ w7d: C({ answered: 3 }) }), D);
    expect(three.parts.answer_ratio_smoothed).toBeCloseTo(6.5 / 13, 10);
  });

  it('a 24h drop of more than 10 points below the prior 6 days costs 2 points per point', () => {
    // prior 6 days: 200 calls, 100 answered (50 %); 24h: 100 calls.
    const prior = { answered: 100, no_answer: 100 };
    const at = (a24: number) => {
      const w24h = C({ answered: a24, no_answer: 100 - a24 });
      const w7d = C({ answered: prior.answered + a24, no_answer: prior.no_answer + 100 - a24 });
      return connectionScore(input({ w24h, w7d }), RAW);
    };
    expect(at(40).parts.drop_points).toBeCloseTo(10, 10);
    expect(at(40).parts.drop_penalty).toBe(0); // exactly 10 points: not a drop
    expect(at(39).parts.drop_penalty).toBeCloseTo(22, 8); // 11 points
    expect(at(20).parts.drop_penalty).toBe(50); // 30 points → capped at 50
    expect(at(39).score).toBeLessThan(at(40).score);
  });

  it('needs 20 calls in 24h and in the prior 6 days to judge a drop', () => {
    expect(answerDropPoints(C({ answered: 0, no_answer: 19 }), C({ answered: 50, no_answer: 69 }), 20)).toBeNull();
    expect(answerDropPoints(C({ no_answer: 20 }), C({ answered: 10, no_answer: 29 }), 20)).toBeNull();
    expect(answerDropPoints(C({ no_answer: 20 }), C({ answered: 10, no_answer: 30 }), 20)).toBeCloseTo(50, 10);
  });

  it('does not hold a pool-wide drop against the number', () => {
    const w24h = C({ answered: 20, no_answer: 80 });
    const w7d = C({ answered: 320, no_answer: 380 }); // prior 6 days 300/600 = 50 %, 24h 20 %
    const pool = { '24h': C({ answered: 200, no_answer: 800 }), '7d': C({ answered: 3200, no_answer: 3800 }) };
    const alone = connectionScore(input({ w24h, w7d }), RAW);
    const withPool = connectionScore(input({ w24h, w7d, pool }), RAW);
    expect(alone.parts.drop_penalty).toBe(50);
    expect(withPool.parts.pool_drop_points).toBeCloseTo(30, 8);
    expect(withPool.parts.own_drop_points).toBeCloseTo(0, 8);
    expect(withPool.parts.drop_penalty).toBe(0);
  });
});

describe('connection — 487s and blocks above the pool', () => {
  it('the first 5 points above the baseline are free, then 1 point per point, up to 30', () => {
    const at = (cancelled: number) => connectionScore(input({ w7d: C({ answered: 400, cancelled, no_answer: 600 - cancelled }) }), RAW);
    // No pool: the default baseline is 10 %.
    expect(at(150).parts.refused_baseline).toBe(0.1);
    expect(at(150).parts.cancel_penalty).toBe(0); // 15 % = baseline + 5
    expect(at(160).parts.cancel_penalty).toBeCloseTo(1, 8); // 16 %
    expect(at(300).parts.cancel_penalty).toBeCloseTo(15, 8); // 30 %
    expect(at(500).parts.cancel_penalty).toBe(30); // 50 %: capped
    expect(at(160).score).toBeCloseTo(at(150).score - 1, 8);
  });
  it('compares with the rest of the pool when it has enough calls, blocks counting as refusals', () => {
    const pool = { '24h': C({ answered: 40, cancelled: 4, no_answer: 56 }), '7d': C({ answered: 400, cancelled: 20, blocked: 20, no_answer: 560 }) };
    const r = connectionScore(input({ w7d: C({ answered: 400, cancelled: 60, blocked: 40, no_answer: 500 }), pool }), RAW);
    expect(r.parts.refused_baseline).toBeCloseTo(40 / 1000, 12);
    expect(r.parts.refused_ratio_smoothed).toBeCloseTo(0.1, 12);
    expect(r.parts.cancel_penalty).toBeCloseTo(1, 8); // 10 % − 4 % − 5 = 1 point
  });
  it('needs 20 calls in 7d, so a handful of 487s costs nothing', () => {
    expect(connectionScore(input({ w7d: C({ cancelled: 3 }) }), D).parts.cancel_penalty).toBe(0);
    expect(connectionScore(input({ w7d: C({ cancelled: 19 }) }), D).parts.cancel_penalty).toBe(0);
    expect(connectionScore(input({ w7d: C({ cancelled: 20 }) }), D).parts.cancel_penalty).toBe(30);
  });
});

describe('engagement', () => {
  it('short-call curve: ≤ 5 % → 100, 15 % → 60 (normal edge), 50 % → 0', () => {
    const c = shortCallCurve(D.engagement);
    expect(piecewise(0, c)).toBe(100);
    expect(piecewise(0.05, c)).toBe(100);
    expect(piecewise(0.15, c)).toBeCloseTo(60, 10);
    expect(piecewise(0.1501, c)).toBeLessThan(60);
    expect(piecewise(0.5, c)).toBe(0);
  });
  it('talk curve: 10 s → 20, 60 s (engaged) → 80, 120 s → 100', () => {
    const c = talkCurve(D.engagement);
    expect(piecewise(0, c)).toBe(0);
    expect(piecewise(10, c)).toBe(20);
    expect(piecewise(60, c)).toBe(80);
    expect(piecewise(120, c)).toBe(100);
    expect(piecewise(35, c)).toBe(50);
  });
  it('blends 60 % short calls, 40 % talk', () => {
    const r = engagementScore(input({ w7d: C({ answered: 100, short: 15, talk: 60 }) }), RAW);
    expect(r.score).toBeCloseTo(0.6 * 60 + 0.4 * 80, 8);
  });
  it('mostly short calls rate poor or very poor', () => {
    const r = engagementScore(input({ w7d: C({ answered: 100, no_answer: 100, short: 70, talk: 7 }) }), D);
    expect(rate(r.score, D)).toBe('very_poor');
    const half = engagementScore(input({ w7d: C({ answered: 100, short: 30, talk: 40 }) }), D);
    expect(['poor', 'very_poor']).toContain(rate(half.score, D));
  });
});

describe('sentiment', () => {
  it('rejection penalty: < 5 % costs < 10 (good), 5–15 % costs 10–40, > 15 % costs more than 40 (poor)', () => {
    const c = rejectionPenaltyCurve(D.sentiment);
    expect(piecewise(0.05, c)).toBe(10);
    expect(piecewise(0.15, c)).toBeCloseTo(40, 10);
    expect(piecewise(0.3, c)).toBeCloseTo(70, 10);
    expect(piecewise(0.6, c)).toBe(100);
  });
  it('block penalty grows to 60 at 20 % blocked', () => {
    const c = blockPenaltyCurve(D.sentiment);
    expect(piecewise(0.05, c)).toBeCloseTo(15, 10);
    expect(piecewise(0.2, c)).toBe(60);
  });
  it('report penalty: green < 0.5 % free, orange to 30 at 2 %, red beyond', () => {
    const c = reportPenaltyCurve(D.sentiment);
    expect(piecewise(0.004, c)).toBe(0);
    expect(piecewise(0.005, c)).toBe(0);
    expect(piecewise(0.02, c)).toBe(30);
    expect(piecewise(0.06, c)).toBe(60);
  });
  it('counts blocks as rejections too, and subtracts each penalty', () => {
    const w7d = C({ answered: 80, rejected: 5, busy: 5, blocked: 10 }); // refusal 20 %, blocks 10 %
    const r = sentimentScore(input({ w7d }), RAW);
    expect(r.parts.refusal_ratio_smoothed).toBeCloseTo(0.2, 10);
    expect(r.parts.rejection_penalty).toBeCloseTo(50, 8);
    expect(r.parts.block_penalty).toBeCloseTo(30, 8);
    expect(r.score).toBeCloseTo(20, 8);
  });
  it('reports are per delivered call; unknown reports cost nothing', () => {
    const w7d = C({ answered: 90, blocked: 10 });
    expect(reportRatio(2, w7d)).toBeCloseTo(2 / 90, 12);
    expect(reportRatio(null, w7d)).toBeNull();
    expect(reportRatio(3, C({ blocked: 4 }))).toBeNull();
    const clean = sentimentScore(input({ w7d: C({ answered: 1000 }) }), RAW);
    const reported = sentimentScore(input({ w7d: C({ answered: 1000 }), spamReports: 20 }), RAW);
    expect(clean.score).toBe(100);
    expect(reported.parts.report_penalty).toBeCloseTo(30, 8);
  });
  it('an engine label costs 60', () => {
    expect(sentimentScore(input({ w7d: C({ answered: 100 }), labelled: true }), RAW).score).toBe(40);
  });
});

describe('maturity', () => {
  it('age, depth and steady use in 50/30/20 shares', () => {
    const w7d = C({ answered: 100, no_answer: 50 });
    const r = maturityScore(input({ w7d, w24h: C({ answered: 14, no_answer: 7 }), ageDays: 45, activeDays7d: 7 }), D);
    expect(r.parts.age_part).toBe(50);
    expect(r.parts.depth_part).toBe(100);
    expect(r.parts.steady_part).toBe(100);
    expect(r.score).toBeCloseTo(0.5 * 50 + 0.3 * 100 + 0.2 * 100, 10);
  });
  it('unknown age earns nothing; age caps at 90 days', () => {
    expect(maturityScore(input({ ageDays: null }), D).parts.age_part).toBe(0);
    expect(maturityScore(input({ ageDays: 400 }), D).parts.age_part).toBe(100);
  });
  it('steady use from active days, else from the share of calls before the last 24h', () => {
    expect(steadiness({ w24h: C({}), w7d: C({}), activeDays7d: 3.5 })).toBe(0.5);
    expect(steadiness({ w24h: C({ answered: 10 }), w7d: C({ answered: 70 }) })).toBeCloseTo(1, 10);
    expect(steadiness({ w24h: C({ answered: 70 }), w7d: C({ answered: 70 }) })).toBe(0);
    expect(steadiness({ w24h: C({}), w7d: C({}) })).toBe(0);
  });
  it('velocity over the daily or hourly cap costs 1 point per 1 % over, up to 60', () => {
    const w7d = C({ answered: 500 });
    const at100 = maturityScore(input({ w7d, w24h: C({ answered: 100 }), activeDays7d: 7 }), D);
    const at150 = maturityScore(input({ w7d, w24h: C({ answered: 150 }), activeDays7d: 7 }), D);
    expect(at100.parts.velocity_penalty).toBe(0);
    expect(at150.parts.velocity_penalty).toBeCloseTo(50, 8);
    expect(at100.score - at150.score).toBeCloseTo(50, 8);
    expect(velocityOver({ w1h: C({ answered: 75 }), w24h: C({ answered: 75 }) }, D)).toBeCloseTo(0.5, 10);
    const burst = maturityScore(input({ w7d, w1h: C({ answered: 99 }), w24h: C({ answered: 99 }), activeDays7d: 7 }), D);
    expect(burst.parts.velocity_penalty).toBe(60);
  });
  it('uses mix() traffic sanely', () => {
    const t = mix(300, { answered: 0.4 });
    expect(countsOf(kpis(t)).calls).toBe(300);
  });
});

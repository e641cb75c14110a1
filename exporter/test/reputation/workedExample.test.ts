// The worked example of docs/scoring.md §10: every figure printed there is checked here.
import { describe, expect, it } from 'vitest';
import { assessNumber, assessmentJson } from '../../src/reputation/assess.js';
import { carrierBaselines } from '../../src/reputation/carrierFlag.js';
import { newcombeLower, wilsonLower } from '../../src/reputation/math.js';
import { DAY, kpis, NOW } from './helpers.js';
import { sum } from './scenario.js';

// The number's calls.
const tmo7 = { answered: 25, cancelled: 35, voicemail: 10, no_answer: 20, busy: 2, rejected: 3, failed: 5, short: 3, talk: 75 };
const att7 = { answered: 95, cancelled: 25, voicemail: 20, no_answer: 40, busy: 4, rejected: 6, failed: 10, short: 9, talk: 75 };
const tmo24 = { answered: 4, cancelled: 10, voicemail: 2, no_answer: 3, rejected: 1, short: 1, talk: 60 };
const att24 = { answered: 11, cancelled: 5, voicemail: 3, no_answer: 6, busy: 1, rejected: 1, failed: 3, short: 1, talk: 60 };
// The rest of the pool (every other number).
const restTmo7 = { answered: 400, cancelled: 90, voicemail: 100, no_answer: 330, busy: 20, rejected: 20, failed: 40 };
const restAtt7 = { answered: 800, cancelled: 160, voicemail: 200, no_answer: 680, busy: 40, rejected: 40, failed: 80 };
const restTmo24 = { answered: 60, cancelled: 14, voicemail: 15, no_answer: 49, busy: 3, rejected: 3, failed: 6 };
const restAtt24 = { answered: 120, cancelled: 24, voicemail: 30, no_answer: 102, busy: 6, rejected: 6, failed: 12 };

export const example = {
  input: {
    number: '+12025550101',
    windows: {
      '1h': kpis({ answered: 2, cancelled: 1, no_answer: 1, talk: 60 }),
      '24h': kpis(sum(tmo24, att24)),
      '7d': kpis(sum(tmo7, att7)),
    },
    carriers: {
      tmobile: { '24h': kpis(tmo24), '7d': kpis(tmo7) },
      att: { '24h': kpis(att24), '7d': kpis(att7) },
    },
    firstSeen: NOW - 45 * DAY,
    lastSeen: NOW - 60_000,
    activeDays7d: 6,
  },
  baselines: carrierBaselines({
    tmobile: { '24h': kpis(sum(restTmo24, tmo24)), '7d': kpis(sum(restTmo7, tmo7)) },
    att: { '24h': kpis(sum(restAtt24, att24)), '7d': kpis(sum(restAtt7, att7)) },
  }),
};

describe('docs/scoring.md worked example', () => {
  const a = assessNumber(example.input, { now: NOW, baselines: example.baselines });

  it('has the documented inputs', () => {
    expect(example.input.windows['7d']).toMatchObject({ calls: 300, answered: 120, outcomes: { cancelled: 60, rejected: 9, busy: 6, blocked: 0 } });
    expect(example.input.windows['7d'].short_call_ratio).toBeCloseTo(0.1, 12);
    expect(example.input.windows['7d'].avg_talk_seconds).toBeCloseTo(75, 12);
    expect(example.input.windows['24h']).toMatchObject({ calls: 50, answered: 15, outcomes: { cancelled: 15 } });
  });

  it('maturity 72.14 → 72 (normal)', () => {
    expect(a.detail.maturity.age_part).toBeCloseTo(50, 10);
    expect(a.detail.maturity.depth_part).toBe(100);
    expect(a.detail.maturity.steady_part).toBeCloseTo(85.714, 3);
    expect(a.detail.maturity.velocity_penalty).toBe(0);
    expect(a.subscores.maturity).toBe(72);
    expect(a.ratings.maturity).toBe('normal');
  });

  it('connection 79.57 − 24 (drop) − 6.29 (487s) = 49.28 → 49 (poor)', () => {
    const c = a.detail.connection;
    expect(c.answer_ratio_smoothed).toBeCloseTo(123.5 / 310, 12);
    expect(c.base).toBeCloseTo(79.5699, 4);
    expect(c.drop_points).toBeCloseTo(12, 10);
    expect(c.pool_drop_points).toBeCloseTo(0, 10);
    expect(c.drop_penalty).toBeCloseTo(24, 10);
    expect(c.refused_baseline).toBeCloseTo(250 / 3000, 12);
    expect(c.refused_ratio_smoothed).toBeCloseTo(60.8333 / 310, 6);
    expect(c.cancel_penalty).toBeCloseTo(6.2903, 4);
    expect(a.subscores.connection).toBe(49);
    expect(a.ratings.connection).toBe('poor');
  });

  it('engagement .6 × 80 + .4 × 84.6 = 81.84 → 82 (good)', () => {
    expect(a.detail.engagement.short_call_ratio_smoothed).toBeCloseTo(0.1, 12);
    expect(a.detail.engagement.short_part).toBeCloseTo(80, 10);
    expect(a.detail.engagement.avg_talk_smoothed).toBeCloseTo(73.8, 10);
    expect(a.detail.engagement.talk_part).toBeCloseTo(84.6, 10);
    expect(a.subscores.engagement).toBe(82);
    expect(a.ratings.engagement).toBe('good');
  });

  it('sentiment 100 − 9.81 = 90.19 → 90 (good)', () => {
    expect(a.detail.sentiment.refusal_ratio_smoothed).toBeCloseTo(15.2 / 310, 12);
    expect(a.detail.sentiment.rejection_penalty).toBeCloseTo(9.8065, 4);
    expect(a.subscores.sentiment).toBe(90);
    expect(a.ratings.sentiment).toBe('good');
  });

  it('score 72.40 → 72 (degraded), no caps', () => {
    expect(a.score).toBe(72);
    expect(a.band).toBe('degraded');
    expect(a.caps).toEqual([]);
  });

  it('tmobile warns in both windows, att is clean', () => {
    expect(a.carriers.tmobile!.windows['24h']).toEqual({
      flag: 'warning',
      kinds: ['cancel'],
      reason: '487 rate 50 % on tmobile vs 9 % pool baseline over 20 calls (24h; lower bound 30 %)',
    });
    // 25 % answered on tmobile (upper bound 34 %) is a dip, not a collapse: 40 % − 15 points = 25 %.
    expect(a.carriers.tmobile!.windows['7d']).toEqual({
      flag: 'warning',
      kinds: ['cancel'],
      reason: '487 rate 35 % on tmobile vs 9 % pool baseline over 100 calls (7d; lower bound 26 %)',
    });
    expect(a.carriers.att!.flag).toBe('clean');
  });

  it('own history: refusals rose on tmobile, but 20 calls are not yet evidence of it (docs/scoring.md §6.2)', () => {
    // tmobile: 11 of 20 refused (487 + rejected + busy) in 24h vs 29 of 80 over the prior 6 days: 55 % vs 36 %,
    // a 19-point rise whose lower bound (Newcombe, z 1.96) is −4.7 points, under the 3-point margin.
    expect(newcombeLower(11, 20, 29, 80, 1.96)!).toBeCloseTo(-0.047, 3);
    // att: 7 of 30 vs 28 of 170: 23 % vs 16 %, lower bound −6.3 points.
    expect(newcombeLower(7, 30, 28, 170, 1.96)!).toBeCloseTo(-0.063, 3);
    expect(a.carriers.tmobile!.windows['24h'].kinds).not.toContain('own_refusal');
    expect(a.carriers.att!.windows['24h'].flag).toBe('clean');
  });

  it('mixed: warnings in both windows, flagged in neither; slow down', () => {
    // 7d: 60 of 300 cancelled is 20 % (lower bound 15.9 %), not above 8.3 % + 10 points.
    expect(wilsonLower(60, 300, 1.96)).toBeLessThan(250 / 3000 + 0.1);
    expect(a.signals.map((s) => `${s.window} ${s.kind}${s.carrier ? ':' + s.carrier : ''}`)).toEqual([
      '24h carrier_warning:tmobile',
      '24h cancel',
      '7d carrier_warning:tmobile',
    ]);
    // The 12-point drop costs connection points, but over 50 calls it is not yet evidence: Newcombe's
    // lower bound of the difference is below 0, so there is no answer_drop signal.
    expect(newcombeLower(105, 250, 15, 50, 1.645)!).toBeCloseTo(-0.005, 3);
    expect(a.status).toBe('mixed');
    expect(a.recommendation.action).toBe('slow_down');
    expect(assessmentJson(a).recommendation).toEqual({
      action: 'slow_down',
      reason:
        '487 rate 50 % on tmobile vs 9 % pool baseline over 20 calls (24h; lower bound 30 %); 487 rate 30 % vs 8 % pool baseline over 50 calls (24h; lower bound 19 %); +1 more: slow down before it is labelled',
      until: null,
    });
  });
});

// The worked example of docs/scoring.md §10: every figure printed there is checked here.
import { describe, expect, it } from 'vitest';
import { assessNumber, assessmentJson } from '../../src/reputation/assess.js';
import { carrierBaselines } from '../../src/reputation/carrierFlag.js';
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

  it('no block or label: every carrier clean; the evidence on tmobile is far under the budget’s threshold', () => {
    expect(a.carriers.tmobile!.flag).toBe('clean');
    expect(a.carriers.att!.flag).toBe('clean');
    const ev = a.carriers.tmobile!.evidence!;
    expect(ev).toMatchObject({ window: '24h', calls: 20, priorCalls: 80, met: false });
    expect(ev.g).toBeCloseTo(5.25, 1);
    expect(ev.threshold).toBeCloseTo(25.3, 1);
    expect(a.signals.find((s) => s.name === 'outcome_shift' && s.carrier === 'tmobile')!.reason).toBe(
      '487 + declined/busy + short calls 60 % on tmobile in 24h vs 32 % expected from its earlier days, answered ≥ 10 s 15 % vs 28 % over 20 calls (80 before); evidence 5.3 ≤ 25.3',
    );
    // Over all carriers: 40 % vs 25 % over 50 calls, evidence 4.1.
    expect(a.signals.find((s) => s.name === 'outcome_shift' && !s.carrier)!.value).toBeCloseTo(4.1, 0);
  });

  it('healthy and kept: a degraded score with no early warning, block or label', () => {
    expect(a.status).toBe('healthy');
    expect(a.diagnosis).toBe('healthy');
    expect(assessmentJson(a).recommendation).toEqual({
      action: 'keep',
      reason: 'score 72 (degraded), answer rate 40 % over 300 calls in 7d, no early warning, block or label',
      until: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig } from '../../src/reputation/config.js';
import { countsOf } from '../../src/reputation/math.js';
import { recommend, type RecommendationInput } from '../../src/reputation/recommendation.js';
import { velocity } from '../../src/reputation/velocity.js';
import type { Signal } from '../../src/reputation/signals.js';
import { DAY, kpis, NOW } from './helpers.js';

const calm = velocity(countsOf(kpis({ answered: 2 })), countsOf(kpis({ answered: 40 })), D);
const base: RecommendationInput = {
  now: NOW,
  status: 'healthy',
  statusReason: 'no warnings over 300 calls in 7d',
  score: 87,
  band: 'excellent',
  labels: [],
  signals: [],
  velocity: calm,
  calls7d: 300,
  answerRatio7d: 0.43,
};
const warn: Signal = { name: 'outcome_shift', window: '48h', carrier: 'tmobile', value: 31.2, threshold: 25.9, direction: '>', met: true, effect: 'warning', reason: '487 + declined/busy + short calls 52 % on tmobile in 48h vs 21 % expected' };
const flag: Signal = { name: 'blocks', window: '7d', carrier: 'att', value: 3, threshold: 1, direction: '>', met: true, effect: 'flagged', reason: '3 blocked (608/603+) of 90 calls on att (3.3 %, 7d)' };

describe('recommendation', () => {
  it('keep a healthy number, naming score and answer rate', () => {
    expect(recommend(base, D)).toEqual({
      action: 'keep',
      reason: 'score 87 (excellent), answer rate 43 % over 300 calls in 7d, no early warning, block or label',
      until: null,
      engine: null,
    });
  });

  it('keep, naming a pool or carrier event as external', () => {
    expect(recommend({ ...base, events: ['answer rate pool-wide 25 % in 24h vs 43 % over the 6 days before (fell 18 points)'] }, D).reason).toBe(
      'score 87 (excellent), answer rate 43 % over 300 calls in 7d, no early warning, block or label; answer rate pool-wide 25 % in 24h vs 43 % over the 6 days before (fell 18 points): external, not this number',
    );
  });

  it('slow_down over the daily (sustained) or hourly cap, whatever the status', () => {
    const day = velocity(null, countsOf(kpis({ answered: 101 })), D, countsOf(kpis({ answered: 301 })));
    expect(day).toMatchObject({ overDaily: true, overHourly: false, calls1h: null });
    expect(recommend({ ...base, velocity: day }, D)).toMatchObject({ action: 'slow_down', reason: '101 calls in 24h (301 in 72h) over the 100/day cap' });
    expect(velocity(null, countsOf(kpis({ answered: 100 })), D).overDaily).toBe(false);
    // Over in 24h but not over 3 days' cap in 72h: a spike, not pacing.
    expect(velocity(null, countsOf(kpis({ answered: 150 })), D, countsOf(kpis({ answered: 300 }))).overDaily).toBe(false);
    const hour = velocity(countsOf(kpis({ answered: 51 })), countsOf(kpis({ answered: 51 })), D);
    expect(recommend({ ...base, velocity: hour }, D).reason).toBe('51 calls in the last hour over the 50/hour cap');
    const both = velocity(countsOf(kpis({ answered: 51 })), countsOf(kpis({ answered: 120 })), D);
    expect(recommend({ ...base, velocity: both }, D).reason).toBe(
      '51 calls in the last hour over the 50/hour cap, 120 calls in 24h over the 100/day cap',
    );
    const cfg = parseReputationConfig({ velocity: { dailyCap: 75, hourlyCap: 10 } });
    expect(velocity(null, countsOf(kpis({ answered: 76 })), cfg).overDaily).toBe(true);
  });

  it('slow_down on warnings only, naming the figures', () => {
    const r = recommend({ ...base, status: 'mixed', statusReason: warn.reason, signals: [warn], score: 72, band: 'degraded' }, D);
    expect(r).toEqual({
      action: 'slow_down',
      reason: '487 + declined/busy + short calls 52 % on tmobile in 48h vs 21 % expected: slow down before it is labelled',
      until: null,
      engine: null,
    });
  });

  it('rest when mixed with a flag, until now + rest days', () => {
    const r = recommend({ ...base, status: 'mixed', statusReason: flag.reason, signals: [flag], score: 70, band: 'degraded' }, D);
    expect(r.action).toBe('rest');
    expect(r.until).toBe(NOW + 30 * DAY);
    expect(r.reason).toBe('3 blocked (608/603+) of 90 calls on att (3.3 %, 7d); score 70; rest 30 days until 2026-12-22');
    const cfg = parseReputationConfig({ restDays: 14 });
    expect(recommend({ ...base, status: 'mixed', statusReason: flag.reason, signals: [flag], score: 70, band: 'degraded' }, cfg).until).toBe(NOW + 14 * DAY);
  });

  it('rest when mixed and critical even without a flag', () => {
    expect(recommend({ ...base, status: 'mixed', statusReason: warn.reason, signals: [warn], score: 45, band: 'critical' }, D).action).toBe('rest');
  });

  it('spam: retire when critical, rest otherwise', () => {
    expect(recommend({ ...base, status: 'spam', statusReason: 'flagged in 24h and 7d: x', signals: [flag], score: 31, band: 'critical' }, D)).toMatchObject({
      action: 'retire',
      reason: 'flagged in 24h and 7d: x; score 31: rotate out of the pool',
    });
    expect(recommend({ ...base, status: 'spam', statusReason: 'flagged in 24h and 7d: x', signals: [flag], score: 61, band: 'degraded' }, D).action).toBe('rest');
  });

  it('remediate with the named engine when labelled, before anything else', () => {
    const r = recommend(
      {
        ...base,
        status: 'spam',
        labels: [
          { engine: 'tns', label: 'telemarketer', checked_at: '2026-11-21T08:00:00Z' },
          { engine: 'other', label: 'spam' },
        ],
        velocity: velocity(null, countsOf(kpis({ answered: 300 })), D),
      },
      D,
    );
    expect(r).toEqual({
      action: 'remediate',
      reason: 'labelled telemarketer by tns (checked 2026-11-21), also spam by other: open a review with tns and stop dialling until it clears',
      until: null,
      engine: 'tns',
    });
  });

  it("names no engine called 'other'", () => {
    const r = recommend({ ...base, status: 'spam', labels: [{ engine: 'other', label: 'nuisance' }] }, D);
    expect(r).toMatchObject({ action: 'remediate', engine: 'other', reason: 'labelled nuisance by other: open a review with the labelling engine and stop dialling until it clears' });
  });

  it('in_progress keeps, unless over a cap', () => {
    expect(recommend({ ...base, status: 'in_progress', statusReason: '8 calls in 7d, fewer than 20 needed to judge' }, D)).toMatchObject({
      action: 'keep',
      reason: '8 calls in 7d, fewer than 20 needed to judge',
    });
    const hot = velocity(countsOf(kpis({ answered: 60 })), countsOf(kpis({ answered: 60 })), D);
    expect(recommend({ ...base, status: 'in_progress', statusReason: '8 calls in 7d, fewer than 20 needed to judge', velocity: hot }, D)).toMatchObject({
      action: 'slow_down',
      reason: '8 calls in 7d, fewer than 20 needed to judge, but 60 calls in the last hour over the 50/hour cap',
    });
  });

  // A blocked number is never in_progress any more (direct evidence needs no volume: decideStatus makes it mixed
  // or spam), so the old "in_progress slows down when a carrier blocks it" case is gone; see status.test.ts.
});

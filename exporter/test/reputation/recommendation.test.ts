import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig } from '../../src/reputation/config.js';
import { countsOf } from '../../src/reputation/math.js';
import { recommend, velocity, type RecommendationInput } from '../../src/reputation/recommendation.js';
import type { Signal } from '../../src/reputation/status.js';
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
const warn: Signal = { window: '24h', kind: 'carrier_warning', severity: 'warning', carrier: 'tmobile', reason: '487 rate 31 % on tmobile vs 9 % pool baseline over 64 calls (24h; lower bound 21 %)' };
const flag: Signal = { window: '7d', kind: 'carrier_flagged', severity: 'flag', carrier: 'att', reason: '3 blocked (608/603+) of 90 calls on att (3.3 %, 7d)' };

describe('recommendation', () => {
  it('keep a healthy number, naming score and answer rate', () => {
    expect(recommend(base, D)).toEqual({
      action: 'keep',
      reason: 'score 87 (excellent), answer rate 43 % over 300 calls in 7d, no warnings',
      until: null,
      engine: null,
    });
  });

  it('keep, noting a pool-wide drop as external', () => {
    expect(recommend({ ...base, poolDropPoints: 18.2 }, D).reason).toBe(
      'score 87 (excellent), answer rate 43 % over 300 calls in 7d, no warnings; answer rate fell 18 points pool-wide: external, not this number',
    );
    expect(recommend({ ...base, poolDropPoints: 10 }, D).reason).not.toContain('pool-wide');
  });

  it('slow_down over the daily or hourly cap', () => {
    const day = velocity(null, countsOf(kpis({ answered: 101 })), D);
    expect(day).toMatchObject({ overDaily: true, overHourly: false, calls1h: null });
    expect(recommend({ ...base, velocity: day }, D)).toMatchObject({ action: 'slow_down', reason: '101 calls in 24h over the 100/day cap' });
    expect(velocity(null, countsOf(kpis({ answered: 100 })), D).overDaily).toBe(false);
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
      reason: '487 rate 31 % on tmobile vs 9 % pool baseline over 64 calls (24h; lower bound 21 %): slow down before it is labelled',
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

  it('in_progress slows down when a carrier already blocks it', () => {
    const blocked: Signal = { window: '24h', kind: 'carrier_flagged', severity: 'flag', carrier: 'att', reason: '5 blocked (608/603+) of 8 calls on att (62.5 %, 24h)' };
    expect(recommend({ ...base, status: 'in_progress', statusReason: '8 calls in 7d, fewer than 20 needed to judge', signals: [blocked] }, D)).toEqual({
      action: 'slow_down',
      reason: '8 calls in 7d, fewer than 20 needed to judge, but 5 blocked (608/603+) of 8 calls on att (62.5 %, 24h)',
      until: null,
      engine: null,
    });
    const warnOnly: Signal = { ...blocked, severity: 'warning', kind: 'carrier_warning' };
    expect(recommend({ ...base, status: 'in_progress', signals: [warnOnly] }, D).action).toBe('keep');
  });
});

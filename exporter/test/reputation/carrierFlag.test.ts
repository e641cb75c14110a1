import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig } from '../../src/reputation/config.js';
import { countsOf, wilsonLower, type Counts } from '../../src/reputation/math.js';
import {
  baselineRatios,
  carrierBaselines,
  flagCarriers,
  flagCarrierWindow,
  worseFlag,
  type CarrierWindowInput,
} from '../../src/reputation/carrierFlag.js';
import { kpis, type Traffic } from './helpers.js';

const C = (t: Traffic): Counts => countsOf(kpis(t));
/** A pool on the carrier: 5000 calls with 8 % cancels, 4 % rejections, 40 % answered. */
const POOL_REST = C({ answered: 2000, cancelled: 400, rejected: 100, busy: 100, no_answer: 2400 });

const win = (own: Traffic, over: Partial<CarrierWindowInput> = {}): CarrierWindowInput => ({
  carrier: 'tmobile',
  window: '24h',
  own: C(own),
  rest: POOL_REST,
  ...over,
});

describe('carrier flag — Wilson test against the pool baseline', () => {
  it('3 calls never warn, whatever they are', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (cancelled, rejected, answered) => {
          const n = cancelled + rejected + answered;
          if (n === 0 || n > 3) return true;
          return flagCarrierWindow(win({ cancelled, rejected, answered }), D).flag === 'clean';
        },
      ),
    );
    expect(flagCarrierWindow(win({ cancelled: 3 }), D).reason).toBe('3 calls on tmobile (24h), fewer than 20 needed to judge');
  });

  it('fewer than 20 calls never warn, even all cancelled', () => {
    for (let n = 1; n < 20; n++) expect(flagCarrierWindow(win({ cancelled: n }), D).flag).toBe('clean');
    expect(flagCarrierWindow(win({ cancelled: 20 }), D).flag).toBe('warning');
  });

  it('200 calls with 30 % cancels vs an 8 % baseline warn, naming the figures', () => {
    const r = flagCarrierWindow(win({ cancelled: 60, answered: 80, no_answer: 60 }), D);
    expect(r.flag).toBe('warning');
    expect(r.kinds).toEqual(['cancel']);
    expect(r.reason).toBe('487 rate 30 % on tmobile vs 8 % pool baseline over 200 calls (24h; lower bound 24 %)');
  });

  it('12 % cancels over 200 calls is within noise of an 8 % baseline + 10 points', () => {
    expect(flagCarrierWindow(win({ cancelled: 24, answered: 80, no_answer: 96 }), D).flag).toBe('clean');
  });

  it('the test is "lower Wilson bound > baseline + margin"', () => {
    // Find the smallest cancel count over 100 calls that warns, and check it against the bound directly.
    let first = -1;
    for (let x = 0; x <= 100; x++) {
      if (flagCarrierWindow(win({ cancelled: x, answered: 40, no_answer: 60 - Math.min(60, x), failed: Math.max(0, x - 60) }), D).kinds.includes('cancel')) {
        first = x;
        break;
      }
    }
    expect(wilsonLower(first, 100, 1.96)).toBeGreaterThan(0.08 + 0.1);
    expect(wilsonLower(first - 1, 100, 1.96)).toBeLessThanOrEqual(0.08 + 0.1);
    expect(first).toBe(26);
  });

  it('rejection (rejected + busy) above the baseline warns', () => {
    const r = flagCarrierWindow(win({ rejected: 30, busy: 10, answered: 80, no_answer: 80 }), D);
    expect(r.flag).toBe('warning');
    expect(r.kinds).toEqual(['rejection']);
    expect(r.reason).toMatch(/^rejection rate 20 % on tmobile vs 4 % pool baseline over 200 calls/);
  });

  it('answer collapse on this carrier only warns; collapsing everywhere is not a carrier problem', () => {
    const own = { answered: 10, no_answer: 90 }; // 10 % vs 40 %
    const fineElsewhere = { counts: C({ answered: 45, no_answer: 55 }), expectedAnswer: 0.4 };
    const badElsewhere = { counts: C({ answered: 10, no_answer: 90 }), expectedAnswer: 0.4 };
    const a = flagCarrierWindow(win(own, { others: fineElsewhere }), D);
    expect(a.flag).toBe('warning');
    expect(a.kinds).toEqual(['answer_collapse']);
    expect(a.reason).toContain('answer rate 10 % on tmobile vs 40 % pool baseline over 100 calls');
    expect(a.reason).toContain('45 % on other carriers');
    expect(flagCarrierWindow(win(own, { others: badElsewhere }), D).flag).toBe('clean');
    expect(flagCarrierWindow(win(own, { others: null }), D).flag).toBe('warning');
  });

  it('falls back to the configured baseline when the pool is thin, and says so', () => {
    const b = baselineRatios(C({ answered: 10, cancelled: 10 }), D);
    expect(b).toMatchObject({ fallback: true, cancel: 0.1, answer: 0.35, rejection: 0.05 });
    expect(baselineRatios(POOL_REST, D)).toMatchObject({ fallback: false, cancel: 0.08, answer: 0.4, rejection: 0.04 });
    const r = flagCarrierWindow(win({ cancelled: 60, answered: 80, no_answer: 60 }, { rest: null }), D);
    expect(r.reason).toContain('vs 10 % default baseline');
  });
});

describe('carrier flag — blocks and labels', () => {
  it('one block warns, two (≥ 1 % of calls) flag', () => {
    const one = flagCarrierWindow(win({ blocked: 1, answered: 40, no_answer: 59 }), D);
    expect(one.flag).toBe('warning');
    expect(one.reason).toBe('1 blocked (608/603+) of 100 calls on tmobile (24h), below the flag threshold');
    const two = flagCarrierWindow(win({ blocked: 2, answered: 40, no_answer: 58 }), D);
    expect(two.flag).toBe('flagged');
    expect(two.reason).toBe('2 blocked (608/603+) of 100 calls on tmobile (2.0 %, 24h)');
    // 2 blocks in 1000 calls is 0.2 %: under the ratio threshold.
    expect(flagCarrierWindow(win({ blocked: 2, answered: 400, no_answer: 598 }), D).flag).toBe('warning');
  });

  it('blocks flag even on few calls', () => {
    expect(flagCarrierWindow(win({ blocked: 2, answered: 1 }), D).flag).toBe('flagged');
  });

  it("flags the carrier whose engine labels the number (att↔hiya, verizon↔tns, tmobile↔first_orion)", () => {
    const own = {
      att: { '24h': kpis({ answered: 5 }), '7d': kpis({ answered: 50 }) },
      verizon: { '24h': kpis({ answered: 5 }), '7d': kpis({ answered: 50 }) },
      tmobile: { '24h': kpis({ answered: 5 }), '7d': kpis({ answered: 50 }) },
    };
    const r = flagCarriers(own, carrierBaselines({}), { hiya: 'spam' }, D);
    expect(r.att!.flag).toBe('flagged');
    expect(r.att!.reason).toBe("labelled spam by hiya, att's analytics engine");
    expect(r.verizon!.flag).toBe('clean');
    expect(r.tmobile!.flag).toBe('clean');
    const t = flagCarriers(own, carrierBaselines({}), { first_orion: 'scam', tns: 'telemarketer' }, D);
    expect([t.att!.flag, t.verizon!.flag, t.tmobile!.flag]).toEqual(['clean', 'flagged', 'flagged']);
  });

  it('the carrier → engine map is configurable', () => {
    const cfg = parseReputationConfig({ carrier: { engines: { tmobile: 'hiya' } } });
    const own = { tmobile: { '24h': kpis({ answered: 5 }), '7d': kpis({ answered: 5 }) } };
    expect(flagCarriers(own, carrierBaselines({}), { hiya: 'spam' }, cfg).tmobile!.flag).toBe('flagged');
    expect(flagCarriers(own, carrierBaselines({}), { first_orion: 'spam' }, cfg).tmobile!.flag).toBe('clean');
  });
});

describe('flagCarriers', () => {
  const own = {
    tmobile: { '24h': kpis({ cancelled: 20, answered: 15, no_answer: 15 }), '7d': kpis({ cancelled: 31, answered: 20, no_answer: 13 }) },
    att: { '24h': kpis({ cancelled: 3, answered: 20, no_answer: 17 }), '7d': kpis({ cancelled: 9, answered: 60, no_answer: 51 }) },
  };
  const pool = {
    tmobile: { '24h': kpis({ cancelled: 20 + 45, answered: 15 + 200, no_answer: 15 + 255 }), '7d': kpis({ cancelled: 31 + 270, answered: 20 + 1200, no_answer: 13 + 1530 }) },
    att: { '24h': kpis({ cancelled: 3 + 40, answered: 20 + 200, no_answer: 17 + 260 }), '7d': kpis({ cancelled: 9 + 240, answered: 60 + 1200, no_answer: 51 + 1560 }) },
  };

  it('compares with the pool minus the number itself (leave-one-out) and reports the worse window', () => {
    const r = flagCarriers(own, carrierBaselines(pool), {}, D);
    expect(r.tmobile!.flag).toBe('warning');
    expect(r.tmobile!.windows['24h'].reason).toBe('487 rate 40 % on tmobile vs 9 % pool baseline over 50 calls (24h; lower bound 28 %)');
    expect(r.tmobile!.windows['7d'].reason).toContain('487 rate 48 % on tmobile vs 9 % pool baseline over 64 calls (7d');
    expect(r.att!.flag).toBe('clean');
    expect(r.att!.reason).toBe('no anomaly on att over 40 calls (24h)');
  });

  it('builds the pool total as the sum of carriers', () => {
    const b = carrierBaselines(pool);
    expect(b.pool['7d'].calls).toBe(b.carriers.tmobile!['7d'].calls + b.carriers.att!['7d'].calls);
    expect(b.carriers.tmobile!['24h'].cancelled).toBe(65);
  });

  it('worseFlag orders clean < warning < flagged', () => {
    expect(worseFlag('clean', 'warning')).toBe('warning');
    expect(worseFlag('flagged', 'warning')).toBe('flagged');
    expect(worseFlag('clean', 'clean')).toBe('clean');
  });
});

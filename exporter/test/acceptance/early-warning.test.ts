import { describe, expect, it } from 'vitest';
import { heldoutFigures, median, type HeldoutFigures } from './heldoutRun.js';
import { tmp } from '../core/helpers.js';

// Issue 16's acceptance check on traffic the engine was not tuned on (heldoutTraffic.ts, written before any
// tuning; magnitudes in docs/early-warning.md): `report --json --at` every 6 h over 14 days.
// NUMREP_HELDOUT_SEEDS=1,2,3 runs more seeds (default: seed 1, about a minute).

const SEEDS = (process.env.NUMREP_HELDOUT_SEEDS ?? '1').split(',').map(Number);

describe('early warning on held-out traffic', () => {
  const figures: HeldoutFigures[] = [];
  const total = (k: keyof HeldoutFigures) => figures.reduce((s, f) => s + (f[k] as number), 0);

  it(`runs report --json --at every 6 h over 14 days (seeds ${SEEDS.join(',')})`, async () => {
    const dir = tmp();
    for (const seed of SEEDS) figures.push(await heldoutFigures(seed, dir));
    const leads = figures.flatMap((f) => f.leads).filter((x): x is number => x !== null);
    // The figures docs/early-warning.md quotes.
    console.log(
      JSON.stringify({
        seeds: SEEDS,
        healthyAlarmed: `${total('healthyAlarmed')}/${total('healthy')}`,
        falseAlarmsPer1000NumberDays: (1000 * total('falseAlarms')) / total('healthyNumberDays'),
        warned24h: `${total('warned24h')}/${total('degrading')}`,
        medianLeadHours: median(leads),
        blockedRight: `${total('blockedRight')}/${total('blockedEvaluations')}`,
        falseReasons: figures.flatMap((f) => f.falseReasons).slice(0, 20),
      }, null, 1),
    );
    expect(figures).toHaveLength(SEEDS.length);
  }, 600_000);

  it('≤ 5 % of healthy numbers ever raise an alarm', () => {
    expect(total('healthyAlarmed') / total('healthy')).toBeLessThanOrEqual(0.05);
  });

  it('≤ 1 false alarm per 1,000 healthy number-days', () => {
    expect(total('falseAlarms') / total('healthyNumberDays')).toBeLessThanOrEqual(0.001);
  });

  it('once a carrier blocks every call for a day: flagged and retire/rest/remediate in ≥ 95 % of evaluations', () => {
    expect(total('blockedEvaluations')).toBeGreaterThan(0);
    expect(total('blockedRight') / total('blockedEvaluations')).toBeGreaterThanOrEqual(0.95);
  });

  // NOT MET, pinned: 0 of 20 on seed 1 (0 of 100 on seeds 1–5). At 15–20 calls a day on the carrier, the 48 h between the
  // degradation's start and 24 h before the block hold ~27 calls; even an oracle that knows both outcome mixes and
  // the hour the change began warns 10–19 % of these numbers at the budget (oracle.test.ts). docs/early-warning.md.
  it.fails('≥ 80 % of degrading numbers warned on the right carrier (or by status/action) ≥ 24 h before the first block', () => {
    expect(total('warned24h') / total('degrading')).toBeGreaterThanOrEqual(0.8);
  });
});

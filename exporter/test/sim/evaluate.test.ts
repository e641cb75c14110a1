import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION, type GroundTruth, type NumberPlan, type NumberTruth, type CarrierTruth } from '../../src/sim/model.js';
import { backfill } from '../../src/sim/run.js';
import { evaluateDir, leadStats, resultMarkdown, score, type Timeline } from '../../src/sim/evaluate.js';
import { H, START, tmp } from './helpers.js';

const iso = (h: number) => new Date(START + h * H).toISOString().replace('.000Z', 'Z');

function carrierTruth(decay: number | null, label: number | null): CarrierTruth {
  return {
    decayOnset: decay === null ? null : iso(decay),
    labelOnset: label === null ? null : iso(label),
    episodes: label === null ? [] : [{ labelled: iso(label), cleared: null }],
    minReputation: label === null ? 1 : 0.3,
    daily: [],
    calls: 100,
  };
}

function numberTruth(number: string, c: Partial<Record<'att' | 'verizon' | 'tmobile', CarrierTruth>>, eventAt: number | null): NumberTruth {
  const carriers = { att: carrierTruth(null, null), verizon: carrierTruth(null, null), tmobile: carrierTruth(null, null), ...c };
  const all = Object.values(carriers);
  return {
    number,
    kind: eventAt === null ? 'steady' : 'burst',
    degrades: all.some((x) => x.decayOnset !== null),
    labelled: all.some((x) => x.labelOnset !== null),
    eventAt: eventAt === null ? null : iso(eventAt),
    calls: 300,
    rests: [],
    carriers,
  };
}

describe('evaluate: scoring', () => {
  it('lead statistics: median, p10 (missed cases count as the worst), shares', () => {
    const s = leadStats([10, 30, null, -5, 50]);
    expect(s).toMatchObject({ n: 5, missed: 1, warnedBefore: 3, warned24h: 2, median: 10, p10: null });
    expect(s.p90).toBeCloseTo(42, 5); // between 30 and 50 at position 3.6
    expect(leadStats([5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 105])).toMatchObject({ median: 55, p10: 15, missed: 0 });
    expect(leadStats([])).toMatchObject({ n: 0, median: null, p10: null });
  });

  it('a hand-made timeline against a hand-made truth gives the known leads and false-warning rates', () => {
    // A: burst at hour 30, decays on tmobile from hour 40, labelled at hour 60.  B: never degrades.
    const truth: GroundTruth = {
      scenario: 'hand',
      description: '',
      seed: 0,
      start: iso(0),
      end: iso(100),
      reputation: DEFAULT_REPUTATION,
      carriers: [],
      numbers: [numberTruth('+12025550100', { tmobile: carrierTruth(40, 60) }, 30), numberTruth('+12025550101', {}, null)],
    };
    const n = 100;
    const hours = Array.from({ length: n }, (_, i) => START + i * H);
    const series = (on: (i: number) => number) => Int8Array.from({ length: n }, (_, i) => on(i));
    const clean = () => series(() => 0);
    const tl: Timeline = {
      hours,
      status: new Map([
        ['+12025550100', series((i) => (i >= 62 ? 2 : i >= 50 ? 1 : 0))],
        ['+12025550101', series((i) => (i >= 70 && i < 74 ? 1 : 0))],
      ]),
      flags: new Map([
        ['+12025550100', { att: clean(), verizon: series((i) => (i === 3 ? 1 : 0)), tmobile: series((i) => (i >= 35 ? 1 : 0)) }],
        ['+12025550101', { att: series((i) => (i >= 70 && i < 72 ? 1 : 0)), verizon: clean(), tmobile: clean() }],
      ]),
      action: new Map([
        ['+12025550100', series((i) => (i >= 20 ? 1 : 0))],
        ['+12025550101', clean()],
      ]),
      velocity: new Map([
        ['+12025550100', series((i) => (i >= 31 ? 1 : 0))],
        ['+12025550101', series((i) => (i === 90 ? 1 : 0))],
      ]),
      ownChange: new Map([
        ['+12025550100', { att: clean(), verizon: clean(), tmobile: series((i) => (i >= 45 ? 1 : 0)) }],
        ['+12025550101', { att: clean(), verizon: clean(), tmobile: series((i) => (i >= 10 && i < 13 ? 1 : 0)) }],
      ]),
      falseSignals: { 'answer_drop (24h)': 4 },
    };
    const r = score(truth, tl);
    expect(r.numbers).toEqual({ total: 2, neverDegrading: 1, degrading: 1, labelled: 1 });
    // The verizon warning at hour 3 is before the window (burst at 30 − 24 h = hour 6) and is not credited.
    expect(r.carrierWarning).toMatchObject({ n: 1, leads: [25], warnedBefore: 1, warned24h: 1 });
    expect(r.anyCarrierWarning.leads).toEqual([25]);
    expect(r.statusMixed.leads).toEqual([10]);
    expect(r.statusSpam.leads).toEqual([-2]);
    expect(r.action.leads).toEqual([40]);
    expect(r.velocity.leads).toEqual([29]);
    expect(r.ownChange.leads).toEqual([15]);
    expect(r.falseWarnings).toMatchObject({ numbers: 1, carrierWarned: 1, statusWarned: 1, actionWarned: 0, velocityWarned: 1 });
    expect(r.falseWarnings.hourlyVelocityRate).toBeCloseTo(0.01, 10);
    expect(r.falseWarnings).toMatchObject({ ownChangeWarned: 1 });
    expect(r.falseWarnings.hourlyOwnChangeRate).toBeCloseTo(0.03, 10);
    expect(r.falseWarnings.hourlyCarrierRate).toBeCloseTo(0.02, 10);
    expect(r.falseWarnings.hourlyStatusRate).toBeCloseTo(0.04, 10);
  });
});

describe('evaluate: replay through the engine', () => {
  it('a small seeded run with known onsets: every label is found, velocity is caught a day ahead, steady numbers are rarely warned', async () => {
    const steady = (i: number): NumberPlan => ({
      number: `+1202555${String(100 + i).padStart(4, '0')}`,
      kind: 'steady',
      quality: 1,
      baseDaily: 70,
      startHour: 0,
      restAfterLabelHours: null,
      restHours: 0,
    });
    const plans: NumberPlan[] = [0, 1, 2, 3, 4, 5].map(steady);
    plans.push({ ...steady(6), kind: 'burst', event: { atHour: 8 * 24, daily: 280 } });
    plans.push({ ...steady(7), kind: 'burst', event: { atHour: 8 * 24 + 12, daily: 240 } });
    const sc = { name: 'known', description: 'six steady, two bursts on day 8', hours: 14 * 24, plans, reputation: { ...DEFAULT_REPUTATION } };
    const dir = tmp();
    const b = backfill({ scenario: sc, seed: 11, start: START, formats: ['kamailio'], out: dir });
    const onsets = b.truth.numbers.filter((n) => n.labelled);
    expect(onsets.map((n) => n.number)).toEqual(['+12025550106', '+12025550107']);
    const pairs = b.truth.numbers.flatMap((n) => Object.values(n.carriers).filter((c) => c.labelOnset !== null));
    for (const n of onsets) for (const c of Object.values(n.carriers)) if (c.labelOnset) expect(Date.parse(c.labelOnset)).toBeGreaterThan(Date.parse(n.eventAt!));

    const r = await evaluateDir({ dir });
    expect(r).toMatchObject({ format: 'kamailio', rejected: 0, numbers: { total: 8, neverDegrading: 6, degrading: 2, labelled: 2 } });
    expect(r.accepted).toBe(b.calls);
    expect(r.carrierWarning.n).toBe(pairs.length);
    expect(r.carrierWarning.missed).toBe(0); // every labelled carrier is at least flagged by its blocks
    expect(r.statusSpam.missed).toBe(0);
    // 240–280 calls a day is over the 100/day cap within hours of the burst: slow_down well before any label.
    expect(r.action.warned24h).toBe(2);
    expect(r.velocity.warned24h).toBe(2);
    expect(r.falseWarnings.velocityWarned).toBe(0); // 70 calls a day is under the cap
    // Steady numbers: warnings on a few hours (the engine's noise floor; docs/early-warning.md), never a carrier flag.
    expect(r.falseWarnings.hourlyStatusRate).toBeLessThan(0.1);
    expect(r.falseWarnings.hourlyCarrierRate).toBeLessThan(0.05);
    expect(resultMarkdown([r])).toContain('| known · action other than keep | 2 | 100 % (2/2) | 100 % (2/2) |');
  });
});

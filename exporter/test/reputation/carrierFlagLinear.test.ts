import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_REPUTATION_CONFIG as D, parseReputationConfig, type ReputationConfig } from '../../src/reputation/config.js';
import { addCounts, countsOf, subCounts, ZERO_COUNTS, type Counts } from '../../src/reputation/math.js';
import {
  baselineRatios,
  carrierBaselines,
  flagCarriers,
  flagCarrierWindow,
  flagRank,
  FLAG_WINDOWS,
  type Baselines,
  type CarrierAssessment,
  type CarrierFlagResult,
  type FlagWindow,
  type WindowCounts,
} from '../../src/reputation/carrierFlag.js';
import type { Kpis } from '../../src/model/types.js';
import { kpis, plus, type Traffic } from './helpers.js';

// flagCarriers used to loop over every other carrier for each carrier (O(carriers²) per number: minutes
// for one number over 10,000 carriers, probe F1). It now takes "the number on every other carrier" as its
// total minus the carrier. Below the per-number carrier cap it must flag exactly as before.

/** flagCarriers as it was before (commit 50aeaad), the reference. */
function flagCarriersBefore(
  own: Record<string, Partial<Record<FlagWindow, Kpis | null>>>,
  baselines: Baselines,
  labels: Record<string, string>,
  cfg: ReputationConfig,
): Record<string, CarrierAssessment> {
  const carriers = Object.keys(own).sort();
  const counts: Record<string, WindowCounts> = {};
  for (const car of carriers) counts[car] = { '24h': countsOf(own[car]!['24h']), '7d': countsOf(own[car]!['7d']) };

  const out: Record<string, CarrierAssessment> = {};
  for (const car of carriers) {
    const engine = cfg.carrier.engines[car];
    const label = engine && labels[engine] ? { engine, label: labels[engine]! } : null;
    const windows = {} as Record<FlagWindow, CarrierFlagResult>;
    for (const w of FLAG_WINDOWS) {
      const mine = counts[car]![w];
      const pooled = baselines.carriers[car]?.[w];
      const rest = pooled ? subCounts(pooled, mine) : null;
      let oc: Counts = { ...ZERO_COUNTS };
      let expected = 0;
      for (const other of carriers) {
        if (other === car) continue;
        const m = counts[other]![w];
        if (m.calls === 0) continue;
        oc = addCounts(oc, m);
        const p = baselines.carriers[other]?.[w];
        expected += m.calls * baselineRatios(p ? subCounts(p, m) : null, cfg).answer;
      }
      windows[w] = flagCarrierWindow(
        {
          carrier: car,
          window: w,
          own: mine,
          rest,
          prior: w === '24h' ? subCounts(counts[car]!['7d'], mine) : null,
          others: oc.calls > 0 ? { counts: oc, expectedAnswer: expected / oc.calls } : null,
          label,
        },
        cfg,
      );
    }
    const worst = flagRank[windows['7d'].flag] > flagRank[windows['24h'].flag] ? windows['7d'] : windows['24h'];
    out[car] = { flag: worst.flag, reason: worst.reason, windows };
  }
  return out;
}

// ---------- generators: consistent traffic (24h within 7d; the pool on a carrier includes the number) ----------

const traffic = (max: number): fc.Arbitrary<Traffic> =>
  fc.record({
    answered: fc.integer({ min: 0, max }),
    no_answer: fc.integer({ min: 0, max }),
    cancelled: fc.integer({ min: 0, max }),
    rejected: fc.integer({ min: 0, max: Math.ceil(max / 2) }),
    busy: fc.integer({ min: 0, max: Math.ceil(max / 4) }),
    blocked: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Math.ceil(max / 4) })),
    voicemail: fc.integer({ min: 0, max: Math.ceil(max / 4) }),
    short: fc.constant(0),
  });

/** 24h and prior-6-days traffic, of a few calls or of many (both sides of every min-calls gate). */
const windowsArb = fc.oneof(fc.tuple(traffic(6), traffic(12)), fc.tuple(traffic(60), traffic(120)));

const CARRIER_NAMES = ['att', 'tmobile', 'verizon', 'lumen', 'bandwidth', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', 'c12', 'c13', 'c14', 'c15', 'c16', 'c17'];

interface Case {
  own: Record<string, Partial<Record<FlagWindow, Kpis>>>;
  pool: Record<string, Partial<Record<FlagWindow, Kpis>>>;
  labels: Record<string, string>;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    carriers: fc.uniqueArray(fc.constantFrom(...CARRIER_NAMES), { minLength: 1, maxLength: 20 }),
    extraPoolCarriers: fc.uniqueArray(fc.constantFrom('x1', 'x2', 'x3'), { maxLength: 3 }),
    labels: fc.dictionary(fc.constantFrom('hiya', 'tns', 'first_orion'), fc.constantFrom('spam', 'scam'), { maxKeys: 2 }),
    seed: fc.array(fc.tuple(windowsArb, fc.oneof(fc.constant(null), windowsArb)), { minLength: 23, maxLength: 23 }),
  })
  .map(({ carriers, extraPoolCarriers, labels, seed }) => {
    const own: Case['own'] = {};
    const pool: Case['pool'] = {};
    carriers.forEach((c, i) => {
      const [[d24, prior], rest] = seed[i]!;
      own[c] = { '24h': kpis(d24), '7d': kpis(plus(d24, prior)) };
      // Some carriers have no pool entry at all; the others the number's calls plus the rest of the pool.
      if (rest) pool[c] = { '24h': kpis(plus(d24, rest[0])), '7d': kpis(plus(plus(d24, prior), plus(rest[0], rest[1]))) };
    });
    extraPoolCarriers.forEach((c, i) => {
      const [[a, b]] = seed[20 + i]!;
      pool[c] = { '24h': kpis(a), '7d': kpis(plus(a, b)) };
    });
    return { own, pool, labels };
  });

/** Lower gates so that small generated traffic reaches every test (Wilson, own history, answer collapse). */
const LOW_GATES = parseReputationConfig({ carrier: { minCalls: 5, baselineMinCalls: 10, ownHistory: { minCalls: 5, minPriorCalls: 5 } } });

describe('flagCarriers without the quadratic loop', () => {
  for (const [name, cfg] of [['default config', D], ['low gates', LOW_GATES]] as const) {
    it(`flags, kinds and reasons equal the previous implementation (${name})`, () => {
      let warned = 0;
      fc.assert(
        fc.property(caseArb, ({ own, pool, labels }) => {
          const b = carrierBaselines(pool);
          const now = flagCarriers(own, b, labels, cfg);
          expect(now).toEqual(flagCarriersBefore(own, b, labels, cfg));
          for (const a of Object.values(now)) if (a.flag !== 'clean') warned++;
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 300) },
      );
      // The generator must reach the flagging paths, not only "clean".
      expect(warned).toBeGreaterThan(50);
    });
  }

  it('reaches the answer-collapse test, the one that reads the other carriers', () => {
    let collapses = 0;
    fc.assert(
      fc.property(caseArb, ({ own, pool, labels }) => {
        const r = flagCarriers(own, carrierBaselines(pool), labels, LOW_GATES);
        for (const a of Object.values(r)) for (const w of FLAG_WINDOWS) if (a.windows[w].kinds.includes('answer_collapse')) collapses++;
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
    expect(collapses).toBeGreaterThan(5);
  });

  it('one number over 5,000 carriers is flagged in well under a second (linear, not quadratic)', () => {
    const own: Case['own'] = {};
    const pool: Case['pool'] = {};
    for (let i = 0; i < 5000; i++) {
      const t: Traffic = { answered: 1 + (i % 3), cancelled: i % 2, no_answer: 1 };
      own[`c${i}`] = { '24h': kpis(t), '7d': kpis(plus(t, t)) };
      pool[`c${i}`] = { '24h': kpis(plus(t, { answered: 40, no_answer: 30 })), '7d': kpis(plus(plus(t, t), { answered: 90, no_answer: 70 })) };
    }
    const b = carrierBaselines(pool);
    const t0 = performance.now();
    const r = flagCarriers(own, b, {}, LOW_GATES);
    const ms = performance.now() - t0;
    console.log(`flagCarriers over 5,000 carriers: ${ms.toFixed(0)} ms`);
    expect(Object.keys(r)).toHaveLength(5000);
    expect(ms).toBeLessThan(1000); // the quadratic loop took ~10 s here
  });
});

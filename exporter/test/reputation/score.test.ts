import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseReputationConfig, DEFAULT_REPUTATION_CONFIG as D } from '../../src/reputation/config.js';
import { countsOf, ZERO_COUNTS } from '../../src/reputation/math.js';
import { band, composite, scoreCaps } from '../../src/reputation/score.js';
import type { Subscores } from '../../src/reputation/subscores.js';
import { assessNumber, type NumberInput } from '../../src/reputation/assess.js';
import { carrierBaselines } from '../../src/reputation/carrierFlag.js';
import type { OutcomeCounts } from '../../src/model/types.js';
import { OUTCOMES } from '../../src/model/types.js';
import { DAY, kpis, NOW, type Traffic } from './helpers.js';

const subs = (m: number, c: number, e: number, s: number): Subscores => ({
  maturity: { score: m, parts: {} },
  connection: { score: c, parts: {} },
  engagement: { score: e, parts: {} },
  sentiment: { score: s, parts: {} },
});

describe('composite score', () => {
  it('weights connection .35, sentiment .35, engagement .20, maturity .10', () => {
    const r = composite(subs(50, 80, 90, 100), [], D);
    expect(r.weighted).toBeCloseTo(0.1 * 50 + 0.35 * 80 + 0.2 * 90 + 0.35 * 100, 10);
    expect(r.score).toBe(86);
    expect(r.subscores).toEqual({ maturity: 50, connection: 80, engagement: 90, sentiment: 100 });
    expect(r.ratings).toEqual({ maturity: 'poor', connection: 'good', engagement: 'good', sentiment: 'good' });
  });

  it('bands: 80–100 excellent, 50–79 degraded, 0–49 critical', () => {
    expect(band(100, D)).toBe('excellent');
    expect(band(80, D)).toBe('excellent');
    expect(band(79, D)).toBe('degraded');
    expect(band(50, D)).toBe('degraded');
    expect(band(49, D)).toBe('critical');
    expect(band(0, D)).toBe('critical');
    expect(composite(subs(80, 80, 80, 80), [], D).band).toBe('excellent');
    expect(composite(subs(79.4, 79.4, 79.4, 79.4), [], D).band).toBe('degraded');
    expect(composite(subs(49.6, 49.6, 49.6, 49.6), [], D).band).toBe('degraded'); // rounds to 50
    expect(composite(subs(49.4, 49.4, 49.4, 49.4), [], D).band).toBe('critical');
  });

  it('caps at 49 when block ratio ≥ 5 % in 24h or 7d, not at 4.9 %', () => {
    const at = (blocked: number, calls: number) =>
      scoreCaps({ w24h: { ...ZERO_COUNTS }, w7d: countsOf(kpis({ blocked, answered: calls - blocked })), labels: [] }, D);
    expect(at(5, 100)).toHaveLength(1);
    expect(at(5, 100)[0]).toMatchObject({ kind: 'blocked', max: 49 });
    expect(at(5, 100)[0]!.reason).toBe('block ratio 5.0 % over 100 calls (7d) ≥ 5.0 %');
    expect(at(49, 1000)).toHaveLength(0);
    const capped = composite(subs(100, 100, 100, 100), at(5, 100), D);
    expect(capped.score).toBe(49);
    expect(capped.band).toBe('critical');
  });

  it('caps at 49 too when one carrier blocks ≥ 5 % of its calls (at least carrier.blockMinCount blocks, default 1)', () => {
    const none = { ...ZERO_COUNTS };
    const w7d = countsOf(kpis({ blocked: 3, answered: 197 })); // 1.5 % overall
    const carriers = { att: { '24h': none, '7d': countsOf(kpis({ blocked: 3, answered: 47 })) }, tmobile: { '24h': none, '7d': countsOf(kpis({ answered: 150 })) } };
    const caps = scoreCaps({ w24h: none, w7d, carriers, labels: [] }, D);
    expect(caps).toEqual([{ kind: 'blocked', max: 49, reason: 'att blocks 6.0 % of 50 calls (7d) ≥ 5.0 %' }]);
    // A block is direct evidence at any count (issue 16): one block of 10 calls caps too; with blockMinCount 2 it did not.
    const one = { att: { '24h': none, '7d': countsOf(kpis({ blocked: 1, answered: 9 })) } };
    expect(scoreCaps({ w24h: none, w7d, carriers: one, labels: [] }, D).map((c) => c.kind)).toEqual(['blocked']);
    expect(scoreCaps({ w24h: none, w7d, carriers: one, labels: [] }, parseReputationConfig({ carrier: { blockMinCount: 2 } }))).toEqual([]);
  });

  it('caps at 30 when an engine labels the number; the lowest cap wins', () => {
    const caps = scoreCaps(
      { w24h: countsOf(kpis({ blocked: 10, answered: 10 })), w7d: { ...ZERO_COUNTS }, labels: [{ engine: 'hiya', label: 'spam' }] },
      D,
    );
    expect(caps.map((c) => c.kind)).toEqual(['blocked', 'labelled']);
    expect(caps[1]!.reason).toBe('labelled spam by hiya');
    expect(composite(subs(100, 100, 100, 100), caps, D).score).toBe(30);
    expect(composite(subs(10, 10, 10, 10), caps, D).score).toBe(10);
  });
});

// ---------- properties ----------

const NON_BLOCK: ReadonlyArray<keyof OutcomeCounts> = ['voicemail', 'cancelled', 'no_answer', 'busy', 'rejected', 'failed'];

const trafficArb = (max: number) =>
  fc
    .record({
      answered: fc.integer({ min: 0, max }),
      voicemail: fc.integer({ min: 0, max }),
      cancelled: fc.integer({ min: 0, max }),
      no_answer: fc.integer({ min: 0, max }),
      busy: fc.integer({ min: 0, max: max / 4 }),
      rejected: fc.integer({ min: 0, max: max / 4 }),
      blocked: fc.integer({ min: 0, max: max / 4 }),
      failed: fc.integer({ min: 0, max: max / 4 }),
      shortShare: fc.double({ min: 0, max: 1, noNaN: true }),
      talk: fc.double({ min: 0, max: 600, noNaN: true }),
    })
    .map(({ shortShare, ...o }) => ({ ...o, short: Math.round(shortShare * o.answered) }) as Traffic);

const add = (a: Traffic, b: Traffic): Traffic => {
  const out: Traffic = { short: (a.short ?? 0) + (b.short ?? 0) };
  for (const o of OUTCOMES) out[o] = (a[o] ?? 0) + (b[o] ?? 0);
  const aa = a.answered ?? 0;
  const ba = b.answered ?? 0;
  out.talk = aa + ba > 0 ? ((a.talk ?? 0) * aa + (b.talk ?? 0) * ba) / (aa + ba) : 0;
  return out;
};

const scenarioArb = fc.record({
  h1: trafficArb(20),
  restOfDay: trafficArb(100),
  prior: trafficArb(400),
  ageDays: fc.option(fc.double({ min: 0, max: 400, noNaN: true }), { nil: null }),
  activeDays7d: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null }),
  reports: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
  label: fc.constantFrom(null, 'clean', 'spam', 'unknown'),
});

type Scenario = {
  h1: Traffic;
  restOfDay: Traffic;
  prior: Traffic;
  ageDays: number | null;
  activeDays7d: number | null;
  reports: number | null;
  label: string | null;
};

function build(s: Scenario): NumberInput {
  const d24 = add(s.h1, s.restOfDay);
  const d7 = add(d24, s.prior);
  return {
    windows: { '1h': kpis(s.h1), '24h': kpis(d24), '7d': kpis(d7) },
    carriers: { tmobile: { '24h': kpis(d24), '7d': kpis(d7) } },
    firstSeen: s.ageDays === null ? null : NOW - s.ageDays * DAY,
    activeDays7d: s.activeDays7d,
    spamReports: s.reports,
    engines: s.label ? { first_orion: { label: s.label, checked_at: '2026-11-20T00:00:00Z' } } : {},
  };
}

const scoreOf = (s: Scenario) => assessNumber(build(s), { now: NOW });

/** A fixed set of peers on the same carrier; the pool totals include the number (leave-one-out undoes it). */
const PEERS_24H: Traffic = { answered: 400, voicemail: 80, cancelled: 70, no_answer: 300, busy: 20, rejected: 20, failed: 30, short: 20, talk: 80 };
const PEERS_7D: Traffic = { answered: 2800, voicemail: 560, cancelled: 490, no_answer: 2100, busy: 140, rejected: 140, failed: 210, short: 140, talk: 80 };
function scoreInPool(s: Scenario) {
  const input = build(s);
  const c = input.carriers!.tmobile!;
  const own24 = { ...c['24h']!.outcomes };
  const own7 = { ...c['7d']!.outcomes };
  const baselines = carrierBaselines({
    tmobile: { '24h': kpis(add(PEERS_24H, own24)), '7d': kpis(add(PEERS_7D, own7)) },
  });
  return assessNumber(input, { now: NOW, baselines }).score;
}

describe('score properties', () => {
  it('score and sub-scores stay within [0, 100] and are integers', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = scoreOf(s);
        const all = [a.score, ...Object.values(a.subscores)];
        return all.every((v) => Number.isInteger(v) && v >= 0 && v <= 100);
      }),
      { numRuns: 300 },
    );
  });

  it('more blocks never raise the score: adding blocked calls (in the last hour)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 50 }), (s, extra) => {
        const more = { ...s, h1: { ...s.h1, blocked: (s.h1.blocked ?? 0) + extra } };
        return scoreOf(more).score <= scoreOf(s).score;
      }),
      { numRuns: 300 },
    );
  });

  it('more blocks never raise the score: turning unanswered calls of any kind into blocks', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom(...NON_BLOCK), fc.constantFrom('h1', 'restOfDay', 'prior'), fc.integer({ min: 1, max: 50 }), (s, from, where, k) => {
        const part = s[where as 'h1'];
        const moved = Math.min(k, part[from] ?? 0);
        if (moved === 0) return true;
        const changed = { ...s, [where]: { ...part, [from]: (part[from] ?? 0) - moved, blocked: (part.blocked ?? 0) + moved } };
        return scoreOf(changed).score <= scoreOf(s).score;
      }),
      { numRuns: 300 },
    );
  });

  it('more blocks never raise the score when compared with a pool', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom(...NON_BLOCK), fc.integer({ min: 1, max: 50 }), (s, from, k) => {
        const moved = Math.min(k, s.restOfDay[from] ?? 0);
        const changed = { ...s, restOfDay: { ...s.restOfDay, [from]: (s.restOfDay[from] ?? 0) - moved, blocked: (s.restOfDay.blocked ?? 0) + moved } };
        const added = { ...s, h1: { ...s.h1, blocked: (s.h1.blocked ?? 0) + k } };
        const base = scoreInPool(s);
        return scoreInPool(changed) <= base && scoreInPool(added) <= base;
      }),
      { numRuns: 300 },
    );
  });

  it('a label never raises the score', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => scoreOf({ ...s, label: 'spam' }).score <= scoreOf({ ...s, label: 'clean' }).score),
      { numRuns: 200 },
    );
  });
});

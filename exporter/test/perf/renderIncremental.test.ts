import { describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { assessNumber } from '../../src/reputation/assess.js';
import { assessSnapshot, verdictOf } from '../../src/reputation/evaluate.js';
import type { LabelSnapshot, InventoryEntry } from '../../src/store/db.js';
import type { Snapshot } from '../../src/stats/snapshot.js';
import type { Kpis } from '../../src/model/types.js';
import { line, testRuntime, tmp } from '../core/helpers.js';

// /metrics keeps verdicts, rows and whole family buffers between scrapes and reuses what did not
// change. Whatever it reuses, a warm exporter must print the same series with the same values as
// a cold one built from scratch on the same data at the same instant.

const T0 = Date.UTC(2026, 10, 20, 18, 0, 7);
const DAY = 86_400_000;

function rig(file: string, now: () => number, onVerdicts?: (s: Snapshot) => void, seriesBudget = 0) {
  const rt = testRuntime(file, now);
  const m = new MetricsExporter(rt, {
    version: 'test',
    seriesBudget,
    verdicts: (snap) => {
      onVerdicts?.(snap);
      return new Map([...assessSnapshot(snap, { labels: rt.labels, registered: rt.registered })].map(([n, a]) => [n, verdictOf(a)]));
    },
  });
  return { rt, m };
}

/** Series lines without the exporter's own process metrics and timings, sorted (a warm exporter's window sums, so its numbers, may come in another order than a cold one's). */
const content = (b: string) =>
  b
    .split('\n')
    .filter((l) => l !== '' && !/^(# (HELP|TYPE) )?numrep_(process|nodejs|metrics_render|source_)/.test(l))
    .sort()
    .join('\n');

/** The number x carrier lines in their order: the series-budget rank, a total order, so the same warm or cold. */
const pairLines = (b: string) => b.split('\n').filter((l) => l.startsWith('numrep_number_carrier_'));

function sideData(rt: Runtime, labels: LabelSnapshot[], inventory: InventoryEntry[]) {
  rt.store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels, inventory });
  rt.reloadSideData();
}

/** Calls over the last days: healthy, blocked by one carrier, few calls, cancel-heavy; each number first seen a few days ago. */
function history(): string {
  const s = Math.floor(T0 / 1000);
  let text = '';
  for (let i = 0; i < 40; i++) {
    const t = s - 3 * 86_400 + i * 6_000;
    text += line(t, '+12025550101', i % 2 ? 'att' : 'tmobile', i % 5 === 0 ? 'no_answer' : 'answered', 40);
    text += line(t + 1, '+12025550102', 'att', i % 3 === 0 ? 'blocked' : 'answered', 30);
    text += line(t + 2, '+12025550104', 'verizon', i % 2 ? 'cancelled' : 'answered', 4);
  }
  for (let i = 0; i < 3; i++) text += line(s - 1_800 - i * 60, '+12025550103', 'att', 'answered', 20);
  return text;
}

describe('/metrics incremental render', () => {
  it('prints what a cold exporter prints after clock moves, new calls, labels and inventory', async () => {
    const dir = tmp('numrep-incr-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, history());
    let now = T0;
    const warm = rig(file, () => now);
    await warm.rt.poll();
    const labels: LabelSnapshot[] = [];
    const inventory: InventoryEntry[] = [];
    let sawRest = false;
    let sawSpam = false;
    const check = async (what: string) => {
      const body = await warm.m.render();
      const cold = rig(file, () => now);
      await cold.rt.poll();
      if (labels.length || inventory.length) sideData(cold.rt, labels, inventory);
      expect(content(body), what).toEqual(content(await cold.m.render()));
      sawRest ||= /^numrep_number_rest_until_timestamp_seconds\{/m.test(body);
      sawSpam ||= /^numrep_number_status\{[^}]*status="spam"\} 1$/m.test(body);
      await cold.rt.close();
      return body;
    };
    const first = await check('cold start');
    expect(content(await check('same instant'))).toEqual(content(first));
    now += 10_000;
    await check('same bucket, 10 s later');
    now += 45 * 60_000;
    await check('45 min later: the 1h window slid');
    const s = Math.floor(now / 1000);
    appendFileSync(file, line(s - 30, '+12025550103', 'att', 'blocked', 0) + line(s - 20, '+12025550105', 'verizon', 'answered', 5));
    await warm.rt.poll();
    await check('new calls for one number and a new number');
    labels.push({ number: '+12025550101', engine: 'hiya', label: 'spam', checkedAt: now - 60_000, reports: 3 });
    sideData(warm.rt, labels, []);
    await check('a label imported');
    inventory.push({ number: '+12025550104', pool: 'collections', campaign: null, registered: null, registeredAt: now - 200 * DAY } as InventoryEntry);
    sideData(warm.rt, [], inventory);
    await check('inventory: a pool and a registration date');
    now += 2 * DAY;
    await check('two days later: the 24h window emptied');
    now += 20 * DAY;
    await check('three weeks later: the 7d window emptied');
    expect(sawRest, 'the scenario must reach a rest-until series').toBe(true);
    expect(sawSpam, 'the scenario must reach a spam status').toBe(true);
    await warm.rt.close();
  });

  it('assesses again only what changed or what the clock may have changed', async () => {
    const dir = tmp('numrep-incr-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, history());
    let now = T0;
    const asked: number[] = [];
    const warm = rig(file, () => now, (snap) => asked.push(snap.numbers.size));
    await warm.rt.poll();
    await warm.m.render();
    expect(asked).toEqual([4]);
    asked.length = 0;
    now += 5_000;
    await warm.m.render(); // a new instant: every verdict without rest-until is checked an hour ahead once; rested ones are made again
    const probed = asked.reduce((a, b) => a + b, 0);
    expect(probed).toBeGreaterThan(0);
    asked.length = 0;
    now += 5_000;
    const body = await warm.m.render();
    const rested = (body.match(/^numrep_number_rest_until_timestamp_seconds\{/gm) ?? []).length;
    expect(asked.reduce((a, b) => a + b, 0)).toBe(rested); // only numbers with a rest-until date (it moves with the clock)
    await warm.rt.close();
  });

  it('after a commit moves the pool baselines, asks again only the numbers whose verdict may depend on them', async () => {
    const dir = tmp('numrep-incr-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, history());
    const now = T0;
    const asked: string[] = [];
    const warm = rig(file, () => now, (snap) => asked.push(...snap.numbers.keys()));
    await warm.rt.poll();
    await warm.m.render();
    asked.length = 0;
    // A call from another light number: every carrier total on verizon moves, so the baselines do.
    const s = Math.floor(now / 1000);
    appendFileSync(file, line(s - 40, '+12025550106', 'verizon', 'cancelled', 0));
    await warm.rt.poll();
    const body = await warm.m.render();
    // +12025550103 has 3 calls: below every gate that reads the baselines (Assessment.pooled false), not asked;
    // the 40-call numbers are; the new number is new.
    expect(asked.sort()).toEqual(['+12025550101', '+12025550102', '+12025550104', '+12025550106']);
    const cold = rig(file, () => now);
    await cold.rt.poll();
    expect(content(body)).toEqual(content(await cold.m.render()));
    await cold.rt.close();
    await warm.rt.close();
  });

  for (const budget of [0, 40]) {
    it(`many numbers, small steps: the same series, pairs in the same rank order (re-ranked by merging the moved ones; budget ${budget})`, async () => {
      const dir = tmp('numrep-incr-');
      const file = join(dir, 'calls.test');
      let seed = 7;
      const r = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296);
      const outcomes = ['answered', 'cancelled', 'blocked', 'no_answer', 'rejected'] as const;
      const carriers = ['att', 'tmobile', 'verizon'];
      const call = (tsSec: number, n = Math.floor(r() * 60)) =>
        line(tsSec, `+1202555${String(1000 + n)}`, carriers[Math.floor(r() * 3)], outcomes[Math.floor(r() * outcomes.length)], Math.floor(r() * 60));
      const s0 = Math.floor(T0 / 1000);
      let text = '';
      for (let i = 0; i < 600; i++) text += call(s0 - Math.floor(r() * 2 * 86_400));
      writeFileSync(file, text);
      let now = T0;
      const warm = rig(file, () => now, undefined, budget);
      await warm.rt.poll();
      await warm.m.render();
      for (let step = 0; step < 12; step++) {
        now += Math.floor(r() * 20 * 60_000);
        appendFileSync(file, call(Math.floor(now / 1000) - 5) + (step % 3 === 0 ? call(Math.floor(now / 1000) - 3, 60 + step) : ''));
        await warm.rt.poll();
        const body = await warm.m.render();
        const cold = rig(file, () => now, undefined, budget);
        await cold.rt.poll();
        const coldBody = await cold.m.render();
        expect(content(body), `step ${step}`).toEqual(content(coldBody));
        expect(pairLines(body), `step ${step}: pair order`).toEqual(pairLines(coldBody));
        await cold.rt.close();
      }
      await warm.rt.close();
    });
  }

  it("a verdict is a nondecreasing step function of the clock (what the reuse relies on)", () => {
    const k = (calls: number, answered: number, blocked = 0): Kpis => ({
      calls, answered, answer_ratio: calls ? answered / calls : null, cancel_ratio: 0, rejection_ratio: 0, block_ratio: calls ? blocked / calls : null,
      voicemail_ratio: 0, short_call_ratio: 0, avg_talk_seconds: 40,
      outcomes: { answered, voicemail: 0, cancelled: 0, no_answer: calls - answered - blocked, busy: 0, rejected: 0, blocked, failed: 0 },
    });
    for (const [w24, w7] of [[k(30, 12), k(200, 90)], [k(10, 2, 3), k(40, 10, 5)], [k(150, 60), k(700, 300)], [k(5, 2), k(12, 6)]]) {
      const firstSeen = T0 - 3 * DAY;
      let prev: ReturnType<typeof assessNumber> | null = null;
      for (let t = T0; t < T0 + 200 * DAY; t += DAY / 4) {
        const a = assessNumber({ windows: { '1h': k(0, 0), '24h': w24, '7d': w7 }, firstSeen, lastSeen: T0 }, { now: t });
        if (prev) {
          expect(a.score).toBeGreaterThanOrEqual(prev.score);
          for (const d of Object.keys(a.subscores) as (keyof typeof a.subscores)[]) expect(a.subscores[d]).toBeGreaterThanOrEqual(prev.subscores[d]);
          expect(a.status).toBe(prev.status);
        }
        prev = a;
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { assessSnapshot, verdictOf } from '../../src/reputation/evaluate.js';
import type { Outcome } from '../../src/model/types.js';
import { TestReader, line, tmp } from '../core/helpers.js';

// The series budget (config series_budget) caps number × carrier series, worst first
// (flagged, then block, cancel and rejection ratios), and counts what it left out.

const NOW = Date.UTC(2026, 10, 20, 18, 0);

async function exporterWith(budget: number, verdicts: boolean): Promise<{ body: string; rt: Runtime }> {
  const dir = tmp('numrep-budget-');
  const s = Math.floor(NOW / 1000) - 600;
  const calls: [string, string, Outcome, number][] = [
    ['+12025550101', 'att', 'blocked', 5], // block ratio 1: worst
    ['+12025550101', 'tmobile', 'answered', 5],
    ['+12025550102', 'tmobile', 'cancelled', 4], // cancel ratio 0.8
    ['+12025550102', 'tmobile', 'answered', 1],
    ['+12025550103', 'att', 'answered', 5],
    ['+12025550103', 'verizon', 'answered', 5],
    ['+12025550103', 'tmobile', 'answered', 5],
    ['+12025550104', 'verizon', 'rejected', 2], // rejection ratio 0.4
    ['+12025550104', 'verizon', 'answered', 3],
  ];
  let text = '';
  let k = 0;
  for (const [number, carrier, outcome, n] of calls) for (let i = 0; i < n; i++) text += line(s - k++ * 7, number, carrier, outcome, outcome === 'answered' ? 40 : 0);
  writeFileSync(join(dir, 'calls.test'), text);
  const rt = new Runtime({
    db: join(dir, 'numrep.db'),
    bucketMs: 60_000,
    globs: [join(dir, 'calls.test')],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: 65_536,
    now: () => NOW,
    readers: { createReader: () => new TestReader(), detectFormat: () => 'test' },
  });
  await rt.poll();
  const m = new MetricsExporter(rt, {
    version: 'test',
    seriesBudget: budget,
    verdicts: verdicts ? (snap) => new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)])) : undefined,
  });
  const body = await m.render();
  await rt.close();
  return { body, rt };
}

function pairsIn(body: string): string[] {
  const out = new Set<string>();
  for (const m of body.matchAll(/^numrep_number_carrier_calls\{number="([^"]+)",pool="[^"]*",carrier="([^"]+)",window="7d"\}/gm)) out.add(`${m[1]} ${m[2]}`);
  return [...out].sort();
}

const value = (body: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1]);

describe('series budget', () => {
  it('keeps the worst number × carrier pairs and counts the rest as dropped', async () => {
    const { body } = await exporterWith(3, false);
    expect(pairsIn(body)).toEqual(['+12025550101 att', '+12025550102 tmobile', '+12025550104 verizon']);
    expect(value(body, 'numrep_series_dropped')).toBe(4); // 7 pairs, 3 shown
    expect(value(body, 'numrep_series_budget')).toBe(3);
    // every pair family obeys the budget, not only calls
    for (const fam of ['answer_ratio', 'cancel_ratio', 'rejection_ratio', 'block_ratio']) {
      const pairs = new Set([...body.matchAll(new RegExp(`^numrep_number_carrier_${fam}\\{number="([^"]+)",pool="[^"]*",carrier="([^"]+)"`, 'gm'))].map((m) => `${m[1]} ${m[2]}`));
      expect(pairs.size).toBeLessThanOrEqual(3);
    }
    // per-number families are never cut
    const numbers = new Set([...body.matchAll(/^numrep_number_calls\{number="([^"]+)"/gm)].map((m) => m[1]));
    expect(numbers.size).toBe(4);
  });

  it('ranks flagged pairs first when the reputation engine runs', async () => {
    const { body } = await exporterWith(1, true);
    expect(pairsIn(body)).toEqual(['+12025550101 att']);
    expect(body).toMatch(/^numrep_number_carrier_flag\{number="\+12025550101",pool="default",carrier="att",state="flagged"\} 1$/m);
    expect(value(body, 'numrep_series_dropped')).toBe(6);
  });

  it('0 means no budget; a budget above the pair count drops nothing', async () => {
    for (const budget of [0, 7, 100]) {
      const { body } = await exporterWith(budget, true);
      expect(pairsIn(body)).toHaveLength(7);
      expect(value(body, 'numrep_series_dropped')).toBe(0);
    }
  });
});

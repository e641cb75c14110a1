import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Runtime, parseShard, shardOf, type Shard } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { runReport } from '../../src/cli/report.js';
import { generate } from '../../src/bench/gen.js';
import type { ReportJson } from '../../src/http/json.js';
import type { Snapshot } from '../../src/stats/snapshot.js';
import { tmp } from '../core/helpers.js';

// --shard i/n: n exporters over the same sources, each keeping the caller numbers that hash to
// its index. Their union must be one unsharded exporter, with no number in two shards.

const TRUNK_MAP = join(__dirname, '..', '..', '..', 'examples', 'trunk-map.csv');
const END = Date.UTC(2026, 10, 20, 12, 0);

function inputs(): string[] {
  const dir = tmp('numrep-shard-');
  const common = { numbers: 40, endMs: END, spanMs: 3 * 86_400_000 };
  return [
    generate('asterisk', join(dir, 'Master.csv'), { ...common, rows: 3000, seed: 1 }).path,
    generate('kamailio', join(dir, 'acc.log'), { ...common, rows: 2000, seed: 2 }).path,
  ];
}

/** What a number is made of, without the reputation verdict (that reads pool-wide carrier baselines, per shard). */
function counts(n: ReportJson['numbers'][number]) {
  return { windows: n.windows, carriers: Object.fromEntries(Object.entries(n.carriers).map(([c, v]) => [c, { '24h': v['24h'], '7d': v['7d'] }])), attestation: n.attestation, first_seen: n.first_seen, last_seen: n.last_seen };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('shard assignment', () => {
  it('parses i/n and refuses what is not a shard', () => {
    expect(parseShard('0/2')).toEqual({ index: 0, count: 2 });
    expect(parseShard(' 2/3 ')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('2/2')).toThrow(/below n/);
    expect(() => parseShard('1/0')).toThrow(/between 1 and/);
    expect(() => parseShard('a/2')).toThrow(/expected i\/n/);
    expect(() => parseShard('1')).toThrow(/expected i\/n/);
  });

  it('is a fixed function of the number (pinned: changing it would move numbers between running shards)', () => {
    expect([shardOf('+12025550101', 2), shardOf('+12025550101', 3), shardOf('+12025550101', 16)]).toEqual([0, 1, 0]);
    expect([shardOf('+12025550102', 2), shardOf('+12025550102', 3), shardOf('+12025550102', 16)]).toEqual([1, 1, 9]);
    expect([shardOf('+442071838750', 2), shardOf('+442071838750', 3), shardOf('+442071838750', 16)]).toEqual([1, 0, 13]);
  });

  it('spreads numbers evenly', () => {
    const per = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) per[shardOf(`+1202${String(5550000 + i)}`, 4)]++;
    for (const p of per) expect(Math.abs(p - 2500)).toBeLessThan(200);
  });
});

describe('two shards over the same input equal one unsharded exporter', () => {
  it('numrep report --shard 0/2 and 1/2: disjoint, and their union is the unsharded report', async () => {
    const files = inputs();
    const flags = { json: true, trunkMap: TRUNK_MAP, timezone: 'UTC' };
    const at = new Date(END).toISOString();
    const all = (await runReport(files, { ...flags, at })).json;
    const s0 = (await runReport(files, { ...flags, at, shard: '0/2' })).json;
    const s1 = (await runReport(files, { ...flags, at, shard: '1/2' })).json;

    const n0 = new Set(s0.numbers.map((n) => n.number));
    const n1 = new Set(s1.numbers.map((n) => n.number));
    expect([...n0].filter((n) => n1.has(n))).toEqual([]); // no number in both
    expect(n0.size).toBeGreaterThan(5);
    expect(n1.size).toBeGreaterThan(5);
    expect([...n0, ...n1].sort()).toEqual(all.numbers.map((n) => n.number).sort());
    for (const n of s0.numbers) expect(shardOf(n.number, 2)).toBe(0);
    for (const n of s1.numbers) expect(shardOf(n.number, 2)).toBe(1);

    const byNumber = new Map(all.numbers.map((n) => [n.number, n]));
    for (const n of [...s0.numbers, ...s1.numbers]) expect(counts(n)).toEqual(counts(byNumber.get(n.number)!));

    // Per-carrier aggregates add up across the shards.
    for (const c of all.carriers) {
      const part = (j: ReportJson) => j.carriers.find((x) => x.carrier === c.carrier);
      for (const w of ['24h', '7d'] as const) {
        const calls = (j: ReportJson) => ((part(j)?.[w] as { calls: number } | undefined)?.calls ?? 0);
        expect(calls(s0) + calls(s1)).toBe((c[w] as { calls: number }).calls);
      }
    }
    expect(sum(all.numbers.map((n) => n.windows['7d'].calls))).toBe(5000);
  });

  it('serve runtimes (durable database, 60 s buckets) --shard 0/2 and 1/2 against one unsharded runtime', async () => {
    const files = inputs();
    const run = async (shard?: Shard): Promise<Snapshot> => {
      const dir = tmp('numrep-shard-serve-');
      const rt = new Runtime({
        db: join(dir, 'numrep.db'),
        bucketMs: 60_000,
        globs: files,
        readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
        resolver: CarrierResolver.fromFiles({ trunkMap: TRUNK_MAP }),
        settleMs: 0,
        maxRecordBytes: 65_536,
        now: () => END + 60_000,
        shard,
      });
      await rt.poll();
      const snap = rt.snapshotNow();
      await rt.close();
      return snap;
    };
    const all = await run();
    const parts = [await run({ index: 0, count: 2 }), await run({ index: 1, count: 2 })];
    const seen = new Set<string>();
    for (const p of parts) {
      for (const [number, v] of p.numbers) {
        expect(seen.has(number)).toBe(false);
        seen.add(number);
        const u = all.numbers.get(number)!;
        expect(u).toBeDefined();
        for (const w of ['1h', '24h', '7d'] as const) expect([...v.windows[w]]).toEqual([...u.windows[w]]);
        expect([...v.carriers.keys()].sort()).toEqual([...u.carriers.keys()].sort());
        for (const [c, cw] of v.carriers) expect([...cw['7d']]).toEqual([...u.carriers.get(c)!['7d']]);
        expect([v.firstSeen, v.lastSeen]).toEqual([u.firstSeen, u.lastSeen]);
      }
    }
    expect([...seen].sort()).toEqual([...all.numbers.keys()].sort());
  });
});

import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { tmp } from '../core/helpers.js';

// The management families on /metrics: promtool accepts them, docs/metrics.md lists every one, and a pool or
// campaign with dispositions, an inventory and a per-pool cap shows what it should.

const NOW = Date.parse('2026-11-20T18:00:00Z');
const DOC = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

describe('management metrics', () => {
  it('are promtool-clean, documented, and judge each pool by its own cap', async () => {
    const dir = tmp('numrep-fatigue-metrics-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const at = (s: number) => new Date(NOW - s * 1000).toISOString();
    const rows = ['caller,called,start,billsec,disposition,dialer_result'];
    // sales (cap 2): +…103 calls one consumer 3 times; collections (cap 3): +…101 the same 3 times, +…102 once.
    for (let k = 0; k < 3; k++) rows.push(['+12025550103', '+13125550142', at(3600 * (k + 1)), 0, 'no_answer', ''].join(','));
    for (let k = 0; k < 3; k++) rows.push(['+12025550101', '+13125550143', at(3600 * (k + 1) + 7), 40, 'answered', ['SALE', 'NI', 'ABANDON'][k]].join(','));
    rows.push(['+12025550102', '+13125550144', at(500), 40, 'answered', 'HUMAN'].join(','));
    writeFileSync(join(inbox, 'dialer.csv'), rows.join('\n') + '\n');
    const rt = new Runtime({
      db: join(dir, 'numrep.db'), bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
      resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: () => NOW,
      fatigue: { dailyCap: 3, poolCaps: { sales: 2 } },
    });
    rt.store.commit({
      buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [],
      inventory: [
        { number: '+12025550101', pool: 'collections', campaign: 'spring', registered: true, registeredAt: null },
        { number: '+12025550102', pool: 'collections', campaign: 'spring', registered: true, registeredAt: null },
        { number: '+12025550103', pool: 'sales', campaign: null, registered: null, registeredAt: null },
      ],
    });
    rt.reloadSideData();
    await rt.poll();
    try {
      const body = await new MetricsExporter(rt, { version: 'test', seriesBudget: 1000 }).render();
      expect(body).toContain('numrep_pool_consumer_daily_cap{pool="sales"} 2\n');
      expect(body).toContain('numrep_pool_consumer_daily_cap{pool="collections"} 3\n');
      expect(body).toContain('numrep_number_attempts_over_cap{number="+12025550103",pool="sales",window="24h"} 1\n');
      expect(body).toContain('numrep_number_attempts_over_cap{number="+12025550101",pool="collections",window="24h"} 0\n');
      expect(body).toContain('numrep_pool_consumers{pool="collections",window="7d"} 2\n');
      // 1 conversion of 3 people reached (SALE, NI, HUMAN); 1 abandoned of 4.
      expect(body).toContain('numrep_pool_conversion_ratio{pool="collections",window="24h"} 0.3333333333333333\n');
      expect(body).toContain('numrep_pool_abandoned_ratio{pool="collections",window="24h"} 0.25\n');
      expect(body).toContain('numrep_campaign_abandoned_ratio{campaign="spring",window="7d"} 0.25\n');
      expect(body).toContain('numrep_number_conversion_ratio{number="+12025550101",pool="collections",window="24h"} 0.5\n');
      expect(body).toContain('numrep_abandoned_ratio_limit 0.03\n');
      expect(body).toContain('numrep_fatigue_dials 7\n');
      // No disposition, no ratio (absent, never 0).
      expect(body).not.toContain('numrep_number_conversion_ratio{number="+12025550103"');
      expect(body).not.toContain('numrep_pool_abandoned_ratio{pool="sales"');
      for (const c of ['3125550142', '3125550143', '3125550144']) expect(body).not.toContain(c);
      const names = new Set([...body.matchAll(/^# TYPE (numrep_\w+) /gm)].map((m) => m[1]));
      for (const n of ['number_consumers', 'number_repeat_dial_ratio', 'number_consumers_over_cap', 'number_attempts_over_cap', 'number_conversion_ratio',
        'pool_consumers', 'pool_repeat_dial_ratio', 'pool_consumers_over_cap', 'pool_attempts_over_cap', 'pool_consumer_daily_cap', 'pool_conversion_ratio',
        'pool_abandoned_ratio', 'campaign_abandoned_ratio', 'abandoned_ratio_limit', 'fatigue_dials', 'fatigue_dials_dropped_total']) {
        expect(names).toContain(`numrep_${n}`);
        expect(DOC, `numrep_${n} in docs/metrics.md`).toContain(`\`numrep_${n}\``);
      }
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      if (promtool.error && process.env.CI !== 'true') return; // promtool missing outside CI: covered there
      expect(promtool.stdout + promtool.stderr).toBe('');
      expect(promtool.status).toBe(0);
    } finally {
      await rt.close();
    }
  });
});

describe('fatigue refresh in serve', () => {
  it('figures younger than fatigue.refresh_seconds are reused; older ones, or a new instant without it, are remade', async () => {
    const dir = tmp('numrep-fatigue-refresh-');
    let now = NOW;
    const rt = new Runtime({
      db: join(dir, 'numrep.db'), bucketMs: 60_000, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
      resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: () => now, fatigue: { refreshMs: 60_000 },
    });
    try {
      const first = rt.fatigueNow(now);
      rt.dials.add('+12025550101', 1, 2, NOW / 1000 - 10);
      now += 30_000;
      expect(rt.fatigueNow(now)).toBe(first);
      now += 31_000;
      const second = rt.fatigueNow(now);
      expect(second).not.toBe(first);
      expect(second.numbers.get('+12025550101')!['24h'].calls).toBe(1);
      // report (no refresh): the same dials at the same instant are one computation, a new dial is seen at once.
      expect(rt.fatigueAt(now)).toBe(rt.fatigueAt(now));
      rt.dials.add('+12025550101', 1, 2, NOW / 1000 - 5);
      expect(rt.fatigueAt(now).numbers.get('+12025550101')!['24h'].calls).toBe(2);
    } finally {
      await rt.close();
    }
  });
});

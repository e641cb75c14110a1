import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../src/sim/demo.js';
import { GENERIC_HEADER } from '../../src/sim/formats.js';
import { assessSnapshot } from '../../src/reputation/evaluate.js';
import { ingest, tmp } from './helpers.js';

// `serve --demo`: the history shows every status at once; live calls are written when they end, never ahead of the clock.

describe('demo feed', () => {
  it('writes seven days for ten numbers (healthy, spam, in progress among them) and live calls stamped honestly', async () => {
    const inbox = tmp();
    const logs: string[] = [];
    const t0 = Date.now();
    const demo = await startDemo({ inbox, now: Date.now, log: (m) => logs.push(m), liveEverySeconds: 0.004, stepSeconds: 0.05 });
    await new Promise((r) => setTimeout(r, 2200));
    await demo.stop();
    const t1 = Date.now();
    expect(logs.join('\n')).toMatch(/wrote 7 days of simulated traffic \(\d+ calls, 10 numbers\)/);

    const live = readFileSync(join(inbox, 'demo-live.csv'), 'utf8').trim().split('\n');
    expect(live[0]).toBe(GENERIC_HEADER);
    expect(live.length).toBeGreaterThan(5); // the calls short enough to have ended (blocks, failures, busies)
    for (const row of live.slice(1)) {
      const [start, , end] = row.split(',');
      expect(Date.parse(start)).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000 - 1000);
      expect(Date.parse(end)).toBeLessThanOrEqual(t1); // written once it ended
    }
    const backfill = readFileSync(join(inbox, 'demo-backfill.csv'), 'utf8').trim().split('\n').slice(1);
    for (const row of backfill) expect(Date.parse(row.split(',')[2])).toBeLessThanOrEqual(t0);

    const got = await ingest(inbox, join(inbox, 'demo-backfill.csv'), t0);
    expect(got.rejected).toBe(0);
    const statuses = new Map([...assessSnapshot(got.snap)].map(([n, a]) => [n, a.status]));
    expect(statuses.size).toBe(10);
    expect(statuses.get('+12025550107')).toBe('spam');
    expect(statuses.get('+12025550108')).toBe('in_progress');
    expect(statuses.get('+12025550106')).toBe('healthy');
    expect([...statuses.values()].filter((s) => s === 'healthy').length).toBeGreaterThanOrEqual(4);
    await got.rt.close();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { startDemo } from '../../src/sim/demo.js';
import { assessSnapshot } from '../../src/reputation/evaluate.js';
import { tmp } from './helpers.js';

// The demo tells its story (issue 17, README "Quick start", docs/simulation.md "The demo"): the default demo,
// driven on a fake clock for 20 minutes, read back through the real readers and engine minute by minute.

const T0 = Date.parse('2026-12-01T15:00:00Z');
const MINUTES = 20;

interface Minute {
  status: string;
  action: string;
  flags: string[];
}

async function timeline(): Promise<Map<string, Minute[]>> {
  const inbox = tmp('numrep-demo-story-');
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date'] });
  const demo = await startDemo({ inbox, now: () => Date.now(), log: () => {} });
  for (let m = 0; m < MINUTES; m++) vi.advanceTimersByTime(60_000);
  await demo.stop();
  vi.useRealTimers();
  const rt = new Runtime({
    db: ':memory:',
    bucketMs: 1000,
    globs: [join(inbox, 'demo-backfill.csv'), join(inbox, 'demo-live.csv')],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: CarrierResolver.fromFiles({}),
    settleMs: 0,
    oneShot: true,
    maxRecordBytes: 1 << 20,
    now: () => T0 + 2 * 86_400_000,
  });
  await rt.poll();
  rt.tailer.flushReaders();
  const out = new Map<string, Minute[]>();
  for (let m = 0; m <= MINUTES; m++) {
    for (const [n, a] of assessSnapshot(rt.snapshotAt(T0 + m * 60_000))) {
      if (!out.has(n)) out.set(n, []);
      out.get(n)!.push({ status: a.status, action: a.recommendation.action, flags: Object.values(a.carriers).map((c) => c.flag) });
    }
  }
  await rt.close();
  return out;
}

describe('the demo tells its story', () => {
  afterEach(() => vi.useRealTimers());

  it('+12025550106 goes healthy → mixed → spam; the steady numbers stay clean; the rest as the README says', async () => {
    const t = await timeline();
    const story = t.get('+12025550106')!;
    const first = (s: string) => story.findIndex((x) => x.status === s);
    console.log(`demo 0106 by minute: ${story.map((x) => `${x.status}/${x.action}`).join(' ')}`);
    // Minute 0: healthy (its history is an ordinary number's).
    expect(story[0]).toMatchObject({ status: 'healthy', action: 'keep' });
    expect(story[0]!.flags.every((f) => f === 'clean')).toBe(true);
    // Pacing first (300 calls a day: slow_down, status unchanged), then mixed on its own evidence (about minute
    // 8), then spam once a carrier blocks it (about minute 12), in that order, within the 20 minutes.
    expect(story[2]).toMatchObject({ status: 'healthy', action: 'slow_down' });
    expect(first('mixed')).toBeGreaterThan(2);
    expect(first('mixed')).toBeLessThanOrEqual(10);
    expect(first('spam')).toBeGreaterThanOrEqual(first('mixed') + 2);
    expect(first('spam')).toBeLessThanOrEqual(16);
    expect(['retire', 'rest', 'remediate']).toContain(story[MINUTES]!.action);
    // The steady numbers: healthy, kept, every carrier clean, at every minute.
    for (const n of ['+12025550101', '+12025550102', '+12025550103', '+12025550104', '+12025550105']) {
      for (const [m, x] of t.get(n)!.entries()) expect({ n, m, ...x }).toMatchObject({ n, m, status: 'healthy', action: 'keep', flags: x.flags.map(() => 'clean') });
    }
    // Labelled and blocked from the start; new; over the velocity cap; on a stale list.
    expect(t.get('+12025550107')![0]!.status).toBe('spam');
    expect(t.get('+12025550108')![0]!.status).toBe('in_progress');
    expect(t.get('+12025550109')![0]).toMatchObject({ status: 'healthy', action: 'slow_down' });
    // A day and a half on a stale list (~110 calls) is not yet evidence at the false-alarm budget.
    expect(t.get('+12025550110')![0]).toMatchObject({ status: 'healthy', action: 'keep' });
  }, 120_000);
});

import { closeSync, existsSync, openSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { demoScenario } from './model.js';
import { backfill, startLive } from './run.js';
import { GENERIC_HEADER } from './formats.js';

export { mulberry32 } from './rng.js';

/**
 * `numrep serve --demo`: the simulator (docs/simulation.md) feeding the inbox, so a newcomer
 * sees numbers move. Seven days of history for ten numbers (generic CSV, `demo-backfill.csv`),
 * then live calls appended to `demo-live.csv` as they end, stamped with the wall clock. The
 * hidden reputation runs on a compressed clock (one model hour every `stepSeconds`, default 20):
 * +12025550106 moves to a stale list at 300 calls a day when the live part begins and goes
 * healthy → mixed (a few minutes) → spam (labelled and blocked, about ten minutes).
 */
export interface DemoOptions {
  inbox: string;
  now: () => number;
  log: (msg: string) => void;
  /**
   * Mean seconds between live calls across the pool during the story (default 0.5): fast enough that the story
   * number's own evidence (a few hundred calls) shows as `mixed` minutes before its first block.
   */
  liveEverySeconds?: number;
  /** How long the story's fast feed lasts before the pool drops to its planned volume (default 30 min). */
  storyMinutes?: number;
  /** Real seconds per model hour of the hidden reputation (default 20). */
  stepSeconds?: number;
  /** Seed (default 7). */
  seed?: number;
}

export const DEMO_HEADER = GENERIC_HEADER;

const HOUR = 3_600_000;
const DEFAULT_LIVE_EVERY_SECONDS = 0.5;

function firstBytes(path: string, n: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}
/** Calls per second of the demo pool's planned daily volume (~1 000 calls a day). */
const PLANNED_RATE = 1000 / 86_400;

export async function startDemo(o: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const backfillPath = join(o.inbox, 'demo-backfill.csv');
  // A live file from an older numrep has an older header (no dialer_result): its columns would not match new rows.
  const oldLive = join(o.inbox, 'demo-live.csv');
  const livePath = existsSync(oldLive) && !firstBytes(oldLive, DEMO_HEADER.length + 1).startsWith(DEMO_HEADER + '\n') ? join(o.inbox, 'demo-live-2.csv') : oldLive;
  const sc = demoScenario();
  const now = o.now();
  const start = Math.floor(now / HOUR) * HOUR - sc.hours * HOUR;
  const exists = existsSync(backfillPath);
  const tmp = join(o.inbox, '.demo-backfill.csv.part');
  // The history is simulated either way (the live part continues its hidden state); written once.
  const b = backfill({
    scenario: sc,
    seed: o.seed ?? 7,
    start,
    formats: exists ? [] : ['generic'],
    out: o.inbox,
    fileFor: () => tmp,
    notAfter: now,
    dataOnly: true,
  });
  if (!exists) {
    renameSync(tmp, backfillPath);
    o.log(`demo: wrote 7 days of simulated traffic (${b.calls} calls, ${sc.plans.length} numbers) to ${backfillPath}; live calls follow in ${livePath}`);
  } else {
    o.log(`demo: simulated traffic already in ${backfillPath}; appending live calls to ${livePath}`);
  }
  const stepSeconds = o.stepSeconds ?? 20;
  o.log(`demo: +12025550106 moves to a stale list at 300 calls/day now (fewer answers, more short calls and declines); the carriers' hidden reputation moves one model hour every ${stepSeconds} s (healthy → mixed → spam over minutes)`);
  const labelledNow = () => new Set(b.sim.state().flatMap((s) => s.labelled.map((c) => `${s.number} by ${c}`)));
  let labelled = labelledNow();
  const decayingNow = () => new Set(b.sim.state().flatMap((s) => Object.entries(s.rep).filter(([, r]) => r < sc.reputation.decayAt).map(([c]) => `${s.number} on ${c}`)));
  let decaying = decayingNow();
  const live = startLive({
    sim: b.sim,
    format: 'generic',
    file: livePath,
    rate: 1 / (o.liveEverySeconds ?? DEFAULT_LIVE_EVERY_SECONDS),
    // After the story the pool dials at its planned volume (about 1 000 calls a day), so a demo left
    // running for days settles back to readable windows instead of every number over the velocity cap.
    rateAt: (elapsed) => (elapsed < (o.storyMinutes ?? 30) * 60_000 ? 1 / (o.liveEverySeconds ?? DEFAULT_LIVE_EVERY_SECONDS) : PLANNED_RATE),
    stepSeconds,
    now: o.now,
    onStep: (sim) => {
      const dec = decayingNow();
      for (const d of dec) if (!decaying.has(d)) o.log(`demo: model hour ${sim.hour}: ${d}: hidden reputation falling, consumers start to see a warning (more 487s, fewer answers)`);
      decaying = dec;
      const next = labelledNow();
      for (const l of next) if (!labelled.has(l)) o.log(`demo: model hour ${sim.hour}: ${l.replace(' by ', ' labelled by ')} (its blocks start now)`);
      for (const l of labelled) if (!next.has(l)) o.log(`demo: model hour ${sim.hour}: ${l.replace(' by ', ' no longer labelled by ')} (its reputation recovered)`);
      labelled = next;
    },
  });
  // Story over: every number dials its planned share in real time.
  const settle = setTimeout(() => {
    for (const n of b.sim.numbers) delete n.plan.liveWeight;
    o.log('demo: story over; the pool now dials its planned volume (about 1 000 calls a day) in real time');
  }, (o.storyMinutes ?? 30) * 60_000);
  settle.unref();
  return {
    async stop() {
      clearTimeout(settle);
      live.stop();
    },
  };
}

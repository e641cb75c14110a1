import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsExporter } from '../../src/http/metrics.js';
import { joinPlain } from '../../src/http/gzipBody.js';
import { assessSnapshot, assessView, verdictOf } from '../../src/reputation/evaluate.js';
import { HistoryRecorder } from '../../src/reputation/history.js';
import { Store } from '../../src/store/db.js';
import { Turns } from '../../src/stats/turns.js';
import type { Snapshot } from '../../src/stats/snapshot.js';
import type { Runtime } from '../../src/runtime.js';
import { line, testRuntime, tmp } from '../core/helpers.js';

// A render of /metrics or a history tick over many numbers is CPU-bound for as long as it takes. It runs on
// the thread that answers /healthz and handles SIGTERM, so it must give the event loop turns as it goes.

const NOW = Date.UTC(2026, 10, 20, 18, 0);
const NUMBERS = 300;
/** Each assessment is made this much slower: the pass then takes ~NUMBERS × SLOW_MS, long enough to see. */
const SLOW_MS = 3;

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * The longest the event loop went without running a 5 ms timer while `work` ran, and how long `work` took. Read
 * as a share of the whole pass: a loaded machine stretches both alike, while a pass that never yields stalls
 * for all of it.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; totalMs: number }> {
  const start = performance.now();
  let last = start;
  let stallMs = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    stallMs = Math.max(stallMs, t - last);
    last = t;
  }, 5);
  try {
    const result = await work();
    const end = performance.now();
    stallMs = Math.max(stallMs, end - last);
    return { result, stallMs, totalMs: end - start };
  } finally {
    clearInterval(timer);
  }
}

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close();
});

async function runtimeWithNumbers(): Promise<Runtime> {
  const dir = tmp('numrep-turns-');
  const file = join(dir, 'calls.test');
  let text = '';
  const s = Math.floor(NOW / 1000) - 3600;
  for (let i = 0; i < NUMBERS; i++) for (let k = 0; k < 3; k++) text += line(s - i * 3 - k, `+1202555${String(1000 + i)}`, ['att', 'tmobile', 'verizon'][k], k === 2 ? 'cancelled' : 'answered');
  writeFileSync(file, text);
  const rt = testRuntime(file, () => NOW);
  open.push(rt);
  await rt.poll();
  lastFile = file;
  return rt;
}

/** The file runtimeWithNumbers made last (a test appends to it). */
let lastFile = '';

describe('long passes give the event loop turns', () => {
  it('a /metrics render that assesses every number slowly never holds the event loop for long', async () => {
    const rt = await runtimeWithNumbers();
    let assessed = 0;
    const slowVerdicts = (snap: Snapshot) => {
      const out = new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)]));
      for (let i = 0; i < out.size; i++) busy(SLOW_MS);
      assessed += out.size;
      return out;
    };
    const m = new MetricsExporter(rt, { version: 'test', seriesBudget: 0, verdicts: slowVerdicts });
    // Two scrapes at once share one render: every number is assessed once, both get the same body.
    const { result, stallMs, totalMs } = await longestStall(() => Promise.all([m.renderBody(), m.renderBody()]));
    const [first, second] = result;
    console.log(`render of ${NUMBERS} slow numbers: longest event-loop stall ${stallMs.toFixed(0)} ms of a ${totalMs.toFixed(0)} ms pass, ${m.lastRenderTurns} turns`);
    expect(second).toBe(first);
    expect(assessed).toBe(NUMBERS);
    expect(joinPlain(first).toString()).toContain('numrep_number_reputation_score{number="+12025551299"');
    expect(m.lastRenderTurns).toBeGreaterThan(5);
    // One verdict slice (64 of 300 numbers) plus scheduling: a fifth of the pass or so, never half of it (a
    // pass that does not yield stalls for all of it). Wall-clock bounds failed under load (451 ms > 450).
    expect(totalMs).toBeGreaterThan(NUMBERS * SLOW_MS);
    expect(stallMs).toBeLessThan(totalMs / 2);
  });

  it('a history tick records a slice at a time, with turns between, the rows one record() would write', async () => {
    const rt = await runtimeWithNumbers();
    const snap = rt.snapshotNow();
    const sliced = new Store(join(tmp('numrep-turns-'), 'h.db'), { bucketMs: 60_000 });
    const whole = new Store(join(tmp('numrep-turns-'), 'h.db'), { bucketMs: 60_000 });
    const turns = new Turns();
    const { stallMs, totalMs } = await longestStall(() =>
      new HistoryRecorder(sliced).recordInSlices(
        snap.numbers.values(),
        (v) => {
          busy(SLOW_MS);
          return [v.number, assessView(v, snap)];
        },
        snap.at,
        turns,
      ),
    );
    new HistoryRecorder(whole).record(assessSnapshot(snap), snap.at);
    console.log(`history tick over ${NUMBERS} slow numbers: longest stall ${stallMs.toFixed(0)} ms of a ${totalMs.toFixed(0)} ms pass, ${turns.given} turns`);
    expect(turns.given).toBeGreaterThan(5);
    expect(totalMs).toBeGreaterThan(NUMBERS * SLOW_MS);
    expect(stallMs).toBeLessThan(totalMs / 2);
    const rows = (s: Store) => [...snap.numbers.keys()].flatMap((n) => s.history(n, 0, NOW + 1));
    expect(rows(sliced)).toEqual(rows(whole));
    expect(rows(sliced)).toHaveLength(NUMBERS);
    sliced.close();
    whole.close();
  });

  it('a history tick stops at the next number once the process stops', async () => {
    const rt = await runtimeWithNumbers();
    const snap = rt.snapshotNow();
    const store = new Store(join(tmp('numrep-turns-'), 'h.db'), { bucketMs: 60_000 });
    let seen = 0;
    await new HistoryRecorder(store).recordInSlices(snap.numbers.values(), (v) => (seen++, [v.number, assessView(v, snap)]), snap.at, new Turns(), { stopped: () => seen >= 10 });
    expect(seen).toBe(10);
    store.close();
  });

  it('a commit during a render\'s turns shows in neither its counters nor its number series: one scrape, one state', async () => {
    const rt = await runtimeWithNumbers();
    const slowVerdicts = (snap: Snapshot) => {
      const out = new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)]));
      for (let i = 0; i < out.size; i++) busy(SLOW_MS);
      return out;
    };
    const m = new MetricsExporter(rt, { version: 'test', seriesBudget: 0, verdicts: slowVerdicts });
    const commitsBefore = rt.store.commits;
    let rendered = false;
    const body = m.render().then((b) => ((rendered = true), b));
    // 30 more calls of a new number, read and committed while the render gives the event loop its turns.
    let more = '';
    for (let k = 0; k < 30; k++) more += line(Math.floor(NOW / 1000) - 60 - k, '+12025559999', 'att', 'answered');
    appendFileSync(lastFile, more);
    await rt.poll();
    expect(rendered).toBe(false);
    expect(rt.store.commits).toBeGreaterThan(commitsBefore);
    const text = await body;
    const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, x) => a + Number(x[1]), 0);
    // The snapshot was taken before the commit: 900 calls in the numbers' series, so 900 in the counters too.
    expect(sum(/^numrep_number_calls\{[^}]*window="24h"[^}]*\} (\S+)$/gm)).toBe(NUMBERS * 3);
    expect(sum(/^numrep_ingest_records_total\{[^}]*result="accepted"[^}]*\} (\S+)$/gm)).toBe(NUMBERS * 3);
    expect(sum(/^numrep_calls_total\{[^}]*\} (\S+)$/gm)).toBe(NUMBERS * 3);
    // The next scrape has the new calls everywhere.
    const next = await m.render();
    expect([...next.matchAll(/^numrep_ingest_records_total\{[^}]*result="accepted"[^}]*\} (\S+)$/gm)].reduce((a, x) => a + Number(x[1]), 0)).toBe(NUMBERS * 3 + 30);
    expect(next).toContain('numrep_number_calls{number="+12025559999"');
  });
});

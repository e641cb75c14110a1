import { describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { takeSnapshot, type Snapshot } from '../../src/stats/snapshot.js';
import { WINDOWS, type Outcome, type WindowName } from '../../src/model/types.js';
import { line, testRuntime, tmp } from '../core/helpers.js';
import { mulberry32 } from '../../src/sim/rng.js';

const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

// serve's snapshot after a commit or a window slide is updated in place of taken whole (only the numbers
// whose sums or seen times moved get new views). It must equal a snapshot taken whole at the same
// instant: same numbers in the same order, same views, same per-carrier totals in the same order.

const T0 = Date.UTC(2026, 10, 20, 18, 0, 7);
const OUTCOMES: Outcome[] = ['answered', 'cancelled', 'blocked', 'no_answer', 'rejected', 'busy', 'voicemail'];

const rng = mulberry32;

/** Everything a snapshot says, in its Map orders. */
function flat(s: Snapshot) {
  // By name: a snapshot's per-number sums are read through getters (stats/snapshot.ts SlabWindows), not own keys.
  const vec = (r: Partial<Record<WindowName, Float64Array>>) => WINDOW_NAMES.filter((w) => r[w]).map((w) => [w, [...r[w]!]]);
  return {
    numbers: [...s.numbers].map(([k, v]) => [k, v.number, v.pool, v.firstSeen, v.lastSeen, vec(v.windows), [...v.carriers].map(([c, w]) => [c, vec(w)])]),
    carriers: [...s.carriers].map(([c, w]) => [c, vec(w)]),
  };
}

describe('incremental snapshot', () => {
  it('equals a snapshot taken whole after random commits, slides and a side-data import', async () => {
    const dir = tmp('numrep-snap-');
    const file = join(dir, 'calls.test');
    const r = rng(42);
    const numbers = Array.from({ length: 30 }, (_, i) => `+1202555${String(1000 + i)}`);
    const carriers = ['att', 'tmobile', 'verizon', 'lumen'];
    const call = (tsSec: number) =>
      line(tsSec, numbers[Math.floor(r() * numbers.length)], carriers[Math.floor(r() * carriers.length)], OUTCOMES[Math.floor(r() * OUTCOMES.length)], Math.floor(r() * 90));
    let text = '';
    for (let i = 0; i < 300; i++) text += call(Math.floor(T0 / 1000) - Math.floor(r() * 8 * 86_400));
    writeFileSync(file, text);
    let now = T0;
    const rt = testRuntime(file, () => now, join(dir, 'numrep.db'));
    await rt.poll();
    let prev = rt.snapshotNow();
    let kept = 0;
    let renewed = 0;
    for (let step = 0; step < 60; step++) {
      const k = r();
      if (k < 0.5) {
        // a few new calls (some older than every window: seen times move, sums do not)
        let add = '';
        for (let i = 0; i < 1 + Math.floor(r() * 4); i++) add += call(Math.floor(now / 1000) - Math.floor(r() < 0.2 ? 9 * 86_400 : r() * 3_600));
        appendFileSync(file, add);
        await rt.poll();
      } else if (k < 0.9) now += Math.floor(r() * 6 * 3_600_000); // the windows slide, calls leave them
      else {
        rt.store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels: [], inventory: [{ number: numbers[step % 30], pool: 'p2', campaign: null, registered: null, registeredAt: null }] });
        rt.reloadSideData();
      }
      const snap = rt.snapshotNow();
      const whole = takeSnapshot(rt.windows, rt.seen, rt.poolOf, [...rt.pools.keys(), ...rt.labels.keys()]);
      expect(flat(snap), `step ${step}`).toEqual(flat(whole));
      for (const [n, v] of snap.numbers) if (prev.numbers.get(n) === v) kept++;
      else renewed++;
      prev = snap;
    }
    // The update path must actually have kept views (and made new ones).
    expect(kept).toBeGreaterThan(200);
    expect(renewed).toBeGreaterThan(50);
    await rt.close();
  });
});

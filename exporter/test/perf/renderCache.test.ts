import { describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsExporter } from '../../src/http/metrics.js';
import { assessSnapshot, verdictOf } from '../../src/reputation/evaluate.js';
import { line, testRuntime, tmp } from '../core/helpers.js';

// /metrics keeps the text of each number's (and pair's) window series between scrapes and reuses
// it while the sums are unchanged: a warm exporter must print exactly what a cold one prints.

const NOW = Date.UTC(2026, 10, 20, 18, 0);

function rig(file: string, now: () => number) {
  const rt = testRuntime(file, now);
  const m = new MetricsExporter(rt, { version: 'test', seriesBudget: 3, verdicts: (snap) => new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)])) });
  return { rt, m };
}

/** The body without the exporter's own process metrics and timings. */
const stable = (b: string) => b.split('\n').filter((l) => !/^(# (HELP|TYPE) )?numrep_(process|nodejs|metrics_render|source_)/.test(l)).join('\n');

describe('/metrics render cache', () => {
  it('a warm exporter prints what a cold one prints, after new calls, a moved clock and a pool change', async () => {
    const dir = tmp('numrep-cache-');
    const file = join(dir, 'calls.test');
    const s = Math.floor(NOW / 1000);
    writeFileSync(file, ['+12025550101', '+12025550102', '+12025550103'].flatMap((n, i) => [line(s - 7200 - i, n, 'att', 'answered', 30), line(s - 600 - i, n, 'tmobile', 'cancelled', 0)]).join(''));
    let now = NOW;
    const warm = rig(file, () => now);
    await warm.rt.poll();
    const first = await warm.m.render();
    expect(await warm.m.render()).toBeDefined();

    // new calls for one number, then the clock moves past the 1h window of the old calls
    appendFileSync(file, line(s - 30, '+12025550102', 'att', 'blocked', 0) + line(s - 20, '+12025550104', 'verizon', 'answered', 5));
    await warm.rt.poll();
    now = NOW + 50 * 60_000;
    const after = await warm.m.render();
    const cold = rig(file, () => now);
    await cold.rt.poll();
    expect(stable(after)).toEqual(stable(await cold.m.render()));
    expect(after).not.toEqual(first);
    expect(after).toMatch(/^numrep_number_calls\{number="\+12025550104",pool="default",window="1h"\} 1$/m);
    await warm.rt.close();
    await cold.rt.close();
  });
});

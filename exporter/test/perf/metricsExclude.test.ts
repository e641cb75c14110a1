import { describe, expect, it } from 'vitest';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsExporter } from '../../src/http/metrics.js';
import { assessSnapshot, verdictOf } from '../../src/reputation/evaluate.js';
import { ALERTED_FAMILIES, EXCLUDABLE_FAMILIES, PER_NUMBER_FAMILIES } from '../../src/http/numberFamilies.js';
import { line, testRuntime, tmp } from '../core/helpers.js';

// metrics.exclude leaves per-number families out of /metrics (fewer series for a large pool): the families named
// are gone, HELP and TYPE included, in the first render and in every incremental one after it; every other line
// is what an exporter without the exclusion prints. Families an alert rule reads cannot be excluded.

const T0 = Date.UTC(2026, 10, 20, 18, 0, 7);
const EXCLUDED = ['numrep_number_attestation_ratio', 'numrep_number_voicemail_ratio', 'numrep_number_talk_seconds_avg', 'numrep_number_consumers', 'numrep_number_first_seen_timestamp_seconds'];

function rig(file: string, now: () => number, exclude?: string[]) {
  const rt = testRuntime(file, now);
  const m = new MetricsExporter(rt, {
    version: 'test',
    seriesBudget: 0,
    exclude,
    verdicts: (snap) => new Map([...assessSnapshot(snap, { labels: rt.labels, registered: rt.registered })].map(([n, a]) => [n, verdictOf(a)])),
  });
  return { rt, m };
}

const familyOf = (l: string) => /^(?:# (?:HELP|TYPE) )?([a-z_]+)/.exec(l)?.[1] ?? '';
const content = (b: string) =>
  b
    .split('\n')
    .filter((l) => l !== '' && !/^(# (HELP|TYPE) )?numrep_(process|nodejs|metrics_render|source_)/.test(l))
    .join('\n');

function calls(from: number, n: number): string {
  let text = '';
  for (let i = 0; i < n; i++) {
    const t = from + i * 600;
    text += line(t, `+1202555${String(100 + (i % 40)).padStart(4, '0')}`, i % 3 ? 'att' : 'verizon', i % 4 === 0 ? 'no_answer' : 'answered', 5 + (i % 50));
  }
  return text;
}

describe('metrics.exclude', () => {
  it('leaves the named families out, first render and incremental ones alike, and changes nothing else', async () => {
    const dir = tmp('numrep-exclude-');
    const file = join(dir, 'calls.test');
    writeFileSync(file, calls(Math.floor(T0 / 1000) - 2 * 86_400, 400));
    const now = T0;
    const all = rig(file, () => now);
    const lean = rig(file, () => now, EXCLUDED);
    await all.rt.poll();
    await lean.rt.poll();
    for (const round of [0, 1, 2]) {
      if (round > 0) {
        appendFileSync(file, calls(Math.floor(T0 / 1000) - 3_000 + round * 10, 20));
        await all.rt.poll();
        await lean.rt.poll();
      }
      const full = content(await all.m.render());
      const body = content(await lean.m.render());
      for (const f of EXCLUDED) expect(full, f).toContain(`\n${f}{`); // each family is there without the exclusion
      expect(body.split('\n').filter((l) => EXCLUDED.includes(familyOf(l)))).toEqual([]);
      expect(body).toEqual(full.split('\n').filter((l) => !EXCLUDED.includes(familyOf(l))).join('\n'));
    }
  });

  it('the families alert rules read are exactly those the rules name (so none of them can be left out)', () => {
    const rules = join(__dirname, '../../../alerting/rules');
    const named = new Set<string>();
    for (const f of readdirSync(rules)) for (const m of readFileSync(join(rules, f), 'utf8').matchAll(/numrep_number_[a-z_]+/g)) named.add(m[0]);
    expect([...ALERTED_FAMILIES].sort()).toEqual(PER_NUMBER_FAMILIES.filter((f) => named.has(f)).sort());
    expect(EXCLUDABLE_FAMILIES.length + ALERTED_FAMILIES.length).toBe(PER_NUMBER_FAMILIES.length);
  });
});

// Every PromQL expression in dashboards/ (panel targets, variable queries, annotations) parses, with the Grafana
// variables substituted: they are written as recording rules into a scratch rules file and checked by the real
// `promtool check rules` (Debian package prometheus). A broken copy must fail the same check.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { needTool, run, skipUnlessTools } from '../alerting/helpers.js';
import { DASHBOARDS_DIR, lintValues, queriesOf, substitute, type Dashboard, type QueryRef } from './lib.js';

interface Checked {
  ok: boolean;
  /** where → promtool's complaint */
  failures: Map<string, string>;
  output: string;
}

/** Writes the expressions as rules `lint:q<i>` and runs promtool; maps failures back to where they came from. */
function promtoolParse(dir: string, items: { where: string; expr: string }[]): Checked {
  const file = join(dir, `parse-${Date.now()}-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules: items.map((q, i) => ({ record: `lint:q${i}`, expr: q.expr })) }] }));
  const r = run(needTool('promtool'), ['check', 'rules', file]);
  const output = r.stdout + r.stderr;
  const failures = new Map<string, string>();
  for (const m of output.matchAll(/"lint:q(\d+)"[^\n]*?:\s*(.*)/g)) failures.set(items[Number(m[1])].where, m[2]);
  if (r.status !== 0 && failures.size === 0) failures.set('(unattributed)', output);
  return { ok: r.status === 0 && /SUCCESS/.test(output), failures, output };
}

function dashboardQueries(dir = DASHBOARDS_DIR): { where: string; expr: string; q: QueryRef }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard;
      const values = lintValues(d);
      return queriesOf(d, f).map((q) => ({ where: q.where, expr: substitute(q.expr, values), q }));
    });
}

describe.skipIf(skipUnlessTools('promtool'))('PromQL in dashboards/ parses (promtool)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'numrep-promql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every target, variable and annotation query, with variables substituted', () => {
    const items = dashboardQueries();
    expect(items.length).toBeGreaterThan(60);
    for (const it of items) expect(it.expr, it.where).not.toMatch(/\$\w|\[\[/); // nothing left unsubstituted
    const r = promtoolParse(dir, items);
    expect(Object.fromEntries(r.failures)).toEqual({});
    expect(r.output).toMatch(new RegExp(`SUCCESS: ${items.length} rules found`));
  });

  it('with multi-value and All selections (regex alternations, .*)', () => {
    const items = readdirSync(DASHBOARDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        const d = JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard;
        const values: Record<string, string | string[]> = { ...lintValues(d) };
        for (const v of d.templating?.list ?? []) if (v.multi) values[v.name] = ['a.b', 'c|d', '+1202'];
        return queriesOf(d, f).map((q) => ({ where: q.where, expr: substitute(q.expr, values) }));
      });
    const r = promtoolParse(dir, items);
    expect(Object.fromEntries(r.failures)).toEqual({});
  });

  it('fails on a broken expression and names where it is', () => {
    const items = dashboardQueries();
    const broken = [...items];
    broken[3] = { ...broken[3], expr: broken[3].expr.replace(/\)\s*$/, '') + ' by (' };
    broken[7] = { ...broken[7], expr: 'rate(numrep_calls_total)' }; // range function without a range
    const r = promtoolParse(dir, broken);
    expect(r.ok).toBe(false);
    expect([...r.failures.keys()]).toEqual(expect.arrayContaining([items[3].where, items[7].where]));
  });
});

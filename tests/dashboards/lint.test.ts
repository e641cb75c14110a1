// Dashboard lint: dashboards/*.json against the brief (stable uids, datasource variable, descriptions, units,
// a 24-column grid without overlaps, core panel types or the numrep panel, metric names from the contract),
// and the same lint on mutated copies, which must fail.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultOptions } from '../../grafana-plugin/src/types.js';
import { METRIC } from '../../grafana-plugin/src/data/metrics.js';
import {
  DASHBOARDS_DIR,
  EXPECTED_DASHBOARDS,
  NUMERIC_PANEL_TYPES,
  REPO,
  allPanels,
  catalogueMetrics,
  defaultLintContext,
  lintDashboard,
  lintDashboardDir,
  metricNames,
  queriesOf,
  recordingRules,
  substitute,
  type Dashboard,
  type LintContext,
} from './lib.js';

const ctx: LintContext = defaultLintContext(defaultOptions as unknown as Record<string, unknown>);
const load = (f: string) => JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard;
const files = Object.keys(EXPECTED_DASHBOARDS);

describe('the contract the lint reads', () => {
  it('docs/metrics.md and alerting/rules give metric names', () => {
    expect(catalogueMetrics().has('numrep_number_reputation_score')).toBe(true);
    expect(catalogueMetrics().size).toBeGreaterThan(30);
    expect(recordingRules().has('numrep:pool_healthy:ratio')).toBe(true);
  });

  it('extracts metric names from PromQL, not functions, keywords or labels', () => {
    expect(
      metricNames(
        'sum by (pool, carrier) (rate(numrep_calls_total{outcome="answered", pool=~"a|b"}[5m])) / on (pool) group_left () ' +
          'numrep:pool_numbers:sum > bool 0 or vector(0) unless time() - numrep_source_last_read_timestamp_seconds offset 5m',
      ).sort(),
    ).toEqual(['numrep:pool_numbers:sum', 'numrep_calls_total', 'numrep_source_last_read_timestamp_seconds']);
    expect(metricNames('bottomk(20, numrep_number_reputation_score{pool=~".*"}) * 1e-3')).toEqual(['numrep_number_reputation_score']);
    expect(metricNames('{__name__="numrep_tracked_numbers"}')).toEqual(['numrep_tracked_numbers']);
  });

  it('substitutes variables as Grafana does ($x, ${x}, ${x:regex}, [[x]], multi-value, built-ins)', () => {
    expect(substitute('a{p=~"$pool"}[$__rate_interval] ${number} [[w]] ${pool:regex}', { pool: ['a.b', 'c'], number: '+1202', w: '7d' })).toBe(
      'a{p=~"(a\\\\.b|c)"}[1m] +1202 7d (a\\\\.b|c)',
    );
  });
});

describe('dashboards/', () => {
  it('holds the four dashboards, generated from dashboards/generate.mjs and up to date', () => {
    expect(readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort()).toEqual([...files].sort());
    const r = spawnSync(process.execPath, [join(DASHBOARDS_DIR, 'generate.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('passes the lint (every problem listed)', () => {
    expect(lintDashboardDir(DASHBOARDS_DIR, ctx)).toEqual([]);
  });

  it.each(files)('%s: stable uid, datasource variable, every panel described, numeric panels with units', (f) => {
    const d = load(f);
    expect(d.uid).toBe(EXPECTED_DASHBOARDS[f]);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    const ds = d.templating!.list!.find((v) => v.name === 'datasource')!;
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const panels = allPanels(d).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(8);
    for (const p of panels) {
      expect(p.description, p.title).toMatch(/\S{3,}/);
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    expect(queriesOf(d, f).length).toBeGreaterThanOrEqual(8);
  });

  it('number detail: uid numrep-number-detail with a `number` variable, as the panel links it', () => {
    const d = load('number-detail.json');
    expect(d.uid).toBe('numrep-number-detail');
    expect(d.templating!.list!.map((v) => v.name)).toContain('number');
    const overview = load('pool-overview.json');
    const panel = allPanels(overview).find((p) => p.type === ctx.pluginId)!;
    expect(panel, 'pool overview has the Number Reputation panel').toBeDefined();
    expect((panel.options as any).link.template).toBe('/d/numrep-number-detail/number-detail?var-number=${number}');
  });

  it('the Number Reputation panel queries every family the panel reads, with the metric name kept', () => {
    const panel = allPanels(load('pool-overview.json')).find((p) => p.type === ctx.pluginId)!;
    const exprs = (panel.targets ?? []).map((t) => t.expr ?? '');
    const selected = new Set(exprs.flatMap((e) => metricNames(substitute(e, { pool: '.*', worst: '20' }))));
    for (const family of Object.values(METRIC)) expect(selected, family).toContain(family);
    // Aggregations drop __name__ (the panel then has to guess the family): only selectors, `or` and `and` here.
    for (const e of exprs) expect(e.replace(/bottomk\(\$worst, [^)]*\)/, '')).not.toMatch(/\b(sum|max|min|avg|count)\b|[*\/+-] *\d/);
    expect(panel.targets!.find((t) => t.expr!.includes('numrep_number_answer_ratio'))).toMatchObject({ range: true, instant: false });
  });

  it('ratios are shown as percentunit, scores 0–100', () => {
    for (const f of files) {
      for (const p of allPanels(load(f))) {
        const exprs = (p.targets ?? []).map((t) => t.expr ?? '').join('\n');
        if (!NUMERIC_PANEL_TYPES.has(p.type ?? '')) continue;
        if (/_ratio\b|:ratio|_ratio\{/.test(exprs)) {
          expect(p.fieldConfig?.defaults?.unit, `${f} "${p.title}"`).toBe('percentunit');
        }
        if (/reputation_score|subscore/.test(exprs)) expect(p.fieldConfig?.defaults?.max, `${f} "${p.title}"`).toBe(100);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('the lint fails on a broken copy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'numrep-dash-lint-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Copies dashboards/ to a temp folder, applies `mutate` to one file there, lints the folder. */
  function lintMutated(file: string, mutate: (d: any) => void): string[] {
    for (const f of files) copyFileSync(join(DASHBOARDS_DIR, f), join(dir, f));
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    mutate(d);
    writeFileSync(join(dir, file), JSON.stringify(d, null, 2));
    return lintDashboardDir(dir, ctx);
  }
  const firstQueryPanel = (d: any) => d.panels.find((p: any) => p.targets?.length);

  it('an unmodified copy passes', () => {
    expect(lintMutated('carriers.json', () => {})).toEqual([]);
  });

  const cases: [string, string, (d: any) => void, RegExp][] = [
    ['unknown metric', 'pool-overview.json', (d) => (firstQueryPanel(d).targets[0].expr = 'sum(numrep_no_such_metric)'), /numrep_no_such_metric is neither in docs\/metrics\.md/],
    ['renamed metric (typo)', 'number-detail.json', (d) => (firstQueryPanel(d).targets[0].expr = firstQueryPanel(d).targets[0].expr.replace('numrep_number_reputation_score', 'numrep_number_reputation')), /numrep_number_reputation is neither/],
    ['unknown recording rule', 'carriers.json', (d) => (d.panels[5].targets[0].expr = 'numrep:carrier_answer_drop:1h'), /numrep:carrier_answer_drop:1h is neither/],
    ['datasource uid not provisioned', 'carriers.json', (d) => (d.panels[0].datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }), /datasource uid "P1809F7CD0C75ACF3" is neither/],
    ['target datasource by name', 'exporter-health.json', (d) => (d.panels[0].targets[0].datasource = 'Prometheus'), /datasource "Prometheus" is neither/],
    ['no datasource variable', 'carriers.json', (d) => (d.templating.list = d.templating.list.filter((v: any) => v.name !== 'datasource')), /no `datasource` template variable|names no datasource variable/],
    ['panel type not core', 'pool-overview.json', (d) => (d.panels[0].type = 'grafana-piechart-panel'), /panel type "grafana-piechart-panel" is neither a core type/],
    ['missing description', 'exporter-health.json', (d) => delete d.panels[2].description, /no description/],
    ['missing unit', 'number-detail.json', (d) => delete d.panels[5].fieldConfig.defaults.unit, /no unit/],
    ['duplicate panel id', 'pool-overview.json', (d) => (d.panels[1].id = d.panels[0].id), /panel id \d+ used twice/],
    ['overlapping panels', 'carriers.json', (d) => (d.panels[1].gridPos = { ...d.panels[0].gridPos, x: d.panels[0].gridPos.x + 1 }), /overlap/],
    ['wider than 24 columns', 'carriers.json', (d) => (d.panels.at(-1).gridPos.w = 25), /outside the 24-column grid/],
    ['uid changed', 'number-detail.json', (d) => (d.uid = 'abc123'), /expected the stable uid "numrep-number-detail"|no dashboard with uid numrep-number-detail/],
    ['number variable removed', 'number-detail.json', (d) => (d.templating.list = d.templating.list.filter((v: any) => v.name !== 'number')), /undefined variable \$number/],
    ['undefined variable', 'carriers.json', (d) => (d.panels[0].targets[0].expr = 'numrep_carrier_calls{carrier=~"$carriers"}'), /undefined variable \$carriers/],
    ['plugin option not in the plugin', 'pool-overview.json', (d) => (d.panels.find((p: any) => p.type === ctx.pluginId).options.colour = 'red'), /option colour is not one of the plugin's options/],
    ['old schemaVersion', 'carriers.json', (d) => (d.schemaVersion = 27), /schemaVersion 27 is not a current one/],
    ['panel link to a missing dashboard', 'pool-overview.json', (d) => (d.panels.find((p: any) => p.type === ctx.pluginId).options.link.template = '/d/numrep-number/number?var-number=${number}'), /unknown dashboard uid numrep-number/],
  ];
  it.each(cases)('%s', (_name, file, mutate, expected) => {
    const problems = lintMutated(file, mutate);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('a file that is not JSON', () => {
    for (const f of files) copyFileSync(join(DASHBOARDS_DIR, f), join(dir, f));
    writeFileSync(join(dir, 'carriers.json'), '{ "uid": "numrep-carriers", ');
    expect(lintDashboardDir(dir, ctx).join('\n')).toMatch(/carriers\.json: not valid JSON/);
  });

  it('lintDashboard on an object reports the same problems', () => {
    const d = load('exporter-health.json');
    d.panels![0].type = 'graph';
    expect(lintDashboard(d, 'exporter-health.json', ctx).join('\n')).toMatch(/panel type "graph"/);
  });
});

it('REPO points at the repository', () => {
  expect(readFileSync(join(REPO, 'package.json'), 'utf8')).toMatch(/"name": "numrep"/);
});

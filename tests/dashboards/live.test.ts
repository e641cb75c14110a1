// Live: a real Prometheus (Debian package prometheus) with the repository's rule files scrapes a real
// `numrep serve --demo` every second, and every PromQL query of every dashboard — panel targets, variable
// queries, annotations — returns data with the Grafana variables set to real values (resolved the way Grafana
// resolves them: by running the variable's own query). A dashboard whose query returns nothing is broken.
//
// Traffic: the demo's seven days of calls plus its live trickle, the CDR files of examples/ (Asterisk,
// FreeSWITCH, Kamailio, generic CSV), message traces of real sipp calls placed on loopback just before (answered,
// cancelled with 487, blocked with 608; the scenarios of exporter/test/fixtures/sip), a file with malformed
// records (so the rejected-records panels have series), a number inventory (two pools) and engine-label
// snapshots with spam reports (so the engine-label and report panels have series), imported with the real CLI.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ON_CI, findTool, freePort, getJson, needTool, skipUnlessTools, startProcess, stopProcess, waitFor, type Proc } from '../alerting/helpers.js';
import { runPairs, type Pair } from '../../exporter/test/sip/live.js';
import {
  DASHBOARDS_DIR,
  REPO,
  RULES_DIR,
  readYaml,
  substitute,
  variablePromql,
  queriesOf,
  type Dashboard,
  type QueryRef,
  type Variable,
} from './lib.js';

const CLI = join(REPO, 'exporter', 'dist', 'cli', 'main.js');
const EXAMPLES = join(REPO, 'examples');

/** The demo's spam number (blocked by att and verizon): every per-number panel has series for it. */
const SPAM_NUMBER = '+12025550107';
const INVENTORY: [string, string][] = [
  ['+12025550101', 'collections'],
  ['+12025550102', 'collections'],
  ['+12025550103', 'collections'],
  ['+12025550104', 'reminders'],
  ['+12025550105', 'reminders'],
  ['+12025550106', 'reminders'],
  ['+12025550107', 'collections'],
  ['+12025550108', 'reminders'],
  ['+12025550109', 'collections'],
];
/** Real SIP calls from a number of the pool (and one sipp-only number), to carriers of examples/prefix-map.csv. */
const SIPP_NUMBER = '+12025559910';
const sippCalls = (n: number, callers: string[], from: number) =>
  Array.from({ length: n }, (_, i) => ({ caller: callers[i % callers.length], called: `${['+1212', '+1310', '+1415'][i % 3]}555${from + i}`, attest: 'A' as const }));
const SIPP_PAIRS: Pair[] = [
  { kind: 'answered', calls: sippCalls(8, [SIPP_NUMBER, '+12025550106'], 2000), talkMs: 1000 },
  { kind: 'cancel', calls: sippCalls(6, [SIPP_NUMBER, '+12025550106'], 3000) },
  { kind: 'block608', calls: sippCalls(4, [SIPP_NUMBER], 4000) },
];

/** Values preferred when a variable's own query offers them (the rest take the first value offered). */
const PREFERRED: Record<string, string> = { number: SPAM_NUMBER, pool: 'collections', carrier: 'att', job: 'numrep' };

const dashboards = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, d: JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard }));

const builtExporter = existsSync(CLI);
const skip = skipUnlessTools('prometheus') || (!ON_CI && !builtExporter);

describe.skipIf(skip)('live: every dashboard query returns data from a real Prometheus scraping a real exporter', () => {
  let dir: string;
  let exporter: Proc | undefined;
  let prometheus: Proc | undefined;
  let prom = '';
  const diagnostics = () => [exporter?.output(), prometheus?.output()].filter(Boolean).join('\n');

  async function query(expr: string, instant: boolean): Promise<{ resultType: string; result: any[] }> {
    const now = Date.now() / 1000;
    const params = instant
      ? new URLSearchParams({ query: expr, time: String(now) })
      : new URLSearchParams({ query: expr, start: String(now - 120), end: String(now), step: '5' });
    const r = await getJson(`${prom}/api/v1/${instant ? 'query' : 'query_range'}`, {
      method: 'POST',
      body: params,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return r.data;
  }

  beforeAll(async () => {
    if (!builtExporter) throw new Error(`${CLI} is missing: npm test builds it (npm run build --workspace exporter)`);
    dir = mkdtempSync(join(tmpdir(), 'numrep-live-dash-'));
    const inbox = join(dir, 'inbox');
    const db = join(dir, 'numrep.db');
    mkdirSync(inbox);

    // Side data through the real CLI, before serve starts (serve reloads it anyway).
    const now = new Date().toISOString();
    writeFileSync(join(dir, 'inventory.csv'), 'number,pool,campaign,registered\n' + INVENTORY.map(([n, p]) => `${n},${p},${p}-q4,yes`).join('\n') + '\n');
    writeFileSync(join(dir, 'labels.csv'), `number,engine,label,checked_at,reports\n${SPAM_NUMBER},hiya,Spam Likely,${now},14\n${SPAM_NUMBER},first_orion,clean,${now},0\n`);
    for (const kind of ['inventory', 'labels']) {
      execFileSync(process.execPath, [CLI, kind, 'import', join(dir, `${kind}.csv`), '--db', db], { stdio: 'pipe', timeout: 30_000 });
    }
    // Remediation cases through the real CLI (the hiya label above suggested one): one resolved, so time in review
    // has a value, and the suggestion opened.
    const remediation = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [CLI, 'remediation', ...args, '--db', db, '--json'], { encoding: 'utf8', timeout: 30_000 }));
    const tns = remediation('open', SPAM_NUMBER, '--engine', 'tns', '--ticket', 'T-1');
    remediation('update', String(tns.id), '--state', 'resolved');
    remediation('open', SPAM_NUMBER, '--engine', 'hiya');
    // Real-format CDR files from examples/ (maps and side files stay out), and malformed records.
    if (existsSync(EXAMPLES)) {
      for (const f of readdirSync(EXAMPLES)) {
        if (/map|labels|inventory|\.md$/i.test(f)) continue;
        copyFileSync(join(EXAMPLES, f), join(inbox, `example-${f}`));
      }
    }
    // Real sipp traffic (sip-tester): the UAC traces go into the inbox like a trace an operator drops there.
    const sippDir = join(dir, 'sipp');
    mkdirSync(sippDir);
    if (findTool('sipp')) {
      const traces = await runPairs(sippDir, SIPP_PAIRS);
      traces.forEach((t, i) => copyFileSync(t, join(inbox, `sipp-${i}-${SIPP_PAIRS[i].kind}.log`)));
    } else if (ON_CI) {
      throw new Error('sipp not found on PATH (CI=true: install the Debian package sip-tester)');
    }
    writeFileSync(
      join(inbox, 'malformed.csv'),
      'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd\n' +
        `not-a-date,+12025550101,+12125551234,att,200,OK,30,A,\n${now},,+12125551234,att,200,OK,30,A,\n${now},+12025550101,+12125551234,att,200,OK,30,A,\n`,
    );

    const exporterPort = await freePort();
    const maps = ['prefix-map', 'trunk-map'].flatMap((m) => (existsSync(join(EXAMPLES, `${m}.csv`)) ? [`--${m}`, join(EXAMPLES, `${m}.csv`)] : []));
    exporter = startProcess('numrep serve --demo', process.execPath, [
      CLI, 'serve', '--listen', `127.0.0.1:${exporterPort}`, '--inbox', inbox, '--db', db, '--demo', ...maps,
    ]);
    const exp = `http://127.0.0.1:${exporterPort}`;
    await waitFor('the exporter to be ready', async () => ((await fetch(`${exp}/readyz`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 300,
      diagnostics,
    });

    // A copy of alerting/prometheus.yml: same jobs and rules, loopback targets, 1 s scrape and evaluation.
    const promPort = await freePort();
    const cfg = readYaml<Record<string, any>>(join(REPO, 'alerting', 'prometheus.yml'));
    cfg.global = { ...cfg.global, scrape_interval: '1s', evaluation_interval: '1s' };
    cfg.rule_files = [join(RULES_DIR, '*.yml')];
    delete cfg.alerting; // notifications are tested in tests/alerting
    for (const job of cfg.scrape_configs) {
      job.scrape_interval = '1s';
      job.static_configs = [{ targets: [job.job_name === 'numrep' ? `127.0.0.1:${exporterPort}` : `127.0.0.1:${promPort}`] }];
    }
    writeFileSync(join(dir, 'prometheus.yml'), stringify(cfg));
    prometheus = startProcess('prometheus', needTool('prometheus'), [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    prom = `http://127.0.0.1:${promPort}`;
    await waitFor('Prometheus to be ready', async () => ((await fetch(`${prom}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 300,
      diagnostics,
    });
    // Enough scrapes for rate() and the recording rules to have evaluated.
    await waitFor(
      'five scrapes of the exporter and the recording rules',
      async () => {
        const samples = await query('count_over_time(up{job="numrep"}[1m]) >= 5', true);
        const rule = await query('numrep:pool_healthy:ratio', true);
        return samples.result.length > 0 && rule.result.length > 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, diagnostics },
    );
  });

  afterAll(async () => {
    await stopProcess(prometheus);
    await stopProcess(exporter);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves variables in order, like Grafana: each query variable runs its own query (with the earlier ones set). */
  async function resolveVariables(d: Dashboard, mode: 'real' | 'all'): Promise<Record<string, string | string[]>> {
    const values: Record<string, string | string[]> = {};
    for (const v of d.templating?.list ?? []) {
      if (v.type === 'datasource') values[v.name] = 'numrep-prometheus';
      else if (v.type === 'constant' || v.type === 'custom') values[v.name] = String(v.current?.value ?? '');
      else if (v.type === 'query') {
        const offered = await variableValues(v, values);
        expect(offered.length, `$${v.name}: its query offers no value`).toBeGreaterThan(0);
        if (mode === 'all' && v.includeAll) values[v.name] = v.allValue ?? '.*';
        else {
          const pick = PREFERRED[v.name] && offered.includes(PREFERRED[v.name]) ? PREFERRED[v.name] : offered[0];
          // multi / include-All variables are regex-escaped by Grafana: a one-element array says so.
          values[v.name] = v.multi || v.includeAll ? [pick] : pick;
        }
      }
    }
    return values;
  }

  async function variableValues(v: Variable, values: Record<string, string | string[]>): Promise<string[]> {
    const pq = variablePromql(v)!;
    const expr = substitute(pq.expr, values);
    const r = await getJson(`${prom}/api/v1/series?${new URLSearchParams({ 'match[]': expr, start: String(Date.now() / 1000 - 600) })}`);
    return [...new Set((r.data as Record<string, string>[]).map((s) => s[pq.label!]).filter(Boolean))].sort();
  }

  /** Runs every query until it returns data or the deadline passes; returns the ones that never did. */
  async function emptyQueries(items: { q: QueryRef; expr: string }[], waitMs = 30_000): Promise<string[]> {
    let pending = items;
    const deadline = Date.now() + waitMs;
    const errors = new Map<string, string>();
    for (;;) {
      const still: typeof pending = [];
      for (const it of pending) {
        try {
          const r = await query(it.expr, it.q.instant);
          if (r.result.length === 0) still.push(it);
          else errors.delete(it.q.where);
        } catch (err) {
          errors.set(it.q.where, (err as Error).message);
          still.push(it);
        }
      }
      pending = still;
      if (pending.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return pending.map((it) => `${it.q.where}: ${errors.get(it.q.where) ?? 'no data'}\n    ${it.expr.replace(/\n/g, '\n    ')}`);
  }

  it('the variables resolve to real values: the spam number, a pool, a carrier, the exporter job and instance', async () => {
    const detail = dashboards.find((x) => x.file === 'number-detail.json')!.d;
    const v = await resolveVariables(detail, 'real');
    expect(v.number).toBe(SPAM_NUMBER);
    expect(v.pool).toEqual(['collections']);
    const numbers = await variableValues(detail.templating!.list!.find((x) => x.name === 'number')!, { pool: '.*' });
    expect(numbers).toEqual(expect.arrayContaining(INVENTORY.map(([n]) => n)));
    const health = await resolveVariables(dashboards.find((x) => x.file === 'exporter-health.json')!.d, 'real');
    expect(health.job).toBe('numrep');
    expect(health.instance).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
  });

  it.each(dashboards.map((x) => [x.file, x.d] as const))('%s: every query returns data (variables set to real values)', async (file, d) => {
    const values = await resolveVariables(d, 'real');
    const items = queriesOf(d, file).map((q) => ({ q, expr: substitute(q.expr, values) }));
    expect(items.length).toBeGreaterThan(8);
    expect(await emptyQueries(items)).toEqual([]);
  });

  it.each(dashboards.map((x) => [x.file, x.d] as const))('%s: every query returns data with "All" selected', async (file, d) => {
    const values = await resolveVariables(d, 'all');
    const items = queriesOf(d, file).map((q) => ({ q, expr: substitute(q.expr, values) }));
    expect(await emptyQueries(items)).toEqual([]);
  });

  it('an empty query is caught: the same dashboard for a number that does not exist reports its panels empty', async () => {
    const d = dashboards.find((x) => x.file === 'number-detail.json')!.d;
    const values = { ...(await resolveVariables(d, 'real')), number: '+19995550000' };
    const items = queriesOf(d, 'number-detail.json')
      .filter((q) => q.kind === 'target')
      .map((q) => ({ q, expr: substitute(q.expr, values) }));
    const empty = await emptyQueries(items, 0);
    expect(empty.length).toBe(items.length);
    expect(empty[0]).toMatch(/number-detail\.json › "Reputation score" › A: no data/);
  });

  it.skipIf(!findTool('sipp'))('the sipp calls are in: the sipp-only number has its 11 calls and its 608 blocks', async () => {
    const calls = await query(`numrep_number_calls{number="${SIPP_NUMBER}",window="24h"}`, true);
    // 4 of the 8 answered, 3 of the 6 cancelled (the others are +12025550106's), all 4 blocked.
    expect(calls.result.map((r) => Number(r.value[1]))).toEqual([11]);
    const blocked = await query(`numrep_number_block_ratio{number="${SIPP_NUMBER}",window="24h"}`, true);
    expect(Number(blocked.result[0]?.value[1])).toBeGreaterThan(0);
    const records = await query('sum by (format) (numrep_ingest_records_total{format="sipp",result="accepted"})', true);
    expect(records.result.length).toBe(1);
  });

  it('the Number Reputation panel gets every family it reads, each series named (__name__) and per number', async () => {
    const overview = dashboards.find((x) => x.file === 'pool-overview.json')!.d;
    const values = await resolveVariables(overview, 'real');
    const panel = overview.panels!.find((p) => p.type === 'numrep-reputation-panel')!;
    const names = new Set<string>();
    const numbers = new Set<string>();
    for (const t of panel.targets!) {
      const r = await query(substitute(t.expr!, values), !!t.instant);
      for (const series of r.result) {
        expect(series.metric.__name__, t.expr).toMatch(/^numrep_number_/);
        expect(series.metric.number, t.expr).toMatch(/^\+\d{8,15}$/);
        names.add(series.metric.__name__);
        numbers.add(series.metric.number);
      }
    }
    expect([...names].sort()).toEqual(
      expect.arrayContaining([
        'numrep_number_answer_ratio', 'numrep_number_calls', 'numrep_number_carrier_flag', 'numrep_number_engine_flagged',
        'numrep_number_recommendation', 'numrep_number_reputation_score', 'numrep_number_status', 'numrep_number_subscore',
      ]),
    );
    expect(numbers.has(SPAM_NUMBER)).toBe(true);
    expect(numbers.size).toBeLessThanOrEqual(Number(values.worst));
  });

  it('covers every query of every dashboard', () => {
    const total = dashboards.reduce((n, x) => n + queriesOf(x.d, x.file).length, 0);
    expect(total).toBeGreaterThan(80);
  });
});

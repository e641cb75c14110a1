// Helpers for the alerting tests: locate promtool/amtool/prometheus/alertmanager, run them,
// start and stop long-running processes on loopback, poll with deadlines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { freeTestPort } from '../../exporter/test/support/ports.js';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const ALERTING = join(REPO, 'alerting');
export const RULES_DIR = join(ALERTING, 'rules');
export const RULE_TESTS_DIR = join(ALERTING, 'tests');

/** On CI (CI=true) a missing tool is a failure, never a skip. */
export const ON_CI = process.env.CI === 'true';

/** The first of `names` found on PATH, as an absolute path, or null. */
export function findTool(...names: string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const p = join(dir, n);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
  }
  return null;
}

/** Debian ships the Alertmanager daemon as prometheus-alertmanager; upstream tarballs as alertmanager. */
export const TOOLS = {
  promtool: { names: ['promtool'], pkg: 'prometheus' },
  prometheus: { names: ['prometheus'], pkg: 'prometheus' },
  amtool: { names: ['amtool'], pkg: 'prometheus-alertmanager' },
  alertmanager: { names: ['prometheus-alertmanager', 'alertmanager'], pkg: 'prometheus-alertmanager' },
} as const;
export type ToolName = keyof typeof TOOLS;

export function tool(name: ToolName): string | null {
  return findTool(...TOOLS[name].names);
}

/** Whether a suite needing `names` should be skipped: only off CI, and only when a tool is missing. */
export function skipUnlessTools(...names: ToolName[]): boolean {
  return !ON_CI && names.some((n) => tool(n) === null);
}

/** The tool's path; throws a loud error (the test fails) when it is missing. */
export function needTool(name: ToolName): string {
  const p = tool(name);
  if (!p) {
    throw new Error(
      `${TOOLS[name].names.join(' or ')} not found on PATH${ON_CI ? ' (CI=true: this is a failure, not a skip)' : ''}; ` +
        `install the Debian package ${TOOLS[name].pkg} (.ci/run does)`,
    );
  }
  return p;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  command: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? REPO, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', command: [cmd, ...args].join(' ') };
}

/** Throws with the tool's whole output unless it exited 0. */
export function expectOk(r: RunResult): RunResult {
  if (r.status !== 0) {
    throw new Error(`\`${r.command}\` exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export function readYaml<T = unknown>(file: string): T {
  return parseYaml(readFileSync(file, 'utf8')) as T;
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

export function allRules(): { file: string; rule: Rule }[] {
  return yamlFiles(RULES_DIR).flatMap((file) =>
    readYaml<RuleFile>(file).groups.flatMap((g) => g.rules.map((rule) => ({ file, rule }))),
  );
}

export function alertRules(): Rule[] {
  return allRules()
    .map((r) => r.rule)
    .filter((r) => r.alert);
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range (see exporter/test/support/ports.ts for why). */
export function freePort(): Promise<number> {
  return freeTestPort('tcp');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a non-undefined value or the deadline passes (then throws `what`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs: number; intervalMs?: number; diagnostics?: () => string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr ? ` (last error: ${(lastErr as Error).message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${why}${opts.diagnostics ? `\n${opts.diagnostics()}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** A child process whose output is kept (tail) for failure messages. */
export interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function startProcess(name: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const keep = (d: Buffer) => {
    buf += d.toString();
    if (buf.length > 64_000) buf = buf.slice(-48_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((res) => {
    child.on('exit', (code) => res(code));
    child.on('error', (err) => {
      buf += `\nspawn error: ${err.message}`;
      res(null);
    });
  });
  const state = () =>
    child.exitCode !== null ? `exited with code ${child.exitCode}` : child.signalCode !== null ? `killed by ${child.signalCode}` : `running (pid ${child.pid})`;
  return { name, child, output: () => `--- ${name}: ${state()}; output (tail)\n${buf.slice(-6000)}`, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Safe to call twice. */
export async function stopProcess(p: Proc | undefined, graceMs = 5000): Promise<void> {
  if (!p) return;
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** Fetch JSON with a short timeout (loopback only). */
export async function getJson<T = any>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

// ------------------------------------------------------------------------------------------------
// Test copies of the real configs. Only what a loopback test cannot use is changed; routes, matchers,
// grouping keys and inhibit rules are the repo's own.

/**
 * alerting/alertmanager.yml with every receiver replaced by one webhook to `${webhookBase}/<receiver name>`
 * (no PagerDuty, no e-mail, no secret files), SMTP globals dropped, and group_wait / group_interval cut to 1s
 * so a notification goes out within seconds instead of 10s–5m.
 */
export function testAlertmanagerConfig(webhookBase: string, groupWait = '1s'): Record<string, any> {
  const cfg = readYaml<Record<string, any>>(join(ALERTING, 'alertmanager.yml'));
  for (const k of Object.keys(cfg.global ?? {})) if (k.startsWith('smtp_')) delete cfg.global[k];
  cfg.receivers = (cfg.receivers as { name: string }[]).map((r) => ({
    name: r.name,
    webhook_configs: [{ url: `${webhookBase}/${r.name}`, send_resolved: true }],
  }));
  const shorten = (route: Record<string, any>) => {
    if ('group_wait' in route || route === cfg.route) route.group_wait = groupWait;
    if ('group_interval' in route || route === cfg.route) route.group_interval = '1s';
    for (const child of route.routes ?? []) shorten(child);
  };
  shorten(cfg.route);
  return cfg;
}

/** Arguments for a loopback Alertmanager with clustering disabled. */
export function alertmanagerArgs(configFile: string, storageDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.path=${storageDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=http://127.0.0.1:${port}/`,
    '--cluster.listen-address=', // no gossip port, no HA peers
    '--log.level=info',
  ];
}

/** A webhook receiver: records every Alertmanager notification with the path (= receiver name) it came to. */
export interface Notification {
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

// The test copies of the repo's Prometheus config and rules: `for:` shortened to 1s, 1s scrape and evaluation.

export function writeTestRules(dir: string): string {
  const out = join(dir, 'rules');
  mkdirSync(out, { recursive: true });
  for (const file of yamlFiles(RULES_DIR)) {
    const doc = readYaml<RuleFile>(file);
    for (const g of doc.groups) for (const r of g.rules) if (r.alert && r.for) r.for = '1s';
    writeFileSync(join(out, basename(file)), stringify(doc));
  }
  return out;
}

export function writeTestPrometheusConfig(dir: string, rulesDir: string, targetPort: number, amPort: number): string {
  const cfg = readYaml<Record<string, any>>(join(ALERTING, 'prometheus.yml'));
  cfg.global = { ...cfg.global, scrape_interval: '1s', evaluation_interval: '1s' };
  cfg.rule_files = [join(rulesDir, '*.yml')];
  cfg.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] };
  const job = (cfg.scrape_configs as any[]).find((j) => j.job_name === 'numrep');
  if (!job) throw new Error('alerting/prometheus.yml has no job numrep');
  cfg.scrape_configs = [{ ...job, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }];
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** A running test Alertmanager or Prometheus: its process and base URL. */
export interface Server {
  proc: Proc;
  port: number;
  url: string;
}

/** Wait for `ready`; if it never comes, stop the process before failing (nothing is left behind). */
async function readyOrStop(server: Server, what: string, ready: () => Promise<true | undefined>, diagnostics: () => string, intervalMs?: number): Promise<Server> {
  try {
    await waitFor(what, ready, { timeoutMs: 30_000, intervalMs, diagnostics });
    return server;
  } catch (err) {
    await stopProcess(server.proc);
    throw err;
  }
}

/** Alertmanager on a free loopback port with testAlertmanagerConfig (every receiver a webhook under `webhookBase`); resolves once ready. */
export async function startTestAlertmanager(
  dir: string,
  webhookBase: string,
  diagnostics: () => string,
  groupWait = '1s',
): Promise<Server> {
  const cfg = join(dir, 'alertmanager.yml');
  writeFileSync(cfg, stringify(testAlertmanagerConfig(webhookBase, groupWait)));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess('alertmanager', needTool('alertmanager'), alertmanagerArgs(cfg, join(dir, 'am-data'), port));
  return readyOrStop({ proc, port, url }, 'Alertmanager ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), () => `${proc.output()}\n${diagnostics()}`);
}

/**
 * Prometheus on a free loopback port with the test copies of the repo's rules, scraping `targetPort` and
 * alerting the Alertmanager on `amPort`; resolves once it has scraped the target (up == 1).
 */
export async function startTestPrometheus(dir: string, targetPort: number, amPort: number, diagnostics: () => string): Promise<Server> {
  const cfg = writeTestPrometheusConfig(dir, writeTestRules(dir), targetPort, amPort);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess('prometheus', needTool('prometheus'), [
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${join(dir, 'prom-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // Re-send firing alerts every 2s (default 1m) so a notification lost while Alertmanager warms up is retried fast.
    '--rules.alert.resend-delay=2s',
    '--log.level=info',
  ]);
  const why = () => `${proc.output()}\n${diagnostics()}`;
  await readyOrStop({ proc, port, url }, 'Prometheus ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), why);
  return readyOrStop(
    { proc, port, url },
    'Prometheus scraping the numrep target (up == 1)',
    async () => {
      const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent('up{job="numrep"}')}`);
      return r.data.result.some((s: any) => s.value[1] === '1') ? true : undefined;
    },
    why,
    100,
  );
}

/** An alert as Prometheus' /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

/** Every firing alert the webhook received, with the receiver and path it came to. */
export function firingNotifications(received: readonly (Notification & { path: string })[]) {
  return received.flatMap((n) => n.alerts.filter((a) => a.status === 'firing').map((a) => ({ receiver: n.receiver, path: n.path, ...a })));
}

/** A test body whose failure message ends with what every process saw. */
export const explainedBy = (diagnostics: () => string) => (body: () => Promise<void>) => async () => {
  try {
    await body();
  } catch (err) {
    (err as Error).message += `\n${diagnostics()}`;
    throw err;
  }
};

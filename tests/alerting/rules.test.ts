// Static checks of alerting/: promtool check/test, amtool check-config and route tests, and the
// contract between the rules, docs/metrics.md, the runbooks and the promtool tests.
//
// promtool and amtool come from the Debian packages prometheus and prometheus-alertmanager (.ci/run installs
// them). Off CI a missing tool skips its suite; with CI=true it fails.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  ALERTING,
  REPO,
  RULES_DIR,
  RULE_TESTS_DIR,
  alertRules,
  allRules,
  expectOk,
  needTool,
  readYaml,
  run,
  skipUnlessTools,
  yamlFiles,
} from './helpers.js';

const AM_CONFIG = join(ALERTING, 'alertmanager.yml');
const PROM_CONFIG = join(ALERTING, 'prometheus.yml');

// ------------------------------------------------------------------------------------------------
describe.skipIf(skipUnlessTools('promtool'))('promtool', () => {
  it('check rules: every rule file is valid', () => {
    const files = yamlFiles(RULES_DIR);
    expect(files.length).toBeGreaterThan(0);
    const r = expectOk(run(needTool('promtool'), ['check', 'rules', ...files]));
    // One SUCCESS line per file, no FAILED anywhere.
    expect(r.stdout.match(/SUCCESS: \d+ rules found/g)?.length).toBe(files.length);
    expect(r.stdout + r.stderr).not.toMatch(/FAILED/);
  });

  it('test rules: every unit test in alerting/tests passes', () => {
    const files = yamlFiles(RULE_TESTS_DIR);
    expect(files.length).toBeGreaterThan(0);
    const r = expectOk(run(needTool('promtool'), ['test', 'rules', ...files], { timeoutMs: 90_000 }));
    expect(r.stdout + r.stderr).not.toMatch(/FAILED/);
    expect(r.stdout.match(/SUCCESS/g)?.length).toBe(files.length);
  });

  describe('check config', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'numrep-promcfg-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('alerting/prometheus.yml is valid with its rule files (paths made absolute in a copy)', () => {
      const cfg = readYaml<Record<string, any>>(PROM_CONFIG);
      // The file names its rules relative to itself (docker-compose mounts the folder); the copy lives elsewhere.
      expect(cfg.rule_files).toEqual(['rules/*.yml']);
      cfg.rule_files = [join(RULES_DIR, '*.yml')];
      const copy = join(dir, 'prometheus.yml');
      writeFileSync(copy, stringify(cfg));
      const r = expectOk(run(needTool('promtool'), ['check', 'config', copy]));
      expect(r.stdout).toMatch(/SUCCESS: \d+ rule files found/);
      expect(r.stdout + r.stderr).not.toMatch(/FAILED/);
    });

    it('scrapes exporter:9847 as job numrep and alerts to alertmanager:9093', () => {
      const cfg = readYaml<Record<string, any>>(PROM_CONFIG);
      const job = cfg.scrape_configs.find((j: any) => j.job_name === 'numrep');
      expect(job.static_configs[0].targets).toEqual(['exporter:9847']);
      expect(cfg.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    });
  });
});

// ------------------------------------------------------------------------------------------------
/** Where each alert must land, from its severity and team (mirrors the route tree in alertmanager.yml). */
function expectedReceiver(labels: Record<string, string>): string {
  if (labels.team === 'sre') return labels.severity === 'critical' ? 'sre-pager' : 'sre-email';
  if (labels.team === 'operations') {
    if (labels.alertname === 'CarrierAnswerRateDrop') return 'operations-email';
    if (labels.severity === 'critical') return 'operations-pager';
    if (labels.severity === 'warning') return 'operations-email';
    if (labels.severity === 'info') return 'operations-chat';
  }
  return 'operations-chat';
}

/** The identifying labels each alert carries at runtime (from its expression), with sample values. */
function sampleLabels(alert: string): Record<string, string> {
  if (/^Numrep/.test(alert)) {
    const l: Record<string, string> = { job: 'numrep', instance: 'exporter:9847' };
    if (/Stalled|Behind/.test(alert)) l.source = '/var/spool/cdr/Master.csv';
    if (/Rejecting/.test(alert)) l.format = 'asterisk';
    return l;
  }
  if (/^Pool/.test(alert)) return { pool: 'collections' };
  if (alert === 'CarrierAnswerRateDrop') return { carrier: 'att' };
  const l: Record<string, string> = { number: '+12025550101', pool: 'collections' };
  if (/Carrier|AnswerRateDrop/.test(alert)) l.carrier = 'att';
  if (alert === 'NumberEngineLabelled') l.engine = 'hiya';
  return l;
}

const routeCases: { name: string; labels: Record<string, string>; receiver: string }[] = [
  // One case per alert rule, with the labels it carries.
  ...alertRules().map((r) => {
    const labels = { alertname: r.alert!, ...r.labels!, ...sampleLabels(r.alert!) };
    return { name: `${r.alert} (${r.labels?.team}/${r.labels?.severity})`, labels, receiver: expectedReceiver(labels) };
  }),
  // Every leaf of the tree, explicitly, including the fallbacks.
  { name: 'no team label: default route', labels: { alertname: 'SomethingNew', severity: 'critical' }, receiver: 'operations-chat' },
  { name: 'unknown team', labels: { alertname: 'X', team: 'marketing', severity: 'warning' }, receiver: 'operations-chat' },
  { name: 'operations without severity', labels: { alertname: 'X', team: 'operations', pool: 'sales' }, receiver: 'operations-email' },
  { name: 'sre without severity', labels: { alertname: 'X', team: 'sre' }, receiver: 'sre-email' },
  { name: 'sre info', labels: { alertname: 'X', team: 'sre', severity: 'info' }, receiver: 'sre-email' },
  // Inhibition-relevant label sets: sources and targets of every inhibit rule route where their team says.
  {
    name: 'inhibition source NumberSpam with number/pool',
    labels: { alertname: 'NumberSpam', severity: 'critical', team: 'operations', number: '+12025550199', pool: 'sales', status: 'spam' },
    receiver: 'operations-pager',
  },
  {
    name: 'inhibition target NumberReputationCritical of a spam number',
    labels: { alertname: 'NumberReputationCritical', severity: 'critical', team: 'operations', number: '+12025550199', pool: 'sales' },
    receiver: 'operations-pager',
  },
  {
    name: 'inhibition target NumberAnswerRateDrop on a carrier-wide drop',
    labels: { alertname: 'NumberAnswerRateDrop', severity: 'warning', team: 'operations', number: '+12025550199', pool: 'sales', carrier: 'verizon' },
    receiver: 'operations-email',
  },
  {
    name: 'inhibition source CarrierAnswerRateDrop',
    labels: { alertname: 'CarrierAnswerRateDrop', severity: 'warning', team: 'operations', carrier: 'verizon' },
    receiver: 'operations-email',
  },
  {
    name: 'CarrierEvent: one group per carrier and event, by e-mail',
    labels: { alertname: 'CarrierEvent', severity: 'warning', team: 'operations', carrier: '*', event: 'answer_drop' },
    receiver: 'operations-email',
  },
  {
    name: 'inhibition source NumrepExporterDown from absent() (no instance)',
    labels: { alertname: 'NumrepExporterDown', severity: 'critical', team: 'sre', job: 'numrep' },
    receiver: 'sre-pager',
  },
];

describe.skipIf(skipUnlessTools('amtool'))('amtool', () => {
  it('check-config: alerting/alertmanager.yml is valid', () => {
    const r = expectOk(run(needTool('amtool'), ['check-config', AM_CONFIG]));
    expect(r.stdout).toMatch(/SUCCESS/);
    expect(r.stdout).toMatch(/7 inhibit rules/);
  });

  it.each(routeCases)('routes test: $name → $receiver', ({ labels, receiver }) => {
    const args = [
      'config',
      'routes',
      'test',
      `--config.file=${AM_CONFIG}`,
      // Without --verify.receivers amtool exits 0 whatever it resolves.
      `--verify.receivers=${receiver}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ];
    const r = expectOk(run(needTool('amtool'), args));
    expect(r.stdout.trim()).toBe(receiver);
  });

  it('routes test fails for a wrong receiver (the check has teeth)', () => {
    const r = run(needTool('amtool'), [
      'config', 'routes', 'test', `--config.file=${AM_CONFIG}`, '--verify.receivers=operations-email',
      'alertname=NumberSpam', 'severity=critical', 'team=operations',
    ]);
    expect(r.status).not.toBe(0);
  });
});

// ------------------------------------------------------------------------------------------------
describe('alerting contract (no tools needed)', () => {
  const alerts = alertRules();
  const metricsDoc = readFileSync(join(REPO, 'docs/metrics.md'), 'utf8');

  it('has the alerts issue 5 asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'CarrierAnswerRateDrop',
        'CarrierEvent',
        'NumberAnswerRateDrop',
        'NumberCarrierCancelRateHigh',
        'NumberCarrierFlagged',
        'NumberCarrierRejectionRateHigh',
        'NumberCarrierWarning',
        'NumberConsumersOverDailyCap',
        'NumberEngineLabelled',
        'NumberReputationCritical',
        'NumberReputationDegraded',
        'NumberSpam',
        'NumberSpamReportRateHigh',
        'NumberVelocityBurst',
        'NumberVelocityOverDailyCap',
        'NumrepExporterDown',
        'NumrepIngestRejecting',
        'NumrepIngestStalled',
        'NumrepSeriesBudgetExceeded',
        'NumrepSourceBehind',
        'NumrepTrackedNumbersOverCap',
        'PoolConsumersOverDailyCap',
        'PoolExhaustionForecast',
        'PoolHealthyShareLow',
        'RemediationCaseWaiting',
      ].sort(),
    );
  });

  it.each(alerts.map((a) => [a.alert!, a] as const))('%s: severity, team, summary, description with figures, runbook, realistic for', (name, a) => {
    expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
    expect(['operations', 'sre']).toContain(a.labels?.team);
    expect(a.annotations?.summary).toBeTruthy();
    expect(a.annotations?.description).toBeTruthy();
    // Figures: the alert's value or a query result, formatted.
    expect(a.annotations!.description).toMatch(/\$value|\| query|\$labels/);
    expect(a.annotations?.runbook_url).toBe(`docs/runbooks/${name}.md`);
    const runbook = join(REPO, a.annotations!.runbook_url);
    expect(existsSync(runbook), `${runbook} missing`).toBe(true);
    const text = readFileSync(runbook, 'utf8');
    expect(text).toMatch(new RegExp(`^# ${name}`, 'm'));
    // 1 minute to 2 hours: no hair-trigger pages, no alerts that fire after the damage is done.
    const m = /^(\d+)([smh])$/.exec(a.for ?? '');
    expect(m, `${name}: for: ${a.for}`).not.toBeNull();
    const seconds = Number(m![1]) * { s: 1, m: 60, h: 3600 }[m![2] as 's' | 'm' | 'h'];
    expect(seconds).toBeGreaterThanOrEqual(60);
    expect(seconds).toBeLessThanOrEqual(7200);
  });

  it('uses only metrics from docs/metrics.md and recording rules that exist', () => {
    const recorded = new Set(allRules().map((r) => r.rule.record).filter(Boolean));
    const used = new Set<string>();
    for (const { rule } of allRules()) {
      const text = [rule.expr, ...Object.values(rule.annotations ?? {})].join('\n');
      for (const m of text.matchAll(/\bnumrep_[a-z0-9_]+/g)) used.add(m[0]);
      for (const m of text.matchAll(/\bnumrep:[a-z0-9_:]+/g)) expect(recorded, `${m[0]} is not recorded`).toContain(m[0]);
    }
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(metricsDoc, `${name} is not in docs/metrics.md`).toContain(`\`${name}\``);
  });

  it('every alert has a promtool case where it fires and one where it does not', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of yamlFiles(RULE_TESTS_DIR)) {
      const doc = readYaml<{ tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }>(file);
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test ?? []) {
          (c.exp_alerts && c.exp_alerts.length > 0 ? firing : silent).add(c.alertname);
        }
      }
    }
    for (const a of alerts) {
      expect(firing, `${a.alert}: no firing case in alerting/tests`).toContain(a.alert);
      expect(silent, `${a.alert}: no not-firing case in alerting/tests`).toContain(a.alert);
    }
  });

  it('inhibit rules name alerts that exist', () => {
    const names = new Set(alerts.map((a) => a.alert));
    const am = readYaml<{ inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[] }>(AM_CONFIG);
    for (const rule of am.inhibit_rules) {
      for (const m of [...rule.source_matchers, ...rule.target_matchers]) {
        const eq = /^alertname(=~|=|!=)"(.*)"$/.exec(m);
        if (!eq) continue;
        for (const n of eq[2].split('|')) expect(names, `inhibit rule names ${n}`).toContain(n);
      }
      // Only a pool-wide event (carrier "*") may inhibit across every number and carrier.
      if (!rule.source_matchers.includes('carrier="*"')) expect(rule.equal?.length ?? 0).toBeGreaterThan(0);
    }
  });

  it('commits no secrets: PagerDuty keys, SMTP password and webhook credentials come from files', () => {
    const text = readFileSync(AM_CONFIG, 'utf8');
    const am = readYaml<any>(AM_CONFIG);
    expect(text).not.toMatch(/^\s*(routing_key|service_key|smtp_auth_password|auth_password|credentials|api_key|password):/m);
    expect(am.global.smtp_auth_password_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    for (const r of am.receivers) {
      for (const p of r.pagerduty_configs ?? []) expect(p.routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
      for (const w of r.webhook_configs ?? []) {
        expect(w.url).not.toMatch(/token|key=|@/i);
        expect(w.http_config.authorization.credentials_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
      }
    }
  });

  it('prometheus.yml rule_files cover every rule file', () => {
    const cfg = readYaml<{ rule_files: string[] }>(PROM_CONFIG);
    for (const f of yamlFiles(RULES_DIR)) expect(cfg.rule_files.some((g) => g === 'rules/*.yml' || g === `rules/${basename(f)}`)).toBe(true);
  });
});

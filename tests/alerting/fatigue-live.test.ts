// Recipient fatigue, live: the real exporter (`serve`) reads a simulated pool where one campaign re-dials the same
// consumers 5 times a day; a real Prometheus with the repo's rules (for: 1s in the test copy) scrapes it. The
// re-dialling number and its pool show consumers over the cap in /metrics, in the JSON and in Prometheus, and
// NumberConsumersOverDailyCap / PoolConsumersOverDailyCap fire for them only; no consumer number is in any series.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getJson, REPO, skipUnlessTools, startProcess, startTestPrometheus, stopProcess, waitFor, type Proc, type PromAlert, type Server } from './helpers.js';

const EXPORTER_MAIN = join(REPO, 'exporter/dist/cli/main.js');
const REDIAL = '+12025550111';
const ONCE = ['+12025550112', '+12025550113'];
const REDIALLED = ['3125550142', '4155550146', '6465550123', '7135550188'];

/** A dialler's CSV over the last 20 hours: REDIAL calls 4 consumers 5 times each; the others call 20 consumers once. */
function dialerCsv(nowSec: number): string {
  const rows = ['caller,called,start,billsec,disposition,dialer_result'];
  const at = (s: number) => new Date(s * 1000).toISOString();
  REDIALLED.forEach((c, i) => {
    for (let k = 0; k < 5; k++) rows.push([REDIAL, `+1${c}`, at(nowSec - 20 * 3600 + k * 4 * 3600 + i * 60), k === 4 ? 30 : 0, k === 4 ? 'answered' : 'no_answer', k === 4 ? 'NI' : ''].join(','));
  });
  ONCE.forEach((n, j) => {
    for (let c = 0; c < 20; c++) rows.push([n, `+1303555${String(1000 + j * 100 + c)}`, at(nowSec - 18 * 3600 + c * 600 + j), 45, 'answered', c % 4 === 0 ? 'SALE' : 'NI'].join(','));
  });
  return rows.join('\n') + '\n';
}

describe.skipIf(skipUnlessTools('prometheus') || !existsSync(EXPORTER_MAIN))('recipient fatigue with a live Prometheus', () => {
  let dir: string;
  let exporter: Proc | undefined;
  let prom: Server | undefined;
  let port = 0;
  const diagnostics = () => [exporter?.output(), prom?.proc.output()].filter(Boolean).join('\n');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'numrep-fatigue-live-'));
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const csv = join(dir, 'dialer.csv');
    writeFileSync(csv, dialerCsv(Math.floor(Date.now() / 1000)));
    renameSync(csv, join(inbox, 'dialer.csv'));
    writeFileSync(join(dir, 'numrep.yml'), 'settle_ms: 0\nfatigue:\n  refresh_seconds: 0\n');
    port = await freePort();
    exporter = startProcess('numrep serve', process.execPath, [EXPORTER_MAIN, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'numrep.db'), '--config', join(dir, 'numrep.yml')]);
    await waitFor('the exporter to count the dialler file', async () => {
      if (exporter!.child.exitCode !== null) throw new Error(`exporter exited ${exporter!.child.exitCode}`);
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return body.includes(`numrep_number_consumers_over_cap{number="${REDIAL}"`) ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, diagnostics });
    // No Alertmanager: the alerts are read from Prometheus itself.
    prom = await startTestPrometheus(dir, port, await freePort(), diagnostics);
  });

  afterAll(async () => {
    await stopProcess(prom?.proc);
    await stopProcess(exporter);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the exporter: the re-dialling number and its pool are over the cap in /metrics and the JSON', async () => {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toContain(`numrep_number_consumers_over_cap{number="${REDIAL}",pool="default",window="24h"} 4\n`);
    expect(body).toContain(`numrep_number_attempts_over_cap{number="${REDIAL}",pool="default",window="24h"} 8\n`);
    expect(body).toContain(`numrep_number_repeat_dial_ratio{number="${REDIAL}",pool="default",window="24h"} 0.8\n`);
    for (const n of ONCE) expect(body).toContain(`numrep_number_consumers_over_cap{number="${n}",pool="default",window="24h"} 0\n`);
    expect(body).toContain('numrep_pool_consumers_over_cap{pool="default",window="24h"} 4\n');
    expect(body).toContain('numrep_pool_consumers{pool="default",window="24h"} 44\n');
    expect(body).toContain('numrep_pool_consumer_daily_cap{pool="default"} 3\n');
    const json = await getJson(`http://127.0.0.1:${port}/api/v1/numbers`);
    const redial = json.numbers.find((n: any) => n.number === REDIAL);
    expect(redial.fatigue).toMatchObject({ cap: 3, '24h': { calls: 20, consumers: 4, consumers_over_cap: 4, attempts_over_cap: 8 } });
    expect(redial.recommendation.reason).toMatch(/4 consumers called more than 3 times in 24h \(8 calls over the cap\)/);
    expect(json.pools).toEqual([expect.objectContaining({ pool: 'default', fatigue: expect.objectContaining({ '24h': expect.objectContaining({ consumers_over_cap: 4 }) }) })]);
    for (const c of REDIALLED) expect(JSON.stringify(json) + body).not.toContain(c);
  });

  it('Prometheus: the alerts fire for the re-dialling number and its pool only, and no series names a consumer', async () => {
    const alerts = await waitFor('both fatigue alerts firing', async () => {
      const r = await getJson(`${prom!.url}/api/v1/alerts`);
      const firing = (r.data.alerts as PromAlert[]).filter((a) => a.state === 'firing' && /ConsumersOverDailyCap$/.test(a.labels.alertname));
      return firing.length >= 2 ? firing : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, diagnostics });
    const byName = Object.fromEntries(alerts.map((a) => [a.labels.alertname, a.labels]));
    expect(byName.NumberConsumersOverDailyCap).toMatchObject({ number: REDIAL, pool: 'default', window: '24h', severity: 'warning', team: 'operations' });
    expect(byName.PoolConsumersOverDailyCap).toMatchObject({ pool: 'default', window: '24h' });
    expect(alerts.filter((a) => a.labels.alertname === 'NumberConsumersOverDailyCap').map((a) => a.labels.number)).toEqual([REDIAL]);
    const q = await getJson(`${prom!.url}/api/v1/query?query=${encodeURIComponent('numrep_number_consumers_over_cap{window="24h"} > 0')}`);
    expect(q.data.result.map((s: any) => [s.metric.number, s.value[1]])).toEqual([[REDIAL, '4']]);
    const series = await getJson(`${prom!.url}/api/v1/series?${new URLSearchParams({ 'match[]': '{job="numrep"}' })}`);
    const text = JSON.stringify(series.data);
    for (const c of REDIALLED) expect(text).not.toContain(c);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { createApp, listen } from '../../src/http/server.js';
import { withPlace } from '../../src/http/json.js';
import { numberInfoFamily, registerRemediationMetrics } from '../../src/http/managementMetrics.js';
import { assessSnapshot, enrichByAssessing, verdictOf } from '../../src/reputation/evaluate.js';
import { TestReader, line, tmp } from '../core/helpers.js';

const DAY = 86_400_000;
let now = Date.UTC(2026, 10, 20, 18, 0);
const CONSUMER = '+13125550000'; // the called number TestReader puts on every call

interface Rig {
  base: string;
  rt: Runtime;
  server: Server;
  dir: string;
  inbox: string;
  metrics: MetricsExporter;
}
let rig: Rig | undefined;

afterEach(async () => {
  if (rig) {
    rig.server.close();
    await rig.rt.close();
    rig = undefined;
  }
});

async function start(o: { dir?: string; token?: string } = {}): Promise<Rig> {
  const dir = o.dir ?? tmp();
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  if (!o.dir) {
    const s = Math.floor(now / 1000);
    writeFileSync(join(inbox, 'calls.test'), line(s - 600, '+12125550101') + line(s - 500, '+12125550102') + line(s - 400, '+12125550102'));
  }
  const rt = new Runtime({
    db: join(dir, 'numrep.db'),
    bucketMs: 60_000,
    inbox,
    globs: [],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: 65536,
    now: () => now,
    readers: { createReader: () => new TestReader(), detectFormat: (l) => (l.length && /^\d+,/.test(l[0]) ? 'test' : null) },
  });
  await rt.poll();
  const metrics = new MetricsExporter(rt, {
    version: 'test',
    seriesBudget: 100,
    verdicts: (snap) => new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)])),
    extraChunks: numberInfoFamily({ registration: rt.registration, sideVersion: () => rt.sideDataVersion }),
  });
  registerRemediationMetrics(metrics.registry, { cases: () => rt.store.remediations.list(), now: () => now });
  const app = createApp({
    runtime: rt,
    metrics,
    enrichFor: (snap) => withPlace(enrichByAssessing(snap), rt),
    inbox,
    maxUploadBytes: 1 << 20,
    listenHost: '127.0.0.1',
    token: o.token,
    defaultCountryCode: '1',
    isReady: () => true,
    log: () => undefined,
    now: () => now,
  });
  const server = await listen(app, '127.0.0.1', 0);
  rig = { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, rt, server, dir, inbox, metrics };
  return rig;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${rig!.base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text && (r.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : null, text };
}

describe('/api/v1/remediations', () => {
  it('opens, updates and lists cases; they survive a restart; a case shows in the number history', async () => {
    await start();
    const opened = await call('POST', '/api/v1/remediations', { number: '(212) 555-0101', engine: 'hiya', ticket: 'HY-42', note: 'portal form sent' });
    expect(opened.status).toBe(201);
    expect(opened.json).toMatchObject({ id: 1, number: '+12125550101', engine: 'hiya', state: 'open', ticket: 'HY-42', note: 'portal form sent', created_at: new Date(now).toISOString().replace('.000', '') });
    now += DAY;
    expect((await call('PATCH', '/api/v1/remediations/1', { state: 'submitted' })).json.state).toBe('submitted');
    now += 2 * DAY;
    // POST on the case works like PATCH (clients without PATCH)
    const resolved = await call('POST', '/api/v1/remediations/1', { state: 'resolved', note: 'label removed' });
    expect(resolved.json).toMatchObject({ state: 'resolved', note: 'label removed' });
    const dir = rig!.dir;
    rig!.server.close();
    await rig!.rt.close();
    rig = undefined;
    await start({ dir });
    const list = await call('GET', '/api/v1/remediations');
    expect(list.json.remediations).toEqual([resolved.json]);
    const one = await call('GET', '/api/v1/remediations/1');
    expect(one.json.events.map((e: { event: string }) => e.event)).toEqual(['opened', 'submitted', 'resolved']);
    const history = await call('GET', `/api/v1/numbers/${encodeURIComponent('+12125550101')}/history?from=${new Date(now - 10 * DAY).toISOString()}`);
    expect(history.json.remediation.map((e: { event: string; engine: string }) => `${e.engine}:${e.event}`)).toEqual(['hiya:opened', 'hiya:submitted', 'hiya:resolved']);
    expect((await call('GET', '/api/v1/remediations?state=open')).json.remediations).toEqual([]);
    expect((await call('GET', '/api/v1/remediations?engine=hiya&number=2125550101')).json.remediations).toHaveLength(1);
  });

  it('says what is wrong: 400 bad input, 404 no case or not our number (not repeated), 409 wrong state, 415 not JSON', async () => {
    await start();
    expect((await call('POST', '/api/v1/remediations', { number: '+12125550101', engine: 'verizon' })).status).toBe(400);
    expect((await call('POST', '/api/v1/remediations', { engine: 'tns' })).status).toBe(400);
    const consumer = await call('POST', '/api/v1/remediations', { number: CONSUMER, engine: 'tns' });
    expect(consumer.status).toBe(404);
    expect(consumer.text).not.toContain('3125550000');
    const bad = await call('POST', '/api/v1/remediations', `{"number": "${CONSUMER}", `);
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('3125550000');
    expect((await call('POST', '/api/v1/remediations', undefined, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await call('PATCH', '/api/v1/remediations/7', { state: 'resolved' })).status).toBe(404);
    await call('POST', '/api/v1/remediations', { number: '+12125550101', engine: 'tns' });
    expect((await call('POST', '/api/v1/remediations', { number: '+12125550101', engine: 'tns' })).status).toBe(409);
    expect((await call('PATCH', '/api/v1/remediations/1', { state: 'open' })).status).toBe(400);
    await call('PATCH', '/api/v1/remediations/1', { state: 'rejected' });
    expect((await call('PATCH', '/api/v1/remediations/1', { state: 'resolved' })).status).toBe(409);
    expect((await call('GET', '/api/v1/remediations?state=done')).status).toBe(400);
  });

  it('is authenticated like the rest of /api, and refuses a change a browser marks cross-site', async () => {
    await start({ token: 's3cret' });
    expect((await call('GET', '/api/v1/remediations')).status).toBe(401);
    expect((await call('POST', '/api/v1/remediations', { number: '+12125550101', engine: 'hiya' })).status).toBe(401);
    const auth = { Authorization: 'Bearer s3cret' };
    expect((await call('GET', '/api/v1/remediations', undefined, auth)).status).toBe(200);
    rig!.server.close();
    await rig!.rt.close();
    rig = undefined;
    await start();
    const forged = await call('POST', '/api/v1/remediations', { number: '+12125550101', engine: 'hiya' }, { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
    expect(forged.status).toBe(403);
    expect((await call('GET', '/api/v1/remediations')).json.remediations).toEqual([]);
  });

  it('a labels file in the inbox suggests a case; the metrics count cases, time in review and re-flags', async () => {
    await start();
    const t = (ms: number) => new Date(ms).toISOString();
    writeFileSync(join(rig!.inbox, 'labels.csv'), `number,engine,label,checked_at\n+12125550102,first_orion,Spam Likely,${t(now - DAY)}\n+12125550101,hiya,clean,${t(now - DAY)}\n`);
    await rig!.rt.poll();
    const suggested = (await call('GET', '/api/v1/remediations?state=suggested')).json.remediations;
    expect(suggested).toMatchObject([{ number: '+12125550102', engine: 'first_orion', state: 'suggested', label: 'spam' }]);
    // Open the suggestion: same case; submit; resolve after 3 days.
    expect((await call('POST', '/api/v1/remediations', { number: '+12125550102', engine: 'first_orion' })).json.id).toBe(suggested[0].id);
    await call('PATCH', `/api/v1/remediations/${suggested[0].id}`, { state: 'submitted' });
    now += 3 * DAY;
    await call('PATCH', `/api/v1/remediations/${suggested[0].id}`, { state: 'resolved' });
    // Flagged again ten days later.
    now += 10 * DAY;
    writeFileSync(join(rig!.inbox, 'labels2.csv'), `number,engine,label,checked_at\n+12125550102,first_orion,scam,${t(now)}\n`);
    await rig!.rt.poll();
    const body = await rig!.metrics.render();
    expect(body).toContain('numrep_remediation_cases{engine="first_orion",state="resolved"} 1');
    expect(body).toContain('numrep_remediation_cases{engine="first_orion",state="suggested"} 1');
    expect(body).toContain('numrep_remediation_cases{engine="hiya",state="open"} 0');
    expect(body).toContain('numrep_remediation_review_seconds_bucket{le="259200",engine="first_orion",outcome="resolved"} 1');
    expect(body).toContain('numrep_remediation_review_seconds_bucket{le="172800",engine="first_orion",outcome="resolved"} 0');
    expect(body).toContain('numrep_remediation_review_seconds_sum{engine="first_orion",outcome="resolved"} 259200');
    expect(body).toContain('numrep_remediation_reflagged_total{engine="first_orion"} 1');
    expect(body).toContain('numrep_remediation_reflagged_total{engine="hiya"} 0');
    expect(body).not.toContain('3125550000');
    // Named, typed and documented as Prometheus wants (promtool: base units, _total on the counter).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    if (!(promtool.error && process.env.CI !== 'true')) {
      expect(promtool.stdout + promtool.stderr).toBe('');
      expect(promtool.status).toBe(0);
    }
    const events = (await call('GET', `/api/v1/remediations/${suggested[0].id}`)).json.events.map((e: { event: string }) => e.event);
    expect(events).toEqual(['suggested', 'opened', 'submitted', 'resolved', 'reflagged']);
  });

  it('where each number lives and its registration: JSON, CSV and numrep_number_info', async () => {
    await start();
    writeFileSync(join(rig!.inbox, 'inventory.csv'), 'number,pool,campaign,registered\n+12125550101,sales,,yes\n+12125550102,sales,,no\n+442071234567,uk,,2026-10-01\n');
    await rig!.rt.poll();
    const numbers = (await call('GET', '/api/v1/numbers')).json.numbers;
    const by = (n: string) => numbers.find((x: { number: string }) => x.number === n);
    expect(by('+12125550101')).toMatchObject({ country: 'US', area: 'New York, NY', registration: 'registered', registered_at: null });
    expect(by('+12125550102')).toMatchObject({ registration: 'not_registered' });
    expect(by('+442071234567')).toMatchObject({ country: 'GB', area: 'London', registration: 'registered', registered_at: '2026-10-01T00:00:00Z' });
    expect(Object.keys(by('+12125550101')).slice(0, 6)).toEqual(['number', 'pool', 'country', 'area', 'registration', 'registered_at']);
    const csv = (await call('GET', '/api/v1/numbers.csv')).text.split('\n');
    const header = csv[0].split(',');
    const row = csv.find((l) => l.startsWith('+12125550101,'))!;
    expect(header.slice(-4)).toEqual(['country', 'area', 'registration', 'registered_at']);
    expect(row.endsWith(',US,"New York, NY",registered,')).toBe(true);
    const body = await rig!.metrics.render();
    expect(body).toContain('numrep_number_info{number="+12125550101",pool="sales",country="US",area="New York, NY",registration="registered"} 1');
    expect(body).toContain('numrep_number_info{number="+442071234567",pool="uk",country="GB",area="London",registration="registered"} 1');
    expect(body).toContain('numrep_number_info{number="+12125550102",pool="sales",country="US",area="New York, NY",registration="not_registered"} 1');
    expect(body).not.toContain('3125550000');
    // Registered since: a new inventory moves the info series (its text is kept only while nothing changed).
    writeFileSync(join(rig!.inbox, 'inventory2.csv'), 'number,pool,campaign,registered\n+12125550102,sales,,yes\n');
    await rig!.rt.poll();
    const after = await rig!.metrics.render();
    expect(after).toContain('numrep_number_info{number="+12125550102",pool="sales",country="US",area="New York, NY",registration="registered"} 1');
    expect(after.match(/^numrep_number_info\{number="\+12125550102"/gm)).toHaveLength(1);
  });
});

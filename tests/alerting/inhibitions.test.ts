// The inhibit rules of alerting/alertmanager.yml, checked against a real Alertmanager (amtool cannot test
// inhibitions offline). Alerts are posted to its API; its own view of each alert (active / suppressed, and by
// what) is read back. Loopback only, random port, clustering disabled, temp storage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getJson,
  skipUnlessTools,
  startTestAlertmanager,
  stopProcess,
  waitFor,
  type Proc,
} from './helpers.js';
import { startWebhookSink, type WebhookSink } from './webhook.js';

type Labels = Record<string, string>;
const ops = (alertname: string, severity: string, l: Labels): Labels => ({ alertname, severity, team: 'operations', ...l });
const sre = (alertname: string, severity: string, l: Labels): Labels => ({ alertname, severity, team: 'sre', job: 'numrep', ...l });

// [labels, expected state]; every source alert is itself expected active.
const CASES: { name: string; source?: boolean; labels: Labels; state: 'active' | 'suppressed' }[] = [
  // A spam number silences its lesser alerts…
  { name: 'spam source', source: true, labels: ops('NumberSpam', 'critical', { number: '+12025550101', pool: 'collections', status: 'spam' }), state: 'active' },
  { name: 'spam → score critical', labels: ops('NumberReputationCritical', 'critical', { number: '+12025550101', pool: 'collections' }), state: 'suppressed' },
  { name: 'spam → answer drop', labels: ops('NumberAnswerRateDrop', 'warning', { number: '+12025550101', pool: 'collections', carrier: 'att' }), state: 'suppressed' },
  { name: 'spam → cancel early warning', labels: ops('NumberCarrierCancelRateHigh', 'warning', { number: '+12025550101', pool: 'collections', carrier: 'tmobile', window: '24h' }), state: 'suppressed' },
  { name: 'spam → carrier warning', labels: ops('NumberCarrierWarning', 'warning', { number: '+12025550101', pool: 'collections', carrier: 'tmobile', state: 'warning' }), state: 'suppressed' },
  { name: 'spam → velocity', labels: ops('NumberVelocityOverDailyCap', 'warning', { number: '+12025550101', pool: 'collections', window: '24h' }), state: 'suppressed' },
  // …but not the carrier flag / engine label (they say whom to contact), nor another number's alerts.
  { name: 'spam ↛ carrier flag', labels: ops('NumberCarrierFlagged', 'critical', { number: '+12025550101', pool: 'collections', carrier: 'att', state: 'flagged' }), state: 'active' },
  { name: 'spam ↛ engine label', labels: ops('NumberEngineLabelled', 'critical', { number: '+12025550101', pool: 'collections', engine: 'hiya' }), state: 'active' },
  { name: 'spam ↛ other number', labels: ops('NumberReputationCritical', 'critical', { number: '+12025550102', pool: 'collections' }), state: 'active' },
  { name: 'spam ↛ same number, other pool', labels: ops('NumberAnswerRateDrop', 'warning', { number: '+12025550101', pool: 'sales', carrier: 'att' }), state: 'active' },
  // Critical score silences the degraded warning of the same number.
  { name: 'critical source', source: true, labels: ops('NumberReputationCritical', 'critical', { number: '+12025550103', pool: 'collections' }), state: 'active' },
  { name: 'critical → degraded', labels: ops('NumberReputationDegraded', 'warning', { number: '+12025550103', pool: 'collections' }), state: 'suppressed' },
  // A carrier-wide drop silences per-number drops on that carrier only.
  { name: 'carrier drop source', source: true, labels: ops('CarrierAnswerRateDrop', 'warning', { carrier: 'verizon' }), state: 'active' },
  { name: 'carrier drop → number drop on verizon', labels: ops('NumberAnswerRateDrop', 'warning', { number: '+12025550104', pool: 'sales', carrier: 'verizon' }), state: 'suppressed' },
  { name: 'carrier drop ↛ number drop on tmobile', labels: ops('NumberAnswerRateDrop', 'warning', { number: '+12025550104', pool: 'sales', carrier: 'tmobile' }), state: 'active' },
  { name: 'carrier drop ↛ cancel warning on verizon', labels: ops('NumberCarrierCancelRateHigh', 'warning', { number: '+12025550104', pool: 'sales', carrier: 'verizon', window: '24h' }), state: 'active' },
  // Exporter down silences the rest about that exporter; stalled silences "behind" on that source.
  { name: 'carrier event source', source: true, labels: ops('CarrierEvent', 'warning', { carrier: 'uscellular', event: 'refusal_rise' }), state: 'active' },
  { name: 'carrier event → cancel warning on uscellular', labels: ops('NumberCarrierCancelRateHigh', 'warning', { number: '+12025550105', pool: 'sales', carrier: 'uscellular', window: '24h' }), state: 'suppressed' },
  { name: 'carrier event → carrier warning on uscellular', labels: ops('NumberCarrierWarning', 'warning', { number: '+12025550105', pool: 'sales', carrier: 'uscellular', state: 'warning' }), state: 'suppressed' },
  { name: 'carrier event ↛ carrier flag on uscellular', labels: ops('NumberCarrierFlagged', 'critical', { number: '+12025550105', pool: 'sales', carrier: 'uscellular', state: 'flagged' }), state: 'active' },
  { name: 'carrier event ↛ rejection warning on tmobile', labels: ops('NumberCarrierRejectionRateHigh', 'warning', { number: '+12025550105', pool: 'sales', carrier: 'tmobile', window: '24h' }), state: 'active' },

  { name: 'exporter down source', source: true, labels: sre('NumrepExporterDown', 'critical', { instance: 'exporter-a:9847' }), state: 'active' },
  { name: 'down → rejecting', labels: sre('NumrepIngestRejecting', 'warning', { instance: 'exporter-a:9847', format: 'asterisk' }), state: 'suppressed' },
  { name: 'down ↛ other instance', labels: sre('NumrepIngestRejecting', 'warning', { instance: 'exporter-b:9847', format: 'asterisk' }), state: 'active' },
  { name: 'stalled source', source: true, labels: sre('NumrepIngestStalled', 'critical', { instance: 'exporter-b:9847', source: '/cdr/Master.csv' }), state: 'active' },
  { name: 'stalled → behind same source', labels: sre('NumrepSourceBehind', 'warning', { instance: 'exporter-b:9847', source: '/cdr/Master.csv' }), state: 'suppressed' },
  { name: 'stalled ↛ behind other source', labels: sre('NumrepSourceBehind', 'warning', { instance: 'exporter-b:9847', source: '/cdr/acc.log' }), state: 'active' },
];

interface ApiAlert {
  labels: Labels;
  status: { state: string; inhibitedBy: string[] };
}

describe.skipIf(skipUnlessTools('alertmanager'))('Alertmanager inhibit rules (real prometheus-alertmanager)', () => {
  let dir: string;
  let am: Proc | undefined;
  let sink: WebhookSink | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'numrep-am-inhibit-'));
    sink = await startWebhookSink();
    // group_wait 4s, not 1s: the inhibitor learns of a source asynchronously after the API accepts it, and on
    // a loaded machine a target's 1s group could be flushed before that (the real config waits 10s/30s).
    const server = await startTestAlertmanager(dir, sink.base, () => '', '4s');
    am = server.proc;
    url = server.url;
    // Sources first, targets once Alertmanager holds the sources. Posted in one batch, a target can reach its
    // receiver before the inhibitor has seen its source when group_wait is as short as this test's 1s; the real
    // config's group_wait (10s/30s) is what gives the inhibitor that time in production.
    const sources = CASES.filter((c) => c.source);
    const targets = CASES.filter((c) => !c.source);
    await post(sources);
    await waitFor(
      'Alertmanager to hold the source alerts',
      async () => ((await getJson<ApiAlert[]>(`${url}/api/v2/alerts`)).length >= sources.length ? true : undefined),
      { timeoutMs: 10_000, diagnostics: () => am!.output() },
    );
    await post(targets);
  });

  async function post(cases: typeof CASES): Promise<void> {
    const now = Date.now();
    const body = cases.map((c) => ({
      labels: c.labels,
      annotations: { summary: c.name },
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 10 * 60_000).toISOString(),
    }));
    const r = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    expect(r.status, await r.text()).toBe(200);
  }

  afterAll(async () => {
    await stopProcess(am);
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const key = (l: Labels) => JSON.stringify(Object.entries(l).sort());

  it('suppresses exactly the lesser alerts, and nothing else', async () => {
    const want = new Map(CASES.map((c) => [key(c.labels), c]));
    // Alertmanager evaluates inhibitions as source alerts arrive: poll until its view settles on ours.
    let last: string[] = [];
    try {
      await waitFor(
        'every alert in its expected state',
        async () => {
          const alerts = await getJson<ApiAlert[]>(`${url}/api/v2/alerts`);
          last = [];
          for (const a of alerts) {
            const c = want.get(key(a.labels));
            if (c && a.status.state !== c.state) last.push(`${c.name}: ${a.status.state}, want ${c.state}`);
          }
          return alerts.length === CASES.length && last.length === 0 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 300 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${last.join('\n')}\n${am!.output()}`);
    }
    const alerts = await getJson<ApiAlert[]>(`${url}/api/v2/alerts`);
    for (const a of alerts) {
      const c = want.get(key(a.labels))!;
      expect(a.status.state, c.name).toBe(c.state);
      if (c.state === 'suppressed') expect(a.status.inhibitedBy.length, c.name).toBeGreaterThan(0);
    }
  });

  it('notifies only the active alerts, each at its route’s receiver', async () => {
    const active = CASES.filter((c) => c.state === 'active');
    await waitFor(
      'a notification for every active alert',
      () => {
        const got = new Set(sink!.received.flatMap((n) => n.alerts.map((a) => key(a.labels))));
        return active.every((c) => got.has(key(c.labels))) ? true : undefined;
      },
      { timeoutMs: 20_000, diagnostics: () => JSON.stringify(sink!.received.map((n) => [n.path, n.alerts.map((a) => a.labels.alertname)])) },
    );
    const notified = sink!.received.flatMap((n) => n.alerts.map((a) => ({ path: n.path, receiver: n.receiver, labels: a.labels })));
    for (const c of CASES.filter((x) => x.state === 'suppressed')) {
      expect(notified.find((n) => key(n.labels) === key(c.labels)), `${c.name} was notified`).toBeUndefined();
    }
    for (const n of notified) expect(n.path).toBe(`/${n.receiver}`);
    const receiverOf = (name: string) => notified.find((n) => key(n.labels) === key(CASES.find((c) => c.name === name)!.labels))?.receiver;
    expect(receiverOf('spam source')).toBe('operations-pager');
    expect(receiverOf('carrier drop source')).toBe('operations-email');
    expect(receiverOf('exporter down source')).toBe('sre-pager');
    expect(receiverOf('stalled ↛ behind other source')).toBe('sre-email');
  });
});

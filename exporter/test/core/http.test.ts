import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync, gunzipSync, deflateSync } from 'node:zlib';
import { promisify } from 'node:util';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { createApp, listen } from '../../src/http/server.js';
import { assessSnapshot, enrichByAssessing, verdictOf } from '../../src/reputation/evaluate.js';
import { TestReader, line, tmp } from './helpers.js';
import { until } from '../support/proc.js';
import type { WebConfig } from '../../src/http/webConfig.js';

const NOW = Date.UTC(2026, 10, 20, 18, 0);
const CONSUMER = '+13125550000'; // the called number TestReader puts on every call

interface Rig {
  base: string;
  port: number;
  rt: Runtime;
  inbox: string;
  server: Server;
}
let rig: Rig | undefined;

interface RigOptions {
  token?: string;
  protectMetrics?: boolean;
  lines?: string;
  /** Address the server binds (port 0: any free one); default 127.0.0.1. */
  listenHost?: string;
  allowedHosts?: string[];
  maxUploadBytes?: number;
  maxConcurrentUploads?: number;
  /** An exporter-toolkit web config in force (headers, basic_auth_users). */
  web?: WebConfig;
  /** Before the first request: number → pool (as an inventory would say). */
  pools?: Record<string, string>;
}

/** Numbers the API enriched (assessed) since the rig started. */
let enriched = 0;

async function start(opts: RigOptions = {}): Promise<Rig> {
  const dir = tmp();
  const inbox = join(dir, 'inbox');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(inbox);
  const s = Math.floor(NOW / 1000);
  writeFileSync(
    join(inbox, 'calls.test'),
    opts.lines ??
      [0, 60, 120, 180].map((d) => line(s - 3600 - d, '+12025550101', 'att', 'answered', 40)).join('') +
        line(s - 100, '+12025550101', 'tmobile', 'cancelled', 0) +
        line(s - 200, '+12025550102', 'att', 'blocked', 0),
  );
  const rt = new Runtime({
    db: join(dir, 'numrep.db'),
    bucketMs: 60_000,
    inbox,
    globs: [],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: 65536,
    now: () => NOW,
    readers: { createReader: () => new TestReader(), detectFormat: (l) => (l.length && /^\d+,/.test(l[0]) ? 'test' : null) },
  });
  await rt.poll();
  for (const [n, p] of Object.entries(opts.pools ?? {})) rt.pools.set(n, p);
  enriched = 0;
  const metrics = new MetricsExporter(rt, {
    version: 'test',
    seriesBudget: 100,
    verdicts: (snap) => new Map([...assessSnapshot(snap)].map(([n, a]) => [n, verdictOf(a)])),
  });
  const app = createApp({
    runtime: rt,
    metrics,
    enrichFor: (snap) => {
      // as serve does: a number is assessed when its entry is written
      const e = enrichByAssessing(snap);
      return (v, j) => (enriched++, e(v, j));
    },
    inbox,
    maxUploadBytes: opts.maxUploadBytes ?? 4096,
    maxConcurrentUploads: opts.maxConcurrentUploads,
    listenHost: opts.listenHost ?? '127.0.0.1',
    allowedHosts: opts.allowedHosts,
    token: opts.token,
    protectMetrics: opts.protectMetrics,
    web: opts.web ? { current: opts.web } : undefined,
    defaultCountryCode: '1',
    isReady: () => true,
    log: () => undefined,
  });
  const server = await listen(app, opts.listenHost ?? '127.0.0.1', 0);
  const port = (server.address() as AddressInfo).port;
  rig = { base: `http://127.0.0.1:${port}`, port, rt, inbox, server };
  return rig;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The JSON body's `error`. */
  error: string | undefined;
}

/** One request with exactly these headers (a browser's, a forged Host, a Content-Encoding), unlike fetch. */
function send(path: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${rig!.base}${path}`, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let error: string | undefined;
        try {
          error = JSON.parse(body).error;
        } catch {
          error = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, body, error });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const post = (body: string | Buffer, headers: Record<string, string> = {}) => send('/api/v1/upload', { method: 'POST', headers, body });
/** A CDR line TestReader accepts. */
const cdr = (caller = '+12025550103') => line(Math.floor(NOW / 1000) - 50, caller);
const uploads = (inbox: string) => readdirSync(inbox).filter((f) => f.startsWith('upload-'));

afterEach(async () => {
  if (rig) {
    rig.server.close();
    await rig.rt.close();
    rig = undefined;
  }
});

describe('HTTP', () => {
  it('serves per-number, per-carrier and pool metrics that promtool accepts, without the called number', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await res.text();
    expect(body).toContain('numrep_number_calls{number="+12025550101",pool="default",window="24h"} 5');
    expect(body).toContain('numrep_number_answer_ratio{number="+12025550101",pool="default",window="24h"} 0.8');
    expect(body).toContain('numrep_number_carrier_cancel_ratio{number="+12025550101",pool="default",carrier="tmobile",window="24h"} 1');
    expect(body).toMatch(/numrep_number_status\{number="\+12025550101",pool="default",status="\w+"\} 1/);
    expect(body).toMatch(/numrep_number_reputation_score\{number="\+12025550102",pool="default"\} \d+/);
    expect(body).toContain('numrep_calls_total{pool="default",carrier="att",outcome="blocked"} 1');
    expect(body).toContain('numrep_ingest_records_total{format="test",result="accepted",reason="ok"} 6');
    expect(body).toContain('numrep_build_info{version="test"');
    // 1h window: only the three recent calls; the answered ones are an hour old.
    expect(body).toContain('numrep_number_calls{number="+12025550101",pool="default",window="1h"} 1');
    // ratio over zero answered calls is absent, never 0
    expect(body).not.toContain('numrep_number_short_call_ratio{number="+12025550102"');
    expect(body).not.toContain(CONSUMER);
    expect(body).not.toContain(CONSUMER.slice(2));
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    if (promtool.error && process.env.CI !== 'true') return; // promtool missing outside CI: covered there
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.status).toBe(0);
  });

  it('gzips /metrics when the scraper asks (Prometheus does), the same body; plain when it does not', async () => {
    await start();
    const raw = (headers: Record<string, string>) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = request(`${rig!.base}/metrics`, { headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
        });
        req.on('error', reject);
        req.end();
      });
    const series = (b: string) => b.split('\n').filter((l) => /^numrep_(number|carrier|pool|calls)_/.test(l)).join('\n');
    const plain = await raw({});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
    for (const ae of ['gzip', 'br;q=1.0, gzip;q=0.8, *;q=0.1']) {
      const gz = await raw({ 'Accept-Encoding': ae });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.vary).toMatch(/Accept-Encoding/);
      expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
      const text = gunzipSync(gz.body).toString();
      expect(text).toContain('numrep_number_calls{number="+12025550101",pool="default",window="24h"} 5');
      expect(series(text)).toBe(series(plain.body.toString()));
    }
    const refused = await raw({ 'Accept-Encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    // curl --compressed, what an engineer types, reads the first gzip member only: the body must be one member.
    const curl = await promisify(execFile)('curl', ['-s', '-f', '--compressed', `${rig!.base}/metrics`], { encoding: 'utf8', maxBuffer: 64 << 20 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && process.env.CI !== 'true') return null; // curl missing outside CI: covered there
      throw err;
    });
    if (curl) expect(series(curl.stdout)).toBe(series(plain.body.toString()));
  });

  it('returns the docs/architecture.md#json JSON for all numbers, one number and carriers', async () => {
    const { base } = await start();
    const all = await (await fetch(`${base}/api/v1/numbers`)).json();
    expect(all.evaluated_at).toBe('2026-11-20T18:00:00Z');
    const n = all.numbers.find((x: { number: string }) => x.number === '+12025550101');
    expect(n.windows['24h']).toMatchObject({ calls: 5, answered: 4, answer_ratio: 0.8, cancel_ratio: 0.2, avg_talk_seconds: 40 });
    expect(n.windows['24h'].outcomes).toEqual({ answered: 4, voicemail: 0, cancelled: 1, no_answer: 0, busy: 0, rejected: 0, blocked: 0, failed: 0 });
    expect(n.carriers.tmobile['24h'].calls).toBe(1);
    expect(n.carriers.tmobile.attestation).toEqual({ A: 1, B: 0, C: 0, none: 0 }); // per carrier, 7d
    expect(typeof n.score).toBe('number');
    expect(['in_progress', 'healthy', 'mixed', 'spam']).toContain(n.status);
    expect(n.recommendation.action).toBeTruthy();
    expect(n.attestation).toEqual({ A: 5, B: 0, C: 0, none: 0 });
    expect(JSON.stringify(all)).not.toContain(CONSUMER);
    const one = await fetch(`${base}/api/v1/numbers/${encodeURIComponent('(202) 555-0102')}`);
    expect(one.status).toBe(200);
    expect((await one.json()).number).toBe('+12025550102');
    expect((await fetch(`${base}/api/v1/numbers/%2B19995550000`)).status).toBe(404);
    const carriers = await (await fetch(`${base}/api/v1/carriers`)).json();
    expect(carriers.carriers.map((c: { carrier: string }) => c.carrier)).toEqual(['att', 'tmobile']);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('exports CSV and serves history between from and to', async () => {
    const { base, rt } = await start();
    const { HistoryRecorder } = await import('../../src/reputation/history.js');
    new HistoryRecorder(rt.store).record(assessSnapshot(rt.snapshotNow()), NOW);
    const csv = await fetch(`${base}/api/v1/numbers.csv`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\+12025550101,default,/);
    const h = await (await fetch(`${base}/api/v1/numbers/+12025550101/history?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z`)).json();
    expect(h.history).toHaveLength(1);
    expect(h.history[0]).toMatchObject({ at: '2026-11-20T18:00:00.000Z', event: 'status_change' });
    expect((await fetch(`${base}/api/v1/numbers/+12025550101/history?from=yesterday`)).status).toBe(400);
    const none = await (await fetch(`${base}/api/v1/numbers/+12025550101/history?from=1700000000&to=1700003600`)).json();
    expect(none.history).toEqual([]);
  });

  it('protects the API with a bearer token, and /metrics only when asked', async () => {
    const { base } = await start({ token: 's3cret' });
    expect((await fetch(`${base}/api/v1/numbers`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/numbers`, { headers: { authorization: 'Bearer nope!' } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/numbers`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('saves an upload into the inbox under its own name, and refuses junk and oversize bodies', async () => {
    const { base, inbox } = await start();
    const before = readdirSync(inbox).length;
    const ok = await fetch(`${base}/api/v1/upload?name=../../etc/passwd`, { method: 'POST', body: line(Math.floor(NOW / 1000) - 50, '+12025550103') });
    expect(ok.status).toBe(202);
    const { accepted } = await ok.json();
    expect(accepted).toMatch(/^upload-[\w-]+\.test$/);
    expect(readdirSync(inbox)).toContain(accepted);
    expect(readdirSync(inbox).length).toBe(before + 1);
    expect(readFileSync(join(inbox, accepted), 'utf8')).toContain('+12025550103');
    expect((await fetch(`${base}/api/v1/upload`, { method: 'POST', body: 'hello world\n' })).status).toBe(415);
    expect((await fetch(`${base}/api/v1/upload`, { method: 'POST', body: 'x'.repeat(10_000) })).status).toBe(413);
    expect((await fetch(`${base}/api/v1/upload`, { method: 'POST' })).status).toBe(400);
  });
});

describe('HTTP: requests from web pages (CSRF)', () => {
  it('refuses a cross-site upload with 403 and a reason, whatever its content type; nothing is saved', async () => {
    const { inbox, port } = await start();
    const forged: Record<string, string>[] = [
      { origin: 'http://evil.example', 'content-type': 'text/plain' },
      { origin: 'null', 'content-type': 'multipart/form-data; boundary=x' },
      { origin: `http://127.0.0.1:${port + 1}`, 'content-type': 'text/csv' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      { 'sec-fetch-site': 'same-site', 'content-type': 'text/plain' },
    ];
    for (const headers of forged) {
      const r = await post(cdr(), headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.error).toMatch(/cross-site request refused/);
    }
    expect((await post(cdr(), { origin: 'http://evil.example' })).error).toContain('Origin http://evil.example is not this server');
    // Any state-changing method, not only the upload route.
    expect((await send('/api/v1/numbers', { method: 'DELETE', headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect(uploads(inbox)).toEqual([]);
  });

  it('keeps curl, scripts and same-origin requests working', async () => {
    const { inbox, port, base } = await start();
    // curl --data-binary sends application/x-www-form-urlencoded, a "simple" type: allowed, as no browser marks it.
    const file = join(tmp(), 'calls.test');
    writeFileSync(file, cdr('+12025550104'));
    const { stdout } = await promisify(execFile)('curl', ['-sS', '-w', '\n%{http_code}', '--data-binary', `@${file}`, `${base}/api/v1/upload`]);
    expect(stdout.trim().split('\n').at(-1)).toBe('202');
    expect((await post(cdr(), { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' })).status).toBe(202);
    expect((await post(cdr(), { origin: `http://localhost:${port}`, host: `localhost:${port}` })).status).toBe(202);
    expect((await post(cdr(), { 'sec-fetch-site': 'none' })).status).toBe(202);
    expect(uploads(inbox)).toHaveLength(4);
  });

  it('accepts a request carrying the valid bearer token: a page cannot send one without a preflight', async () => {
    await start({ token: 's3cret' });
    const crossSite = { origin: 'http://evil.example', 'content-type': 'text/plain' };
    expect((await post(cdr(), crossSite)).status).toBe(403);
    expect((await post(cdr(), { ...crossSite, authorization: 'Bearer wrong!' })).status).toBe(403);
    expect((await post(cdr(), { ...crossSite, authorization: 'Bearer s3cret' })).status).toBe(202);
  });
});

describe('HTTP: Host header (DNS rebinding)', () => {
  it('answers 421 naming web.allowed_hosts for a foreign Host, on the API, /metrics and uploads', async () => {
    const { inbox, port } = await start();
    for (const path of ['/api/v1/numbers', '/api/v1/numbers.csv', '/metrics']) {
      const r = await send(path, { headers: { host: `attacker.example:${port}` } });
      expect(r.status, path).toBe(421);
      expect(r.error).toContain('web.allowed_hosts');
    }
    expect((await post(cdr(), { host: `attacker.example:${port}` })).status).toBe(421);
    expect(uploads(inbox)).toEqual([]);
    // Probes are exempt: a kubelet asks by pod IP, a load balancer by whatever name it likes.
    expect((await send('/healthz', { headers: { host: 'attacker.example' } })).status).toBe(200);
    expect((await send('/readyz', { headers: { host: 'attacker.example' } })).status).toBe(200);
  });

  it('accepts the listen address and loopback names with the listen port, and web.allowed_hosts', async () => {
    const { port } = await start({ allowedHosts: ['numrep.internal', 'Metrics.Example:9999'] });
    const status = async (host: string) => (await send('/api/v1/numbers', { headers: { host } })).status;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, `numrep.internal:${port}`, 'numrep.internal', 'metrics.example:9999']) {
      expect(await status(host), host).toBe(200);
    }
    for (const host of [`localhost:${port + 1}`, 'localhost', `10.0.0.5:${port}`, `metrics.example:${port}`, `numrep.internal.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      expect(await status(host), host).toBe(421);
    }
  });

  it('on a wildcard listen address accepts any IP literal, and names only when allowed', async () => {
    const { port } = await start({ listenHost: '0.0.0.0' });
    const status = async (host: string) => (await send('/api/v1/numbers', { headers: { host } })).status;
    for (const host of ['10.1.2.3:8080', `192.168.0.7:${port}`, '[fe80::1]:80', `localhost:${port}`]) expect(await status(host), host).toBe(200);
    for (const host of [`evil.example:${port}`, `exporter:${port}`]) expect(await status(host), host).toBe(421);
  });
});

describe('HTTP: uploads', () => {
  it('streams the body into a .part file while it arrives, then renames it (mode 0640)', async () => {
    const { base, inbox } = await start({ maxUploadBytes: 1 << 20 });
    const first = Array.from({ length: 50 }, (_, i) => cdr(`+1202555${String(1000 + i)}`)).join('');
    const rest = Array.from({ length: 50 }, (_, i) => cdr(`+1202555${String(2000 + i)}`)).join('');
    const req = request(`${base}/api/v1/upload`, { method: 'POST' });
    const reply = new Promise<Reply>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, error: undefined }));
      });
      req.on('error', reject);
    });
    req.write(first);
    // The first half is on disk before the request has ended: nothing waits in memory for the rest.
    const part = await until('first half on disk', async () => {
      const p = readdirSync(inbox).find((f) => f.endsWith('.part'));
      return p && statSync(join(inbox, p)).size === first.length ? p : undefined;
    }, 10_000);
    expect(part).toMatch(/^\.upload-[\w-]+\.part$/);
    req.end(rest);
    const r = await reply;
    expect(r.status).toBe(202);
    const { accepted, bytes } = JSON.parse(r.body);
    expect(bytes).toBe(first.length + rest.length);
    expect(readFileSync(join(inbox, accepted), 'utf8')).toBe(first + rest);
    expect(statSync(join(inbox, accepted)).mode & 0o777).toBe(0o640);
    expect(readdirSync(inbox).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('limits concurrent uploads: 429 with Retry-After beyond web.max_concurrent_uploads', async () => {
    const { base, inbox } = await start({ maxConcurrentUploads: 2 });
    // Two uploads in progress: the server has taken them (100 Continue) and waits for their bodies.
    const open = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ end(): Promise<number> }>((resolve, reject) => {
            const req = request(`${base}/api/v1/upload`, { method: 'POST', headers: { expect: '100-continue', 'transfer-encoding': 'chunked' } });
            const status = new Promise<number>((r) => req.on('response', (res) => (res.resume(), r(res.statusCode!))));
            req.on('error', reject);
            req.on('continue', () => resolve({ end: () => (req.end(cdr()), status) }));
            req.flushHeaders();
          }),
      ),
    );
    const third = await post(cdr());
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toMatch(/^\d+$/);
    expect(third.error).toContain('web.max_concurrent_uploads');
    expect(await Promise.all(open.map((o) => o.end()))).toEqual([202, 202]);
    expect((await post(cdr())).status).toBe(202);
    expect(uploads(inbox)).toHaveLength(3);
  });

  it('inflates gzip and deflate bodies; the cap applies to the inflated size', async () => {
    const { inbox } = await start();
    const body = cdr() + cdr('+12025550104');
    const gz = await post(gzipSync(body), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(202);
    expect(readFileSync(join(inbox, JSON.parse(gz.body).accepted), 'utf8')).toBe(body);
    expect((await post(deflateSync(body), { 'content-encoding': 'deflate' })).status).toBe(202);
    // ~100 bytes on the wire, 64 KiB inflated, against a 4096-byte cap
    const bomb = gzipSync(cdr().repeat(2000));
    expect(bomb.length).toBeLessThan(4096);
    const big = await post(bomb, { 'content-encoding': 'gzip' });
    expect(big.status).toBe(413);
    expect(big.error).toContain('max_upload_bytes');
    expect(readdirSync(inbox).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(uploads(inbox)).toHaveLength(2);
  });

  it('inflates a body that is itself a gzip file (a compressed rotation posted as it is), with the same cap', async () => {
    const { inbox } = await start();
    const body = cdr() + cdr('+12025550104');
    const plain = await post(gzipSync(body)); // no Content-Encoding: the magic bytes say gzip
    expect(plain.status).toBe(202);
    expect(JSON.parse(plain.body)).toMatchObject({ bytes: body.length });
    expect(readFileSync(join(inbox, JSON.parse(plain.body).accepted), 'utf8')).toBe(body);
    // gzip inside gzip: the transfer encoding and the file's own compression
    const twice = await post(gzipSync(gzipSync(body)), { 'content-encoding': 'gzip' });
    expect(twice.status).toBe(202);
    expect(readFileSync(join(inbox, JSON.parse(twice.body).accepted), 'utf8')).toBe(body);
    const bomb = await post(gzipSync(cdr().repeat(2000)));
    expect(bomb.status).toBe(413);
    const cut = await post(gzipSync(cdr().repeat(20)).subarray(0, 30));
    expect(cut.status).toBe(400);
    expect(cut.error).toMatch(/not valid gzip/);
    // one byte is no gzip file: read as it is (and refused as no known format)
    expect((await post(Buffer.from([0x1f]))).status).toBe(415);
    expect(uploads(inbox)).toHaveLength(2);
    expect(readdirSync(inbox).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('refuses br and unknown encodings (415) and bad gzip (400) with a clear message', async () => {
    const { inbox } = await start();
    const br = await post(cdr(), { 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.error).toMatch(/Content-Encoding br is not supported.*gzip/);
    expect((await post(cdr(), { 'content-encoding': 'compress' })).status).toBe(415);
    const bad = await post('this is not gzip at all\n', { 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/not valid gzip/);
    const truncated = await post(gzipSync(cdr().repeat(20)).subarray(0, 30), { 'content-encoding': 'gzip' });
    expect(truncated.status).toBe(400);
    expect(truncated.error).toMatch(/not valid gzip/);
    expect(readdirSync(inbox).filter((f) => f.endsWith('.part') || f.startsWith('upload-'))).toEqual([]);
  });

  it('says the inbox cannot be written to, instead of "internal error"', async () => {
    const { inbox } = await start();
    rmSync(inbox, { recursive: true });
    const r = await post(cdr());
    expect(r.status).toBe(500);
    expect(r.error).toBe(`inbox ${inbox} is not writable (ENOENT)`);
  });
});

describe('HTTP: history parameters and paths', () => {
  it('takes from/to only as ISO 8601 with a zone or Unix seconds; anything else is 400 with the reason', async () => {
    await start();
    const h = (q: string) => send(`/api/v1/numbers/%2B12025550101/history?${q}`);
    const bad = [
      'from=99999999999999999999',
      `from=${'9'.repeat(5000)}`,
      'from=99999999999', // 11 digits: not seconds, and not guessed as milliseconds
      'from=-1',
      'from=1,2',
      'from[]=1&from[]=2',
      'from=1&from=2',
      'from[a]=1',
      'from=yesterday',
      'from=2026-11-20', // no time
      'from=2026-11-20T00:00:00', // no zone
      'from=2026-02-31T00:00:00Z',
      'from=2026-11-20T24:00:00Z',
      'to=1e9',
      'to=0x10',
      'from=1700003600&to=1700000000', // from after to
    ];
    for (const q of bad) {
      const r = await h(q);
      expect(r.status, q).toBe(400);
      expect(r.error, q).toMatch(/^(from|to)\b/);
    }
    expect((await h('from=1.5')).error).toBeUndefined();
    const ok = JSON.parse((await h('from=1700000000.25&to=2023-11-14T23:13:21%2B01:00')).body);
    expect(ok).toMatchObject({ from: '2023-11-14T22:13:20.250Z', to: '2023-11-14T22:13:21.000Z' });
    const iso = JSON.parse((await h('from=2026-11-20T00:00:00.123456Z&to=2026-11-20T01:00:00-05:30')).body);
    expect(iso).toMatchObject({ from: '2026-11-20T00:00:00.123Z', to: '2026-11-20T06:30:00.000Z' });
  });

  it('answers a malformed percent-escape in :number with 400 and a reason', async () => {
    await start();
    for (const path of ['/api/v1/numbers/%', '/api/v1/numbers/%E0%A4%A', '/api/v1/numbers/%E0%A4%A/history']) {
      const r = await send(path);
      expect(r.status, path).toBe(400);
      expect(r.error, path).toMatch(/malformed percent-escape/);
    }
  });

  it('takes the Bearer scheme in any case (RFC 7235)', async () => {
    await start({ token: 's3cret' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await send('/api/v1/numbers', { headers: { authorization: `${scheme} s3cret` } })).status, scheme).toBe(200);
    }
    expect((await send('/api/v1/numbers', { headers: { authorization: 'Basic s3cret' } })).status).toBe(401);
  });
});

describe('HTTP: uploads that stop half-way', () => {
  it('a client that gives up mid-body leaves no .part file and frees its upload slot', async () => {
    const { base, inbox } = await start({ maxConcurrentUploads: 1, maxUploadBytes: 1 << 20 });
    const req = request(`${base}/api/v1/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
    req.on('error', () => undefined); // we hang up on purpose
    req.write(cdr().repeat(20));
    await until('.part on disk', async () => (readdirSync(inbox).some((f) => f.endsWith('.part')) ? true : undefined), 10_000);
    req.destroy();
    await until('.part removed', async () => (readdirSync(inbox).some((f) => f.endsWith('.part')) ? undefined : true), 10_000);
    expect(await until('slot free again', async () => ((await post(cdr())).status === 202 ? true : undefined), 10_000)).toBe(true);
    expect(uploads(inbox)).toHaveLength(1);
  });
});

describe('HTTP: uploaded side files', () => {
  it('an uploaded labels file dated far in the future is quarantined, not imported', async () => {
    const { rt } = await start();
    const labels = 'number,engine,label,checked_at\n+12025550105,hiya,spam,9999-12-01T00:00:00Z\n+12025550106,hiya,spam,2026-11-20T08:00:00Z\n';
    const r = await post(labels);
    expect(r.status).toBe(202);
    expect(JSON.parse(r.body).format).toBe('labels');
    await rt.poll();
    expect(rt.labels.has('+12025550106')).toBe(true);
    expect(rt.labels.has('+12025550105')).toBe(false);
    expect(rt.store.quarantined(10)).toEqual([
      expect.objectContaining({ line: 2, reason: 'bad_label_row', detail: 'checked_at 9999-12-01T00:00:00Z is more than 1 day in the future' }),
    ]);
  });
});

/** `count` numbers +1202555{1000+i}, 24 calls each over 12 h: carrier att/tmobile/verizon by i % 3, even ones also att; every fifth blocked. */
function poolLines(count: number, calls = 24): string {
  const s = Math.floor(NOW / 1000);
  let out = '';
  for (let i = 0; i < count; i++) {
    const n = `+1202555${1000 + i}`;
    const carrier = ['att', 'tmobile', 'verizon'][i % 3];
    for (let k = 0; k < calls; k++) {
      out += line(s - 600 - k * 1800, n, k % 4 === 0 && i % 2 === 0 ? 'att' : carrier, i % 5 === 0 ? 'blocked' : 'answered', i % 5 === 0 ? 0 : 45);
    }
  }
  return out;
}

interface NumberEntry {
  number: string;
  pool: string;
  status: string;
  carriers: Record<string, { flag?: string }>;
}
interface NumbersReply {
  numbers: NumberEntry[];
  carriers: { carrier: string }[];
  total: number;
  next_cursor: string | null;
}
const getJson = async <T = NumbersReply>(path: string): Promise<T> => {
  const r = await send(path);
  expect(r.status, `${path}: ${r.body.slice(0, 200)}`).toBe(200);
  return JSON.parse(r.body) as T;
};

describe('HTTP: /api/v1/numbers filters and pages', () => {
  const pools = { '+12025551001': 'outbound-b', '+12025551004': 'outbound-b', '+12025551005': 'outbound-b', '+12025551010': 'outbound-b' };

  it('status, pool, carrier and flag each keep exactly the numbers that match, and combine', async () => {
    await start({ lines: poolLines(30), pools });
    const all = await getJson('/api/v1/numbers?limit=10000');
    expect(all.numbers).toHaveLength(30);
    expect(all.total).toBe(30);
    expect(all.next_cursor).toBeNull();
    const statuses = [...new Set(all.numbers.map((n) => n.status))];
    const flags = [...new Set(all.numbers.flatMap((n) => Object.values(n.carriers).map((c) => c.flag)))] as string[];
    expect(statuses.length, `statuses in the data: ${statuses}`).toBeGreaterThanOrEqual(2);
    expect(flags.length, `flags in the data: ${flags}`).toBeGreaterThanOrEqual(2);

    const cases: [Record<string, string>, (n: NumberEntry) => boolean][] = [];
    for (const st of statuses) cases.push([{ status: st }, (n) => n.status === st]);
    for (const f of flags) {
      cases.push([{ flag: f }, (n) => Object.values(n.carriers).some((c) => c.flag === f)]);
      cases.push([{ carrier: 'att', flag: f }, (n) => n.carriers.att?.flag === f]);
    }
    cases.push([{ pool: 'outbound-b' }, (n) => n.pool === 'outbound-b']);
    cases.push([{ pool: 'nowhere' }, () => false]);
    cases.push([{ carrier: 'tmobile' }, (n) => 'tmobile' in n.carriers]);
    cases.push([{ carrier: 'att', pool: 'default' }, (n) => 'att' in n.carriers && n.pool === 'default']);
    cases.push([{ status: statuses[0], carrier: 'verizon', pool: 'default' }, (n) => n.status === statuses[0] && 'verizon' in n.carriers && n.pool === 'default']);
    let nonTrivial = 0;
    for (const [q, keep] of cases) {
      const expected = all.numbers.filter(keep);
      if (expected.length > 0 && expected.length < all.numbers.length) nonTrivial++;
      const got = await getJson(`/api/v1/numbers?${new URLSearchParams({ ...q, limit: '10000' })}`);
      expect(got.numbers.map((n) => n.number), JSON.stringify(q)).toEqual(expected.map((n) => n.number));
      expect(got.numbers, JSON.stringify(q)).toEqual(expected);
      expect(got.total, JSON.stringify(q)).toBe(expected.length);
      expect(got.next_cursor).toBeNull();
      expect(got.carriers.map((c) => c.carrier)).toEqual(['att', 'tmobile', 'verizon']); // the pool's carriers, unfiltered
    }
    expect(nonTrivial).toBeGreaterThanOrEqual(6);
  });

  it('pages by limit and cursor in number order: every number once, total on each page, next_cursor null at the end', async () => {
    await start({ lines: poolLines(30), pools });
    const all = (await getJson('/api/v1/numbers?limit=10000')).numbers.map((n) => n.number);
    expect(all).toEqual([...all].sort());
    for (const [filter, size] of [['', 7], ['carrier=tmobile&', 3], ['pool=outbound-b&', 1]] as const) {
      const expected = (await getJson(`/api/v1/numbers?${filter}limit=10000`)).numbers.map((n) => n.number);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const p: NumbersReply = await getJson(`/api/v1/numbers?${filter}limit=${size}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(p.total).toBe(expected.length);
        expect(p.numbers.length).toBeLessThanOrEqual(size);
        seen.push(...p.numbers.map((n) => n.number));
        cursor = p.next_cursor;
        pages++;
      } while (cursor !== null && pages < 100);
      expect(seen, filter).toEqual(expected);
      expect(pages, filter).toBe(Math.ceil(expected.length / size));
    }
    // A status filter pages the same way.
    const spamish = (await getJson('/api/v1/numbers?limit=10000')).numbers.find((n) => n.number === '+12025551000')!.status;
    const first = await getJson(`/api/v1/numbers?status=${spamish}&limit=2`);
    const rest = await getJson(`/api/v1/numbers?status=${spamish}&limit=10000&cursor=${first.next_cursor}`);
    expect([...first.numbers, ...rest.numbers].map((n) => n.number)).toEqual((await getJson(`/api/v1/numbers?status=${spamish}&limit=10000`)).numbers.map((n) => n.number));
    expect(rest.next_cursor).toBeNull();
  });

  it('returns at most 1000 numbers unless asked, and assesses only the numbers on the page', async () => {
    await start({ lines: poolLines(1001, 1) });
    enriched = 0;
    const first = await getJson('/api/v1/numbers');
    expect(first.numbers).toHaveLength(1000);
    expect(first.total).toBe(1001);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(enriched).toBe(1000);
    const second = await getJson(`/api/v1/numbers?cursor=${first.next_cursor}`);
    expect(second.numbers.map((n) => n.number)).toEqual(['+12025552000']);
    expect(second.next_cursor).toBeNull();
    enriched = 0;
    expect((await getJson('/api/v1/numbers?limit=5')).numbers).toHaveLength(5);
    expect(enriched).toBe(5);
    // The cheap filters go first: a status filter assesses the carrier's numbers only.
    enriched = 0;
    const tmobile = await getJson('/api/v1/numbers?carrier=tmobile&limit=10000');
    enriched = 0;
    await getJson('/api/v1/numbers?carrier=tmobile&status=healthy&limit=1');
    expect(enriched).toBe(tmobile.total);
  });

  it('answers 400 with the reason for a bad status, flag, limit, cursor or parameter', async () => {
    await start({ lines: poolLines(3) });
    const bad: [string, RegExp][] = [
      ['status=spammy', /unknown status spammy \(one of in_progress, healthy, mixed, spam\)/],
      ['flag=red', /unknown flag red \(one of clean, warning, flagged\)/],
      ['limit=abc', /limit abc is not a whole number/],
      ['limit=1.5', /limit 1\.5 is not a whole number/],
      ['limit=-1', /limit -1 is not a whole number/],
      ['limit=0', /limit 0 is out of range \(1 to 10000\)/],
      ['limit=10001', /limit 10001 is out of range \(1 to 10000\)/],
      ['cursor=!!!', /malformed cursor/],
      ['cursor=abcd', /malformed cursor/],
      [`cursor=${Buffer.from('after:+1202 5550101').toString('base64url')}`, /malformed cursor/],
      ['stauts=spam', /unknown parameter stauts \(known: status, pool, carrier, flag, limit, cursor\)/],
      ['status=spam&status=healthy', /status must be given once/],
    ];
    for (const [q, why] of bad) {
      for (const path of ['/api/v1/numbers', '/api/v1/numbers.csv']) {
        const r = await send(`${path}?${q}`);
        expect(r.status, `${path}?${q}`).toBe(400);
        expect(r.error, `${path}?${q}`).toMatch(why);
      }
    }
    expect((await send('/api/v1/numbers?status=&limit=')).status).toBe(200); // empty fields: no filter
  });

  it('the CSV export takes the same filters, every match unless limit is given', async () => {
    await start({ lines: poolLines(30), pools });
    const rows = async (q: string) => {
      const r = await send(`/api/v1/numbers.csv?${q}`);
      expect(r.status).toBe(200);
      return { numbers: r.body.trim().split('\n').slice(1).map((l) => l.split(',')[0]), total: r.headers['x-total-count'], next: r.headers['x-next-cursor'] };
    };
    const tmobile = (await getJson('/api/v1/numbers?carrier=tmobile&limit=10000')).numbers.map((n) => n.number);
    expect(await rows('carrier=tmobile')).toEqual({ numbers: tmobile, total: String(tmobile.length), next: undefined });
    expect((await rows('')).numbers).toHaveLength(30); // no limit by default: an export
    const page = await rows('carrier=tmobile&limit=3');
    expect(page.numbers).toEqual(tmobile.slice(0, 3));
    expect((await rows(`carrier=tmobile&limit=3&cursor=${page.next}`)).numbers).toEqual(tmobile.slice(3, 6));
    const b = (await getJson('/api/v1/numbers?pool=outbound-b')).numbers.map((n) => n.number);
    expect((await rows('pool=outbound-b')).numbers).toEqual(b);
  });
});

describe('HTTP: landing page and API index', () => {
  it('GET / is an HTML page naming the version and linking the metrics, API, probes and docs; no script, its one style allowed by hash', async () => {
    const { VERSION } = await import('../../src/version.js');
    await start();
    const r = await send('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    for (const href of ['metrics', 'api/v1', 'api/v1/numbers', 'api/v1/numbers.csv', 'api/v1/carriers', 'api/v1/sources', 'healthz', 'readyz']) {
      expect(r.body, href).toContain(`href="${href}"`);
    }
    expect(r.body).toContain(VERSION);
    expect(r.body).toContain('docs/operations.md');
    expect(r.body).toContain('No authentication is configured');
    expect(r.body).not.toMatch(/<script|\son\w+=/i);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; frame-ancestors 'none'$/);
    const style = /<style>([^<]*)<\/style>/.exec(r.body)![1];
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    // every link on the page answers
    for (const [, href] of r.body.matchAll(/href="([^"]+)"/g)) expect((await send(`/${href}`)).status, href).toBe(200);
    // the other pages keep the strict policy
    expect((await send('/api/v1/carriers')).headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('/api and /api/v1 list the endpoints as JSON; other unknown paths stay 404', async () => {
    await start();
    for (const path of ['/api', '/api/v1', '/api/v1/']) {
      const r = await send(path);
      expect(r.status, path).toBe(200);
      const j = JSON.parse(r.body);
      expect(j).toMatchObject({ name: 'numrep', api: 'v1' });
      expect(j.endpoints.map((e: { method: string; path: string }) => `${e.method} ${e.path}`)).toEqual(
        expect.arrayContaining(['GET /api/v1/numbers', 'GET /api/v1/numbers/{number}', 'GET /api/v1/carriers', 'GET /api/v1/sources', 'POST /api/v1/upload']),
      );
    }
    expect((await send('/api/v2')).status).toBe(404);
    expect((await send('/index.html')).status).toBe(404);
  });

  it('the landing page and the index are as open as /metrics: public with a bearer token alone, closed with protect_metrics', async () => {
    await start({ token: 's3cret' });
    expect((await send('/')).status).toBe(200);
    expect((await send('/')).body).toContain('The API needs the bearer token.');
    expect((await send('/api/v1')).status).toBe(200);
    expect((await send('/api/v1/numbers')).status).toBe(401);
    rig!.server.close();
    await rig!.rt.close();
    rig = undefined;
    const { port } = await start({ token: 's3cret', protectMetrics: true });
    for (const path of ['/', '/api', '/api/v1', '/metrics']) {
      expect((await send(path)).status, path).toBe(401);
      expect((await send(path, { headers: { authorization: 'Bearer s3cret' } })).status, path).toBe(200);
    }
    expect((await send('/', { headers: { host: `attacker.example:${port}`, authorization: 'Bearer s3cret' } })).status).toBe(421);
  });
});

/** A web config file made with a real htpasswd bcrypt hash per user, loaded as serve loads it. */
async function webConfig(users: Record<string, string>, extra = ''): Promise<WebConfig> {
  const { loadWebConfig } = await import('../../src/http/webConfig.js');
  const lines = Object.entries(users).map(([u, p]) => `  ${u}: '${spawnSync('htpasswd', ['-nbBC', '10', u, p], { encoding: 'utf8' }).stdout.trim().split(':')[1]}'`);
  const file = join(tmp(), 'web.yml');
  writeFileSync(file, `basic_auth_users:\n${lines.join('\n')}\n${extra}`);
  return loadWebConfig(file);
}
const basicAuth = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

describe('HTTP: basic auth from the web config (basic_auth_users)', () => {
  it('protects the API, /metrics and the landing page; /healthz and /readyz stay open', async () => {
    await start({ web: await webConfig({ prometheus: 'pa55:word', ops: 'other' }) });
    for (const path of ['/', '/api', '/api/v1/numbers', '/api/v1/numbers.csv', '/api/v1/carriers', '/api/v1/sources', '/metrics']) {
      const none = await send(path);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate'], path).toBe('Basic realm="numrep", charset="UTF-8"');
      expect(none.error).toBe('missing or wrong basic auth user or password');
      expect((await send(path, { headers: basicAuth('prometheus', 'pa55:word') })).status, path).toBe(200);
      expect((await send(path, { headers: basicAuth('ops', 'other') })).status, path).toBe(200);
      expect((await send(path, { headers: basicAuth('prometheus', 'wrong') })).status, path).toBe(401);
      expect((await send(path, { headers: basicAuth('nobody', 'pa55:word') })).status, path).toBe(401);
      expect((await send(path, { headers: basicAuth('ops', 'pa55:word') })).status, path).toBe(401); // another user's password
    }
    for (const path of ['/healthz', '/readyz']) expect((await send(path)).status, path).toBe(200);
    expect((await send('/', { headers: basicAuth('ops', 'other') })).body).toContain('needs a basic auth user');
    expect((await send('/api/v1/numbers', { headers: { authorization: 'Basic !!!' } })).status).toBe(401);
    expect((await send('/api/v1/numbers', { headers: { authorization: `basic ${Buffer.from('ops:other').toString('base64')}` } })).status).toBe(200);
  });

  it('takes the bearer token as well; a 401 offers both schemes', async () => {
    await start({ token: 's3cret', web: await webConfig({ prometheus: 'pass' }) });
    for (const path of ['/api/v1/numbers', '/metrics']) {
      expect((await send(path, { headers: { authorization: 'Bearer s3cret' } })).status, path).toBe(200);
      expect((await send(path, { headers: basicAuth('prometheus', 'pass') })).status, path).toBe(200);
      const r = await send(path, { headers: { authorization: 'Bearer wrong!' } });
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="numrep", charset="UTF-8", Bearer realm="numrep"');
      expect(r.error).toBe('missing or wrong credentials (a bearer token, or a basic auth user and password)');
    }
  });

  it('basic auth does not excuse a cross-site upload (browsers send remembered credentials themselves); the bearer token does', async () => {
    const { inbox } = await start({ token: 's3cret', web: await webConfig({ prometheus: 'pass' }) });
    const crossSite = { origin: 'http://evil.example', 'content-type': 'text/plain' };
    expect((await post(cdr(), { ...crossSite, ...basicAuth('prometheus', 'pass') })).status).toBe(403);
    expect(uploads(inbox)).toEqual([]);
    expect((await post(cdr(), { ...crossSite, authorization: 'Bearer s3cret' })).status).toBe(202);
    expect((await post(cdr(), basicAuth('prometheus', 'pass'))).status).toBe(202); // curl with -u
  });

  it('refuses a password longer than bcrypt reads (72 bytes) even when its first 72 bytes match', async () => {
    const long = 'x'.repeat(72);
    await start({ web: await webConfig({ u: long }) });
    expect((await send('/api/v1/numbers', { headers: basicAuth('u', long) })).status).toBe(200);
    expect((await send('/api/v1/numbers', { headers: basicAuth('u', `${long}tail`) })).status).toBe(401);
  });

  it('adds http_server_config.headers to every response; a blank value removes numrep\'s own', async () => {
    const web = await webConfig({}, "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    X-Frame-Options: sameorigin\n    Content-Security-Policy: ''\n");
    await start({ web });
    for (const path of ['/', '/healthz', '/api/v1/numbers', '/metrics', '/nowhere']) {
      const r = await send(path);
      expect(r.headers['strict-transport-security'], path).toBe('max-age=31536000');
      expect(r.headers['x-frame-options'], path).toBe('sameorigin');
      expect(r.headers['content-security-policy'], path).toBeUndefined();
      expect(r.headers['x-content-type-options'], path).toBe('nosniff');
    }
    expect((await send('/api/v1/numbers')).status).toBe(200); // no users: no basic auth
  });
});

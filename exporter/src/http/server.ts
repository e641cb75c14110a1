import express, { type NextFunction, type Request, type Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { Runtime } from '../runtime.js';
import type { Snapshot } from '../stats/snapshot.js';
import type { MetricsExporter } from './metrics.js';
import { numberJson, reportJson, sourceJson, type Enrich } from './json.js';
import { campaignsJson, managementOf, poolsJson, withManagement } from './management.js';
import { reportCsv } from './csv.js';
import { detectCsvKind } from '../reputation/labels.js';
import { toE164 } from '../model/phone.js';
import { uploadHandler } from './upload.js';
import { remediationRouter } from './remediations.js';
import { eventJson } from '../store/remediation.js';
import { parseQueryTime } from './queryTime.js';
import { crossSiteGuard, hostGuard } from './guards.js';
import { numbersPage, parseNumbersQuery, DEFAULT_LIMIT } from './numbersQuery.js';
import { LANDING_CSP, apiIndex, landingHtml } from './landing.js';
import { BasicAuth, createWebServer, type WebConfig } from './webConfig.js';
import { VERSION } from '../version.js';
import { acceptsGzip, GzipMembers, plainChunks, plainLength } from './gzipBody.js';

export interface HttpOptions {
  runtime: Runtime;
  metrics: MetricsExporter;
  /** Reputation fields for the JSON, computed for the snapshot being served. */
  enrichFor?: (snap: Snapshot) => Enrich;
  inbox: string;
  /** Cap on an upload's (inflated) body: `max_upload_bytes`. */
  maxUploadBytes: number;
  /** `web.max_concurrent_uploads` (default 4). */
  maxConcurrentUploads?: number;
  /** The host the server listens on (as configured: an address, a name, or 0.0.0.0 / :: for all). */
  listenHost: string;
  /** `web.allowed_hosts`: more `Host` values to serve, as `name` (any port) or `name:port`. */
  allowedHosts?: string[];
  /** Bearer token protecting /api (and /metrics when protectMetrics). */
  token?: string;
  protectMetrics?: boolean;
  /**
   * `--web.config.file` as in force (SIGHUP may replace `current`): its headers go on every response, and its
   * basic_auth_users protect everything but /healthz and /readyz (a valid bearer token is taken as well).
   */
  web?: { current: WebConfig };
  defaultCountryCode: string;
  isReady(): boolean;
  /** Sources that cannot make progress (Tailer.stalled): /readyz says 503 while there are any. */
  stalled?(): { reason: string }[];
  log(msg: string): void;
  /** The clock stamped on remediation cases (tests pass their own). */
  now?: () => number;
  /** POST /api/v1/cdr/* (http/push.ts): servers authenticated by their own signatures, not browsers. */
  pushRoutes?: express.Router;
}

/** Waits for `res` to take more: true on 'drain', false when the connection closed first (the scraper went away). */
function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function tokenOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(.+)$/i.exec(header ?? ''); // the scheme is case-insensitive (RFC 7235)
  if (!m) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApp(o: HttpOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'Cache-Control': 'no-store',
    });
    // http_server_config.headers of the web config: set, or removed when blank (the toolkit's "unset if blank")
    for (const [k, v] of Object.entries(o.web?.current.headers ?? {})) {
      if (v === '') res.removeHeader(k);
      else res.set(k, v);
    }
    next();
  });

  // Credentials: the bearer token and the web config's basic auth users, either one will do.
  const basic = new BasicAuth(() => o.web?.current.users ?? new Map());
  const bearerOk = (req: Request) => o.token !== undefined && tokenOk(req.get('authorization'), o.token);
  const gate = (required: () => boolean) => (req: Request, res: Response, next: NextFunction) => {
    if (!required() || bearerOk(req)) return next();
    const refuse = () => {
      const schemes = [...(basic.enabled ? ['Basic realm="numrep", charset="UTF-8"'] : []), ...(o.token ? ['Bearer realm="numrep"'] : [])];
      const what = basic.enabled ? (o.token ? 'credentials (a bearer token, or a basic auth user and password)' : 'basic auth user or password') : 'bearer token';
      res.set('WWW-Authenticate', schemes).status(401).json({ error: `missing or wrong ${what}` });
    };
    if (!basic.enabled) return refuse();
    basic.check(req.get('authorization')).then((ok) => (ok ? next() : refuse()), next);
  };
  /** /api: whenever there is a credential to ask for. */
  const auth = gate(() => o.token !== undefined || basic.enabled);
  /** /metrics, and the pages that only list endpoints: with basic auth (like exporter-toolkit), or protect_metrics. */
  const metricsAuth = gate(() => basic.enabled || (o.token !== undefined && o.protectMetrics === true));

  // Before the Host check: a kubelet probes by pod IP, a load balancer by whatever name it was given, and
  // these two say nothing but up/ready.
  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    if (!o.isReady()) return res.status(503).json({ status: 'starting', detail: 'catching up on existing files' });
    // Reasons and a count only (no paths: /readyz is open to anything that can reach the port); the sources
    // are named in the log and in numrep_source_stalled.
    const stalled = o.stalled?.() ?? [];
    if (stalled.length === 0) return res.json({ status: 'ready' });
    const reasons = [...new Set(stalled.map((s) => s.reason))].sort();
    res.status(503).json({
      status: 'stalled',
      detail: `${stalled.length} source(s) cannot make progress: ${reasons.join(', ')}; see numrep_source_stalled and the log`,
      reasons,
    });
  });

  // Before the Host check: Twilio, Telnyx and FreeSWITCH post under whatever public name they were given; each
  // request is authenticated by its provider's signature or credentials, and nothing marked cross-site passes.
  if (o.pushRoutes) app.use('/api/v1/cdr', crossSiteGuard(() => false), o.pushRoutes);

  app.use(hostGuard(o.listenHost, o.allowedHosts ?? []));
  // A page cannot add Authorization to a cross-site request without a preflight, which numrep never grants.
  // Basic auth is no such proof: a browser adds the credentials it remembers to cross-site requests by itself.
  app.use(crossSiteGuard(bearerOk));

  app.get('/', metricsAuth, (_req, res) => {
    if (o.web?.current.headers['Content-Security-Policy'] === undefined) res.set('Content-Security-Policy', LANDING_CSP);
    const auth = basic.enabled
      ? 'Every page but /healthz and /readyz needs a basic auth user (or the bearer token).'
      : o.token
        ? `The API needs the bearer token${o.protectMetrics ? ', and so does /metrics' : ''}.`
        : 'No authentication is configured: anyone who can reach this port can read the API and upload files.';
    res.type('html').send(landingHtml(VERSION, auth));
  });
  app.get(['/api', '/api/v1'], metricsAuth, (_req, res) => res.json(apiIndex(VERSION)));

  const gzipMembers = new GzipMembers();
  app.get('/metrics', metricsAuth, async (req, res, next) => {
    try {
      // Written as the chunks /metrics keeps (no 60 MB string to join and encode per scrape); gzipped when the
      // scraper asks (Prometheus does): the per-number blocks are kept as gzip members already, every other
      // Buffer is compressed once while it lives (http/gzipBody.ts). Without gzip the members are inflated.
      const body = await o.metrics.renderBody();
      const gz = acceptsGzip(req.get('accept-encoding'));
      const head = { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', Vary: 'Accept-Encoding' };
      if (!gz) {
        // Inflated a few segments ahead of the socket, not the whole ~80 MB body at once (see plainChunks).
        res.status(200).set({ ...head, 'Content-Length': String(plainLength(body)) });
        for await (const c of plainChunks(body)) if (!res.write(c) && !(await drained(res))) return;
        res.end();
        return;
      }
      const chunks = await gzipMembers.of(body);
      let length = 0;
      for (const c of chunks) length += c.length;
      res.status(200).set({ ...head, 'Content-Length': String(length) });
      res.set('Content-Encoding', 'gzip');
      res.cork();
      for (const c of chunks) res.write(c);
      res.end();
    } catch (err) {
      next(err);
    }
  });

  app.get('/api/v1/numbers', auth, (req, res) => {
    const q = parseNumbersQuery(req.query, DEFAULT_LIMIT);
    if (typeof q === 'string') return res.status(400).json({ error: q });
    const snap = o.runtime.snapshotNow();
    const m = managementOf(o.runtime, snap.at, true);
    const page = numbersPage(snap, q, withManagement(o.enrichFor?.(snap), m));
    // The pool's carriers, pools and campaigns as ever, unfiltered; the page's numbers only.
    const { evaluated_at, carriers } = reportJson({ ...snap, numbers: new Map() });
    res.json({ evaluated_at, numbers: page.numbers, carriers, pools: poolsJson(snap, m), campaigns: campaignsJson(snap, m), total: page.total, next_cursor: page.next_cursor });
  });
  app.get('/api/v1/numbers/:number', auth, (req, res) => {
    const e164 = toE164(req.params.number, o.defaultCountryCode);
    const snap = o.runtime.snapshotNow();
    const v = e164 ? snap.numbers.get(e164) : undefined;
    if (!v) return res.status(404).json({ error: 'number not tracked' });
    const m = managementOf(o.runtime, snap.at, true);
    res.json({ evaluated_at: reportJson({ ...snap, numbers: new Map(), carriers: new Map() }).evaluated_at, ...numberJson(v, withManagement(o.enrichFor?.(snap), m)) });
  });
  app.get('/api/v1/numbers.csv', auth, (req, res) => {
    // The same filters; every matching number unless limit is given (an export).
    const q = parseNumbersQuery(req.query, null);
    if (typeof q === 'string') return res.status(400).json({ error: q });
    const snap = o.runtime.snapshotNow();
    const page = numbersPage(snap, q, o.enrichFor?.(snap));
    res.set('X-Total-Count', String(page.total));
    if (page.next_cursor) res.set('X-Next-Cursor', page.next_cursor);
    res.type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="numrep-numbers.csv"').send(reportCsv({ evaluated_at: '', numbers: page.numbers, carriers: [] }));
  });
  app.get('/api/v1/numbers/:number/history', auth, (req, res) => {
    const e164 = toE164(req.params.number, o.defaultCountryCode);
    if (!e164) return res.status(400).json({ error: 'not a phone number' });
    const now = Date.now();
    const from = parseQueryTime('from', req.query.from, now - 7 * 86_400_000);
    const to = parseQueryTime('to', req.query.to, now);
    if (typeof from === 'string') return res.status(400).json({ error: from });
    if (typeof to === 'string') return res.status(400).json({ error: to });
    if (from > to) return res.status(400).json({ error: `from ${new Date(from).toISOString()} is after to ${new Date(to).toISOString()}` });
    const rows = o.runtime.store.history(e164, from, to);
    const remediation = o.runtime.store.remediations.events({ number: e164, from, to });
    res.json({
      number: e164,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      history: rows.map((r) => ({ at: new Date(r.at).toISOString(), status: r.status, score: r.score, subscores: r.subscores, action: r.action, reason: r.reason, event: r.event })),
      // What happened to the number's remediation cases in the same span (docs/remediation.md).
      remediation: remediation.map(eventJson),
    });
  });
  app.get('/api/v1/sources', auth, (_req, res) => {
    const t = o.runtime.tailer;
    // Files, then the live sources (HEP collector, pushed CDRs: ingest/live.ts), which have no size.
    const live = o.runtime.store.sources({ readerState: false }).filter((s) => s.dev === 'live');
    res.json({ sources: [...t.states().map((s) => sourceJson(s, t.sizeOf(s.path))), ...live.map((s) => sourceJson(s, null))] });
  });
  app.get('/api/v1/carriers', auth, (_req, res) => {
    const j = reportJson({ ...o.runtime.snapshotNow(), numbers: new Map() });
    res.json({ evaluated_at: j.evaluated_at, carriers: j.carriers });
  });

  app.use('/api/v1/remediations', auth, remediationRouter({ remediations: () => o.runtime.store.remediations, defaultCountryCode: o.defaultCountryCode, now: o.now ?? Date.now }));

  // A CDR file posted as the raw body (gzip or deflate welcome) lands in the inbox under a name of our choosing.
  app.post(
    '/api/v1/upload',
    auth,
    uploadHandler({
      inbox: o.inbox,
      maxBytes: o.maxUploadBytes,
      maxConcurrent: o.maxConcurrentUploads ?? 4,
      detectFormat: (head) => o.runtime.detectFormat(head) ?? (head[0] ? detectCsvKind(head[0]) : null),
      log: o.log,
      saved: () => void o.runtime.poll(),
    }),
  );

  app.use((_req, res) => res.status(404).json({ error: 'not found' }));
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    // Express decodes :number itself and throws on `%` or `%E0%A4%A`
    if (err instanceof URIError) return res.status(400).json({ error: 'malformed percent-escape in the URL path' });
    o.log(`http error: ${err.message}`);
    res.status(err.status ?? 500).json({ error: 'internal error' });
  });
  return app;
}

/**
 * Listens on host:port (host '' : every interface), over HTTPS when the web config has TLS settings; a client
 * certificate that breaks its policy closes the connection (logged with `log`).
 */
export function listen(app: express.Express, host: string, port: number, web?: { current: WebConfig }, log: (msg: string) => void = () => undefined): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createWebServer(app, () => web?.current, log);
    server.listen(port, host === '' ? undefined : host, () => resolve(server));
    server.once('error', reject);
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
  });
}

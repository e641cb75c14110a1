import express, { type NextFunction, type Request, type Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { Runtime } from '../runtime.js';
import type { Snapshot } from '../stats/snapshot.js';
import type { MetricsExporter } from './metrics.js';
import { numberJson, reportJson, sourceJson, type Enrich } from './json.js';
import { reportCsv } from './csv.js';
import { detectCsvKind } from '../reputation/labels.js';
import { toE164 } from '../model/phone.js';
import { uploadHandler } from './upload.js';
import { parseQueryTime } from './queryTime.js';
import { crossSiteGuard, hostGuard } from './guards.js';

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
  defaultCountryCode: string;
  isReady(): boolean;
  log(msg: string): void;
  /** POST /api/v1/cdr/* (http/push.ts): servers authenticated by their own signatures, not browsers. */
  pushRoutes?: express.Router;
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
    next();
  });
  const auth = (req: Request, res: Response, next: NextFunction) => {
    if (!o.token || tokenOk(req.get('authorization'), o.token)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="numrep"').status(401).json({ error: 'missing or wrong bearer token' });
  };

  // Before the Host check: a kubelet probes by pod IP, a load balancer by whatever name it was given, and
  // these two say nothing but up/ready.
  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    if (o.isReady()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'starting', detail: 'catching up on existing files' });
  });

  // Before the Host check: Twilio, Telnyx and FreeSWITCH post under whatever public name they were given; each
  // request is authenticated by its provider's signature or credentials, and nothing marked cross-site passes.
  if (o.pushRoutes) app.use('/api/v1/cdr', crossSiteGuard(() => false), o.pushRoutes);

  app.use(hostGuard(o.listenHost, o.allowedHosts ?? []));
  // A page cannot add Authorization to a cross-site request without a preflight, which numrep never grants.
  app.use(crossSiteGuard((req) => o.token !== undefined && tokenOk(req.get('authorization'), o.token)));

  app.get('/metrics', o.protectMetrics ? auth : (_q: Request, _s: Response, n: NextFunction) => n(), async (_req, res, next) => {
    try {
      // Written as the Buffers /metrics keeps (no 60 MB string to join and encode per scrape).
      const chunks = await o.metrics.renderBody();
      let length = 0;
      for (const c of chunks) length += c.length;
      res.status(200).set({ 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': String(length) });
      res.cork();
      for (const c of chunks) res.write(c);
      res.end();
    } catch (err) {
      next(err);
    }
  });

  app.get('/api/v1/numbers', auth, (_req, res) => {
    const snap = o.runtime.snapshotNow();
    res.json(reportJson(snap, o.enrichFor?.(snap)));
  });
  app.get('/api/v1/numbers/:number', auth, (req, res) => {
    const e164 = toE164(req.params.number, o.defaultCountryCode);
    const snap = o.runtime.snapshotNow();
    const v = e164 ? snap.numbers.get(e164) : undefined;
    if (!v) return res.status(404).json({ error: 'number not tracked' });
    res.json({ evaluated_at: reportJson({ ...snap, numbers: new Map(), carriers: new Map() }).evaluated_at, ...numberJson(v, o.enrichFor?.(snap)) });
  });
  app.get('/api/v1/numbers.csv', auth, (_req, res) => {
    const snap = o.runtime.snapshotNow();
    res.type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="numrep-numbers.csv"').send(reportCsv(reportJson(snap, o.enrichFor?.(snap))));
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
    res.json({
      number: e164,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      history: rows.map((r) => ({ at: new Date(r.at).toISOString(), status: r.status, score: r.score, subscores: r.subscores, action: r.action, reason: r.reason, event: r.event })),
    });
  });
  app.get('/api/v1/sources', auth, (_req, res) => {
    const t = o.runtime.tailer;
    // Files, then the live sources (HEP collector, pushed CDRs: ingest/live.ts), which have no size.
    const live = o.runtime.store.sources().filter((s) => s.dev === 'live');
    res.json({ sources: [...t.states().map((s) => sourceJson(s, t.sizeOf(s.path))), ...live.map((s) => sourceJson(s, null))] });
  });
  app.get('/api/v1/carriers', auth, (_req, res) => {
    const j = reportJson({ ...o.runtime.snapshotNow(), numbers: new Map() });
    res.json({ evaluated_at: j.evaluated_at, carriers: j.carriers });
  });

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

export function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
  });
}

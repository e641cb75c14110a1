// POST /api/v1/cdr/{freeswitch,twilio,telnyx}: call records pushed by the switch or the CPaaS as each call
// ends. Each provider authenticates its own way (HTTP Basic for mod_json_cdr's `cred`, Twilio's
// X-Twilio-Signature, Telnyx's Ed25519 signature); a provider not configured under `push:` answers 404.
// A record is durable before the answer: it goes through the classification stage and commits with its
// source's state in one SQLite transaction (ingest/live.ts) and only then is 200 sent; a failed commit
// answers 503 and the provider sends it again. The provider's call id is one of the call's keys, so a
// record sent twice counts once. Nothing of a body is logged: it holds the called number.

import express, { type Request, type Response, type Router } from 'express';
import { readFileSync } from 'node:fs';
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Config } from '../config.js';
import type { ReaderOptions } from '../ingest/reader.js';
import { LiveSource, type LiveReject, type LiveRuntime } from '../ingest/live.js';
import { jsonCdrText, parseJsonCdr, type PushParse } from '../ingest/push/freeswitch.js';
import { formParams, parseTwilioCallback, twilioSignatureValid } from '../ingest/push/twilio.js';
import { TelnyxCalls, telnyxPublicKey, telnyxSignatureValid } from '../ingest/push/telnyx.js';

export interface PushSettings {
  freeswitch?: { credentials: string };
  twilio?: { token: string; url?: string };
  telnyx?: { key: KeyObject; toleranceMs: number };
}

/** The `push:` section, files read and keys checked; `fail` for a setting that cannot work. */
export function pushSettingsFrom(c: Config, fail: (msg: string, code?: number) => never): PushSettings | undefined {
  const p = c.push;
  if (!p.freeswitch && !p.twilio && !p.telnyx) return undefined;
  const read = (key: string, file: string) => {
    let v: string;
    try {
      v = readFileSync(file, 'utf8').trim();
    } catch (err) {
      fail(`${key} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
    }
    if (v === '') fail(`${key} ${file} is empty`, 2);
    return v;
  };
  const s: PushSettings = {};
  if (p.freeswitch) {
    s.freeswitch = { credentials: read('push.freeswitch.credentials_file', p.freeswitch.credentials_file) };
    if (!s.freeswitch.credentials.includes(':')) fail(`push.freeswitch.credentials_file: expected user:password (mod_json_cdr's cred)`, 2);
  }
  if (p.twilio) s.twilio = { token: read('push.twilio.auth_token_file', p.twilio.auth_token_file), url: p.twilio.url };
  if (p.telnyx) {
    try {
      s.telnyx = { key: telnyxPublicKey(p.telnyx.public_key), toleranceMs: p.telnyx.tolerance_seconds * 1000 };
    } catch (err) {
      fail(`push.telnyx.public_key: ${(err as Error).message}`, 2);
    }
  }
  return s;
}

/** Answers, by provider and status, for numrep_push_requests_total. */
export const pushStats = new Map<string, number>();
function counted(provider: string, status: number): void {
  const k = `${provider}\u0000${status}`;
  pushStats.set(k, (pushStats.get(k) ?? 0) + 1);
}

const MAX_BODY = 1_048_576;

function basicOk(header: string | undefined, credentials: string): boolean {
  const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(Buffer.from(m[1], 'base64').toString('utf8'));
  const b = Buffer.from(credentials);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function pushRouter(s: PushSettings, live: LiveRuntime, ro: ReaderOptions, log: (m: string) => void): Router {
  const r = express.Router();
  r.use(express.raw({ type: () => true, limit: MAX_BODY }));
  const sources = new Map<string, LiveSource>();
  const source = (provider: string) => {
    let src = sources.get(provider);
    if (!src) sources.set(provider, (src = new LiveSource(live, `push:${provider}`, provider)));
    return src;
  };

  /** Store what a body became; 200 once committed. */
  const store = (provider: string, res: Response, parsed: PushParse, state?: unknown, changed = false) => {
    const src = source(provider);
    const rejects: LiveReject[] = parsed.kind === 'reject' ? [{ format: provider, reason: parsed.reason, detail: parsed.detail }] : [];
    const rows = parsed.kind === 'records' ? parsed.records : [];
    if (rows.length === 0 && rejects.length === 0 && !changed) {
      counted(provider, 200);
      return res.status(200).json({ stored: 0, note: parsed.kind === 'skip' ? parsed.why : undefined });
    }
    try {
      src.commit(rows, rejects, state);
    } catch (err) {
      log(`push ${provider}: commit failed (${(err as Error).message}); answered 503 so the sender retries`);
      counted(provider, 503);
      return res.status(503).set('Retry-After', '5').json({ error: 'not stored; send it again' });
    }
    if (parsed.kind === 'reject') {
      // Stored as rejected (counted and quarantined by reason, never with the body): a retry would not help.
      counted(provider, 422);
      return res.status(422).json({ error: parsed.detail, reason: parsed.reason });
    }
    counted(provider, 200);
    res.status(200).json({ stored: rows.length });
  };

  const body = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
  const notConfigured = (provider: string) => (_req: Request, res: Response) => {
    counted(provider, 404);
    res.status(404).json({ error: `push.${provider} is not configured` });
  };

  if (s.freeswitch) {
    const fs = s.freeswitch;
    r.post('/freeswitch', (req, res) => {
      if (!basicOk(req.get('authorization'), fs.credentials)) {
        counted('freeswitch', 401);
        return res.set('WWW-Authenticate', 'Basic realm="numrep"').status(401).json({ error: 'missing or wrong credentials (json_cdr.conf.xml cred)' });
      }
      const text = jsonCdrText(body(req), req.get('content-type') ?? '');
      const parsed: PushParse = text === null ? { kind: 'reject', reason: 'bad_body', detail: 'not a mod_json_cdr body (cdr=<JSON>, base64, or JSON)' } : parseJsonCdr(text, ro);
      store('freeswitch', res, parsed);
    });
  } else r.post('/freeswitch', notConfigured('freeswitch'));

  if (s.twilio) {
    const tw = s.twilio;
    r.post('/twilio', (req, res) => {
      const params = formParams(body(req).toString('utf8'));
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      const urls: string[] = [];
      if (tw.url) urls.push(tw.url.includes('?') || query === '' ? tw.url : tw.url + query);
      const host = req.get('host');
      if (host) for (const scheme of ['https', 'http']) urls.push(`${scheme}://${host}${req.originalUrl}`);
      if (!twilioSignatureValid(tw.token, req.get('x-twilio-signature'), urls, params)) {
        counted('twilio', 403);
        return res.status(403).json({ error: 'X-Twilio-Signature does not match (check push.twilio.url: the URL Twilio posts to)' });
      }
      store('twilio', res, parseTwilioCallback(params, ro, Date.now()));
    });
  } else r.post('/twilio', notConfigured('twilio'));

  if (s.telnyx) {
    const tx = s.telnyx;
    const calls = new TelnyxCalls();
    let restored = false;
    r.post('/telnyx', (req, res) => {
      const b = body(req);
      const v = telnyxSignatureValid(tx.key, b, req.get('telnyx-signature-ed25519'), req.get('telnyx-timestamp'), Date.now(), tx.toleranceMs);
      if (v !== 'ok') {
        counted('telnyx', 403);
        return res.status(403).json({ error: v === 'stale' ? 'telnyx-timestamp is too far from now (replayed?)' : 'telnyx-signature-ed25519 does not verify' });
      }
      if (!restored) {
        calls.restore(source('telnyx').readerState);
        restored = true;
      }
      const parsed = calls.parse(b, ro);
      store('telnyx', res, parsed, calls.snapshot(), parsed.changed === true);
    });
  } else r.post('/telnyx', notConfigured('telnyx'));

  // A body over the limit, or one express cannot read.
  r.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: express.NextFunction) => {
    const provider = req.path.replace(/^\//, '').slice(0, 20);
    const status = err.type === 'entity.too.large' ? 413 : err.status ?? 400;
    counted(provider, status);
    res.status(status).json({ error: status === 413 ? `body larger than ${MAX_BODY} bytes` : 'unreadable body' });
  });
  return r;
}

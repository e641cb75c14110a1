// `--web.config.file`: the web configuration file of the Prometheus exporter-toolkit (node_exporter and the other
// official exporters): TLS, client certificates, extra response headers and basic auth users, in the same YAML.
// Relative file names are taken from the web config file's directory, as the toolkit does.

import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { dirname, resolve } from 'node:path';
import { DEFAULT_CIPHERS, createSecureContext, type SecureVersion, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';

export class WebConfigError extends Error {}

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** Go's cipher suite names (crypto/tls CipherSuites(), TLS 1.2 and below) → OpenSSL's. */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};
/** TLS 1.3 suites: Go accepts their names in cipher_suites but never lets them be chosen; so does numrep. */
const TLS13_CIPHERS = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** The headers the toolkit lets a web config set, with the values it accepts (none listed: any). */
const HEADERS: Record<string, string[] | null> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const BCRYPT = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

const schema = z
  .object({
    tls_server_config: z
      .object({
        cert: z.string().optional(),
        key: z.string().optional(),
        client_ca: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
        // RequireClientCert: the toolkit's old name for RequireAnyClientCert
        client_auth_type: z.enum([...CLIENT_AUTH_TYPES, 'RequireClientCert']).optional(),
        client_ca_file: z.string().optional(),
        client_allowed_sans: z.array(z.string()).optional(),
        min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS12'),
        max_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS13'),
        cipher_suites: z.array(z.string()).optional(),
        prefer_server_cipher_suites: z.boolean().default(true),
        curve_preferences: z.array(z.enum(['CurveP256', 'CurveP384', 'CurveP521', 'X25519'])).optional(),
      })
      .strict()
      .nullish(),
    http_server_config: z
      .object({
        http2: z.boolean().optional(),
        headers: z.record(z.string()).nullish(),
      })
      .strict()
      .nullish(),
    basic_auth_users: z.record(z.string()).nullish(),
  })
  .strict();

export interface TlsSetup {
  /** Options for https.createServer / setSecureContext. */
  options: ServerOptions;
  clientAuth: ClientAuthType;
  allowedSans?: string[];
  /** What the start-up line says, e.g. "TLS 1.2–1.3, client certificates required and verified". */
  describe: string;
}

export interface WebConfig {
  file: string;
  tls?: TlsSetup;
  /** Response headers from http_server_config.headers; an empty value removes numrep's own. */
  headers: Record<string, string>;
  /** basic_auth_users: user → bcrypt hash. */
  users: Map<string, string>;
  /** Settings read and not acted on, for a log line at start. */
  ignored: string[];
}

/** Reads and checks a web config file; every problem is a WebConfigError naming the file and the key. */
export function loadWebConfig(file: string): WebConfig {
  const at = (key: string, why: string) => new WebConfigError(`${file}: ${key}: ${why}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(`${file}: cannot read web config: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new WebConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (raw !== null && typeof raw === 'object' && 'rate_limit' in raw) {
    throw at('rate_limit', 'not supported by numrep (put a reverse proxy in front to limit request rates)');
  }
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    throw new WebConfigError(
      r.error.issues
        .map((i) => {
          const key = i.path.length ? i.path.join('.') : '(top level)';
          return `${file}: ${key}: ${i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message}`;
        })
        .join('\n'),
    );
  }
  const c = r.data;
  const dir = dirname(resolve(file));
  const ignored: string[] = [];

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.http_server_config?.headers ?? {})) {
    const allowed = HEADERS[name];
    if (allowed === undefined) throw at(`http_server_config.headers.${name}`, `this header cannot be configured (only ${Object.keys(HEADERS).join(', ')})`);
    if (allowed !== null && value !== '' && !allowed.includes(value)) throw at(`http_server_config.headers.${name}`, `expected one of ${allowed.join(', ')}, got "${value}"`);
    headers[name] = value;
  }
  if (c.http_server_config?.http2 !== undefined) ignored.push('http_server_config.http2 (numrep serves HTTP/1.1)');

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(c.basic_auth_users ?? {})) {
    // the hash is a secret too: never echoed
    if (!BCRYPT.test(hash)) throw at(`basic_auth_users.${user}`, `not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`);
    if (user.includes(':')) throw at(`basic_auth_users.${user}`, 'a user name cannot contain ":" (basic auth splits at the first one)');
    users.set(user, hash);
  }

  const t = c.tls_server_config;
  let tls: TlsSetup | undefined;
  const enabled = t && [t.cert, t.key, t.cert_file, t.key_file, t.client_ca, t.client_ca_file, t.client_auth_type].some((v) => v !== undefined && v !== '');
  if (t && enabled) {
    const read = (key: string, path: string) => {
      const full = resolve(dir, path);
      try {
        return readFileSync(full, 'utf8');
      } catch (err) {
        throw at(`tls_server_config.${key}`, `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    const pem = (inline: string | undefined, fileKey: 'cert_file' | 'key_file' | 'client_ca_file', inlineKey: string) => {
      const path = t[fileKey];
      if (path && inline) throw at(`tls_server_config.${inlineKey}`, `give either ${inlineKey} or ${fileKey}, not both`);
      return path ? read(fileKey, path) : inline || undefined;
    };
    const cert = pem(t.cert, 'cert_file', 'cert');
    const key = pem(t.key, 'key_file', 'key');
    const ca = pem(t.client_ca, 'client_ca_file', 'client_ca');
    if (!cert) throw at('tls_server_config', 'TLS needs cert_file (or cert)');
    if (!key) throw at('tls_server_config', 'TLS needs key_file (or key)');
    const clientAuth: ClientAuthType = t.client_auth_type === 'RequireClientCert' ? 'RequireAnyClientCert' : (t.client_auth_type ?? 'NoClientCert');
    if (ca && clientAuth === 'NoClientCert') throw at('tls_server_config.client_auth_type', 'a client CA is configured but client_auth_type is NoClientCert');
    if (!ca && (clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert')) {
      throw at('tls_server_config.client_ca_file', `${clientAuth} verifies client certificates against client_ca_file (or client_ca), which is missing`);
    }
    if (t.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
      throw at('tls_server_config.client_allowed_sans', 'needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert');
    }
    if (ca) {
      try {
        new X509Certificate(ca);
      } catch (err) {
        throw at(`tls_server_config.${t.client_ca_file ? 'client_ca_file' : 'client_ca'}`, `not a PEM certificate (${(err as Error).message})`);
      }
    }
    const min = TLS_VERSIONS[t.min_version];
    const max = TLS_VERSIONS[t.max_version];
    if (min > max) throw at('tls_server_config.min_version', `${t.min_version} is above max_version ${t.max_version}`);
    let ciphers: string | undefined;
    if (t.cipher_suites?.length) {
      const named: string[] = [];
      for (const s of t.cipher_suites) {
        if (TLS13_CIPHERS.has(s)) continue;
        const o = CIPHERS[s];
        if (!o) throw at('tls_server_config.cipher_suites', `unknown cipher suite ${s} (Go names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`);
        named.push(o);
      }
      // Like Go, the list governs TLS 1.2 and below; TLS 1.3 keeps Node's default suites.
      if (named.length) ciphers = [...DEFAULT_CIPHERS.split(':').filter((x) => x.startsWith('TLS_')), ...named].join(':');
    }
    const options: ServerOptions = {
      cert,
      key,
      ca,
      minVersion: min,
      maxVersion: max,
      honorCipherOrder: t.prefer_server_cipher_suites,
      requestCert: clientAuth !== 'NoClientCert',
      rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert',
      ...(ciphers ? { ciphers } : {}),
      ...(t.curve_preferences?.length ? { ecdhCurve: t.curve_preferences.map((x) => CURVES[x]).join(':') } : {}),
    };
    try {
      createSecureContext(options); // a key that does not match the certificate, a broken PEM, …
    } catch (err) {
      throw at('tls_server_config', `cannot use the certificate and key: ${(err as Error).message}`);
    }
    const clientWords: Record<ClientAuthType, string> = {
      NoClientCert: 'no client certificates',
      RequestClientCert: 'client certificates requested, not verified',
      RequireAnyClientCert: 'a client certificate required, not verified',
      VerifyClientCertIfGiven: 'client certificates verified when given',
      RequireAndVerifyClientCert: 'a client certificate required and verified',
    };
    tls = {
      options,
      clientAuth,
      allowedSans: t.client_allowed_sans,
      describe: `TLS ${t.min_version.slice(3, 4)}.${t.min_version.slice(4)}–${t.max_version.slice(3, 4)}.${t.max_version.slice(4)}, ${clientWords[clientAuth]}${t.client_allowed_sans ? `, client SAN in ${t.client_allowed_sans.join(', ')}` : ''}`,
    };
  }
  return { file, tls, headers, users, ignored };
}

/** The SAN values of a peer certificate as Node formats them ("DNS:a, IP Address:1.2.3.4, email:…, URI:…"). */
function sanValues(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname.split(', ').map((e) => {
    const v = e.slice(e.indexOf(':') + 1);
    return v.startsWith('"') ? (JSON.parse(v) as string) : v;
  });
}

/** Why a TLS connection breaks the client-certificate policy that Node itself does not enforce, or null. */
function clientCertProblem(sock: TLSSocket, tls: TlsSetup): string | null {
  const cert = sock.getPeerCertificate();
  const given = cert !== null && Object.keys(cert).length > 0;
  if (tls.clientAuth === 'RequireAnyClientCert' && !given) return 'no client certificate';
  if (tls.clientAuth === 'VerifyClientCertIfGiven' && given && !sock.authorized) return `client certificate not verified (${sock.authorizationError})`;
  if (tls.allowedSans && !sanValues(cert.subjectaltname).some((v) => tls.allowedSans!.includes(v))) return 'client certificate SAN not in client_allowed_sans';
  return null;
}

/** A plain HTTP server, or HTTPS with the web config's TLS settings. `current` is read per connection (SIGHUP). */
export function createWebServer(handler: RequestListener, current: () => WebConfig | undefined, log: (msg: string) => void): Server {
  const web = current();
  if (!web?.tls) return createHttpServer(handler);
  const server = createHttpsServer(web.tls.options, handler);
  // Before the HTTP layer reads anything from the connection.
  server.prependListener('secureConnection', (sock: TLSSocket) => {
    const tls = current()?.tls;
    const why = tls ? clientCertProblem(sock, tls) : null;
    if (!why) return;
    log(`tls: refused a connection from ${sock.remoteAddress}: ${why}`);
    sock.destroy();
  });
  return server;
}

/** A bcrypt hash of a random password, compared against for unknown users so they take as long as known ones. */
const DECOY_HASH = '$2y$10$bOdkL5PK92RLorTdKNgl2OLYfNZENvkUhS5KATzcHbj.teXf6FnTG';

/** Checks `Authorization: Basic …` against basic_auth_users, one bcrypt at a time, results remembered. */
export class BasicAuth {
  private readonly cache = new Map<string, boolean>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly users: () => Map<string, string>) {}

  get enabled(): boolean {
    return this.users().size > 0;
  }

  /** Whether the header carries a user and password of basic_auth_users. */
  async check(header: string | undefined): Promise<boolean> {
    const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
    if (!m) return false;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return false;
    const user = text.slice(0, colon);
    const pass = text.slice(colon + 1);
    const known = this.users().get(user);
    const hash = known ?? DECOY_HASH;
    // The key holds a digest of the password, never the password.
    const key = createHash('sha256').update(user).update('\0').update(hash).update('\0').update(pass).digest('base64');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    // bcrypt reads 72 bytes at most: a longer password would match on its first 72 alone.
    const run = this.queue.then(() => (Buffer.byteLength(pass) > 72 ? false : bcrypt.compare(pass, hash)));
    this.queue = run.catch(() => undefined);
    const ok = (await run) && known !== undefined;
    if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, ok);
    return ok;
  }
}

/** The web config in force; SIGHUP reads the file again (new certificates, users, headers) without a restart. */
export class LiveWebConfig {
  constructor(public current: WebConfig) {}

  /** Reads the file again and applies it to `server`; on any problem the config in force stays, and says why. */
  reload(server: Server, log: (msg: string) => void): boolean {
    const file = this.current.file;
    let next: WebConfig;
    try {
      next = loadWebConfig(file);
    } catch (err) {
      log(`web config: ${(err as Error).message.replace(/\n/g, '; ')}; keeping the one loaded before`);
      return false;
    }
    if (Boolean(next.tls) !== Boolean(this.current.tls) || next.tls?.clientAuth !== this.current.tls?.clientAuth) {
      log(`web config: ${file}: turning TLS on or off, or changing client_auth_type, needs a restart; keeping the one loaded before`);
      return false;
    }
    if (next.tls) (server as import('node:https').Server).setSecureContext(next.tls.options);
    this.current = next;
    log(`web config: reloaded ${file} (${describeWeb(next)})`);
    return true;
  }
}

/** "TLS 1.2–1.3, …; basic auth for 2 users; headers X, Y" for the start-up line. */
export function describeWeb(w: WebConfig): string {
  const parts = [w.tls ? w.tls.describe : 'plain HTTP'];
  if (w.users.size) parts.push(`basic auth for ${w.users.size} user${w.users.size > 1 ? 's' : ''}`);
  if (Object.keys(w.headers).length) parts.push(`headers ${Object.keys(w.headers).join(', ')}`);
  return parts.join('; ');
}

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort, killAll, serveCli, stopWith, until, type Served } from '../support/proc.js';
import { makeLeaf, makePki, type Pki } from '../support/pki.js';

// `numrep serve --web.config.file` against real peers: certificates from openssl, bcrypt hashes from htpasswd,
// requests from curl, and a real Prometheus scraping over TLS with basic auth.

afterEach(killAll);

let pki: Pki;
beforeAll(() => {
  pki = makePki(tmp('numrep-pki-'));
});

const bcryptOf = (user: string, pass: string) => spawnSync('htpasswd', ['-nbBC', '10', user, pass], { encoding: 'utf8' }).stdout.trim().split(':')[1];

interface CurlResult {
  /** curl's exit code: 0, or why the transfer failed (35 handshake, 56 receive, 60 server certificate, …). */
  exit: number;
  status: number;
  headers: string;
  body: string;
  stderr: string;
}

/** curl against the HTTPS port, trusting the test CA unless told otherwise. */
function curl(port: number, path: string, args: string[] = [], ca = pki.ca): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-D', '-', '--cacert', ca, ...args, `https://127.0.0.1:${port}${path}`], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const [headers, ...rest] = stdout.split('\r\n\r\n');
      const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers ?? '')?.[1] ?? 0);
      resolve({ exit: err ? Number((err as { code?: number }).code ?? -1) : 0, status, headers: headers ?? '', body: rest.join('\r\n\r\n'), stderr });
    });
  });
}
const withCert = (name: 'client' | 'other-client' | 'rogue-client') => ['--cert', join(pki.dir, `${name}.crt`), '--key', join(pki.dir, `${name}.key`)];

/** A web config in the PKI directory: its file names are relative, so they must resolve against that directory. */
function webYml(body: string): string {
  const file = join(pki.dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, body);
  return file;
}

async function serveTls(web: string, extra: string[] = [], clientArgs = withCert('client')): Promise<{ p: Served; port: number; dir: string }> {
  const dir = tmp();
  const port = await freeTcpPort();
  const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), '--web.config.file', web, ...extra]);
  await until('readyz over TLS', async () => ((await curl(port, '/readyz', clientArgs)).status === 200 ? true : undefined));
  return { p, port, dir };
}

describe('serve --web.config.file: TLS and basic auth (exporter-toolkit format)', () => {
  it('client certificates required and verified, basic auth or the bearer token, extra headers; probes need no password', async () => {
    const web = webYml(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n' +
        `basic_auth_users:\n  prometheus: '${bcryptOf('prometheus', 's3cret pass')}'\n` +
        'http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n',
    );
    // web.config_file from the numrep config this time, next to the bearer token
    const dir = tmp();
    writeFileSync(join(dir, 'token'), 'bearer-t0ken\n');
    writeFileSync(join(dir, 'numrep.yml'), `auth:\n  bearer_token_file: ${join(dir, 'token')}\nweb:\n  config_file: ${web}\n`);
    const { p, port } = await serveTls(web, ['--config', join(dir, 'numrep.yml')]);
    expect(p.log()).toContain(`serving https://127.0.0.1:${port}/metrics`);
    expect(p.log()).toContain(`web config ${web}: TLS 1.2–1.3, a client certificate required and verified; basic auth for 1 user; headers Strict-Transport-Security`);

    const client = withCert('client');
    const ok = await curl(port, '/api/v1/numbers', [...client, '-u', 'prometheus:s3cret pass']);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ numbers: [], total: 0, next_cursor: null });
    expect(ok.headers).toMatch(/^strict-transport-security: max-age=31536000$/im);
    const wrong = await curl(port, '/api/v1/numbers', [...client, '-u', 'prometheus:wrong']);
    expect(wrong.status).toBe(401);
    expect(wrong.headers).toMatch(/^www-authenticate: Basic realm="numrep"/im);
    expect((await curl(port, '/api/v1/numbers', [...client, '-H', 'Authorization: Bearer bearer-t0ken'])).status).toBe(200);
    expect((await curl(port, '/metrics', [...client, '-H', 'Authorization: Bearer bearer-t0ken'])).status).toBe(200);
    expect((await curl(port, '/metrics', client)).status).toBe(401);
    expect((await curl(port, '/', client)).status).toBe(401);
    expect((await curl(port, '/metrics', [...client, '-u', 'prometheus:s3cret pass'])).status).toBe(200);
    expect((await curl(port, '/healthz', client)).status).toBe(200);

    // the TLS layer: no client certificate, one from another CA, a client that does not trust the server's CA
    const noCert = await curl(port, '/healthz');
    expect(noCert.exit, noCert.stderr).not.toBe(0);
    expect(noCert.status).toBe(0);
    const rogue = await curl(port, '/healthz', withCert('rogue-client'));
    expect(rogue.exit, rogue.stderr).not.toBe(0);
    expect(rogue.status).toBe(0);
    const wrongCa = await curl(port, '/healthz', client, pki.rogueCa);
    expect(wrongCa.exit).toBe(60); // server certificate not verified
    // plain HTTP on the TLS port gets nothing useful
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)).not.toBe(200);
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
  });

  it('RequireAnyClientCert, VerifyClientCertIfGiven and client_allowed_sans, as Go crypto/tls means them', async () => {
    const tls = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';
    // any certificate, verified or not, but one is needed
    let s = await serveTls(webYml(`${tls}  client_auth_type: RequireAnyClientCert\n`), [], withCert('rogue-client'));
    expect((await curl(s.port, '/healthz')).exit).not.toBe(0);
    expect((await curl(s.port, '/healthz', withCert('rogue-client'))).status).toBe(200);
    expect(s.p.log()).toMatch(/tls: refused a connection from [\d.:]+: no client certificate/);
    killAll();
    // none is fine, a bad one is not
    s = await serveTls(webYml(`${tls}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n`), [], []);
    expect((await curl(s.port, '/healthz')).status).toBe(200);
    expect((await curl(s.port, '/healthz', withCert('client'))).status).toBe(200);
    expect((await curl(s.port, '/healthz', withCert('rogue-client'))).exit).not.toBe(0);
    expect(s.p.log()).toMatch(/client certificate not verified/);
    killAll();
    // verified, and its SAN must be listed
    s = await serveTls(webYml(`${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [prometheus.internal]\n`));
    expect((await curl(s.port, '/healthz', withCert('client'))).status).toBe(200);
    expect((await curl(s.port, '/healthz', withCert('other-client'))).exit).not.toBe(0);
    expect(s.p.log()).toMatch(/client certificate SAN not in client_allowed_sans/);
  });

  it('min_version, max_version and cipher_suites (Go names) limit what a client may negotiate', async () => {
    const tls = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';
    let s = await serveTls(webYml(`${tls}  min_version: TLS13\n`), [], []);
    expect((await curl(s.port, '/healthz', ['--tls-max', '1.2'])).exit).not.toBe(0);
    expect((await curl(s.port, '/healthz', ['--tlsv1.3'])).status).toBe(200);
    killAll();
    s = await serveTls(webYml(`${tls}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n`), [], []);
    expect((await curl(s.port, '/healthz', ['--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384'])).exit).not.toBe(0);
    const ok = await curl(s.port, '/healthz', ['--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256', '-w', '%{ssl_verify_result}']);
    expect(ok.status).toBe(200);
    expect((await curl(s.port, '/healthz', ['--tlsv1.3'])).exit).not.toBe(0); // max_version TLS12
  });

  it('SIGHUP reloads users and certificates; a broken file keeps the config in force', async () => {
    const hup = (p: ChildProcess) => p.kill('SIGHUP');
    const body = (pass: string, cert = 'server') => `tls_server_config:\n  cert_file: ${cert}.crt\n  key_file: ${cert}.key\nbasic_auth_users:\n  ops: '${bcryptOf('ops', pass)}'\n`;
    const web = webYml(body('one'));
    const { p, port } = await serveTls(web, [], ['-u', 'ops:one']);
    expect((await curl(port, '/api/v1/numbers', ['-u', 'ops:one'])).status).toBe(200);
    makeLeaf(pki.dir, 'server2', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    writeFileSync(web, body('two', 'server2'));
    hup(p);
    await until('reload logged', async () => (p.log().includes(`web config: reloaded ${web}`) ? true : undefined));
    expect((await curl(port, '/api/v1/numbers', ['-u', 'ops:one'])).status).toBe(401);
    expect((await curl(port, '/api/v1/numbers', ['-u', 'ops:two'])).status).toBe(200);
    const served = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', pki.ca], { input: '', encoding: 'utf8' });
    expect(served.stdout).toMatch(/subject=CN\s*=\s*server2/);
    writeFileSync(web, 'tls_server_config:\n  cert_file: gone.crt\n  key_file: server.key\n');
    hup(p);
    await until('refusal logged', async () => (p.log().includes('keeping the one loaded before') ? true : undefined));
    expect(p.log()).toContain(`${web}: tls_server_config.cert_file: cannot read ${join(pki.dir, 'gone.crt')}: ENOENT`);
    expect((await curl(port, '/api/v1/numbers', ['-u', 'ops:two'])).status).toBe(200);
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
  });

  it('refuses a web config with an unknown key or a bad hash at start: exit 2 naming the file and the key', async () => {
    const run = (web: string) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--db', join(tmp(), 'n.db'), '--web.config.file', web], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr!.on('data', (d) => (err += d));
        c.once('exit', (code) => resolve({ code, err }));
      });
    const unknown = webYml('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth: RequireAndVerifyClientCert\n');
    expect(await run(unknown)).toEqual({ code: 2, err: `numrep: ${unknown}: tls_server_config: unknown key "client_auth"\n` });
    const hash = webYml('basic_auth_users:\n  ops: hunter2\n');
    const r = await run(hash);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${hash}: basic_auth_users.ops: not a bcrypt hash`);
    expect(r.err).not.toContain('hunter2');
    expect((await run(join(pki.dir, 'missing.yml'))).code).toBe(2);
  });
});

const prometheusBin = spawnSync('prometheus', ['--version']).error ? null : 'prometheus';

describe.skipIf(prometheusBin === null && process.env.CI !== 'true')('a real Prometheus scraping over TLS with a client certificate and basic auth', () => {
  it('scrapes numrep (up = 1, numrep_build_info); a wrong password is a failed scrape with 401', async () => {
    const web = webYml(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n' +
        `basic_auth_users:\n  prometheus: '${bcryptOf('prometheus', 'scrape-pass')}'\n`,
    );
    const { port } = await serveTls(web, [], [...withCert('client'), '-u', 'prometheus:scrape-pass']);
    const dir = tmp();
    mkdirSync(join(dir, 'data'));
    const job = (name: string, pass: string) =>
      `  - job_name: ${name}\n    scheme: https\n    tls_config:\n      ca_file: ${pki.ca}\n      cert_file: ${pki.clientCert}\n      key_file: ${pki.clientKey}\n` +
      `    basic_auth:\n      username: prometheus\n      password: ${pass}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n${job('numrep', 'scrape-pass')}${job('numrep_wrong', 'nope')}`);
    const promPort = await freeTcpPort();
    const prom = spawn(prometheusBin ?? 'prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
      stdio: 'ignore',
    });
    try {
      type Target = { labels: { job: string }; health: string; lastError: string };
      const targets = await until(
        'both targets scraped',
        async () => {
          const t = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`)).json()).data.activeTargets as Target[];
          return t.length === 2 && t.every((x) => x.health !== 'unknown') ? t : undefined;
        },
        60_000,
      );
      const byJob = Object.fromEntries(targets.map((t) => [t.labels.job, t]));
      expect(byJob.numrep.health, byJob.numrep.lastError).toBe('up');
      expect(byJob.numrep_wrong.health).toBe('down');
      expect(byJob.numrep_wrong.lastError).toMatch(/401/);
      const q = await until('numrep_build_info in Prometheus', async () => {
        const r = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('numrep_build_info{job="numrep"}')}`)).json();
        return r.data.result.length ? r.data.result : undefined;
      });
      expect(q[0].metric.version).toEqual(expect.any(String));
    } finally {
      prom.kill('SIGKILL');
    }
  });
});

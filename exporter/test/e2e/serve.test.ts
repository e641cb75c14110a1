import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync, appendFileSync, existsSync, readFileSync, chmodSync, chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort, killAll, serveCli, stopWith, until, type Served } from '../support/proc.js';

// The real CLI, as a user runs it: `numrep serve` on loopback, a file dropped into its inbox.

afterEach(killAll);

function serve(dir: string, port: number, extra: string[] = []): Served {
  return serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), ...extra]);
}

const stop = (p: Served) => stopWith(p, 'SIGTERM');
const freePort = freeTcpPort;

const metric = async (port: number, re: RegExp) => {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = re.exec(body);
  return m ? Number(m[1]) : undefined;
};

function generic(rows: number, startMs: number, caller = '+12025550177'): string {
  let s = '';
  for (let i = 0; i < rows; i++) {
    s += `${new Date(startMs + i * 60_000).toISOString()},${caller},+1312555${String(1000 + i)},att,${i % 3 === 0 ? 487 : 200},,${i % 3 === 0 ? 0 : 42},A,\n`;
  }
  return s;
}
const HEADER = 'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd\n';

describe('numrep serve (real process)', () => {
  it('shows a dropped file in /metrics within seconds, survives a restart without double counting, and stops cleanly on SIGTERM', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    const port = await freePort();
    let p = serve(dir, port);
    await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    const t0 = Date.now() - 3 * 3_600_000;
    writeFileSync(join(dir, 'inbox', 'drop.csv'), HEADER + generic(30, t0));
    const calls = () => metric(port, /numrep_number_calls\{number="\+12025550177",pool="default",window="24h"\} (\d+)/);
    expect(await until('30 calls visible', async () => ((await calls()) === 30 ? 30 : undefined))).toBe(30);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).not.toContain('+13125551');
    expect(await stop(p)).toBe(0);
    expect(p.log()).toContain('stopped cleanly');

    // more lines while it is down, then restart: 30 + 10, not 70
    appendFileSync(join(dir, 'inbox', 'drop.csv'), generic(10, t0 + 40 * 60_000));
    p = serve(dir, port);
    expect(await until('40 calls after restart', async () => ((await calls()) === 40 ? 40 : undefined))).toBe(40);
    const total = await metric(port, /numrep_ingest_records_total\{format="generic",result="accepted",reason="ok"\} (\d+)/);
    expect(total).toBe(40);
    expect(await stop(p)).toBe(0);
  });

  it('quarantines a bad line with file and line in the log, and keeps going', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    const port = await freePort();
    const p = serve(dir, port);
    await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    writeFileSync(join(dir, 'inbox', 'bad.csv'), HEADER + generic(2, Date.now() - 3_600_000) + 'not-a-date,+12025550177,+13125550000,att,200,,5,A,\n' + generic(1, Date.now() - 600_000));
    const rejected = await until('rejection counted', () => metric(port, /numrep_ingest_records_total\{format="generic",result="rejected",reason="(?:\w+)"\} (\d+)/));
    expect(rejected).toBe(1);
    expect(await metric(port, /numrep_ingest_records_total\{format="generic",result="accepted",reason="ok"\} (\d+)/)).toBe(3);
    await until('quarantine file', async () => (existsSync(join(dir, 'quarantine.jsonl')) ? true : undefined));
    const q = JSON.parse(readFileSync(join(dir, 'quarantine.jsonl'), 'utf8').trim());
    expect(q).toMatchObject({ file: join(dir, 'inbox', 'bad.csv'), line: 4 });
    const log = p.log();
    expect(log).toMatch(/bad\.csv: 1 record\(s\) rejected, e\.g\. line 4/);
    expect(log).not.toContain('+13125550000');
    await stop(p);
  });

  it('npm start path: serve --demo shows per-number metrics for the sample pool', async () => {
    const dir = tmp();
    const port = await freePort();
    serve(dir, port, ['--demo']);
    const status = await until('demo statuses', async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = body.match(/^numrep_number_status\{.*\} 1$/gm);
      return m && m.length >= 9 ? m : undefined;
    });
    expect(status.join('\n')).toContain('status="spam"');
    expect(status.join('\n')).toContain('status="healthy"');
  });

  it('fails fast with a clear message on a bad config', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'numrep.yml'), 'listen: nowhere\nbucket_seconds: "x"\ncolour: blue\n');
    const p = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'numrep.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => p.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain(`${join(dir, 'numrep.yml')}: listen: expected HOST:PORT`);
    expect(err).toContain('bucket_seconds: Expected number, received string');
    expect(err).toContain(`${join(dir, 'numrep.yml')}: colour: unknown key`);
  });

  it('web: allowed_hosts (config and --allowed-host) pass the Host check; another name gets 421', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    const port = await freePort();
    writeFileSync(join(dir, 'numrep.yml'), 'web:\n  allowed_hosts: [numrep.example]\n  max_concurrent_uploads: 2\n');
    serve(dir, port, ['--config', join(dir, 'numrep.yml'), '--allowed-host', 'exporter:9847']);
    await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    const status = (host: string) =>
      new Promise<number>((resolve, reject) =>
        request(`http://127.0.0.1:${port}/api/v1/numbers`, { headers: { host } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject).end(),
      );
    expect(await status(`numrep.example:${port}`)).toBe(200);
    expect(await status('exporter:9847')).toBe(200);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`evil.example:${port}`)).toBe(421);
  });

  it('refuses bad web: keys at start', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'numrep.yml'), 'web:\n  allowed_hosts: ["http://x.example/"]\n  max_concurrent_uploads: 0\n  colour: blue\n');
    const p = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'numrep.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((r) => p.once('exit', r))).toBe(2);
    expect(err).toContain('web.allowed_hosts.0: expected HOST or HOST:PORT');
    expect(err).toContain('web.max_concurrent_uploads: Number must be greater than or equal to 1');
    expect(err).toContain('web.colour: unknown key');
  });

  it('--listen :PORT (and listen: ":PORT") serves every interface, and says at start that it is open without auth', async () => {
    const dir = tmp();
    const port = await freePort();
    const p = serveCli(['--listen', `:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db')]);
    await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    expect((await fetch(`http://[::1]:${port}/healthz`).catch(() => fetch(`http://localhost:${port}/healthz`))).status).toBe(200);
    expect(p.log()).toContain(`serving http://*:${port}/metrics`);
    expect(p.log()).toContain(`warning: listening on every interface (port ${port}) without authentication: anyone who can reach it can read the API`);
    expect(p.log()).toMatch(/upload CDR, labels and inventory files \(POST \/api\/v1\/upload\)/);
    expect(p.log()).toContain('set auth.bearer_token_file, or basic_auth_users in a --web.config.file, or listen on 127.0.0.1');
    expect(await stop(p)).toBe(0);

    writeFileSync(join(dir, 'numrep.yml'), `listen: ":${port}"\n`);
    const q = serveCli(['--config', join(dir, 'numrep.yml'), '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db')]);
    await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
    expect(q.log()).toContain('warning: listening on every interface');
    expect(await stop(q)).toBe(0);
  });

  it('warns about 0.0.0.0 without auth, but not with a bearer token, nor on loopback', async () => {
    const dir = tmp();
    const started = async (listen: string, extra: string[] = []) => {
      const port = await freePort();
      const p = serveCli(['--listen', `${listen}:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, `${port}.db`), ...extra]);
      await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
      await stop(p);
      return p.log();
    };
    expect(await started('0.0.0.0')).toMatch(/warning: listening on every interface \(port \d+\) without authentication/);
    writeFileSync(join(dir, 'token'), 't0ken\n');
    writeFileSync(join(dir, 'numrep.yml'), `auth:\n  bearer_token_file: ${join(dir, 'token')}\n`);
    expect(await started('0.0.0.0', ['--config', join(dir, 'numrep.yml')])).not.toContain('warning: listening');
    expect(await started('127.0.0.1')).not.toContain('warning: listening');
  });

  it('says the inbox is not writable when an upload cannot be saved (as an unprivileged user)', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const port = await freePort();
    const args = [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'numrep.db')];
    // root writes anywhere: run serve as nobody, owning its database directory but not the inbox
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(dir, 65534, 65534);
    else chmodSync(inbox, 0o555);
    const p = spawn(process.execPath, args, { stdio: 'ignore', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    try {
      await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/upload`, { method: 'POST', body: HEADER + generic(1, Date.now() - 60_000) });
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: `inbox ${inbox} is not writable (EACCES)` });
      expect(readdirSync(inbox)).toEqual([]);
    } finally {
      p.kill('SIGKILL');
      if (!asRoot) chmodSync(inbox, 0o755);
    }
  });
});

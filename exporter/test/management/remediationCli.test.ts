import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort, killAll, serveCli, stopWith, until } from '../support/proc.js';

// `numrep remediation open|update|list` and `numrep export registry`, the real CLI as an operator runs it: into a
// database no serve holds, and through the serve that holds one.

afterEach(killAll);

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d) => (stdout += d));
  p.stderr!.on('data', (d) => (stderr += d));
  const deadline = setTimeout(() => p.kill('SIGKILL'), 20_000);
  return new Promise((r) =>
    p.once('exit', (code) => {
      clearTimeout(deadline);
      r({ code, stdout, stderr });
    }),
  );
}

const INVENTORY = 'number,pool,campaign,registered\n+12125550101,sales,spring,no\n+12125550102,sales,spring,yes\n+14155550103,collections,,\n';

async function withInventory(): Promise<{ dir: string; db: string }> {
  const dir = tmp();
  const db = join(dir, 'numrep.db');
  writeFileSync(join(dir, 'inventory.csv'), INVENTORY);
  const imp = await run(['inventory', 'import', join(dir, 'inventory.csv'), '--db', db]);
  expect(imp.code).toBe(0);
  return { dir, db };
}

describe('numrep remediation', () => {
  it('opens, updates and lists cases in a database no serve holds; each run is a new process (the cases are on disk)', async () => {
    const { db } = await withInventory();
    const opened = await run(['remediation', 'open', '212-555-0101', '--engine', 'hiya', '--ticket', 'HY-7', '--note', 'form sent', '--db', db, '--json']);
    expect(opened.code).toBe(0);
    const c = JSON.parse(opened.stdout);
    expect(c).toMatchObject({ number: '+12125550101', engine: 'hiya', state: 'open', ticket: 'HY-7', note: 'form sent' });
    expect((await run(['remediation', 'update', String(c.id), '--state', 'submitted', '--db', db])).stdout).toContain(`case ${c.id}  +12125550101  hiya  submitted  ticket HY-7`);
    expect((await run(['remediation', 'update', String(c.id), '--state', 'resolved', '--db', db])).code).toBe(0);
    const again = await run(['remediation', 'update', String(c.id), '--state', 'rejected', '--db', db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is resolved, which is final');
    const list = JSON.parse((await run(['remediation', 'list', '--db', db, '--json'])).stdout);
    expect(list.remediations).toMatchObject([{ id: c.id, state: 'resolved', ticket: 'HY-7' }]);
    expect((await run(['remediation', 'list', '--db', db, '--state', 'open'])).stdout).toBe('no remediation cases\n');
    const table = (await run(['remediation', 'list', '--db', db])).stdout.split('\n');
    expect(table[0]).toMatch(/^id\s+number\s+engine\s+state\s+ticket\s+updated\s+label\s+note$/);
    // Not one of ours: refused, the number not repeated.
    const consumer = await run(['remediation', 'open', '+13125550000', '--engine', 'tns', '--db', db]);
    expect(consumer.code).toBe(1);
    expect(consumer.stderr).not.toContain('3125550000');
    expect((await run(['remediation', 'open', '+12125550101', '--engine', 'verizon', '--db', db])).code).toBe(2);
  });

  it('while serve holds the database, open and update go through its API (with the bearer token of --config); list reads the database', async () => {
    const { dir, db } = await withInventory();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(dir, 'token'), 't0ken\n');
    const port = await freeTcpPort();
    writeFileSync(join(dir, 'numrep.yml'), `db: ${db}\nauth:\n  bearer_token_file: ${join(dir, 'token')}\n`);
    const serve = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', db, '--config', join(dir, 'numrep.yml')]);
    await until('ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 20_000);

    // Without the token: serve says 401, the CLI says how to give it.
    const noToken = await run(['remediation', 'open', '+14155550103', '--engine', 'first_orion', '--db', db]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain(`is in use by numrep serve (pid ${serve.pid} on `);
    expect(noToken.stderr).toContain('--token-file');

    const opened = await run(['remediation', 'open', '+14155550103', '--engine', 'first_orion', '--config', join(dir, 'numrep.yml'), '--json']);
    expect(opened.code).toBe(0);
    const c = JSON.parse(opened.stdout);
    expect(c).toMatchObject({ number: '+14155550103', engine: 'first_orion', state: 'open' });
    expect((await run(['remediation', 'update', String(c.id), '--state', 'submitted', '--token-file', join(dir, 'token'), '--db', db])).code).toBe(0);
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/remediations/${c.id}`, { headers: { Authorization: 'Bearer t0ken' } });
    expect((await api.json()).events.map((e: { event: string }) => e.event)).toEqual(['opened', 'submitted']);
    expect(JSON.parse((await run(['remediation', 'list', '--db', db, '--json'])).stdout).remediations).toMatchObject([{ id: c.id, state: 'submitted' }]);
    // serve's /metrics counts it
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('numrep_remediation_cases{engine="first_orion",state="submitted"} 1');
    expect(metrics).toMatch(/numrep_number_info\{number="\+12125550101",pool="sales",country="US",area="New York, NY",registration="not_registered"\} 1/);

    // Stopped, the next change goes into the database directly, and the case is still there.
    expect(await stopWith(serve, 'SIGTERM')).toBe(0);
    expect((await run(['remediation', 'update', String(c.id), '--state', 'resolved', '--db', db])).code).toBe(0);
    expect(JSON.parse((await run(['remediation', 'list', '--db', db, '--json'])).stdout).remediations[0].state).toBe('resolved');
  });
});

describe('numrep export registry', () => {
  it('writes the numbers not yet registered with the business fields of the config, formula-safe; --all adds the registered ones', async () => {
    const { dir, db } = await withInventory();
    writeFileSync(
      join(dir, 'numrep.yml'),
      [
        `db: ${db}`,
        'registry:',
        '  business_name: "=HYPERLINK(\\"http://x\\")"',
        '  contact_email: ops@example.com',
        '  call_purpose: Appointment reminders',
        '  pools:',
        '    collections: { call_purpose: Debt collection }',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'registry.csv');
    const r = await run(['export', 'registry', '--config', join(dir, 'numrep.yml'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 number(s) to register (1 already registered left out');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('phone_number,national_number,country,area,business_name,business_address,business_website,ein,contact_name,contact_email,contact_phone,call_purpose,pool,campaign,registration');
    expect(lines[1]).toBe(`+12125550101,2125550101,US,"New York, NY","'=HYPERLINK(""http://x"")",,,,,ops@example.com,,Appointment reminders,sales,spring,not_registered`);
    expect(lines[2]).toBe(`+14155550103,4155550103,US,"San Francisco, CA","'=HYPERLINK(""http://x"")",,,,,ops@example.com,,Debt collection,collections,,unknown`);
    const all = await run(['export', 'registry', '--config', join(dir, 'numrep.yml'), '--all']);
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
    // No business name: nothing to register to.
    writeFileSync(join(dir, 'bare.yml'), `db: ${db}\n`);
    const bare = await run(['export', 'registry', '--config', join(dir, 'bare.yml')]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('registry.business_name is not set');
  });
});

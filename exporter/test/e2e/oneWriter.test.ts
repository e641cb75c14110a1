import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until, waitFor, ACCEPTED_GENERIC } from '../support/proc.js';

// One writer per database (finding F2: two serve processes on one database doubled every count, for good),
// and the files of a database are private (F12). The real CLI, as a user runs it.

afterEach(killAll);

const HEADER = 'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd\n';
function rows(n: number, t0: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${new Date(t0 + i * 60_000).toISOString()},+12025550177,+1312555${1000 + i},att,200,,42,A,\n`;
  return s;
}

/** What a second writer would change: every count and every offset. */
function stateOf(db: string): string {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify([
      d.prepare('SELECT sum(answered + voicemail + cancelled + no_answer + busy + rejected + blocked + failed) AS n FROM totals').get(),
      d.prepare('SELECT format, result, reason, count FROM ingest_counts ORDER BY 1, 2, 3').all(),
      d.prepare('SELECT path, offset, line FROM sources ORDER BY id').all(),
    ]);
  } finally {
    d.close();
  }
}

/** The CLI to its exit; one still running after 15 s (a second serve that was not refused) is killed: code null. */
function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const deadline = setTimeout(() => p.kill('SIGKILL'), 15_000);
  return new Promise((r) =>
    p.once('exit', (code) => {
      clearTimeout(deadline);
      r({ code, stderr });
    }),
  );
}

describe('one writer per database', () => {
  it('F2: a second serve on the same database exits 2 naming the first and changes nothing; after kill -9 a restart is not blocked', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const db = join(dir, 'numrep.db');
    const port = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    const first = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', db]);
    writeFileSync(join(inbox, 'calls.csv'), HEADER + rows(20, Date.now() - 3 * 3_600_000));
    await waitFor('20 calls read', async () => (await scrapeNumber(base, ACCEPTED_GENERIC)) === 20, 20_000);
    const before = stateOf(db);

    // Same database and inbox, another port: refused before it reads, creates or writes anything.
    const otherInbox = join(dir, 'inbox-2');
    const second = await run(['serve', '--listen', `127.0.0.1:${await freeTcpPort()}`, '--inbox', otherInbox, '--db', db]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`database ${db} is in use by numrep serve (pid ${first.pid} on `);
    expect(second.stderr).toContain('a second writer would count every call twice');
    expect(existsSync(otherInbox)).toBe(false);
    const sameInbox = await run(['serve', '--listen', `127.0.0.1:${await freeTcpPort()}`, '--inbox', inbox, '--db', db]);
    expect(sameInbox.code).toBe(2);
    expect(stateOf(db)).toBe(before);
    expect(await scrapeNumber(base, ACCEPTED_GENERIC)).toBe(20);

    // A reader is welcome: backup works while serve runs.
    const backup = spawnSync(process.execPath, [CLI, 'backup', join(dir, 'copy.db'), '--db', db], { encoding: 'utf8' });
    expect(backup.status).toBe(0);
    expect(stateOf(join(dir, 'copy.db'))).toBe(before);

    // kill -9 leaves no lock behind: the next serve starts and counts nothing twice.
    await stopWith(first, 'SIGKILL');
    const port2 = await freeTcpPort();
    serveCli(['--listen', `127.0.0.1:${port2}`, '--inbox', inbox, '--db', db]);
    await until('restarted', async () => ((await fetch(`http://127.0.0.1:${port2}/readyz`)).ok ? true : undefined), 20_000);
    expect(await scrapeNumber(`http://127.0.0.1:${port2}`, ACCEPTED_GENERIC)).toBe(20);
    expect(stateOf(db)).toBe(before);
  });

  it('labels import against a database serve holds is refused with where to send the file; it works once serve has stopped', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const db = join(dir, 'numrep.db');
    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, 'number,engine,label,checked_at\n+12025550105,hiya,spam,2026-11-20T08:00:00Z\n');
    const port = await freeTcpPort();
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', db]);
    await until('ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 20_000);
    const refused = await run(['labels', 'import', labels, '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`is in use by numrep serve (pid ${p.pid} on `);
    expect(refused.stderr).toContain(`cp ${labels} ${inbox}/`);
    expect(refused.stderr).toContain(`curl --data-binary @${labels} http://127.0.0.1:${port}/api/v1/upload`);
    const d = new Database(db, { readonly: true });
    expect(d.prepare('SELECT count(*) AS n FROM labels').get()).toEqual({ n: 0 });
    d.close();
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
    const done = await run(['labels', 'import', labels, '--db', db]);
    expect(done).toMatchObject({ code: 0, stderr: expect.stringContaining('imported 1 labels row(s)') });
  });

  it('F5: refuses an inbox that is, or holds, the database folder (exit 2), before creating anything', async () => {
    const dir = tmp();
    const same = await run(['serve', '--listen', `127.0.0.1:${await freeTcpPort()}`, '--inbox', dir, '--db', join(dir, 'numrep.db')]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain(`inbox ${dir} is the database's folder (${dir})`);
    expect(existsSync(join(dir, 'numrep.db'))).toBe(false);
    const inside = await run(['serve', '--listen', `127.0.0.1:${await freeTcpPort()}`, '--inbox', dir, '--db', join(dir, 'state', 'numrep.db')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain('contains the database\'s folder');
  });
});

describe('private files', () => {
  async function filesAfterAReject(config: string): Promise<{ dir: string; modes: Record<string, number | undefined> }> {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(dir, 'numrep.yml'), config);
    const port = await freeTcpPort();
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'numrep.db'), '--config', join(dir, 'numrep.yml')]);
    writeFileSync(join(inbox, 'bad.csv'), HEADER + 'not-a-date,+12025550177,+13125550000,att,200,,5,A,\n');
    await waitFor('quarantine.jsonl', async () => existsSync(join(dir, 'quarantine.jsonl')), 20_000);
    const modes: Record<string, number | undefined> = {};
    for (const f of ['numrep.db', 'numrep.db-wal', 'numrep.db-shm', 'numrep.db.secret', 'numrep.db.lock', 'quarantine.jsonl']) {
      const st = statSync(join(dir, f), { throwIfNoEntry: false });
      modes[f] = st ? st.mode & 0o777 : undefined;
    }
    await stopWith(p, 'SIGTERM');
    return { dir, modes };
  }

  it('F12: the database, WAL, SHM, secret, lock and quarantine are 0600; no called number is kept in clear', async () => {
    const { dir, modes } = await filesAfterAReject('settle_ms: 0\n');
    expect(modes).toEqual({ 'numrep.db': 0o600, 'numrep.db-wal': 0o600, 'numrep.db-shm': 0o600, 'numrep.db.secret': 0o600, 'numrep.db.lock': 0o600, 'quarantine.jsonl': 0o600 });
    const d = new Database(join(dir, 'numrep.db'), { readonly: true });
    const raw = (d.prepare('SELECT raw FROM quarantine').all() as { raw: string }[]).map((r) => r.raw);
    d.close();
    expect(raw).toEqual(['not-a-date,+<digits:11>,+<digits:11>,att,200,,5,A,']);
  });

  it('group_readable: true makes them 0640, except the secret', async () => {
    const { modes } = await filesAfterAReject('settle_ms: 0\ngroup_readable: true\n');
    expect(modes).toEqual({ 'numrep.db': 0o640, 'numrep.db-wal': 0o640, 'numrep.db-shm': 0o640, 'numrep.db.secret': 0o600, 'numrep.db.lock': 0o640, 'quarantine.jsonl': 0o640 });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort, killAll, serveCli, stopWith, until } from '../support/proc.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';

// The CLI as an operator meets it: exit codes that tell a good run from a bad one, the inputs rotations and
// pipes give, readiness that waits for the backlog, a source path with a typo said out loud.

afterEach(killAll);

const EXAMPLES = new URL('../../../examples/', import.meta.url).pathname;
const run = (args: string[], input?: string | Buffer) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });

describe('report exit codes (0 ok, 1 nothing counted or rows rejected, 2 usage)', () => {
  it('0 when calls were counted and nothing was rejected', () => {
    expect(run(['report', join(EXAMPLES, 'Master.csv')]).status).toBe(0);
  });

  it('1 when every line was rejected, on an empty file, on a map file given as calls', () => {
    const dir = tmp('numrep-exit-');
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'junk.csv'), 'hello\nworld\n');
    for (const f of [join(dir, 'junk.csv'), join(dir, 'empty.csv'), join(EXAMPLES, 'prefix-map.csv')]) {
      const r = run(['report', f]);
      expect(r.status, f).toBe(1);
    }
  });

  it('1 when any row was rejected, 0 with --allow-rejects (as long as calls were counted)', () => {
    const dir = tmp('numrep-exit-');
    const text = readFileSync(join(EXAMPLES, 'Master.csv'), 'utf8');
    writeFileSync(join(dir, 'Master.csv'), text + '"","+12025550101","+13105551099","x","","SIP/x-1","","Dial","","2026-13-45 99:00:00",,"",0,0,"ANSWERED","DOCUMENTATION","1.1",""\n');
    const strict = run(['report', join(dir, 'Master.csv')]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('bad_timestamp');
    expect(run(['report', '--allow-rejects', join(dir, 'Master.csv')]).status).toBe(0);
  });

  it('1 with --at after the data, saying where the calls are', () => {
    const r = run(['report', '--at', '2027-06-01T00:00:00Z', join(EXAMPLES, 'Master.csv')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no call in the 7 d window ending 2027-06-01T00:00:00.000Z: the 60 calls counted run from 2026-11-19T/);
  });

  it('2 for every usage mistake: an unknown option, a bad format, a bad time zone, --json with --csv', () => {
    for (const args of [['report', '--jsn', 'x'], ['report', '--format', 'asterix', 'x'], ['report', '--timezone', 'America/NewYork', join(EXAMPLES, 'Master.csv')], ['report', '--country-code', 'abc', join(EXAMPLES, 'Master.csv')], ['report', '--json', '--csv', join(EXAMPLES, 'Master.csv')], ['report']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
    }
    expect(run(['report', '--timezone', 'America/NewYork', join(EXAMPLES, 'Master.csv')]).stderr).toContain('--timezone');
  });
});

describe('report in a terminal', () => {
  const args = ['report', '--prefix-map', join(EXAMPLES, 'prefix-map.csv'), '--trunk-map', join(EXAMPLES, 'trunk-map.csv'), join(EXAMPLES, 'Master.csv'), join(EXAMPLES, 'freeswitch.csv'), join(EXAMPLES, 'kamailio-acc.log')];

  it('the table puts the worst numbers first, says why, and fits 100 columns', () => {
    const out = run(args).stdout;
    for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100);
    const rows = out.split('\n').filter((l) => l.startsWith('+1'));
    // Issue 16: the examples hold a day of calls, not evidence at the false-alarm budget, so 0102 (487s against
    // the pool) and 0104 (short calls: an industry band) are healthy now — bands and pool margins are context.
    expect(rows.map((r) => r.split(/\s+/)[1])).toEqual(['spam', 'in_progress', 'healthy', 'healthy', 'healthy']);
    expect(out.split('\n')[0]).toMatch(/reason$/);
    expect(rows[0]).toMatch(/retire\s+\d+\s+[\d.]+%\s+blocked in 24h and 7d/);
  });

  it('--wide shows every column and whole reasons; --explain NUMBER everything about one number', () => {
    const json = JSON.parse(run([...args, '--json']).stdout) as { numbers: { number: string; recommendation: { reason: string } }[] };
    const wide = run([...args, '--wide']).stdout;
    for (const n of json.numbers) expect(wide).toContain(n.recommendation.reason);
    expect(wide.split('\n')[0]).toMatch(/calls 24h\s+answer 24h\s+487 24h/);
    const ex = run([...args, '--explain', '2025550104']);
    expect(ex.status).toBe(0);
    const target = json.numbers.find((n) => n.number === '+12025550104')!;
    expect(ex.stdout).toContain(target.recommendation.reason);
    expect(ex.stdout).toMatch(/sub-scores: maturity \d+/);
    expect(ex.stdout).toMatch(/carrier att: /);
    expect(run([...args, '--explain', '+19995550000']).status).toBe(1);
  });
});

describe('report inputs', () => {
  it('reads a gzipped rotation (by its magic bytes) and standard input (-) like the plain file', () => {
    const plain = JSON.parse(run(['report', '--json', join(EXAMPLES, 'Master.csv')]).stdout);
    const dir = tmp('numrep-gz-');
    writeFileSync(join(dir, 'Master.csv.1.gz'), gzipSync(readFileSync(join(EXAMPLES, 'Master.csv'))));
    const gz = run(['report', '--json', join(dir, 'Master.csv.1.gz')]);
    expect(gz.status).toBe(0);
    expect(JSON.parse(gz.stdout).numbers).toEqual(plain.numbers);
    const stdin = run(['report', '--json', '-'], readFileSync(join(EXAMPLES, 'Master.csv')));
    expect(stdin.status).toBe(0);
    expect(JSON.parse(stdin.stdout).numbers).toEqual(plain.numbers);
  });

  it('a folder: its map files and the maps it was given are not read as calls, and its subfolders are named', () => {
    const r = run(['report', '--trunk-map', join(EXAMPLES, 'trunk-map.csv'), EXAMPLES]);
    expect(r.stderr).toContain('prefix-map.csv: a prefix-map file, not calls: not read (give it with --prefix-map)');
    expect(r.stderr).not.toContain('unknown_format');
    const dir = tmp('numrep-sub-');
    mkdirSync(join(dir, 'day1'));
    writeFileSync(join(dir, 'day1', 'Master.csv'), readFileSync(join(EXAMPLES, 'Master.csv')));
    const sub = run(['report', dir]);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain('1 subfolder(s) not read');
  });

  it('a reader that stops early (| head) ends the run quietly: exit 0, no EPIPE on stderr', async () => {
    const dir = tmp('numrep-epipe-');
    const file = join(dir, 'Master.csv');
    const { generateReal } = await import('../../src/bench/genReal.js');
    generateReal('asterisk', file, { rows: 20_000, numbers: 2_000, endMs: Date.now() - 3_600_000, spanMs: 86_400_000 });
    for (const flag of ['--json', '--csv', '--wide']) {
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" report ${flag} "${file}" | head -c 100 > /dev/null`], { encoding: 'utf8' });
      expect(r.stderr, flag).not.toMatch(/EPIPE|Unhandled|node:events/);
      expect(r.status, flag).toBe(0);
    }
  }, 60_000);

  it('--quarantine is checked before the run: a path that cannot be written fails at once, naming it', () => {
    const r = run(['report', '--quarantine', '/nonexistent/q.jsonl', join(EXAMPLES, 'Master.csv')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--quarantine /nonexistent/q.jsonl: cannot write it (ENOENT)');
  });
});

describe('errors that name what is wrong', () => {
  it('a map file that cannot be read is named without a line 0', () => {
    const r = run(['report', '--prefix-map', '/nonexistent/prefix-map.csv', join(EXAMPLES, 'Master.csv')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/nonexistent/prefix-map.csv: cannot read');
    expect(r.stderr).not.toContain(':0:');
  });

  it('evaluate on a folder that simulate did not write says so', () => {
    const r = run(['evaluate', tmp('numrep-empty-')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('not a `numrep simulate --out` folder');
  });

  it('as a user who cannot write the inbox: --demo refuses at once, serve warns that uploads will fail, a database folder it cannot write is named', { timeout: 30_000 }, async () => {
    if (process.getuid?.() !== 0) return; // the test switches to nobody, which only root can do
    const dir = tmp('numrep-ro-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox); // owned by root, 0755: nobody reads it, cannot write it
    mkdirSync(join(dir, 'db'));
    spawnSync('chown', ['nobody', join(dir, 'db')]);
    spawnSync('chmod', ['755', dir]);
    const asNobody = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', uid: 65534, gid: 65534, timeout: 20_000 });
    const demo = asNobody(['serve', '--demo', '--listen', '127.0.0.1:0', '--inbox', inbox, '--db', join(dir, 'db', 'n.db')]);
    expect(demo.status).toBe(2);
    expect(demo.stderr).toContain(`--demo: inbox ${inbox} is not writable by this user`);
    const noDb = asNobody(['serve', '--listen', '127.0.0.1:0', '--inbox', inbox, '--db', join(dir, 'n.db')]);
    expect(noDb.status).not.toBe(0);
    expect(noDb.stderr).toMatch(/directory .* is not writable by this user/);
    const port = await freeTcpPort();
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'db', 'n.db')], { uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    p.stderr!.on('data', (d) => (log += String(d)));
    await until('warned', async () => (log.includes('is not writable by this user: it is read, but uploads') ? true : undefined), 15_000);
    p.kill('SIGTERM');
  });
});

describe('serve readiness and sources', () => {
  it('/readyz is 503 until the files present at start are read; a source that matches nothing is a warning and a metric', async () => {
    const dir = tmp('numrep-ready-');
    mkdirSync(join(dir, 'inbox'));
    // ~20 MB of calls already waiting when serve starts.
    const line = readFileSync(join(EXAMPLES, 'Master.csv'), 'utf8');
    writeFileSync(join(dir, 'inbox', 'backlog.csv'), line.repeat(Math.ceil(20e6 / line.length)));
    const port = await freeTcpPort();
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), '--source', join(dir, 'logs', 'Mastr.csv')]);
    const codes: number[] = [];
    await until('ready', async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        codes.push(r.status);
        return r.ok ? true : undefined;
      } catch {
        return undefined;
      }
    }, 60_000);
    expect(codes[0]).toBe(503);
    expect(p.log()).toMatch(/catching up on 1 file\(s\) present at start/);
    // Once ready, the backlog is in: its size is behind no more.
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toMatch(/numrep_source_bytes_behind\{source="[^"]*backlog\.csv"\} 0/);
    expect(p.log()).toContain(`warning: source ${join(dir, 'logs', 'Mastr.csv')}: no file matches it yet`);
    expect(body).toContain(`numrep_source_glob_files{glob="${join(dir, 'logs', 'Mastr.csv')}"} 0`);
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
  });
});

describe('stopping while starting', () => {
  it('SIGTERM during the first read of a start-up backlog: held, then a clean stop (exit 0), not a kill', async () => {
    const dir = tmp('numrep-early-stop-');
    mkdirSync(join(dir, 'inbox'));
    const text = readFileSync(join(EXAMPLES, 'Master.csv'), 'utf8');
    writeFileSync(join(dir, 'inbox', 'backlog.csv'), text.repeat(Math.ceil(20e6 / text.length)));
    const port = await freeTcpPort();
    // settle_ms 0: the backlog is read by the first poll, before serve's set-up is complete
    writeFileSync(join(dir, 'numrep.yml'), 'settle_ms: 0\n');
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), '--config', join(dir, 'numrep.yml')]);
    // Listening, and the first poll of the backlog under way: before, SIGTERM's default action killed it here.
    await until('listening', async () => (p.log().includes('serving http://') ? true : undefined), 30_000);
    expect(p.log()).not.toContain('ready in');
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
    expect(p.log()).toContain('SIGTERM while starting: stopping once the read in progress is committed');
    expect(p.log()).toContain('stopped cleanly');
  });
});

describe('side files have a size limit', () => {
  it('inventory import of a file over 64 MiB exits 2 naming the file, without reading it', () => {
    const dir = tmp('numrep-side-');
    const f = join(dir, 'inventory.csv');
    writeFileSync(f, 'number,pool\n');
    truncateSync(f, 64 * 1_048_576 + 1); // sparse: the size is what counts
    const r = run(['inventory', 'import', '--db', join(dir, 'numrep.db'), f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}: 67,108,865 bytes; an inventory file larger than 67,108,864 bytes is not imported`);
  });
});

describe('gzip in the inbox', () => {
  it('a rotated Master.csv.1.gz present at start is unpacked, read, and only then is serve ready', async () => {
    const dir = tmp('numrep-gz-');
    mkdirSync(join(dir, 'inbox'));
    writeFileSync(join(dir, 'inbox', 'Master.csv.1.gz'), gzipSync(readFileSync(join(EXAMPLES, 'Master.csv'))));
    const port = await freeTcpPort();
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db')]);
    await until('ready', async () => (p.log().includes('ready in') ? true : undefined), 60_000);
    expect(p.log()).toMatch(/Master\.csv\.1\.gz: gzip, [\d,]+ bytes unpacked to Master\.csv\.1 \(17,999 bytes\)/);
    // ready means read: the 60 calls are counted (they are older than the windows, so in the totals)
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toMatch(/numrep_ingest_records_total\{format="asterisk",result="accepted",reason="ok"\} 60/);
    expect(body).not.toMatch(/result="rejected"/);
    expect(existsSync(join(dir, 'inbox', 'Master.csv.1.gz'))).toBe(false);
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
  });
});

describe('what the database remembers', () => {
  it('the tracked-number cap counts numbers with calls inside the retention, so a rotated pool gets new numbers', async () => {
    const dir = tmp('numrep-cap-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    let now = Date.parse('2026-11-20T18:00:00Z');
    const open = () => new Runtime({ db: join(dir, 'numrep.db'), bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), classify: { maxTrackedNumbers: 2, keyRetentionMs: 8 * 86_400_000 }, settleMs: 0, maxRecordBytes: 65_536, now: () => now });
    const csv = (callers: string[], at: number) => 'caller,called,start,sip_code\n' + callers.map((c, i) => `${c},+1312${2000000 + i},${new Date(at + i * 1000).toISOString()},200`).join('\n') + '\n';
    writeFileSync(join(inbox, 'week1.csv'), csv(['+12025550101', '+12025550102', '+12025550103'], now - 3_600_000));
    let rt = open();
    await rt.poll();
    expect([...rt.seen.keys()].sort()).toEqual(['+12025550101', '+12025550102']);
    await rt.close();
    // Ten days later the old pool has aged out of the retention: two new numbers are tracked.
    now += 10 * 86_400_000;
    writeFileSync(join(inbox, 'week3.csv'), csv(['+12025550201', '+12025550202', '+12025550203'], now - 3_600_000));
    rt = open();
    await rt.poll();
    const counts = Object.fromEntries(rt.store.ingestCounts().map((c) => [`${c.result}:${c.reason}`, c.count]));
    expect(counts).toEqual({ 'accepted:ok': 4, 'skipped:numbers_over_cap': 2 });
    await rt.close();
  });

  it('backup copies the secret the call keys are hashed with, 0600', () => {
    const dir = tmp('numrep-bk-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(inbox, 'Master.csv'), readFileSync(join(EXAMPLES, 'Master.csv')));
    const db = join(dir, 'numrep.db');
    const rt = new Runtime({ db, bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: Date.now });
    return rt.poll().then(async () => {
      await rt.close();
      const r = run(['backup', join(dir, 'copy.db'), '--db', db]);
      expect(r.status).toBe(0);
      expect(existsSync(join(dir, 'copy.db.secret'))).toBe(true);
      expect(readFileSync(join(dir, 'copy.db.secret'), 'utf8')).toBe(readFileSync(`${db}.secret`, 'utf8'));
      expect(statSync(join(dir, 'copy.db.secret')).mode & 0o777).toBe(0o600);
    });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/sim/demo.js';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort as freePort, killAll, scrapeNumber, serveCli, stopWith, waitFor, ACCEPTED_GENERIC, READ_GENERIC } from '../support/proc.js';

afterEach(killAll);

const ACCEPTED = ACCEPTED_GENERIC;
const READ = READ_GENERIC;


// Crash consistency (docs/architecture.md#durability): SIGKILL `numrep serve` at random instants while it ingests, restart it
// each time, and the final per-number × carrier totals must equal a clean one-shot `numrep report`.

const HEADER = 'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd\n';
const CODES = [200, 200, 200, 487, 486, 480, 603, 608, 404];

function rows(n: number, seed: number, t0: number): string {
  const rand = mulberry32(seed);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const caller = `+1202555${String(100 + Math.floor(rand() * 300)).padStart(4, '0')}`;
    const code = CODES[Math.floor(rand() * CODES.length)];
    const ts = new Date(t0 + Math.floor(rand() * 4 * 3_600_000)).toISOString();
    const carrier = ['att', 'verizon', 'tmobile'][Math.floor(rand() * 3)];
    // A consumer of its own per row: two random rows with the same caller, consumer and second would be one call.
    const called = `+1312${2_000_000 + ((seed * 5000 + i) % 7_000_000)}`;
    rand();
    parts.push(`${ts},${caller},${called},${carrier},${code},,${code === 200 ? Math.floor(rand() * 200) : 0},A,`);
  }
  return parts.join('\n') + '\n';
}

function startServe(dir: string, port: number, extra: string[] = []): ChildProcess {
  return serveCli(['--quiet', '--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), ...extra]);
}

const kill9 = (p: ChildProcess) => stopWith(p, 'SIGKILL');

type Totals = Record<string, Record<string, Record<string, number>>>;

function totalsOf(json: { numbers: { number: string; carriers: Record<string, Record<string, { outcomes: Record<string, number> }>> }[] }): Totals {
  const out: Totals = {};
  for (const n of json.numbers) {
    out[n.number] = {};
    for (const [c, w] of Object.entries(n.carriers)) if (w['7d']) out[n.number][c] = w['7d'].outcomes;
  }
  return out;
}

describe('crash consistency', { timeout: 300_000 }, () => {
  it('SIGKILL at random points during a 400k-row drop, then restart: totals equal a clean report', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    const t0 = Date.now() - 5 * 3_600_000;
    const file = join(dir, 'dump.csv');
    writeFileSync(file, HEADER + rows(400_000, 11, t0));
    const port = await freePort();
    const rand = mulberry32(99);
    // Start, drop the file in, kill -9 at random instants mid-ingest; repeat.
    let p = startServe(dir, port);
    await waitFor('serve up', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, ACCEPTED)) !== undefined);
    renameSync(file, join(dir, 'inbox', 'dump.csv'));
    let kills = 0;
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150 + Math.floor(rand() * 600)));
      const seen = await scrapeNumber(`http://127.0.0.1:${port}`, ACCEPTED);
      await kill9(p);
      kills++;
      if (seen === 400_000) break; // (accepted only: a reason to stop early, not a check)
      p = startServe(dir, port);
      await waitFor('serve up again', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, ACCEPTED)) !== undefined);
    }
    if (p.exitCode !== null || p.signalCode !== null) p = startServe(dir, port); // killed on the last round: start it again
    await waitFor('all rows', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, READ)) === 400_000, 200_000);
    expect(kills).toBeGreaterThan(0);
    const served = await (await fetch(`http://127.0.0.1:${port}/api/v1/numbers`)).json();
    const report = JSON.parse(execFileSync(process.execPath, [CLI, 'report', '--json', join(dir, 'inbox', 'dump.csv')], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    expect(totalsOf(served)).toEqual(totalsOf(report));
    await kill9(p);
  });

  it('SIGKILL while a tailed file is appended to and rotated, then restart: totals equal a clean report over every file', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    mkdirSync(join(dir, 'logs'));
    const live = join(dir, 'logs', 'cdr.csv');
    const port = await freePort();
    const t0 = Date.now() - 5 * 3_600_000; // rows span 4 h: all in the past, none rejected as future
    const rand = mulberry32(5);
    writeFileSync(live, HEADER);
    let p = startServe(dir, port, ['--source', join(dir, 'logs', 'cdr.csv*')]);
    await waitFor('serve up', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, ACCEPTED)) !== undefined);
    let written = 0;
    for (let step = 0; step < 24; step++) {
      const n = 2000 + Math.floor(rand() * 3000);
      const text = rows(n, 1000 + step, t0);
      // a partial line at the end of some steps: the writer pauses mid-line
      const cut = step % 3 === 0 ? text.length - 7 : text.length;
      appendFileSync(live, text.slice(0, cut));
      if (cut < text.length) appendFileSync(live, text.slice(cut));
      written += n;
      if (step % 6 === 5) {
        renameSync(live, `${live}.${step}`); // rename rotation
        writeFileSync(live, HEADER);
      }
      if (step % 4 === 1) {
        await new Promise((r) => setTimeout(r, Math.floor(rand() * 200)));
        await kill9(p);
        p = startServe(dir, port, ['--source', join(dir, 'logs', 'cdr.csv*')]);
        await waitFor('serve up again', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, ACCEPTED)) !== undefined);
      }
    }
    let lastSeen: number | undefined;
    try {
      await waitFor('all rows', async () => (lastSeen = await scrapeNumber(`http://127.0.0.1:${port}`, READ)) === written, 120_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${lastSeen} accepted of ${written} written`);
    }
    const served = await (await fetch(`http://127.0.0.1:${port}/api/v1/numbers`)).json();
    const report = JSON.parse(execFileSync(process.execPath, [CLI, 'report', '--json', join(dir, 'logs')], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    expect(totalsOf(served)).toEqual(totalsOf(report));
    await kill9(p);
  });

  // serve commits several read steps in one transaction (FileIngestor, transactionBytes): a kill -9 inside one must
  // roll back to the last committed offset, and the steps read again must neither lose nor count twice a call, nor
  // miss a leg whose other row is in an earlier step of the same, uncommitted, transaction.
  it('kill -9 in the middle of a multi-step transaction, then restart: every call counted once, legs across steps joined', () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const calls = 20_000;
    const gap = 1_500; // rows between a call's two rows: more than a 64 KiB step, less than a 1 MiB transaction
    const t0 = Date.now() - 5 * 3_600_000;
    const rand = mulberry32(23);
    const call = (i: number) => {
      const caller = `+1202555${String(100 + (i % 300)).padStart(4, '0')}`;
      const code = CODES[Math.floor(rand() * CODES.length)];
      const ts = new Date(t0 + i * 700).toISOString();
      return `${ts},${caller},+1312${2_000_000 + i},${['att', 'verizon', 'tmobile'][i % 3]},${code},,${code === 200 ? 30 : 0},A,`;
    };
    // Each call is written twice (a failure logged twice by two proxies): the second row, `gap` rows later, is a leg.
    const lines: string[] = [];
    const pending: string[] = [];
    for (let i = 0; i < calls; i++) {
      const row = call(i);
      lines.push(row);
      pending.push(row);
      if (pending.length > gap) lines.push(pending.shift()!);
    }
    lines.push(...pending);
    writeFileSync(join(inbox, 'backfill.csv'), HEADER + lines.join('\n') + '\n');

    const child = fileURLToPath(new URL('../support/backfillChild.mjs', import.meta.url));
    const db = join(dir, 'numrep.db');
    const run = (mode: string) => spawnSync(process.execPath, [child, mode, db, inbox], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const linesOf = (out: string, kind: string) => out.split('\n').filter((l) => l.startsWith(kind + ' ')).map((l) => l.slice(kind.length + 1));

    const crashed = run('crash');
    expect(crashed.signal).toBe('SIGKILL'); // it killed itself 3 steps past a commit: inside a transaction
    const committed = linesOf(crashed.stdout, 'commit').map(Number);
    const stepsAfter = crashed.stdout.slice(crashed.stdout.lastIndexOf('commit ')).split('\n').filter((l) => l.startsWith('step ')).length;
    expect(committed.length).toBeGreaterThan(0);
    expect(stepsAfter).toBe(3);

    const resumed = run('resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    // The restart starts from the last committed offset: the three steps read after it were rolled back.
    expect(Number(linesOf(resumed.stdout, 'start')[0])).toBe(committed[committed.length - 1]);
    const durable = JSON.parse(linesOf(resumed.stdout, 'result')[0]);
    const reference = JSON.parse(linesOf(run('reference').stdout, 'result')[0]);
    expect(durable.counts).toContain(`generic:accepted:ok=${calls}`);
    expect(durable.counts).toContain(`generic:skipped:leg=${calls}`);
    expect(durable.counts).toEqual(reference.counts);
    expect(durable.totals).toEqual(reference.totals);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';
import { ACCEPTED_GENERIC, freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until, waitFor } from '../support/proc.js';

// Health that tells the truth: a source that cannot make progress makes /readyz 503 and shows in
// numrep_source_stalled (what NumrepIngestStalled fires on); a problem is logged once, not per poll (F15).

afterEach(killAll);

const mkfifo = (path: string) =>
  new Promise<void>((resolve, reject) => spawn('mkfifo', [path], { stdio: 'ignore' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`mkfifo ${c}`)))));

describe('serve health', () => {
  it('a source stuck for stall_after_seconds: /readyz 503 with the reason, numrep_source_stalled, one log line; ready again once it is gone', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const fifo = join(dir, 'live.csv');
    await mkfifo(fifo);
    // Links in the inbox that lead nowhere useful: a loop and one to a file outside.
    symlinkSync(join(inbox, 'loop_b'), join(inbox, 'loop_a'));
    symlinkSync(join(inbox, 'loop_a'), join(inbox, 'loop_b'));
    writeFileSync(join(dir, 'numrep.yml'), `settle_ms: 0\npoll_interval_ms: 100\nstall_after_seconds: 1\nsources:\n  - path: ${fifo}\n`);
    const port = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'numrep.db'), '--config', join(dir, 'numrep.yml')]);

    const readyz = await until('/readyz 503 stalled', async () => {
      const r = await fetch(`${base}/readyz`);
      const body = (await r.json()) as { status: string; reasons?: string[]; detail?: string };
      // All three: each becomes a stall stall_after_seconds after it was first met.
      return r.status === 503 && body.status === 'stalled' && body.detail?.startsWith('3 ') ? body : undefined;
    }, 20_000);
    expect(readyz.reasons).toEqual(['not_regular']);
    expect(readyz.detail).toMatch(/^3 source\(s\) cannot make progress: not_regular; /);
    expect(JSON.stringify(readyz)).not.toContain(dir); // no paths on an unauthenticated endpoint
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toContain(`numrep_source_stalled{source="${fifo}",reason="not_regular"} 1`);
    expect(body).toContain(`numrep_source_stalled{source="${join(inbox, 'loop_a')}",reason="not_regular"} 1`);
    expect(body).toMatch(/^numrep_quarantine_dropped_total\{reason="over_step_cap"\} 0$/m);

    // More polls (each new file is read by one, which visits the stuck paths too): nothing said again.
    for (let i = 1; i <= 3; i++) {
      writeFileSync(join(inbox, `good-${i}.csv`), `caller,called,start,billsec,sip_code\n+1202555010${i},+1312555100${i},${new Date(Date.now() - 3_600_000).toISOString()},30,200\n`);
      await waitFor(`file ${i} read`, async () => (await scrapeNumber(base, ACCEPTED_GENERIC)) === i, 20_000);
    }
    const log = p.log();
    expect(log.split('\n').filter((l) => l.includes(fifo)).length).toBe(2); // "tailing …" and the one problem line
    expect(log).toContain(`source ${fifo}: is a FIFO, not a regular file; skipped`);
    expect(log.split('\n').filter((l) => l.includes('loop_a')).length).toBeLessThanOrEqual(2); // the tailer's line, and chokidar's at most once

    rmSync(fifo);
    rmSync(join(inbox, 'loop_a'));
    rmSync(join(inbox, 'loop_b'));
    await waitFor('ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 20_000);
    expect(await (await fetch(`${base}/metrics`)).text()).not.toContain('numrep_source_stalled{');
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
  });
});

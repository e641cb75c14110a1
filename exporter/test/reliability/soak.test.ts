import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmp } from '../core/helpers.js';
import { CLI, freeTcpPort as freePort, killAll, scrapeNumber, serveCli, waitFor, ACCEPTED_GENERIC, READ_GENERIC } from '../support/proc.js';

afterEach(killAll);

const ACCEPTED = ACCEPTED_GENERIC;
const READ = READ_GENERIC;


// Soak (bounded, loopback): ingest continuously while hammering /metrics and the API; then every row is
// counted, no request failed, and the resident memory stays flat. Also backup and the integrity check.

const HEADER = 'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd\n';

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe('soak', { timeout: 180_000 }, () => {
  it('ingests continuously under scrape and API load: every row counted, no failed request, memory flat', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    mkdirSync(join(dir, 'logs'));
    const live = join(dir, 'logs', 'cdr.csv');
    writeFileSync(live, HEADER);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // The heap is capped well above what 2,000 numbers need (~90 MB after GC): a leak ends in an out-of-memory
    // crash (failed requests, a dead process), which resident-memory sampling alone cannot tell from GC lag.
    const p = serveCli(['--quiet', '--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), '--source', live], ['--max-old-space-size=256']);
    await waitFor('serve up', async () => (await scrapeNumber(base, ACCEPTED)) !== undefined);

    let written = 0;
    let failures = 0;
    let requests = 0;
    const t0 = Date.now() - 6 * 3_600_000;
    let i = 0;
    // One round: append rows for `ms` while four clients hammer /metrics and the API.
    const round = async (ms: number) => {
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          let chunk = '';
          for (let k = 0; k < 500; k++, i++) {
            chunk += `${new Date(t0 + (i % 20_000) * 1000).toISOString()},+1202555${String(1000 + (i % 2000))},+13125550000,${['att', 'verizon', 'tmobile'][i % 3]},${[200, 487, 486, 200, 608][i % 5]},,${i % 5 === 0 ? 30 : 0},A,\n`;
          }
          appendFileSync(live, chunk);
          written += 500;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const hammer = async (path: string) => {
        while (!stop) {
          try {
            const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(30_000) });
            await r.arrayBuffer();
            requests++;
            if (!r.ok) failures++;
          } catch {
            failures++;
          }
        }
      };
      const load = [hammer('/metrics'), hammer('/metrics'), hammer('/api/v1/numbers?limit=10000'), hammer('/api/v1/carriers')];
      await new Promise((r) => setTimeout(r, ms));
      stop = true;
      await writer;
      await Promise.all(load);
      await waitFor('round ingested', async () => (await scrapeNumber(base, READ)) === written, 90_000);
      await new Promise((r) => setTimeout(r, 1500)); // idle: let the collector catch up before sampling
      return rssKb(p.pid!);
    };
    // Round 1 warms up (all 2,000 numbers' windows in memory, V8's heap at its working size); a leak shows as
    // resident memory still climbing from one equal round to the next, while GC lag under load only spikes.
    const rss = [await round(5000), await round(5000), await round(5000), await round(5000)];
    console.log(`soak: RSS after each round ${rss.join(' kB, ')} kB; ${requests} requests, ${written} rows`);
    expect(failures).toBe(0);
    expect(requests).toBeGreaterThan(20);
    expect(p.exitCode, 'serve died under load').toBeNull();
    expect(p.signalCode).toBeNull();
    // RSS swings by ±100 MB with GC timing under load; a leak keeps climbing round after round.
    expect(Math.min(rss[2], rss[3]) - Math.max(rss[0], rss[1]), `RSS after each round: ${rss.join(' kB, ')} kB`).toBeLessThan(64 * 1024);
    const numbers = (await (await fetch(`${base}/api/v1/numbers?limit=10000`)).json()).numbers; // all of them: one page
    expect(numbers).toHaveLength(2000);
    p.kill('SIGTERM');
  });

  it('backs up a live database consistently, and refuses a corrupt one with a clear message', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'inbox'));
    writeFileSync(join(dir, 'inbox', 'calls.csv'), HEADER + `${new Date(Date.now() - 3_600_000).toISOString()},+12025550101,+13125550000,att,200,,30,A,\n`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const db = join(dir, 'numrep.db');
    const p = serveCli(['--quiet', '--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', db]);
    await waitFor('ingested', async () => (await scrapeNumber(base, ACCEPTED)) === 1);
    const copy = join(dir, 'backup.db');
    execFileSync(process.execPath, [CLI, 'backup', copy, '--db', db], { stdio: 'pipe' });
    expect(existsSync(copy)).toBe(true);
    const { default: Database } = await import('better-sqlite3');
    const b = new Database(copy, { readonly: true });
    expect(b.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(b.prepare('SELECT sum(answered + voicemail + cancelled + no_answer + busy + rejected + blocked + failed) AS n FROM totals').get()).toEqual({ n: 1 });
    b.close();
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));

    // a corrupt database: serve stops at once and says what to do
    const bad = join(dir, 'bad.db');
    copyFileSync(copy, bad);
    const buf = readFileSync(bad);
    buf.fill(0x55, 4096, Math.min(buf.length, 4096 * 3));
    writeFileSync(bad, buf);
    const q = serveCli(['--listen', `127.0.0.1:${await freePort()}`, '--inbox', join(dir, 'inbox'), '--db', bad]);
    const code = await new Promise((r) => q.once('exit', r));
    expect(code).toBe(1);
    expect(q.log()).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(integrity|not a database|malformed)`, 'i'));
  });
});

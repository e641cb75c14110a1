import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';
import { freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, waitFor } from '../support/proc.js';

// The quarantine of the real `serve`: bounded however hostile the input (finding F4: 118 KB of input made
// 600 MB of quarantine), and without a called number in clear anywhere on disk (F12).

afterEach(killAll);

const REJECTED = /numrep_ingest_records_total\{format="generic",result="rejected",reason="[a-z_]+"\} (\d+)/g;
const ALL_READ = /numrep_ingest_records_total\{format="generic",result="(?:accepted|rejected|skipped)",reason="[a-z_]+"\} (\d+)/g;

function start(dir: string, port: number) {
  mkdirSync(join(dir, 'inbox'), { recursive: true });
  writeFileSync(join(dir, 'numrep.yml'), 'settle_ms: 0\npoll_interval_ms: 200\n');
  return serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'db', 'numrep.db'), '--config', join(dir, 'numrep.yml')]);
}

const bytesIn = (dir: string) => readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);

describe('the quarantine of serve', () => {
  it('F4: a 100,000-character header name and 200,000 junk lines cost a few MB, not hundreds', async () => {
    const dir = tmp();
    const port = await freeTcpPort();
    const p = start(dir, port);
    // (b) each rejection's reason quoted the header name; (a) two million lines of "x" in the probe.
    writeFileSync(join(dir, 'inbox', 'amp.csv'), `caller,called,start,code,${'Z'.repeat(100_000)}\n` + ',,,,"\n'.repeat(300));
    writeFileSync(join(dir, 'inbox', 'junk.csv'), 'caller,called,start,billsec,sip_code\n+12025550101,+13125551000,2026-11-20T10:00:00Z,30,200\n' + 'x\n'.repeat(200_000));
    await waitFor('every line counted', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, REJECTED)) === 200_300, 30_000);
    expect(await stopWith(p, 'SIGTERM')).toBe(0);
    // Before: ~60 MB for these two files (30 MB of header name in the table, the same again in quarantine.jsonl).
    expect(bytesIn(join(dir, 'db'))).toBeLessThan(8 * 1_048_576);
    const lines = readFileSync(join(dir, 'db', 'quarantine.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(10_300); // max_per_step per read step
    for (const l of lines) expect(JSON.parse(l).detail.length).toBeLessThan(600);
  });

  it('F12: no called number of a rejected or accepted line is anywhere in clear: database, WAL, quarantine.jsonl, log', async () => {
    const dir = tmp();
    const port = await freeTcpPort();
    const p = start(dir, port);
    const called = fc.sample(fc.integer({ min: 2_000_000, max: 9_999_999 }), { numRuns: 300, seed: 42 }).map((n) => `312${n}`);
    const breakers: ((row: string) => string)[] = [
      (r) => r, // a good row: the called number is never stored
      (r) => `${r},extra`, // wrong column count
      (r) => r.replace('2026-11-20T', '2026-13-45T'), // bad date
      (r) => r.replace(',200', ',abc'), // bad code
      (r) => r.replace('+1202', '12ab'), // not a number
      (r) => `${r.slice(0, 20)}"${r.slice(20)}`, // unterminated quote
      (r) => r.replace(',30,', ',3\u00000,'), // NUL byte
    ];
    const formats = [(d: string) => `+1${d}`, (d: string) => `1${d}`, (d: string) => `+1 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`, (d: string) => `tel:+1-${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)}`];
    const rows = called.map((d, i) => {
      const row = `+1202555${String(1000 + (i % 50))},${formats[i % formats.length](d)},2026-11-20T${String(10 + (i % 8)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z,30,200`;
      return breakers[i % breakers.length](row);
    });
    writeFileSync(join(dir, 'inbox', 'mixed.csv'), 'caller,called,start,billsec,sip_code\n' + rows.join('\n') + '\n');
    await waitFor('every row read', async () => (await scrapeNumber(`http://127.0.0.1:${port}`, ALL_READ)) === rows.length, 30_000);
    expect(await scrapeNumber(`http://127.0.0.1:${port}`, REJECTED)).toBeGreaterThan(100);
    await waitFor('quarantine.jsonl', async () => existsSync(join(dir, 'db', 'quarantine.jsonl')));
    const log = p.log();
    await stopWith(p, 'SIGKILL'); // no checkpoint: the WAL is read as it is
    const disk = readdirSync(join(dir, 'db')).map((f) => readFileSync(join(dir, 'db', f)).toString('latin1')).join('\n') + log;
    for (const d of called) expect(disk.includes(d), d).toBe(false);
  });
});

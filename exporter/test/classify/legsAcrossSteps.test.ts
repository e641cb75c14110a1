import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReport } from '../../src/cli/report.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { OPEN_TAIL_ROWS, openTailStart } from '../../src/classify/classifier.js';
import { tmp } from '../core/helpers.js';

// A call's legs that a read step's end falls between: serve's durable path (small steps, several commits) must count
// each call with the carrier and outcome `report` gives it, where the whole file is one step.

const TRUNK_MAP = fileURLToPath(new URL('../fixtures/trunk-map.csv', import.meta.url));
const DISPOSITIONS = ['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED'];

/** An Asterisk cdr_csv row (18 columns). */
function row(src: string, dst: string, trunk: string, channel: string, start: string, disp: string, uid: string): string {
  const answered = disp === 'ANSWERED';
  return [
    '""', `"${src}"`, `"${dst}"`, '"from-dialer"', `"""Acme"" <${src}>"`, `"${channel}"`, `"SIP/${trunk}-0000${uid.slice(-4)}"`, '"Dial"', `"SIP/${trunk}/${dst},60"`,
    `"${start}"`, answered ? `"${start}"` : '', `"${start}"`, answered ? '40' : '0', answered ? '40' : '0', `"${disp}"`, '"DOCUMENTATION"', `"${uid}"`, '""',
  ].join(',');
}

/**
 * 300 calls from 7 numbers: every third a failover (the first trunk congested, the next one carried it; one uniqueid,
 * consecutive rows), the rest one row each — so with ~10 rows a step many failovers straddle a step's end. Every
 * 23rd call comes after a line the reader rejects, every 31st has a called number that is none (rejected when
 * classified): their line numbers must survive steps read again.
 */
function failoverFile(path: string): void {
  const trunks = ['att-trunk', 'verizon', 'tmo-gw'];
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const src = `+1202555${1000 + (i % 7)}`;
    const dst = `+1312${2_000_000 + i}`;
    const t = new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + i * 20_000).toISOString().slice(0, 19).replace('T', ' ');
    const uid = `1795168800.${1000 + i}`;
    const channel = `Local/${dst}@from-dialer-0000${1000 + i};2`;
    const disp = DISPOSITIONS[i % DISPOSITIONS.length];
    if (i % 23 === 0) lines.push(`"not","a","cdr",${i}`);
    if (i % 31 === 0) lines.push(row(src, '+99', trunks[0], `SIP/2001-0000${1000 + i}`, t, disp, `${uid}9`));
    if (i % 3 === 0) {
      lines.push(row(src, dst, trunks[i % 3], channel, t, 'CONGESTION', uid));
      lines.push(row(src, dst, trunks[(i + 1) % 3], channel, t, disp, uid));
    } else lines.push(row(src, dst, trunks[i % 3], channel, t, disp, uid));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

describe('a failover whose legs two read steps share', () => {
  it('serve counts each call with the best leg, as report does', async () => {
    const dir = tmp('numrep-legsteps-');
    const file = join(dir, 'Master.csv');
    failoverFile(file);

    // serve's durable path: a database on disk, ~2 KiB read steps (~10 rows), a commit every ~4 KiB.
    const steps: number[] = [];
    const rt = new Runtime({
      db: join(dir, 'numrep.db'), bucketMs: 60_000, globs: [file], format: 'asterisk',
      readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: CarrierResolver.fromFiles({ trunkMap: TRUNK_MAP }),
      settleMs: 0, maxRecordBytes: 1024, chunkBytes: 2048, transactionBytes: 4096, transactionMs: 600_000, now: Date.now,
      onProgress: (bytes) => steps.push(bytes),
    });
    await rt.poll();
    expect(steps.length).toBeGreaterThan(40);
    const served = new Map<string, number>();
    for (const t of rt.store.totals()) served.set(`${t.number}|${t.carrier}|${t.outcome}`, t.count);
    const servedCounts = Object.fromEntries(rt.store.ingestCounts().filter((c) => c.count > 0).map((c) => [`${c.result}:${c.reason}`, c.count]));
    const servedRejects = rt.store.quarantined().map((q) => `${q.line}:${q.reason}:${q.raw}`).sort();
    await rt.close();

    const quarantine = join(dir, 'rejected.jsonl');
    const { json, ingest } = await runReport([file], { format: 'asterisk', trunkMap: TRUNK_MAP, timezone: 'UTC', at: '2026-11-21T00:00:00Z', quarantine });
    const reported = new Map<string, number>();
    for (const n of json.numbers) {
      for (const [carrier, c] of Object.entries(n.carriers)) {
        for (const [outcome, count] of Object.entries(c['7d'].outcomes)) if (count > 0) reported.set(`${n.number}|${carrier}|${outcome}`, count);
      }
    }
    // Failovers go att-trunk → verizon and no other call uses att: only those whose second leg also failed (a tie:
    // the first leg is kept) stay under att, 25 of the 100.
    const att = [...reported].filter(([k]) => k.includes('|att|'));
    expect(att.every(([k]) => k.endsWith('|failed'))).toBe(true);
    expect(att.reduce((sum, [, n]) => sum + n, 0)).toBe(25);
    expect(ingest).toMatchObject({ accepted: 300, skipped: { leg: 100 }, rejected: { wrong_column_count: 14, invalid_number: 10 } });
    expect(servedCounts).toEqual({ 'accepted:ok': 300, 'skipped:leg': 100, 'rejected:wrong_column_count': 14, 'rejected:invalid_number': 10 });
    expect([...served].sort()).toEqual([...reported].sort());
    // Each rejected line once, with its line number and (masked) text as report has them.
    const reportedRejects = readFileSync(quarantine, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string; raw: string });
    expect(servedRejects).toEqual(reportedRejects.map((q) => `${q.line}:${q.reason}:${q.raw}`).sort());
    expect(servedRejects).toHaveLength(24);
  });
});

describe('openTailStart: the rows a step leaves open', () => {
  const alone = (i: number) => i;
  it('the last OPEN_TAIL_ROWS rows, at most a quarter of the step', () => {
    expect(openTailStart(10_000, 0, alone)).toBe(10_000 - OPEN_TAIL_ROWS);
    expect(openTailStart(40, 0, alone)).toBe(30);
    expect(openTailStart(3, 0, alone)).toBe(3); // nothing: a quarter of 3 rows is none
  });
  it('back to the first row of every call among them, so only whole calls are left', () => {
    // A 40-row step leaves rows 30..39; row 33 belongs to a call that began at row 25, which row 27's began at 22.
    const first = (i: number) => (i === 33 ? 25 : i === 27 ? 22 : i);
    expect(openTailStart(40, 0, first)).toBe(22);
    // One more link back to row 15: more than half the step would be left, so it is judged whole.
    const chained = (i: number) => (i === 33 ? 25 : i === 27 ? 22 : i === 24 ? 15 : i);
    expect(openTailStart(40, 0, chained)).toBe(40);
  });
  it('nothing open when it would start before the lowest row that may be read again', () => {
    expect(openTailStart(40, 31, alone)).toBe(40);
    expect(openTailStart(40, 30, alone)).toBe(30);
  });
});

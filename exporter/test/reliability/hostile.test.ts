import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { createReader, detectFormat } from '../../src/ingest/formats/index.js';
import { tmp } from '../core/helpers.js';

// Hostile and broken input: each bad record is counted with its reason and quarantined with file and
// line; the good records next to it are all counted; nothing throws.

const NOW = Date.parse('2026-11-20T18:00:00Z');
const GOOD_A = '"","+12025550101","+13105551001","from-dialer","""Acme"" <+12025550101>","Local/x@out-0000002a;2","PJSIP/verizon-00000600","Dial","PJSIP/verizon/+13105551001,60,tT","2026-11-20 14:09:25","2026-11-20 14:09:41","2026-11-20 14:11:36",131,115,"ANSWERED","DOCUMENTATION","1795097365.100",""';
// Another call: its own time, caller, Local channel and uniqueid (rows that share those are legs of one call).
const GOOD_B = GOOD_A.replace('14:09:25', '15:00:00').replace('+12025550101","+1310', '+12025550102","+1310').replace('out-0000002a', 'out-0000002b').replace('1795097365.100', '1795100400.101');

async function ingest(name: string, content: string | Buffer, opts: { maxRecordBytes?: number; tolerance?: number } = {}) {
  const dir = tmp();
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox);
  writeFileSync(join(inbox, name), content);
  const rt = new Runtime({
    db: ':memory:',
    bucketMs: 60_000,
    inbox,
    globs: [],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: opts.maxRecordBytes ?? 65_536,
    futureToleranceMs: opts.tolerance ?? 300_000,
    now: () => NOW,
  });
  await rt.poll();
  const counts = rt.store.ingestCounts();
  const accepted = counts.filter((c) => c.result === 'accepted').reduce((s, c) => s + c.count, 0);
  const rejected = Object.fromEntries(counts.filter((c) => c.result === 'rejected').map((c) => [c.reason, c.count]));
  const skipped = counts.filter((c) => c.result === 'skipped').reduce((s, c) => s + c.count, 0);
  const quarantine = rt.store.quarantined().reverse();
  const outcomes: Record<string, number> = {};
  for (const t of rt.store.totals()) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + t.count;
  await rt.close();
  return { accepted, rejected, skipped, outcomes, quarantine, file: join(inbox, name) };
}

/** A bad line between two good ones; made from GOOD_A, it gets ids of its own (else it would be a leg of GOOD_A's call). */
const ownIds = (line: string) => line.replace('1795097365.100', '1795099999.199').replace('out-0000002a', 'out-0000002f');
const sandwich = (bad: string) => `${GOOD_A}\n${ownIds(bad)}\n${GOOD_B}\n`;

describe('hostile input', () => {
  const cases: [string, string, string][] = [
    ['wrong column count', '"","+12025550101","+13105551001"', 'wrong_column_count'],
    ['unterminated quote', GOOD_A.slice(0, GOOD_A.indexOf('"ANSWERED"') + 5), 'unterminated_quote'],
    ['bad date', GOOD_A.replace('2026-11-20 14:09:25', '2026-13-45 99:09:25'), 'bad_timestamp'],
    ['not a phone number', GOOD_A.replace('"+12025550101","+1310', '"12ab34","+1310').replace('<+12025550101>', '<12ab34>'), 'invalid_number'],
    ['a called number that is no number', GOOD_A.replace('"+12025550101","+13105551001"', '"+12025550101","+1310555100112345"'), 'invalid_number'],
    ['unknown disposition', GOOD_A.replace('"ANSWERED"', '"EXPLODED"'), 'unknown_disposition'],
    ['future timestamp', GOOD_A.replace(/2026-11-20 14:/g, '2027-01-01 14:'), 'future_timestamp'],
    ['NUL byte', GOOD_A.replace('Dial', 'Di\u0000al'), 'nul_byte'],
  ];
  for (const [what, bad, reason] of cases) {
    it(`${what}: counted as ${reason}, quarantined with file and line, neighbours kept`, async () => {
      const r = await ingest('Master.csv', sandwich(bad));
      expect(r.accepted).toBe(2);
      expect(r.rejected).toEqual({ [reason]: 1 });
      expect(r.quarantine[0]).toMatchObject({ file: r.file, line: 2, reason });
      expect(r.quarantine[0].detail).not.toContain('3105551001');
    });
  }

  it('non-UTF-8 bytes in a field numrep does not use (a Latin-1 caller-ID name) cost nothing: the call counts', async () => {
    const third = GOOD_A.replace('14:09:25', '16:00:00').replace('out-0000002a', 'out-0000002c').replace('1795097365.100', '1795104000.102').replace('""Acme""', '""Jos\u00e9 M\u00fcller""');
    const r = await ingest('Master.csv', Buffer.concat([Buffer.from(GOOD_A + '\n'), Buffer.from(third, 'latin1'), Buffer.from('\n' + GOOD_B + '\n')]));
    expect(r.accepted).toBe(3);
    expect(r.rejected).toEqual({});
  });

  it('non-UTF-8 bytes where the number should be: that line is rejected as invalid_number, its neighbours kept', async () => {
    const bad = Buffer.from(ownIds(GOOD_A.replace('"+12025550101","+1310', '"+1202555\u00e90101","+1310').replace('<+12025550101>', '<x>')), 'latin1');
    const r = await ingest('Master.csv', Buffer.concat([Buffer.from(GOOD_A + '\n'), bad, Buffer.from('\n' + GOOD_B + '\n')]));
    expect(r.accepted).toBe(2);
    expect(r.rejected).toEqual({ invalid_number: 1 });
  });

  it('a 50 MB line is rejected without being held in memory; the stream goes on', async () => {
    const before = process.memoryUsage().rss;
    const r = await ingest('Master.csv', `${GOOD_A}\n"${'x'.repeat(50 * 1_048_576)}"\n${GOOD_B}\n`, { maxRecordBytes: 1_048_576 });
    expect(r.accepted).toBe(2);
    expect(r.rejected).toEqual({ record_too_long: 1 });
    expect(r.quarantine[0].line).toBe(2);
    // the file's 50 MB were written by the test itself; reading must not add another copy of the line
    expect(process.memoryUsage().rss - before).toBeLessThan(120 * 1_048_576);
  });

  it('BOM and CRLF line endings are read like plain lines', async () => {
    const r = await ingest('Master.csv', `\ufeff${GOOD_A}\r\n${GOOD_B}\r\n`);
    expect(r.accepted).toBe(2);
    expect(r.rejected).toEqual({});
  });

  it('unknown SIP codes and hangup causes map to failed, not to a crash', async () => {
    const csv = 'caller,called,start,billsec,sip_code\n+12025550101,+13105551001,2026-11-20T14:00:00Z,0,699\n+12025550101,+13105551001,2026-11-20T14:01:00Z,12,200\n';
    const r = await ingest('calls.csv', csv);
    expect(r.accepted).toBe(2);
    expect(r.outcomes).toEqual({ failed: 1, answered: 1 }); // docs/architecture.md#outcomes: any other SIP code is failed
    const fs = '"Acme","+12025550101","+13105551001","default","2026-11-20 14:00:00","","2026-11-20 14:00:05","5","0","MADE_UP_CAUSE","u-1","","x"\n' +
      '"Acme","+12025550101","+13105551001","default","2026-11-20 14:01:00","2026-11-20 14:01:03","2026-11-20 14:02:00","60","57","NORMAL_CLEARING","u-2","","x"\n';
    const f = await ingest('freeswitch.csv', fs);
    expect(f.accepted).toBe(2);
    expect(f.outcomes).toEqual({ failed: 1, answered: 1 }); // an unknown cause, never answered: failed
  });

  it('a file of junk is quarantined line by line as unknown_format', async () => {
    const r = await ingest('junk.bin', 'hello\nworld\n');
    expect(r.accepted).toBe(0);
    expect(r.rejected).toEqual({ unknown_format: 2 });
  });

  it('property: arbitrary lines among good ones never throw, never lose a good record, and every line is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 200 }).map((s) => s.replace(/\n/g, ' ')), { minLength: 1, maxLength: 6 }), async (junk) => {
        const body = [GOOD_A, ...junk, GOOD_B].join('\n') + '\n';
        const r = await ingest('Master.csv', body);
        expect(r.accepted).toBeGreaterThanOrEqual(2);
        const nonEmpty = junk.filter((j) => j.replace(/\r$/, '').length > 0).length;
        const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
        expect(r.accepted - 2 + rejected + r.skipped).toBeLessThanOrEqual(nonEmpty);
      }),
      { numRuns: 40 },
    );
  });
});

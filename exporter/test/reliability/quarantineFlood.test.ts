import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuarantineFile } from '../../src/ingest/quarantineFile.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { createReader, detectFormat } from '../../src/ingest/formats/index.js';
import { tmp } from '../core/helpers.js';
import { lineArb } from '../support/phoneLines.js';

// Floods of bad lines through the real readers and the tailer (finding F4: 4 MB of junk made 408 MB of
// quarantine.jsonl and 570 MB of SQLite; a 118 KB file with a 100,000-character header name made 600 MB):
// bounded in count, bytes and time, and no number in clear among what is kept (F12).

describe('a flood of bad lines through the real readers', () => {
  function runtime(dir: string, inbox: string) {
    return new Runtime({
      db: join(dir, 'numrep.db'),
      bucketMs: 60_000,
      inbox,
      globs: [],
      readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
      resolver: new CarrierResolver(),
      settleMs: 0,
      maxRecordBytes: 65_536,
      now: () => Date.parse('2026-11-20T18:00:00Z'),
      readers: { createReader, detectFormat },
      quarantine: { maxRawChars: 2048, maxDetailChars: 512, maxPerStep: 1000 },
      quarantineMaxRows: 5000,
    });
  }

  it('F4a: 5 good lines and 300,000 lines of "x" cost a bounded quarantine, in bounded time; every line is counted', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const head = 'caller,called,start,billsec,sip_code\n' + Array.from({ length: 5 }, (_, i) => `+1202555010${i},+1312555${1000 + i},2026-11-20T1${i}:00:00Z,30,200\n`).join('');
    writeFileSync(join(inbox, 'amp.csv'), head + 'x\n'.repeat(300_000));
    const rt = runtime(dir, inbox);
    const t0 = performance.now();
    await rt.poll();
    const ms = performance.now() - t0;
    const counts = rt.store.ingestCounts();
    expect(counts.filter((c) => c.result === 'rejected').reduce((s, c) => s + c.count, 0)).toBe(300_000);
    expect(counts.find((c) => c.result === 'accepted')?.count).toBe(5);
    expect(rt.store.quarantined(1_000_000).length).toBeLessThanOrEqual(5000);
    expect(ms).toBeLessThan(15_000);
    await rt.close();
    expect(statSync(join(dir, 'numrep.db')).size + (statSync(join(dir, 'numrep.db-wal'), { throwIfNoEntry: false })?.size ?? 0)).toBeLessThan(8 * 1_048_576);
  });

  it('F4b: a 100,000-character header name quoted in every rejection is cut, not copied 3,000 times', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(inbox, 'amp.csv'), `caller,called,start,code,${'Z'.repeat(100_000)}\n` + ',,,,"\n'.repeat(3000));
    const rt = runtime(dir, inbox);
    await rt.poll();
    const q = rt.store.quarantined(10_000);
    expect(q.length).toBeGreaterThan(0);
    for (const e of q) expect(e.detail.length + e.raw.length).toBeLessThan(2048 + 512 + 100);
    await rt.close();
  });

  it('property: numbers in rejected lines never reach the quarantine table or quarantine.jsonl in clear', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const rt = runtime(dir, inbox);
    const qf = new QuarantineFile({ path: join(dir, 'quarantine.jsonl'), maxBytes: 1 << 24, keep: 1, mode: 0o600, log: () => undefined });
    const seen: string[] = [];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 8 }), async (rows) => {
        const text = rows.map((parts) => parts.map((x) => ('p' in x ? x.p.text : x.f)).join(',')).join('\n') + '\n';
        for (const parts of rows) for (const x of parts) if ('p' in x) seen.push(x.p.digits, x.p.text);
        // A generic CSV whose rows do not fit its header: each is rejected with its line kept.
        writeFileSync(join(inbox, `f${n++}.csv`), `caller,called,start,billsec,sip_code\n${text}`);
        await rt.poll();
      }),
      { numRuns: 40 },
    );
    const q = rt.store.quarantined(1_000_000);
    expect(q.length).toBeGreaterThan(40);
    qf.append(q);
    qf.close();
    const stored = q.map((e) => `${e.raw}\n${e.detail}`).join('\n') + readFileSync(join(dir, 'quarantine.jsonl'), 'utf8').replace(/"at":\d+/g, '');
    for (const s of seen) {
      const hit = q.find((e) => e.raw.includes(s) || e.detail.includes(s));
      expect(hit, s).toBeUndefined();
      expect(stored).not.toContain(s);
    }
    expect(stored).not.toMatch(/[0-9]{7}/);
    await rt.close();
  });
});

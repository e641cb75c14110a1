import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SippReader } from '../../src/ingest/formats/sipp.js';
import { SofiaReader } from '../../src/ingest/formats/sofia.js';
import { detectFormat } from '../../src/ingest/formats/index.js';
import type { SipTraceReader } from '../../src/ingest/sip/trace.js';
import { Store } from '../../src/store/db.js';
import { FIXTURES, readText, traceLines, type TraceResult } from './harness.js';
import { makeTailer, tmp, totals } from '../core/helpers.js';

// Golden files over committed traces. real-sipp-trace.log is a REAL sipp capture (the
// sipp-live scenarios, the UAC traces merged in time order). The sofia fixtures are the same
// real messages laid out as sofia-sip's tport_log_msg() prints them (tools/sipp2sofia.py;
// no FreeSWITCH package is available to capture one), in the older indented style with a
// closing rule and in the newer flush-left style between FreeSWITCH log lines.
// UPDATE_GOLDEN=1 rewrites the .golden.json files.

const CASES: Array<{ file: string; format: 'sipp' | 'sofia' }> = [
  { file: 'real-sipp-trace.log', format: 'sipp' },
  { file: 'sofia-indented.log', format: 'sofia' },
  { file: 'sofia-flush.log', format: 'sofia' },
];

const make = (format: 'sipp' | 'sofia'): SipTraceReader => (format === 'sipp' ? new SippReader({ timezone: 'UTC' }) : new SofiaReader({ timezone: 'UTC' }));

function summary(r: TraceResult) {
  return {
    records: r.records,
    calls: r.calls.map((c) => ({ callId: c.callId, earlyMedia: c.earlyMedia, end: c.end, verstat: c.verstat ?? null, reasonPhrase: c.reasonPhrase ?? null })),
    rejects: r.rejects,
  };
}

describe('SIP golden files', () => {
  for (const c of CASES) {
    it(`${c.file} (${c.format}) matches its golden file`, () => {
      const text = readFileSync(join(FIXTURES, c.file), 'utf8');
      expect(detectFormat(traceLines(text).slice(0, 10).map((l) => l.line))).toBe(c.format);
      const got = summary(readText(make(c.format), text, c.file));
      const golden = join(FIXTURES, c.file.replace(/\.log$/, '.golden.json'));
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, JSON.stringify(got, null, 2) + '\n');
      expect(got).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
      expect(got.rejects).toEqual([]);
      expect(got.records.length).toBe(15);
    });
  }

  it('the sofia layouts of the capture give the same calls as the sipp reader (only the source differs)', () => {
    const base = readText(make('sipp'), readFileSync(join(FIXTURES, 'real-sipp-trace.log'), 'utf8')).records.map((r) => ({ ...r, source: 'x' }));
    for (const f of ['sofia-indented.log', 'sofia-flush.log']) {
      const got = readText(make('sofia'), readFileSync(join(FIXTURES, f), 'utf8')).records.map((r) => ({ ...r, source: 'x', trunk: r.trunk }));
      expect(got).toEqual(base);
    }
  });

  it('duplicated messages (every block written twice, as retransmissions are) change nothing', () => {
    const text = readFileSync(join(FIXTURES, 'real-sipp-trace.log'), 'utf8');
    const blocks = text.split(/(?=^-{47} \d{4}-)/m);
    const doubled = blocks.map((b) => b + b).join('');
    expect(readText(make('sipp'), doubled).records).toEqual(readText(make('sipp'), text).records);
  });
});

describe('property: retransmissions anywhere later change nothing', () => {
  it('copies of any messages, re-sent at any later point of the real capture, give the same records', () => {
    const text = readFileSync(join(FIXTURES, 'real-sipp-trace.log'), 'utf8');
    const blocks = text.split(/(?=^-{47} \d{4}-)/m).filter((b) => b.startsWith('-'));
    const stampOf = (b: string) => b.slice(48, 74);
    const whole = readText(make('sipp'), text).records;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(blocks.length - 1), fc.nat(blocks.length)), { maxLength: 25 }), (dups) => {
        // inserts[j]: copies to place before original block j (j = length: at the end)
        const inserts = new Map<number, string[]>();
        for (const [src, off] of dups) {
          const at = Math.min(blocks.length, src + 1 + (off % (blocks.length - src)));
          const when = at < blocks.length ? stampOf(blocks[at]) : stampOf(blocks[blocks.length - 1]);
          const copy = blocks[src].replace(/^(-{47} )\S+ \S+/, `$1${when}`); // a retransmission is logged when it happens
          inserts.set(at, [...(inserts.get(at) ?? []), copy]);
        }
        let out = '';
        for (let j = 0; j <= blocks.length; j++) {
          for (const c of inserts.get(j) ?? []) out += c;
          if (j < blocks.length) out += blocks[j];
        }
        expect(readText(make('sipp'), out).records).toEqual(whole);
      }),
      { numRuns: 60, seed: 20261125 },
    );
  });
});

describe('restart: snapshot and restore at every line', () => {
  for (const c of CASES) {
    it(`${c.file}: any split point yields each call exactly once`, () => {
      const text = readFileSync(join(FIXTURES, c.file), 'utf8');
      const lines = traceLines(text);
      const whole = readText(make(c.format), text).records;
      const step = c.format === "sipp" ? 1 : 3; // a restart can happen anywhere: every line (sofia: every third, same code path)
      for (let k = 0; k <= lines.length; k += step) {
        const r1 = make(c.format);
        const got: unknown[] = [];
        for (const { line, no } of lines.slice(0, k)) {
          const res = r1.parseLine(line, { file: c.file, line: no });
          if (res.kind === 'records') got.push(...res.records);
        }
        const state = JSON.parse(JSON.stringify(r1.snapshot())); // as stored in SQLite
        const r2 = make(c.format);
        r2.restore(state);
        for (const { line, no } of lines.slice(k)) {
          const res = r2.parseLine(line, { file: c.file, line: no });
          if (res.kind === 'records') got.push(...res.records);
        }
        got.push(...r2.flush());
        expect(got, `split at line ${k}`).toEqual(whole);
      }
    });
  }

  it('through the tailer and SQLite: a trace written in two parts across a restart counts every call once', async () => {
    const dir = tmp('numrep-sip-restart-');
    const db = join(dir, 'numrep.db');
    const file = join(dir, 'trace.log');
    const text = readFileSync(join(FIXTURES, 'real-sipp-trace.log'), 'utf8');
    // cut in the middle of a message, mid-dialog (several calls are ringing or talking there)
    const cut = text.indexOf('\n', Math.floor(text.length * 0.55)) + 1;
    writeFileSync(file, text.slice(0, cut));
    const opts = {
      globs: [file],
      createReader: () => new SippReader({ timezone: 'UTC' }),
      detectFormat: (l: string[]) => detectFormat(l),
      chunkBytes: 1024,
      maxRecordBytes: 8192,
    };
    let store = new Store(db, { bucketMs: 60_000 });
    let t = makeTailer(store, opts);
    await t.poll();
    const before = totals(store);
    await t.close();
    store.close();
    // The dialogs in flight are kept with the offset, sealed (store/sealed.ts): the consumers' numbers they hold are
    // in no byte of the database, and the state is not JSON a reader of the file could parse.
    const called = [...new Set(readText(make('sipp'), text).records.map((r) => r.called.replace(/\D/g, '')))].filter((d) => d.length >= 7);
    expect(called.length).toBeGreaterThan(3);
    const stored = (new Database(db, { readonly: true }).prepare('SELECT reader_state FROM sources').get() as { reader_state: string }).reader_state;
    expect(stored.startsWith('s1:')).toBe(true);
    const bytes = Buffer.concat([db, `${db}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
    for (const d of called) expect(bytes.includes(d), `consumer ${d.slice(0, 3)}… in the database`).toBe(false);

    appendFileSync(file, text.slice(cut));
    store = new Store(db, { bucketMs: 60_000 });
    t = makeTailer(store, opts);
    await t.poll();
    t.flushReaders();
    const after = totals(store);
    await t.close();
    store.close();

    const expected: Record<string, number> = {};
    for (const r of readText(make('sipp'), text).records) expected[r.caller] = (expected[r.caller] ?? 0) + 1;
    expect(after).toEqual(expected);
    expect(Object.values(before).reduce((a, b) => a + b, 0)).toBeLessThan(15);
  });
});

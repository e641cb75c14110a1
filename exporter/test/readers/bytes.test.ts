// The byte fast path (Reader.parseBytes, ingest/bytes.ts) must agree with the string path exactly
// wherever it answers, and must answer for the plain lines it exists for. Differential tests:
// random and mutated input through both paths; then whole files through the ingestor with the fast
// path on and off.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BytesMemo, CsvFields, isCleanAscii } from '../../src/ingest/bytes.js';
import { splitCsvLine } from '../../src/ingest/csv.js';
import { AsteriskReader } from '../../src/ingest/formats/asterisk.js';
import { KvBytes, KvLine } from '../../src/ingest/formats/kamailio.js';
import { createReader, detectFormat } from '../../src/ingest/formats/index.js';
import { WallClock } from '../../src/ingest/formats/time.js';
import { CarrierResolver, channelSuffixStart } from '../../src/model/carrier.js';
import { isPlainE164Bytes, normalizePhone, plainNanpE164 } from '../../src/model/phone.js';
import type { Reader } from '../../src/ingest/reader.js';
import type { RawCall } from '../../src/model/types.js';
import { nanpNationalStart } from '../../src/ingest/formats/common.js';
import { Runtime } from '../../src/runtime.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const isAsciiNoNul = (s: string) => /^[\x01-\x7f]*$/.test(s);

describe('CsvFields.scan agrees with splitCsvLine', () => {
  const alphabet = fc.constantFrom('a', 'b', '1', ',', ',', '"', '"', ' ', '\t', 'é', '\u0000', ';');
  it('on random lines: same fields whenever it accepts, and it accepts every plain line', () => {
    const f = new CsvFields();
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')), fc.boolean(), (line, clean) => {
        const buf = b(line);
        const plain = isAsciiNoNul(line);
        if (clean && !plain) return; // the caller vouches for cleanliness only when true
        const out: string[] = [];
        const n = splitCsvLine(line, out);
        const ok = f.scan(buf, 0, buf.length, clean);
        if (!ok) {
          // Declined: non-ASCII/NUL, an unterminated quote, junk after a closing quote, or too many fields.
          const junkAfterQuote = /(^|,)"([^"]|"")*"[^,]/.test(line);
          expect(!plain || n < 0 || junkAfterQuote || n > CsvFields.MAX).toBe(true);
          return;
        }
        accepted++;
        expect(f.count).toBe(n);
        for (let i = 0; i < n; i++) {
          const raw = buf.toString('latin1', f.start[i], f.end[i]);
          expect(f.escaped[i] ? raw.replace(/""/g, '"') : raw).toBe(out[i]);
        }
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(1000);
  });

  it('an empty trailing field, an empty line and quoted commas', () => {
    const f = new CsvFields();
    for (const line of ['a,', ',', '', '"a,b",c', '"",""', '"a""b",', 'x"y,z']) {
      const out: string[] = [];
      const n = splitCsvLine(line, out);
      expect(f.scan(b(line), 0, b(line).length, true)).toBe(true);
      expect(f.count).toBe(n);
    }
  });

  it('isCleanAscii: ASCII without NUL only', () => {
    expect(isCleanAscii(b('abc,"d"\n'), 8)).toBe(true);
    expect(isCleanAscii(b('abc\u0000'), 4)).toBe(false);
    expect(isCleanAscii(b('abcé'), 5)).toBe(false);
    expect(isCleanAscii(b('abcé'), 3)).toBe(true); // only the first len bytes count
  });
});

describe('BytesMemo', () => {
  it('behaves like a Map keyed by the bytes, across clears', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-d]{0,6}$/), fc.integer()), { maxLength: 300 }), (ops) => {
        const memo = new BytesMemo<number>(8, 40);
        const model = new Map<string, number>();
        for (const [k, v] of ops) {
          const buf = b(`>${k}<`);
          const got = memo.get(buf, 1, buf.length - 1);
          // A clear may have dropped it; otherwise it must be the model's value.
          if (got !== undefined) expect(got).toBe(model.get(k));
          if (got === undefined) {
            memo.set(buf, 1, buf.length - 1, v);
            model.set(k, v);
            expect(memo.get(buf, 1, buf.length - 1)).toBe(v);
          }
        }
      }),
    );
  });
});

describe('byte helpers agree with their string versions', () => {
  it('channelSuffixStart matches the suffix regex', () => {
    const re = /-[0-9a-f]{1,8}(;\d+)?$/i;
    const part = fc.constantFrom('SIP/att', '-', 'a', 'F', '0', '9', ';', '1', 'x', '/', '-0000063a', ';2', 'abcdef012');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }).map((a) => a.join('')), (v) => {
        const m = re.exec(v);
        expect(channelSuffixStart(v)).toBe(m ? m.index : -1);
      }),
      { numRuns: 5000 },
    );
  });

  it('isPlainE164Bytes is true exactly when normalizePhone returns the same +1 NANP digits (other numbers take the string path)', () => {
    const digit = fc.constantFrom('0', '1', '2', '5', '9');
    fc.assert(
      fc.property(fc.constantFrom('+', '', '+', ' +', '+1', '+1'), fc.array(digit, { maxLength: 17 }).map((a) => a.join('')), (p, d) => {
        const v = p + d;
        const r = normalizePhone(v, '1');
        const buf = b(v);
        expect(isPlainE164Bytes(buf, 0, buf.length)).toBe(r.ok && r.e164 === v && v.startsWith('+1'));
      }),
      { numRuns: 5000 },
    );
  });

  it('plainNanpE164 gives what normalizePhone gives whenever it answers, and answers for every plain NANP shape', () => {
    const digit = fc.constantFrom('0', '1', '2', '5', '9');
    fc.assert(
      fc.property(fc.constantFrom('', '', '1', '+1', '+', ' ', '+44', '011'), fc.array(digit, { minLength: 6, maxLength: 13 }).map((a) => a.join('')), fc.constantFrom('1', '44', '63'), (p, d, cc) => {
        const v = p + d;
        const r = normalizePhone(v, cc);
        const fast = plainNanpE164(v, cc === '1');
        if (fast !== null) expect(r).toEqual({ ok: true, e164: fast });
        // Every shape it promises: +1NXXNXXXXXX in any plan; NXXNXXXXXX and 1NXXNXXXXXX in the NANP plan.
        const promised = /^\+1[2-9][0-9]{2}[2-9][0-9]{6}$/.test(v) || (cc === '1' && /^1?[2-9][0-9]{2}[2-9][0-9]{6}$/.test(v));
        expect(fast !== null).toBe(promised);
      }),
      { numRuns: 5000 },
    );
  });

  it('nanpNationalStart finds the national digits exactly when normalizePhone reads the text as a NANP number written nationally', () => {
    const digit = fc.constantFrom('0', '1', '2', '5', '9');
    fc.assert(
      fc.property(fc.constantFrom('', '', '1', '+1', ' '), fc.array(digit, { minLength: 8, maxLength: 12 }).map((a) => a.join('')), (p, d) => {
        const v = p + d;
        const r = normalizePhone(v, '1');
        const buf = b(v);
        const n = nanpNationalStart(buf, 0, buf.length);
        if (n >= 0) expect(r).toEqual({ ok: true, e164: '+1' + v.slice(n) });
        else if (/^1?[0-9]{10}$/.test(v)) expect(r.ok).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('WallClock.parseBytes equals parse() wherever it answers, in zones with transitions on and off the hour', () => {
    const zones = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns'];
    const clocks = zones.map((z) => new WallClock(z));
    let answered = 0;
    const two = (n: number) => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: zones.length - 1 }),
        fc.constantFrom(2025, 2026),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.constantFrom(' ', ' ', 'T'),
        (z, y, mo, d, h, mi, s, sep) => {
          const text = `${y}-${two(mo)}-${two(d)}${sep}${two(h)}:${two(mi)}:${two(s)}`;
          const fast = clocks[z].parseBytes(b(text), 0);
          if (Number.isNaN(fast)) return;
          answered++;
          expect(fast).toBe(clocks[z].parse(text));
        },
      ),
      { numRuns: 20000 },
    );
    expect(answered).toBeGreaterThan(5000);
    // Every second of the transition days in the zones that change on the half hour.
    for (const [zone, day] of [['Australia/Lord_Howe', '2026-04-05'], ['Australia/Lord_Howe', '2026-10-04'], ['America/New_York', '2026-03-08'], ['America/New_York', '2026-11-01']]) {
      const c = new WallClock(zone);
      for (let t = 0; t < 86_400; t += 7) {
        const text = `${day} ${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}`;
        const fast = c.parseBytes(b(text), 0);
        if (!Number.isNaN(fast)) expect(fast, `${zone} ${text}`).toBe(c.parse(text));
      }
    }
  });
});

// ---------- Asterisk: parseBytes vs parseLine ----------

const GOOD = [
  '', '+12025550252', '+12125555772', 'from-dialer', '"Acme Health" <+12025550252>', 'Local/+12125555772@outbound-00000000;2',
  'SIP/verizon-00000000', 'Dial', 'SIP/verizon/+12125555772,60,tT', '2026-11-22 11:00:00', '2026-11-22 11:00:03',
  '2026-11-22 11:02:00', '120', '117', 'ANSWERED', 'DOCUMENTATION', '1795345200.0', '',
];
const quote = (v: string) => '"' + v.replace(/"/g, '""') + '"';
const NUMERIC = new Set([12, 13]);
const render = (f: string[], quoteAll: boolean) => f.map((v, i) => (quoteAll || !NUMERIC.has(i) ? quote(v) : v)).join(',');

const VARIANTS: Record<number, string[]> = {
  1: ['+12025550252', '2025550252', '12025550252', '', 'anonymous', '+1202555025', '+442079460018', '8001', '+12025550252 ', 'ü+1202', '2001', 's', ' 2001'],
  2: ['+12125555772', '2125555772', '', ' ', '+0123456789', '(212) 555-5772', '+1212555577', '+44207946001812345', '12125555772', '1212555577', '02125555772',
    '2120555772', '1125555772', '011442079460018', '12125555772 ', '212555577x', '112125555772'],
  4: ['"Acme" <+12025550252>', '', '<2025550253>', 'x', '"Acme Sales" <2025550252>', '"Agent 2001" <2001>', '"Sales" <12025550252>', ' ', '2025550254', '"a""b" <+12025550255>'],
  5: ['SIP/att-trunk-0000063a', 'Local/x@y-0001;2', '', ' PJSIP/tmo-gw-00000011 ', 'SIP/"q"-1'],
  6: ['SIP/verizon-00000000', '', 'Local/+1@out-00000001;2', 'LOCAL/x', '  ', 'SIP/att-trunk-0000063a', 'IAX2/odd', 'SIP/ve"r-1'],
  9: ['2026-11-22 11:00:00', '2026-11-22T11:00:00', '2026-02-30 10:00:00', '2026-11-22 24:00:00', '2026-11-22 11:60:00', '2026-11-22 11:00:60', '', 'start', '2026-03-08 02:30:00', '2026-11-01 01:30:00', ' 2026-11-22 11:00:00'],
  10: ['', '2026-11-22 11:00:03', 'garbage', '2026-11-22T11:00:03'],
  12: ['120', '', '0', '82.0', ' 5', 'x', '1234567890'],
  13: ['117', '0', '', '3.6', 'abc', '200', '999999999'],
  14: ['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION', 'answered', 'NOANSWER', '', 'disposition', 'ANSWERED ', 'WEIRD'],
  16: ['1795345200.0', 'AMDSTATUS=MACHINE', ''],
  17: ['', 'MACHINE', 'AMDSTATUS=HUMAN', 'AMDSTATUS=MACHINE;AMDCAUSE=LONGGREETING', 'x"y'],
};

function asteriskLine(choices: number[], count: number, quoteAll: boolean, junk: number): string {
  const f = GOOD.slice();
  let k = 0;
  for (const [col, vals] of Object.entries(VARIANTS)) f[+col] = vals[choices[k++] % vals.length];
  while (f.length < count) f.push(String(f.length));
  f.length = count;
  let line = render(f, quoteAll);
  if (junk === 1) line = line.replace(',', 'é,');
  if (junk === 2) line = line + '\u0000';
  if (junk === 3) line = line.slice(0, -1); // cut the last closing quote
  if (junk === 4) line = line.replace('"ANSWERED"', '"ANSWERED"x');
  return line;
}

const lineArb = fc
  .tuple(
    // Mostly the good value of each column, so that a fair share of lines is plain enough for the fast path.
    fc.array(fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat() }), {
      minLength: Object.keys(VARIANTS).length,
      maxLength: Object.keys(VARIANTS).length,
    }),
    fc.constantFrom(18, 18, 18, 16, 21, 17, 20, 15, 22),
    fc.boolean(),
    fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4),
  )
  .map(([c, n, q, j]) => asteriskLine(c, n, q, j));

function agree(reader: Reader, line: string): 'fast' | 'fallback' {
  const buf = b(line);
  const fast = reader.parseBytes!(buf, 0, buf.length, isCleanAscii(buf, buf.length));
  if (fast === null) return 'fallback';
  const slow = reader.parseLine(line, { file: 't', line: 1 });
  if (fast === 'skip') expect(slow.kind, line).toBe('skip');
  else expect(slow, line).toEqual({ kind: 'records', records: [fast] });
  return 'fast';
}

/** Both paths agree on every generated line, in UTC and in a zone with DST, and the fast path is not idle. */
function agreeOnMany(format: string, lines: fc.Arbitrary<string>): void {
  for (const timezone of ['UTC', 'America/New_York']) {
    const reader = createReader(format, { timezone });
    let fast = 0;
    let total = 0;
    fc.assert(
      fc.property(lines, (line) => {
        total++;
        if (agree(reader, line) === 'fast') fast++;
      }),
      { numRuns: 8000 },
    );
    // Not vacuous: a good share of the mutated lines are plain enough for the fast path.
    expect(fast / total).toBeGreaterThan(0.05);
  }
}

describe('AsteriskReader.parseBytes agrees with parseLine', () => {
  it('on mutated Master.csv lines, in UTC and in a zone with DST', () => agreeOnMany('asterisk', lineArb));

  it('makes every row it reads of one shape (the same properties in the same order, absent ones undefined)', () => {
    const reader = new AsteriskReader({ timezone: 'UTC' });
    const shapes = new Set<string>();
    fc.assert(
      fc.property(lineArb, (line) => {
        const buf = b(line);
        const r = reader.parseBytes!(buf, 0, buf.length, isCleanAscii(buf, buf.length));
        if (r !== null && r !== 'skip') shapes.add(Object.keys(r).join(','));
      }),
      { numRuns: 3000 },
    );
    expect([...shapes]).toEqual(['ts,caller,called,outcome,talkSec,attestation,source,ringMs,disposition,fields,context,inTrunk,outChannel,trunk,keys']);
  });

  it('takes the fast path for the plain lines it exists for', () => {
    const reader = new AsteriskReader({ timezone: 'UTC' });
    for (const line of [render(GOOD, false), render(GOOD, true), render(GOOD.slice(0, 16), false), render([...GOOD, 'p', 'l', '3'], false)]) {
      expect(agree(reader, line), line).toBe('fast');
    }
    // The shapes of a real switch: national numbers, and an agent's extension presenting the DID in clid.
    const national = GOOD.slice();
    national[1] = '2025550252';
    national[2] = '12125555772';
    expect(agree(reader, render(national, false))).toBe('fast');
    const agent = GOOD.slice();
    agent[1] = '2001';
    agent[4] = '"Acme Sales" <2025550252>';
    agent[5] = 'SIP/2001-0000001a';
    expect(agree(reader, render(agent, false))).toBe('fast');
    expect((reader.parseBytes!(b(render(agent, false)), 0, b(render(agent, false)).length, true) as { caller: string }).caller).toBe('+12025550252');
  });
});

// ---------- FreeSWITCH (built-in templates): parseBytes vs parseLine ----------

const FS_GOOD = [
  'Acme Health', '+12025550252', '+12125555772', 'default', '2026-11-22 11:00:00', '2026-11-22 11:00:03',
  '2026-11-22 11:02:00', '120', '117', 'NORMAL_CLEARING', '00000000-4472-4118-a873-000000994634', '', 'tmo-gw',
];
const FS_VARIANTS: Record<number, string[]> = {
  1: ['+12025550252', ' +12025550252 ', '2025550252', '', 'caller_id_number', 'anonymous', '+1202555025'],
  2: ['+12125555772', '2125555772', '', ' ', '+44 20 7946 0018', '+0123'],
  4: ['2026-11-22 11:00:00', '', '2026-11-22 11:00:00.123', '2026-13-01 00:00:00', '2026-11-01 01:30:00'],
  5: ['2026-11-22 11:00:03', '', ' ', 'nope', '2026-11-22 10:59:00'],
  6: ['2026-11-22 11:02:00', '', 'later', '2026-11-22 10:00:00'],
  7: ['120', '', '4', 'x', '1.5'],
  8: ['117', '0', '', '12.0', 'abc'],
  9: ['NORMAL_CLEARING', 'ORIGINATOR_CANCEL', 'NO_ANSWER', 'USER_BUSY', 'CALL_REJECTED', 'UNALLOCATED_NUMBER', 'ALLOTTED_TIMEOUT', 'normal_clearing', '', 'hangup_cause', ' USER_BUSY ', 'NOT-A-CAUSE'],
  12: ['tmo-gw', '', 'verizon', ' att-trunk ', 'a"b'],
};

const fsLineArb = fc
  .tuple(
    fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat() }), {
      minLength: Object.keys(FS_VARIANTS).length,
      maxLength: Object.keys(FS_VARIANTS).length,
    }),
    fc.constantFrom(13, 13, 13, 15, 14, 12),
    fc.constantFrom(0, 0, 0, 0, 0, 0, 1, 2, 3),
  )
  .map(([choices, count, junk]) => {
    const f = FS_GOOD.slice();
    let k = 0;
    for (const [col, vals] of Object.entries(FS_VARIANTS)) f[+col] = vals[choices[k++] % vals.length];
    while (f.length < count) f.push('PCMU');
    f.length = count;
    let line = f.map(quote).join(',');
    if (junk === 1) line = line.replace('Acme', 'Acmé');
    if (junk === 2) line = line.slice(0, -1);
    if (junk === 3) line = line.replace('"default"', '"default"x');
    return line;
  });

describe('FreeswitchReader.parseBytes agrees with parseLine', () => {
  it('makes every row it reads of one shape (the same properties in the same order, absent ones undefined)', () => {
    const reader = createReader('freeswitch', {});
    const shapes = new Set<string>();
    fc.assert(
      fc.property(fsLineArb, (line) => {
        const buf = b(line);
        const r = reader.parseBytes!(buf, 0, buf.length, isCleanAscii(buf, buf.length));
        if (r !== null && r !== 'skip') shapes.add(Object.keys(r).join(','));
      }),
      { numRuns: 3000 },
    );
    expect([...shapes]).toEqual(['ts,caller,called,outcome,talkSec,attestation,source,callerText,calledText,q850,ringMs,blockEngine,trunk,fields,context,keys']);
  });

  it('on mutated cdr_csv lines', () => {
    agreeOnMany('freeswitch', fsLineArb);
    expect(agree(createReader('freeswitch', {}), FS_GOOD.map(quote).join(','))).toBe('fast');
    // An A leg from an extension, and an internal call: the text kept for the classification stage, on the byte path too.
    const aLeg = FS_GOOD.slice();
    aLeg[1] = '1001';
    expect(agree(createReader('freeswitch', {}), aLeg.map(quote).join(','))).toBe('fast');
    aLeg[2] = '1002';
    expect(agree(createReader('freeswitch', {}), aLeg.map(quote).join(','))).toBe('fast');
  });

  it('is not offered for a custom template (parseLine reads those)', () => {
    expect(createReader('freeswitch', { template: ['caller_id_number', 'destination_number', 'start_epoch', 'sip_term_status'] }).parseBytes).toBeUndefined();
  });
});

// ---------- Kamailio: a reader with state (held INVITEs), so whole sequences must agree ----------

const KAM_PREFIX = ['Nov 22 11:00:00 sbc1 /usr/sbin/kamailio[2200]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: ', ' 1(2200) NOTICE: acc [acc.c:287]: acc_log_request(): ACC: ', 'Nov 22 11:00:00 sbc1 kamailio[1]: INFO: <core> started: '];
const KAM_KINDS = ['transaction answered', 'call missed'];

/** One acc line of a small world of calls: a few call ids, so INVITEs, BYEs, re-INVITEs and doubled failures meet. */
const kamLineArb = fc
  .record({
    prefix: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
    kind: fc.constantFrom(0, 1),
    call: fc.nat(7),
    t: fc.nat(25_000), // seconds: beyond maxCallSeconds now and then, so held calls expire
    method: fc.constantFrom('INVITE', 'INVITE', 'BYE', 'BYE', 'invite', 'Bye', 'ACK', 'CANCEL', ''),
    code: fc.constantFrom('200', '200', '486', '487', '603', '608', '180', ' 200 ', '2x0', '', '700'),
    reason: fc.constantFrom('OK', 'Busy Here', 'Network Blocked', 'Request Terminated', '', ' Declined '),
    toTag: fc.constantFrom('as1', 'as2', ''),
    caller: fc.constantFrom('+12025550101', '2025550102', '12025550103', '', '1001', 'anonymous', '+442079460018', ' +12025550101 '),
    called: fc.constantFrom('3125550199', '+13125550188', '13125550177', '011442079460018', '', 'x?y', '+99', '1002'),
    domain: fc.constantFrom('sip.flowroute.example.com', '10.0.0.5', '', ' att.example.net '),
    srcIp: fc.constantFrom('10.0.0.5', '198.51.100.20', ''),
    junk: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7),
  })
  .map((r) => {
    const pairs = [
      `timestamp=${r.junk === 1 ? 'soon' : 1795345200 + r.t}`, `method=${r.method}`, 'from_tag=f1', `to_tag=${r.toTag}`,
      `call_id=c${r.call}@10.0.0.5`, `code=${r.code}`, `reason=${r.reason}`, `src_user=${r.caller}`, 'src_domain=10.0.0.5',
      `src_ip=${r.srcIp}`, `dst_ouser=${r.called}`, `dst_user=${r.junk === 2 ? '' : r.called}`, `dst_domain=${r.domain}`,
    ];
    if (r.junk === 3) pairs.splice(4, 1); // no call_id
    if (r.junk === 4) pairs.push(`code=${r.code === '200' ? '486' : '200'}`); // a later key wins
    let line = KAM_PREFIX[r.prefix] + (r.prefix === 2 ? 'ready' : `${KAM_KINDS[r.kind]}: ${pairs.join(r.junk === 5 ? ' ; ' : ';')}`);
    if (r.junk === 6) line = line.replace('src_domain', ' src_domain ');
    if (r.junk === 7) line = line.replace('reason=', 'reason=Occupé ');
    return line;
  });

/** A reader fed through parseBytes (parseLine where it declines) and one through parseLine only: the same, line by line. */
function kamAgreeOn(lines: string[], options: object = {}): { fast: number; rejected: number } {
  const viaBytes = createReader('kamailio', { timezone: 'UTC', ...options });
  const viaText = createReader('kamailio', { timezone: 'UTC', ...options });
  let fast = 0;
  let rejected = 0;
  for (const line of lines) {
    const buf = b(line);
    const r = viaBytes.parseBytes!(buf, 0, buf.length, isCleanAscii(buf, buf.length));
    const got = r === null ? viaBytes.parseLine(line, { file: 't', line: 1 }) : r === 'skip' ? { kind: 'skip' } : { kind: 'records', records: r as RawCall[] };
    if (r !== null) fast++;
    const want = viaText.parseLine(line, { file: 't', line: 1 });
    if (want.kind === 'reject') rejected++;
    expect(got, line).toEqual(want);
  }
  expect(viaBytes.snapshot!()).toEqual(viaText.snapshot!());
  expect(viaBytes.flush!()).toEqual(viaText.flush!());
  return { fast, rejected };
}

describe('KamailioReader.parseBytes agrees with parseLine', () => {
  it('on random sequences of acc lines (held calls, BYEs, doubled failures, expiries, rejections)', () => {
    let fast = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.array(kamLineArb, { minLength: 1, maxLength: 60 }), (lines) => {
        total += lines.length;
        fast += kamAgreeOn(lines).fast;
      }),
      { numRuns: 400 },
    );
    expect(fast / total).toBeGreaterThan(0.5); // not vacuous: most lines take the byte path
  });

  it('makes every call record of one shape (the same properties in the same order, absent ones undefined)', () => {
    const shapes = new Set<string>();
    fc.assert(
      fc.property(fc.array(kamLineArb, { minLength: 1, maxLength: 60 }), (lines) => {
        const reader = createReader('kamailio', { timezone: 'UTC' });
        const records: RawCall[] = [];
        for (const line of lines) {
          const buf = b(line);
          const r = reader.parseBytes!(buf, 0, buf.length, isCleanAscii(buf, buf.length));
          const got = r === null ? reader.parseLine(line, { file: 't', line: 1 }) : r === 'skip' ? null : { kind: 'records', records: r as RawCall[] };
          if (got !== null && got.kind === 'records') records.push(...got.records);
        }
        records.push(...reader.flush!()); // the answered calls still waiting for their BYE
        for (const rec of records) shapes.add(Object.keys(rec).join(','));
      }),
      { numRuns: 300 },
    );
    expect([...shapes]).toEqual(['ts,caller,callerText,called,calledText,outcome,sipCode,talkSec,attestation,source,fields,keys,direction,inTrunk,blockEngine,trunk,carrier']);
  });

  it('on the Kamailio fixtures (real captures among them), every line but the rejected ones through the byte path', () => {
    const dir = new URL('../fixtures/kamailio/', import.meta.url).pathname;
    let total = 0;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
      let options = {};
      try {
        options = JSON.parse(readFileSync(join(dir, name.replace(/\.log$/, '.options.json')), 'utf8'));
      } catch {
        /* no options */
      }
      const { fast, rejected } = kamAgreeOn(lines, options);
      expect(fast + rejected, name).toBe(lines.length);
      total += lines.length;
    }
    expect(total).toBeGreaterThan(10);
  });

  it('KvBytes answers as KvLine on the pairs of random lines', () => {
    const alphabet = fc.constantFrom('a', 'b', '=', ';', ' ', '\t', 'x', '1', '_');
    const kvl = new KvLine();
    const kvb = new KvBytes();
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')), fc.constantFrom('a', 'b', 'ab', 'a b', 'x_1', ''), (text, key) => {
        const buf = b(`..${text}..`);
        kvl.load(text);
        kvb.load(buf, 2, buf.length - 2);
        expect(kvb.get(key)).toBe(kvl.get(key));
        expect(kvb.getFew(key)).toBe(kvl.get(key));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('fixture lines of the golden files', () => {
  for (const format of ['asterisk', 'freeswitch']) {
    it(`${format}: parseBytes agrees with parseLine on every line`, () => {
      const dir = new URL(`../fixtures/${format}/`, import.meta.url).pathname;
      const real = new URL('../fixtures/real/', import.meta.url).pathname;
      let fast = 0;
      const files = [
        ...readdirSync(dir).filter((n) => n.endsWith('.csv')).map((n) => join(dir, n)),
        // Third-party files (extensions, national numbers, caller IDs in clid) with this reader's column counts.
        ...readdirSync(real).filter((n) => n.startsWith(`${format}-`) && n.endsWith('.csv')).map((n) => join(real, n)),
      ];
      for (const path of files) {
        const name = path;
        let options = {};
        try {
          options = JSON.parse(readFileSync(name.replace(/\.csv$/, '.options.json'), 'utf8'));
        } catch {
          /* no options */
        }
        const reader = createReader(format, options);
        if (!reader.parseBytes) continue;
        for (const raw of readFileSync(name, 'utf8').split('\n')) {
          const line = raw.replace(/\r$/, '');
          if (line !== '' && agree(reader, line) === 'fast') fast++;
        }
      }
      expect(fast).toBeGreaterThan(5);
    });
  }
});

// ---------- whole files: the ingestor with the fast path on and off ----------

async function ingest(file: string, fastPath: boolean, now: number) {
  const rt = new Runtime({
    db: ':memory:',
    bucketMs: 1000,
    globs: [file],
    readerOptions: { defaultCountryCode: '1', timezone: 'America/New_York' },
    resolver: CarrierResolver.fromFiles({ trunkMap: new URL('../../../examples/trunk-map.csv', import.meta.url).pathname }),
    settleMs: 0,
    oneShot: true,
    maxRecordBytes: 4096,
    futureToleranceMs: 3_600_000,
    chunkBytes: 64 * 1024, // many steps: lines and reads straddle step boundaries
    now: () => now,
    readers: {
      detectFormat,
      createReader: (format, options) => {
        const r = createReader(format, options);
        if (!fastPath) delete (r as { parseBytes?: unknown }).parseBytes;
        return r;
      },
    },
  });
  await rt.poll();
  rt.tailer.flushReaders();
  const snap = rt.snapshotAt(now);
  const result = {
    counts: rt.store.ingestCounts(),
    quarantine: rt.store.quarantined(1_000_000).map(({ at: _at, ...q }) => q),
    numbers: [...snap.numbers.values()].map((n) => JSON.stringify(n)).sort(),
  };
  await rt.close();
  return result;
}

describe('the ingestor gives the same result with the byte path on and off', () => {
  it('on a file of good, bad, non-ASCII, CRLF, BOM, over-long and future lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'numrep-bytes-'));
    const file = join(dir, 'Master.csv');
    const lines = fc.sample(lineArb, { numRuns: 3000, seed: 7 });
    const now = Date.parse('2026-11-22T18:00:00Z');
    const future = render(GOOD.map((v, i) => (i === 9 ? '2026-11-23 11:00:00' : v)), false);
    const text = '\ufeff' + render(GOOD, false) + '\r\n' + lines.join('\n') + '\n\n' + future + '\n' + 'x'.repeat(5000) + '\n' + render(GOOD, true) + '\r\n' + render(GOOD, false);
    writeFileSync(file, text);
    const fast = await ingest(file, true, now);
    const slow = await ingest(file, false, now);
    expect(fast).toEqual(slow);
    // The sampled good lines repeat the same few calls: most are one call read again (classified `leg`).
    const read = fast.counts.filter((c) => c.result !== 'rejected').reduce((s, c) => s + c.count, 0);
    const rejected = fast.counts.filter((c) => c.result === 'rejected').reduce((s, c) => s + c.count, 0);
    expect(read).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
    expect(fast.quarantine.some((q) => q.reason === 'future_timestamp')).toBe(true);
    expect(fast.quarantine.some((q) => q.reason === 'record_too_long')).toBe(true);
  });

  it('on a Kamailio acc log of good, bad, non-ASCII, CRLF and future lines (a reader with state)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'numrep-bytes-'));
    const file = join(dir, 'acc.log');
    const lines = fc.sample(kamLineArb, { numRuns: 3000, seed: 13 });
    // Three lines 2 days ahead of `now`: rejected as future whichever path read them.
    const future = [1, 2, 3].map((i) => `${KAM_PREFIX[0]}call missed: timestamp=${1795600000 + i};method=INVITE;from_tag=f;to_tag=t;call_id=future${i}@10.0.0.5;code=486;reason=Busy Here;src_user=+12025550101;src_ip=10.0.0.5;dst_user=+1312555019${i};dst_domain=10.0.0.5`);
    writeFileSync(file, [...lines.slice(0, 1500), ...future, ...lines.slice(1500).map((l, i) => (i % 97 === 0 ? l + '\r' : l))].join('\n') + '\n');
    const now = Date.parse('2026-11-22T18:00:00Z');
    const fast = await ingest(file, true, now);
    expect(fast).toEqual(await ingest(file, false, now));
    expect(fast.counts.filter((c) => c.format === 'kamailio' && c.result !== 'rejected').reduce((s, c) => s + c.count, 0)).toBeGreaterThan(100);
    expect(fast.quarantine.filter((q) => q.reason === 'future_timestamp')).toHaveLength(future.length);
    expect(fast.quarantine.length).toBeGreaterThan(100);
  });

  it('on a FreeSWITCH cdr_csv file of good and bad lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'numrep-bytes-'));
    const file = join(dir, 'Master.csv');
    const good = FS_GOOD.map(quote).join(',');
    writeFileSync(file, [good, good, ...fc.sample(fsLineArb, { numRuns: 3000, seed: 11 }), good].join('\n') + '\n');
    const now = Date.parse('2026-11-22T18:00:00Z');
    const fast = await ingest(file, true, now);
    expect(fast).toEqual(await ingest(file, false, now));
    expect(fast.counts.filter((c) => c.format === 'freeswitch' && c.result !== 'rejected').reduce((s, c) => s + c.count, 0)).toBeGreaterThan(100);
    expect(fast.quarantine.length).toBeGreaterThan(100);
  });
});

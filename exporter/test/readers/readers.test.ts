// Reader behaviour beyond the golden files: detection, options, state across restarts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createReader, detectFormat, formatIds, registerFormat, FORMATS } from '../../src/ingest/formats/index.js';
import { parseFreeswitchTemplate } from '../../src/ingest/formats/freeswitch.js';
import { KvLine } from '../../src/ingest/formats/kamailio.js';
import type { LineResult, Reader } from '../../src/ingest/reader.js';
import type { RawCall } from '../../src/model/types.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const EX = new URL('../../../examples/', import.meta.url).pathname;
const linesOf = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');

function records(reader: Reader, lines: string[], from = 0): RawCall[] {
  const out: RawCall[] = [];
  lines.forEach((l, i) => {
    const r: LineResult = reader.parseLine(l, { file: 'f', line: from + i + 1 });
    if (r.kind === 'records') out.push(...r.records);
  });
  return out;
}

describe('detectFormat', () => {
  const expected: Record<string, string | null> = {
    'asterisk/master-16.csv': 'asterisk',
    'asterisk/master-18.csv': 'asterisk',
    'asterisk/master-21.csv': 'asterisk',
    'freeswitch/default-13.csv': 'freeswitch',
    'freeswitch/example-15.csv': 'freeswitch',
    'freeswitch/custom-template.csv': null,
    'kamailio/syslog.log': 'kamailio',
    'kamailio/real-stock-stderr.log': 'kamailio',
    'kamailio/custom-keys.log': 'kamailio',
    'generic/calls.csv': 'generic',
  };
  for (const [f, want] of Object.entries(expected)) {
    it(`${f} → ${want}`, () => expect(detectFormat(linesOf(join(FIX, f)).slice(0, 10))).toBe(want));
  }
  it('knows a Kamailio log before its first acc line', () => {
    const head = linesOf(join(FIX, 'kamailio/real-stock-stderr.log')).slice(0, 7);
    expect(head.some((l) => l.includes('ACC: '))).toBe(false);
    expect(detectFormat(head)).toBe('kamailio');
    expect(detectFormat(['Nov 20 09:14:58 sbc1 /usr/sbin/kamailio[2211]: INFO: <core> [main.c:2820]: main(): processes'])).toBe('kamailio');
  });
  it('returns null for nothing or noise', () => {
    expect(detectFormat([])).toBeNull();
    expect(detectFormat(['', '\r'])).toBeNull();
    expect(detectFormat(['hello world', 'foo,bar'])).toBeNull();
  });
  it('detects every examples/ file', () => {
    const want: Record<string, string> = { 'Master.csv': 'asterisk', 'freeswitch.csv': 'freeswitch', 'kamailio-acc.log': 'kamailio', 'generic.csv': 'generic' };
    for (const f of readdirSync(EX)) if (want[f]) expect(detectFormat(linesOf(join(EX, f)).slice(0, 10)), f).toBe(want[f]);
  });
});

describe('registry', () => {
  it('knows the four formats and is extensible', () => {
    expect(formatIds()).toEqual(expect.arrayContaining(['asterisk', 'freeswitch', 'kamailio', 'generic']));
    const before = FORMATS.length;
    registerFormat({ id: 'test-only', description: 't', detect: (l) => (l[0] === 'TEST' ? 1 : 0), create: () => ({ format: 'test-only', parseLine: () => ({ kind: 'skip' }) }) });
    expect(detectFormat(['TEST'])).toBe('test-only');
    expect(createReader('test-only').format).toBe('test-only');
    FORMATS.splice(before);
  });
  it('refuses unknown formats and bad options', () => {
    expect(() => createReader('nope')).toThrow(/unknown format "nope"/);
    expect(() => createReader('asterisk', { timezone: 'Mars/Base' })).toThrow(/unknown time zone/);
    expect(() => createReader('asterisk', { defaultCountryCode: 'x' })).toThrow(/country calling code/);
    expect(() => createReader('generic', { columns: { callr: 'a' } })).toThrow(/unknown field "callr"/);
    expect(() => createReader('freeswitch', { template: ['uuid'] })).toThrow(/template lacks/);
  });
});

describe('FreeSWITCH templates', () => {
  it('parses a cdr_csv.conf.xml template string', () => {
    expect(parseFreeswitchTemplate('"${caller_id_number}","${destination_number}","${sip_term_status}"\n')).toEqual([
      'caller_id_number', 'destination_number', 'sip_term_status',
    ]);
  });
  it('accepts ${var} or bare names in options.template', () => {
    const r = createReader('freeswitch', { template: ['${caller_id_number}', 'destination_number', '${start_stamp}', 'hangup_cause', 'billsec'] });
    const out = records(r, ['"+12025550101","+12125550142","2026-11-20 09:15:02","NORMAL_CLEARING","12"']);
    expect(out[0]).toMatchObject({ caller: '+12025550101', outcome: 'answered', talkSec: 12 });
  });
});

describe('rejections never contain the called number', () => {
  it('across every fixture', () => {
    for (const fmt of ['asterisk', 'freeswitch', 'kamailio', 'generic']) {
      for (const f of readdirSync(join(FIX, fmt)).filter((x) => /\.(csv|log)$/.test(x))) {
        const reader = createReader(fmt, f.includes('options') ? {} : tryOptions(join(FIX, fmt, f)));
        linesOf(join(FIX, fmt, f)).forEach((l, i) => {
          const r = reader.parseLine(l, { file: f, line: i + 1 });
          if (r.kind === 'reject') {
            const digits = r.rejection.detail.match(/\d{7,}/g) ?? [];
            expect(digits, `${f}:${i + 1} ${r.rejection.detail}`).toEqual([]);
            expect(r.rejection.reason).toMatch(/^[a-z_]+$/);
          }
        });
      }
    }
  });
});

function tryOptions(p: string) {
  try {
    return JSON.parse(readFileSync(p.replace(/\.(csv|log)$/, '.options.json'), 'utf8'));
  } catch {
    return {};
  }
}

describe('Kamailio state across a restart', () => {
  const lines = linesOf(join(FIX, 'kamailio/syslog.log'));
  it('snapshot/restore at every line gives the same records as one run', () => {
    const one = createReader('kamailio');
    const want = [...records(one, lines), ...one.flush!()];
    for (let cut = 0; cut <= lines.length; cut++) {
      const a = createReader('kamailio');
      const first = records(a, lines.slice(0, cut));
      const state = JSON.parse(JSON.stringify(a.snapshot!()));
      const b = createReader('kamailio');
      b.restore!(state);
      const second = records(b, lines.slice(cut), cut);
      expect([...first, ...second, ...b.flush!()], `cut at ${cut}`).toEqual(want);
    }
  });
  it('restore(undefined) starts empty', () => {
    const r = createReader('kamailio');
    r.restore!(undefined);
    expect(r.flush!()).toEqual([]);
  });
  it('counts a failure logged twice (failed_transaction_flag) once', () => {
    const r = createReader('kamailio');
    const recs = records(r, linesOf(join(FIX, 'kamailio/real-failed-flag-stderr.log')));
    expect(recs.map((x) => x.outcome)).toEqual(['answered', 'busy', 'cancelled', 'rejected', 'blocked', 'blocked', 'no_answer', 'answered']);
  });
});

describe('generic header across a restart', () => {
  it('keeps the header in the snapshot', () => {
    const lines = linesOf(join(FIX, 'generic/calls.csv'));
    const a = createReader('generic');
    const want = records(a, lines);
    const b = createReader('generic');
    records(b, lines.slice(0, 5));
    const c = createReader('generic');
    c.restore!(JSON.parse(JSON.stringify(b.snapshot!())));
    const rest = records(c, lines.slice(5), 5);
    expect(rest).toEqual(want.slice(4));
  });
  it('treats line 1 of each new file as its header', () => {
    const r = createReader('generic');
    const f1 = ['caller,called,start,sip_code', '+12025550101,+12125550142,2026-11-20T09:15:02Z,200'];
    const f2 = ['start,sip_code,called,caller', '2026-11-20T09:16:02Z,486,+12125550143,+12025550101'];
    const out = [...records(r, f1), ...records(r, f2)];
    expect(out.map((x) => x.outcome)).toEqual(['answered', 'busy']);
  });
});

describe('examples/', () => {
  it('every sample reads without a rejection and resolves to att, verizon or tmobile', async () => {
    const { CarrierResolver } = await import('../../src/model/carrier.js');
    const resolver = CarrierResolver.fromFiles({ trunkMap: join(EX, 'trunk-map.csv'), prefixMap: join(EX, 'prefix-map.csv') });
    for (const f of ['Master.csv', 'freeswitch.csv', 'kamailio-acc.log', 'generic.csv']) {
      const lines = linesOf(join(EX, f));
      const reader = createReader(detectFormat(lines.slice(0, 10))!);
      const recs: RawCall[] = [];
      lines.forEach((l, i) => {
        const r = reader.parseLine(l, { file: f, line: i + 1 });
        expect(r.kind, `${f}:${i + 1}`).not.toBe('reject');
        if (r.kind === 'records') recs.push(...r.records);
      });
      recs.push(...(reader.flush?.() ?? []));
      expect(recs.length, f).toBeGreaterThanOrEqual(30);
      expect(new Set(recs.map((r) => resolver.resolve(r))), f).toEqual(new Set(['att', 'verizon', 'tmobile']));
      expect(new Set(recs.map((r) => r.caller)).size, f).toBeGreaterThanOrEqual(4);
    }
  });
});

describe('Kamailio held calls: expiry order, re-used call ids, double-logged failures', () => {
  // A reference with the plain semantics (a Map in insertion order, a Set of failure keys trimmed
  // from the oldest), against the reader's queue-based bookkeeping, on random traffic.
  type Ev = { method: 'INVITE' | 'BYE'; id: string; ts: number; code: number; tag: string };
  function reference(events: Ev[], maxMs: number, maxSeen: number) {
    const pending = new Map<string, { ts: number; code: number }>();
    const seen = new Set<string>();
    let newest = 0;
    const out: string[] = [];
    for (const e of events) {
      if (e.ts > newest) newest = e.ts;
      if (e.method === 'BYE') {
        const h = pending.get(e.id);
        if (h) {
          pending.delete(e.id);
          out.push(`${h.ts}:${Math.max(0, Math.round((e.ts - h.ts) / 1000))}:${h.code}`);
        }
      } else if (e.code >= 300) {
        const k = `${e.id}|${e.tag}|${e.code}`;
        if (!seen.has(k)) {
          seen.add(k);
          if (seen.size > maxSeen) seen.delete(seen.values().next().value as string);
          out.push(`${e.ts}:0:${e.code}`);
        }
      } else if (!pending.has(e.id)) pending.set(e.id, { ts: e.ts, code: e.code });
      for (const [id, h] of pending) {
        if (h.ts >= newest - maxMs) break;
        pending.delete(id);
        out.push(`${h.ts}:0:${h.code}`);
      }
    }
    for (const h of pending.values()) out.push(`${h.ts}:0:${h.code}`);
    return out;
  }
  const line = (e: Ev) =>
    `Nov 22 11:00:00 sbc1 /usr/sbin/kamailio[1]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: transaction answered: timestamp=${e.ts / 1000};method=${e.method};from_tag=f;to_tag=${e.tag};call_id=${e.id};code=${e.code};reason=X;src_user=+12025550252;dst_user=+12125555772;dst_domain=tmo.sip.example.net`;

  it('emits the same records in the same order as the reference, with snapshots taken along the way', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('INVITE', 'INVITE', 'BYE') as fc.Arbitrary<'INVITE' | 'BYE'>, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 900 }), fc.constantFrom(200, 200, 486, 487, 603), fc.constantFrom('a', 'b')), { minLength: 100, maxLength: 400, size: 'max' }),
        fc.integer({ min: 0, max: 400 }),
        (raw, cut) => {
          let ts = 1_795_345_200_000;
          const events: Ev[] = raw.map(([method, id, dt, code, tag]) => ({ method, id: `c${id}`, ts: (ts += dt * 1000), code, tag }));
          const want = reference(events, 3600_000, 10_000);
          const options = { kamailio: { callerKey: 'src_user', calleeKey: 'dst_user', domainKey: 'dst_domain', maxCallSeconds: 3600 } };
          let r = createReader('kamailio', options);
          const got: string[] = [];
          events.forEach((e, i) => {
            if (i === cut) {
              const state = JSON.parse(JSON.stringify(r.snapshot!()));
              r = createReader('kamailio', options);
              r.restore!(state);
            }
            const res = r.parseLine(line(e), { file: 't', line: i + 1 });
            if (res.kind === 'records') for (const c of res.records) got.push(`${c.ts}:${c.talkSec}:${c.sipCode}`);
          });
          for (const c of r.flush!()) got.push(`${c.ts}:${c.talkSec}:${c.sipCode}`);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Kamailio KvLine answers as the Map of trimmed pairs it replaced', () => {
  // The former parser, kept here as the oracle.
  function parseKv(text: string): Map<string, string> {
    const m = new Map<string, string>();
    let i = 0;
    const len = text.length;
    while (i < len) {
      let semi = text.indexOf(';', i);
      if (semi < 0) semi = len;
      const eq = text.indexOf('=', i);
      if (eq > i && eq < semi) m.set(text.slice(i, eq).trim(), text.slice(eq + 1, semi).trim());
      i = semi + 1;
    }
    return m;
  }
  it('on random key=value text with spaces, duplicates and stray separators', () => {
    const kv = new KvLine();
    const part = fc.constantFrom('a', 'b', 'code', 'call_id', '=', '=', ';', ';', ' ', '\t', '\u00a0', '\u3000', 'x y', '200', '');
    const keys = ['a', 'b', 'code', 'call_id', 'x y', '', ' a', 'c'];
    fc.assert(
      fc.property(fc.array(part, { maxLength: 40, size: 'max' }).map((a) => a.join('')), (text) => {
        const want = parseKv(text);
        kv.load(text);
        for (const k of [...keys, ...want.keys()]) expect(kv.get(k), `${JSON.stringify(text)} ${JSON.stringify(k)}`).toBe(want.get(k));
      }),
      { numRuns: 5000 },
    );
  });
  it('grows past 32 pairs', () => {
    const text = Array.from({ length: 100 }, (_, i) => `k${i}=v${i}`).join(';');
    const kv = new KvLine().load(text);
    expect(kv.get('k0')).toBe('v0');
    expect(kv.get('k99')).toBe('v99');
  });
});

// Reader behaviour beyond the golden files: detection, options, state across restarts.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createReader, detectFormat, formatIds, registerFormat, FORMATS } from '../../src/ingest/formats/index.js';
import { parseFreeswitchTemplate } from '../../src/ingest/formats/freeswitch.js';
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

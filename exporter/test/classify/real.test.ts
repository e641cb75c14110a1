import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runReport, type ReportFlags } from '../../src/cli/report.js';
import { splitCsv } from '../../src/ingest/csv.js';
import { tmp } from '../core/helpers.js';

// Real third-party CDR files (excerpts under test/fixtures/real/, sources in SOURCES.md), read the way a
// user would: the counts are checked against plain loops over the same files, and no consumer number may
// appear anywhere in the output.

const REAL = new URL('../fixtures/real/', import.meta.url).pathname;

async function report(files: string[], flags: ReportFlags = {}) {
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const { json, ingest } = await runReport(files, flags);
    return { json, ingest, text: JSON.stringify(json) + '\n' + err.join('') };
  } finally {
    process.stderr.write = write;
  }
}

/** Every run of 7+ digits in a text (the numbers it shows, in any form). */
const digitRuns = (text: string) => new Set((text.match(/\d{7,}/g) ?? []).map((d) => d.replace(/^0+/, '')));

function config(yaml: string): string {
  const f = join(tmp('numrep-real-'), 'numrep.yml');
  writeFileSync(f, yaml);
  return f;
}

describe('a real call centre’s PBX GUI export (Grandstream UCM, Uzbekistan: header, 9-digit national numbers, "Agent" <DID>, inbound IVR and queue legs)', () => {
  const file = join(REAL, 'grandstream-ucm-uz-export.csv');
  const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => splitCsv(l));
  const h = rows[0];
  const col = (r: string[], name: string) => r[h.indexOf(name)];
  const body = rows.slice(1);
  // The oracle: the export's own direction column (Log Userfield) and disposition.
  const outbound = body.filter((r) => col(r, 'Log Userfield') === 'Outbound');
  const answered = outbound.filter((r) => col(r, 'Disposition') === 'ANSWERED').length;
  const consumers = new Set<string>();
  for (const r of body) {
    for (const v of [col(r, 'Caller Number'), col(r, 'Callee Number'), col(r, 'Answered by')]) if (/^\d{9}$/.test(v) && !['788888484', '787778484'].includes(v)) consumers.add(v);
  }

  const expectOurDids = (j: Awaited<ReturnType<typeof report>>) => {
    expect(j.json.numbers.map((n) => n.number)).toEqual(['+998788888484']);
    for (const w of ['24h', '7d'] as const) {
      expect(j.json.numbers[0].windows[w].calls).toBe(outbound.length);
      expect(j.json.numbers[0].windows[w].answered).toBe(answered);
    }
    const shown = digitRuns(j.text);
    for (const c of consumers) {
      expect(shown.has(c)).toBe(false);
      expect(shown.has('998' + c)).toBe(false);
    }
  };

  it('with default_country_code and generic.columns.direction: exactly its outbound DID in E.164, exact 24h/7d calls and answers', async () => {
    expect(outbound.length).toBe(8);
    expect(consumers.size).toBeGreaterThan(10);
    const j = await report([file], { config: config('default_country_code: "998"\ntimezone: Asia/Tashkent\ngeneric:\n  columns:\n    direction: Log Userfield\n') });
    expectOurDids(j);
    expect(j.ingest).toMatchObject({ records: body.length, accepted: outbound.length, rejected: {} });
  });

  it('without the direction column, with track: inventory and report --inventory: the same', async () => {
    const dir = tmp('numrep-real-inv-');
    writeFileSync(join(dir, 'inventory.csv'), 'number,pool\n788888484,sales\n787778484,sales\n');
    const j = await report([file], { countryCode: '998', timezone: 'Asia/Tashkent', track: 'inventory', inventory: join(dir, 'inventory.csv') });
    expectOurDids(j);
  });

  it('by region (UZ) instead of calling code: the same numbers', async () => {
    const j = await report([file], { region: 'UZ', timezone: 'Asia/Tashkent', config: config('generic:\n  columns:\n    direction: Log Userfield\n') });
    expectOurDids(j);
  });
});

describe('PBXs that log only internal calls give no number, their rows skipped as internal, none rejected', () => {
  for (const name of ['asterisk-18col-freepbx-followme-lab.csv', 'asterisk-18col-callfile-internal-lab.csv', 'freepbx-cdrreport-export-pt.csv', 'freeswitch-resaved-unquoted.csv']) {
    it(name, async () => {
      const file = join(REAL, name);
      const lines = readFileSync(file, 'utf8').trim().split('\n').length - (name.includes('export') ? 1 : 0);
      const j = await report([file]);
      expect(j.json.numbers).toEqual([]);
      expect(j.ingest.rejected).toEqual({});
      expect(j.ingest.skipped.internal).toBe(lines);
      expect(j.ingest.records).toBe(lines);
    });
  }
});

describe('inbound calls never make the caller a tracked number', () => {
  it('a real Asterisk PBX taking inbound calls on its trunks (Russia, 21 columns): no number', async () => {
    const j = await report([join(REAL, 'asterisk-21col-stadion-buryatia.csv')], { countryCode: '7' });
    expect(j.json.numbers).toEqual([]);
    expect(j.ingest.accepted).toBe(0);
    expect(j.ingest.skipped.inbound).toBeGreaterThan(40);
  });

  it('a real call centre’s database export (PBXware, US): with the caller map, only its DIDs; callers who rang in never', async () => {
    const file = join(REAL, 'pbxware-mysql-cdr-export-us.csv');
    const dir = tmp('numrep-real-map-');
    writeFileSync(join(dir, 'caller-map.csv'), ['extension,number', ...['1101', '1103', '1112', '1115', '1125', '1126', '1141', '1142', '3318', '3323', '5005'].map((e) => `${e},+12484363600`)].join('\n') + '\n');
    const j = await report([file], { callerMap: join(dir, 'caller-map.csv'), timezone: 'America/New_York' });
    expect(j.json.numbers.map((n) => n.number)).toEqual(['+12484363600']);
    // Inbound callers of this file: src of the rows that came in on the VIOrig trunk.
    for (const c of ['13022662555', '17327902266', '17327075550', '18594000777', '3022662555']) expect(digitRuns(j.text).has(c)).toBe(false);
    expect(j.ingest.skipped.inbound).toBeGreaterThanOrEqual(5);
  });

  it('an Asterisk Master.csv with an inbound call on a trunk of the trunk map tracks only our number', async () => {
    // FreePBX shapes: an extension dialling out through the att trunk presenting our DID, and a consumer calling
    // that DID in on the same trunk (context `default`, so only the trunk map can tell it came in).
    const q = (v: string) => `"${v}"`;
    const line = (src: string, dst: string, ctx: string, clid: string, ch: string, dch: string, start: string, disp: string, uid: string) =>
      [q(''), q(src), q(dst), q(ctx), q(clid), q(ch), q(dch), q('Dial'), q(''), q(start), disp === 'ANSWERED' ? q(start) : '', q(start), '30', disp === 'ANSWERED' ? '30' : '0', q(disp), q('DOCUMENTATION'), q(uid), q('')].join(',');
    const dir = tmp('numrep-real-trunk-');
    writeFileSync(join(dir, 'Master.csv'), [
      line('101', '3105551001', 'macro-dialout-trunk', '"Sales" <2025550101>', 'SIP/101-00000001', 'SIP/att-trunk-00000002', '2026-11-20 09:00:00', 'ANSWERED', '1795165200.1'),
      line('3125559876', '2025550101', 'default', '"CALLER" <3125559876>', 'SIP/att-trunk-00000003', 'SIP/101-00000004', '2026-11-20 09:05:00', 'ANSWERED', '1795165500.3'),
      line('3125559877', '2025550101', 'default', '"" <3125559877>', 'SIP/att-trunk-00000005', '', '2026-11-20 09:06:00', 'NO ANSWER', '1795165560.5'),
    ].join('\n') + '\n');
    writeFileSync(join(dir, 'trunk-map.csv'), 'trunk,carrier\natt-trunk,att\n');
    const j = await report([join(dir, 'Master.csv')], { trunkMap: join(dir, 'trunk-map.csv') });
    expect(j.json.numbers.map((n) => n.number)).toEqual(['+12025550101']);
    expect(j.json.numbers[0].windows['7d'].calls).toBe(1);
    expect(j.ingest.skipped).toEqual({ inbound: 2 });
    expect(digitRuns(j.text).has('3125559876')).toBe(false);
    expect(digitRuns(j.text).has('13125559877')).toBe(false);
  });
});

describe('real FreeSWITCH files', () => {
  it('public-context rows are inbound; dialled numbers a switch cannot place are rejected with the column named, never counted as callers', async () => {
    const j = await report([join(REAL, 'freeswitch-15col-bleg-public-scan-uk.csv')]);
    expect(j.json.numbers).toEqual([]);
    expect(j.ingest.skipped.inbound).toBeGreaterThan(0);
  });

  it('an outside-line prefix left in the dialled number: named in the rejection, read with dial_prefixes', async () => {
    const file = join(REAL, 'freeswitch-15col-dialprefix-probe-il.csv');
    const plain = await report([file]);
    expect(plain.text).toContain('set dial_prefixes');
    const dir = tmp('numrep-real-prefix-');
    writeFileSync(join(dir, 'caller-map.csv'), 'extension,number\n1000,+12025550100\n1100,+12025550100\n');
    const j = await report([file], { config: config('dial_prefixes: ["9", "8"]\n'), callerMap: join(dir, 'caller-map.csv') });
    expect(j.json.numbers.map((n) => n.number)).toEqual(['+12025550100']);
    expect(Object.values(j.ingest.rejected).reduce((a, b) => a + b, 0)).toBeLessThan(Object.values(plain.ingest.rejected).reduce((a, b) => a + b, 0));
  });
});

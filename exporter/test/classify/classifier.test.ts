import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runReport, type ReportFlags } from '../../src/cli/report.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { tmp } from '../core/helpers.js';

// The classification stage end to end, through `numrep report` and a serve-like Runtime: one attempt
// counted once however many rows it has, the same call counted once however often it arrives, and every
// row accounted for (records = accepted + skipped + rejected).

/** An Asterisk cdr_csv row (18 columns: uniqueid and userfield). */
function ast(o: {
  src: string; dst: string; ctx?: string; clid?: string; channel: string; dstchannel?: string; start: string; answer?: string;
  billsec?: number; duration?: number; disp: string; uid: string; app?: string;
}): string {
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  return [q(''), q(o.src), q(o.dst), q(o.ctx ?? 'from-internal'), q(o.clid ?? ''), q(o.channel), q(o.dstchannel ?? ''), q(o.app ?? 'Dial'), q(''),
    q(o.start), o.answer ? q(o.answer) : '', q(o.start), String(o.duration ?? o.billsec ?? 0), String(o.billsec ?? 0), q(o.disp), q('DOCUMENTATION'), q(o.uid), q('')].join(',');
}

/** The same with linkedid and sequence (21 columns). */
function ast21(o: Parameters<typeof ast>[0] & { linkedid: string; seq: number }): string {
  return `${ast(o)},"",${JSON.stringify(o.linkedid)},${o.seq}`;
}

async function report(files: Record<string, string>, flags: ReportFlags = {}) {
  const dir = tmp('numrep-classify-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const { json, ingest } = await runReport(Object.keys(files).map((f) => join(dir, f)), flags);
  const calls = Object.fromEntries(json.numbers.map((n) => [n.number, n.windows['7d'].outcomes]));
  const sum = ingest.accepted + Object.values(ingest.skipped).reduce((s, v) => s + (v ?? 0), 0) + Object.values(ingest.rejected).reduce((s, v) => s + v, 0);
  expect(sum).toBe(ingest.records);
  return { json, ingest, calls, dir };
}

const O = (answered = 0, extra: Record<string, number> = {}) => ({ answered, voicemail: 0, cancelled: 0, no_answer: 0, busy: 0, rejected: 0, blocked: 0, failed: 0, ...extra });

describe('one attempt, one count (legs)', () => {
  it('trunk failover: three rows of one uniqueid count once, with the best leg’s outcome', async () => {
    const rows = [
      ast({ src: '+12025550101', dst: '2485261900', channel: 'PJSIP/1115-00000007', dstchannel: 'PJSIP/VIOrig-00000008', start: '2026-11-20 10:00:00', disp: 'FAILED', uid: '1795168800.9' }),
      ast({ src: '+12025550101', dst: '2485261900', channel: 'PJSIP/1115-00000007', dstchannel: 'PJSIP/VITerm-00000009', start: '2026-11-20 10:00:01', disp: 'CONGESTION', uid: '1795168800.9' }),
      ast({ src: '+12025550101', dst: '2485261900', channel: 'PJSIP/1115-00000007', dstchannel: 'PJSIP/thinQ-0000000a', start: '2026-11-20 10:00:02', answer: '2026-11-20 10:00:09', billsec: 40, duration: 47, disp: 'ANSWERED', uid: '1795168800.9' }),
    ];
    const r = await report({ 'Master.csv': rows.join('\n') + '\n' });
    expect(r.calls).toEqual({ '+12025550101': O(1) });
    expect(r.ingest).toMatchObject({ records: 3, accepted: 1, skipped: { leg: 2 }, rejected: {} });
    // The attempt started when its first leg did.
    expect(r.json.numbers[0].first_seen).toBe('2026-11-20T10:00:00Z');
  });

  it('Local ;1 and ;2 halves (different uniqueids, 18 columns) are one call; so are parallel-ring rows and ForkCDR rows', async () => {
    const rows = [
      // A dialer originates Local/…;1, whose ;2 half dials the trunk.
      ast({ src: '+12025550101', dst: '+13105551001', ctx: 'from-dialer', channel: 'Local/+13105551001@outbound-0000002a;2', dstchannel: 'PJSIP/verizon-00000600', start: '2026-11-20 11:00:00', answer: '2026-11-20 11:00:10', billsec: 30, disp: 'ANSWERED', uid: '1795172400.100' }),
      ast({ src: '+12025550101', dst: '+13105551001', ctx: 'from-dialer', channel: 'Local/+13105551001@outbound-0000002a;1', dstchannel: 'SIP/8001-00000601', start: '2026-11-20 11:00:00', answer: '2026-11-20 11:00:10', billsec: 30, disp: 'ANSWERED', uid: '1795172400.99' }),
      // Dial(SIP/a&SIP/b): one row per ringing destination, one uniqueid.
      ast({ src: '+12025550102', dst: '+13105551002', channel: 'SIP/101-00000010', dstchannel: 'SIP/att-trunk-00000011', start: '2026-11-20 11:05:00', disp: 'NO ANSWER', uid: '1795172700.1' }),
      ast({ src: '+12025550102', dst: '+13105551002', channel: 'SIP/101-00000010', dstchannel: 'SIP/verizon-00000012', start: '2026-11-20 11:05:00', answer: '2026-11-20 11:05:04', billsec: 12, disp: 'ANSWERED', uid: '1795172700.1' }),
      // ForkCDR: the same call written twice.
      ast({ src: '+12025550103', dst: '+13105551003', channel: 'SIP/102-00000020', dstchannel: 'SIP/att-trunk-00000021', start: '2026-11-20 11:10:00', disp: 'BUSY', uid: '1795173000.2', app: 'ForkCDR' }),
      ast({ src: '+12025550103', dst: '+13105551003', channel: 'SIP/102-00000020', dstchannel: 'SIP/att-trunk-00000021', start: '2026-11-20 11:10:00', disp: 'BUSY', uid: '1795173000.2' }),
    ];
    const r = await report({ 'Master.csv': rows.join('\n') + '\n' });
    expect(r.calls).toEqual({ '+12025550101': O(1), '+12025550102': O(1), '+12025550103': O(0, { busy: 1 }) });
    expect(r.ingest).toMatchObject({ records: 6, accepted: 3, skipped: { leg: 3 } });
  });

  it('21 columns: rows of one linkedid are one attempt (a queue leg, a transfer leg)', async () => {
    const rows = [
      ast21({ src: '+12025550104', dst: '+13105551004', channel: 'SIP/103-00000030', dstchannel: 'SIP/att-trunk-00000031', start: '2026-11-20 12:00:00', disp: 'NO ANSWER', uid: '1795176000.5', linkedid: '1795176000.5', seq: 5 }),
      ast21({ src: '+12025550104', dst: '+13105551004', channel: 'SIP/att-trunk-00000031', dstchannel: 'SIP/104-00000032', start: '2026-11-20 12:00:02', answer: '2026-11-20 12:00:03', billsec: 60, disp: 'ANSWERED', uid: '1795176002.6', linkedid: '1795176000.5', seq: 6 }),
    ];
    const r = await report({ 'Master.csv': rows.join('\n') + '\n' });
    expect(r.calls).toEqual({ '+12025550104': O(0, { no_answer: 1 }) });
    expect(r.ingest.skipped).toEqual({ leg: 1 });
  });

  it('FreeSWITCH a and b legs (uuid / bleg_uuid) are one call', async () => {
    const a = '"Acme","+12025550105","+13105551005","default","2026-11-20 13:00:00","2026-11-20 13:00:05","2026-11-20 13:01:00","60","55","NORMAL_CLEARING","aaaa-1","bbbb-1","att-gw"';
    const b = '"Acme","+12025550105","+13105551005","default","2026-11-20 13:00:01","2026-11-20 13:00:05","2026-11-20 13:01:00","59","55","NORMAL_CLEARING","bbbb-1","","att-gw"';
    const r = await report({ 'Master.csv': `${a}\n${b}\n` });
    expect(r.calls).toEqual({ '+12025550105': O(1) });
    expect(r.ingest).toMatchObject({ accepted: 1, skipped: { leg: 1 } });
  });

  it('generic call_id: rows with one id are one call, the best outcome wins', async () => {
    const csv = 'call_id,caller,called,start,sip_code,billsec\nc1,+12025550106,+13105551006,2026-11-20T14:00:00Z,503,0\nc1,+12025550106,+13105551006,2026-11-20T14:00:03Z,487,0\nc2,+12025550106,+13105551007,2026-11-20T14:05:00Z,486,0\n';
    const r = await report({ 'calls.csv': csv });
    expect(r.calls).toEqual({ '+12025550106': O(0, { cancelled: 1, busy: 1 }) });
  });

  it('a leg read in a later step is still recognised (by its key), as a leg of the same file', async () => {
    const dir = tmp('numrep-legs-');
    const file = join(dir, 'Master.csv');
    const filler = Array.from({ length: 400 }, (_, i) =>
      ast({ src: '+12025550107', dst: `+1312${2000000 + i}`, channel: `SIP/105-${(i + 256).toString(16).padStart(8, '0')}`, dstchannel: 'SIP/att-trunk-00000001', start: `2026-11-20 15:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, disp: 'NO ANSWER', uid: `1795180000.${i + 1000}` }));
    const first = ast({ src: '+12025550108', dst: '+13105551008', channel: 'SIP/106-00000001', dstchannel: 'SIP/att-trunk-00000002', start: '2026-11-20 16:00:00', disp: 'FAILED', uid: '1795183200.1' });
    const later = ast({ src: '+12025550108', dst: '+13105551008', channel: 'SIP/106-00000001', dstchannel: 'SIP/verizon-00000003', start: '2026-11-20 16:00:01', disp: 'NO ANSWER', uid: '1795183200.1' });
    writeFileSync(file, [first, ...filler, later].join('\n') + '\n');
    const rt = new Runtime({ db: ':memory:', bucketMs: 1000, globs: [file], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), settleMs: 0, oneShot: true, maxRecordBytes: 65536, chunkBytes: 16 * 1024, now: Date.now });
    await rt.poll();
    const counts = Object.fromEntries(rt.store.ingestCounts().map((c) => [`${c.result}:${c.reason}`, c.count]));
    expect(counts).toEqual({ 'accepted:ok': 401, 'skipped:leg': 1 });
    // The first leg's outcome stands: the later one arrived after the attempt was counted.
    expect(rt.store.totals().filter((t) => t.number === '+12025550108').map((t) => t.outcome)).toEqual(['failed']);
    await rt.close();
  });
});

describe('which columns join legs, and calls that came in', () => {
  it('19 and 20 columns (newcdrcolumns without uniqueid or userfield): rows of one linkedid join; peeraccount does not', async () => {
    const base = ast({ src: '+12025550110', dst: '+13105551010', channel: 'SIP/107-00000040', dstchannel: 'SIP/att-trunk-00000041', start: '2026-11-20 12:30:00', disp: 'NO ANSWER', uid: 'unused' });
    const cols16 = base.split(',').slice(0, 16).join(',');
    // 19 columns: 16 + peeraccount, linkedid, sequence. Two calls share a peeraccount; one has two rows.
    const r19 = [
      `${cols16},"acct-1","1795177800.1",1`,
      `${cols16.replace('12:30:00', '12:30:02').replace('NO ANSWER', 'ANSWERED')},"acct-1","1795177800.1",2`,
      `${cols16.replace('+13105551010', '+13105551011').replace('12:30:00', '12:31:00')},"acct-1","1795177860.3",3`,
    ];
    const a = await report({ 'Master.csv': r19.join('\n') + '\n' });
    expect(a.calls).toEqual({ '+12025550110': O(1, { no_answer: 1 }) });
    // 20 columns: 16 + uniqueid + peeraccount, linkedid, sequence.
    const r20 = r19.map((l, i) => l.replace(',"acct-1"', `,"1795177800.${10 + i}","acct-1"`));
    const b = await report({ 'Master.csv': r20.join('\n') + '\n' });
    expect(b.calls).toEqual(a.calls);
  });

  it('a call that began inbound is inbound as a whole (Twilio: an outbound-dial child of an inbound call)', async () => {
    const csv = 'Sid,Parent Call Sid,From,To,Status,Start Time,End Time,Duration,Direction\n' +
      'CA1,,+13105551020,+12025550111,completed,2026-11-20 10:00:00 UTC,2026-11-20 10:02:00 UTC,110,inbound\n' +
      'CA2,CA1,+12025550111,+14155551021,completed,2026-11-20 10:00:05 UTC,2026-11-20 10:02:00 UTC,100,outbound-dial\n' +
      'CA3,,+12025550111,+14155551022,no-answer,2026-11-20 10:10:00 UTC,2026-11-20 10:10:30 UTC,0,outbound-api\n';
    const r = await report({ 'calls.csv': csv });
    expect(r.calls).toEqual({ '+12025550111': O(0, { no_answer: 1 }) });
    expect(r.ingest.skipped).toEqual({ inbound: 2 });
  });

  it('the caller map matches an extension however the caller field wraps it ("Bob" <101>, sip:101@pbx)', async () => {
    const dir = tmp('numrep-callermap2-');
    writeFileSync(join(dir, 'caller-map.csv'), 'extension,number\n101,+12025550101\n');
    const csv = 'caller,called,start,disposition\n"""Bob"" <101>",+13105551030,2026-11-20T10:00:00Z,ANSWERED\nsip:101@pbx.example,+13105551031,2026-11-20T10:01:00Z,BUSY\n';
    const r = await report({ 'calls.csv': csv }, { callerMap: join(dir, 'caller-map.csv') });
    expect(r.calls).toEqual({ '+12025550101': O(1, { busy: 1 }) });
  });
});

describe('the same call counted once (duplicate_call)', () => {
  const day = (i: number) =>
    ast({ src: `+1202555010${i % 5}`, dst: `+1312${2000000 + i}`, channel: `SIP/${101 + (i % 3)}-${(0x100 + i).toString(16).padStart(8, '0')}`, dstchannel: `SIP/att-trunk-${(0x900 + i).toString(16).padStart(8, '0')}`, start: `2026-11-20 ${String(8 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`, answer: i % 2 ? `2026-11-20 ${String(8 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:05` : undefined, billsec: i % 2 ? 30 : 0, disp: i % 2 ? 'ANSWERED' : 'NO ANSWER', uid: `1795161600.${i}` });
  const rows = Array.from({ length: 60 }, (_, i) => day(i));

  it('two overlapping daily exports (60 calls + 6 of the same again) count 60', async () => {
    const r = await report({ 'a/Master-1.csv': rows.join('\n') + '\n', 'b/Master-2.csv': rows.slice(54).join('\n') + '\n' });
    const total = Object.values(r.calls).reduce((s, o) => s + Object.values(o).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(60);
    expect(r.ingest).toMatchObject({ records: 66, accepted: 60, skipped: { duplicate_call: 6 } });
  });

  it('a folder holding the same file twice counts it once', async () => {
    const text = rows.join('\n') + '\n';
    const once = await report({ 'Master.csv': text });
    const twice = await report({ 'Master.csv': text, 'Master-export-copy.csv': text });
    expect(twice.calls).toEqual(once.calls);
    expect(twice.ingest.skipped).toEqual({ duplicate_call: 60 });
  });

  it('the same calls in two formats (Asterisk and a generic export with no ids) count once, by caller, called and start second', async () => {
    const csv = 'caller,called,start,billsec,disposition\n' + Array.from({ length: 60 }, (_, i) => {
      const t = `2026-11-20T${String(8 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`;
      return `+1202555010${i % 5},+1312${2000000 + i},${t},${i % 2 ? 30 : 0},${i % 2 ? 'ANSWERED' : 'NO ANSWER'}`;
    }).join('\n') + '\n';
    const both = await report({ 'Master.csv': rows.join('\n') + '\n', 'export.csv': csv });
    const one = await report({ 'Master.csv': rows.join('\n') + '\n' });
    expect(both.calls).toEqual(one.calls);
    expect(both.ingest.skipped).toEqual({ duplicate_call: 60 });
  });

  it('serve: an overlapping export dropped later, even after a restart, counts once (the keys are durable)', async () => {
    const dir = tmp('numrep-dup-serve-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const db = join(dir, 'numrep.db');
    const now = Date.parse('2026-11-20T18:00:00Z');
    const open = () => new Runtime({ db, bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65536, now: () => now });
    writeFileSync(join(inbox, 'day-1.csv'), rows.slice(0, 40).join('\n') + '\n');
    let rt = open();
    await rt.poll();
    await rt.close();
    writeFileSync(join(inbox, 'day-1-again.csv'), rows.slice(30).join('\n') + '\n');
    rt = open();
    await rt.poll();
    const counts = Object.fromEntries(rt.store.ingestCounts().map((c) => [`${c.result}:${c.reason}`, c.count]));
    expect(counts).toEqual({ 'accepted:ok': 60, 'skipped:duplicate_call': 10 });
    expect(rt.store.totals().reduce((s, t) => s + t.count, 0)).toBe(60);
    await rt.close();
  });
});

describe('whose calls', () => {
  const ext = (src: string, i: number, clid = '') =>
    ast({ src, dst: `+1312${2000000 + i}`, clid, channel: `SIP/${src}-${(0x300 + i).toString(16).padStart(8, '0')}`, dstchannel: `SIP/att-trunk-${(0x400 + i).toString(16).padStart(8, '0')}`, start: `2026-11-20 09:${String(i).padStart(2, '0')}:00`, disp: 'NO ANSWER', uid: `1795165200.${i}` });

  it('an extension dialling out with no presentable caller ID is skipped as no_caller_id; the caller map gives it its DID', async () => {
    const text = [ext('101', 1), ext('102', 2), ext('101', 3, '"Agent" <+12025550109>')].join('\n') + '\n';
    const bare = await report({ 'Master.csv': text });
    expect(bare.calls).toEqual({ '+12025550109': O(0, { no_answer: 1 }) });
    expect(bare.ingest.skipped).toEqual({ no_caller_id: 2 });
    const dir = tmp('numrep-callermap-');
    writeFileSync(join(dir, 'caller-map.csv'), 'extension,number\n101,2025550101\n102,+12025550102\n');
    const mapped = await report({ 'Master.csv': text }, { callerMap: join(dir, 'caller-map.csv') });
    // The presented clid wins over the map; the map is for extensions that present nothing.
    expect(mapped.calls).toEqual({ '+12025550101': O(0, { no_answer: 1 }), '+12025550102': O(0, { no_answer: 1 }), '+12025550109': O(0, { no_answer: 1 }) });
  });

  it('track inventory: only inventory numbers are tracked, the rest are not_ours', async () => {
    const dir = tmp('numrep-inv-');
    writeFileSync(join(dir, 'inv.csv'), 'number,pool\n+12025550101,sales\n');
    const text = [ext('101', 1, '"A" <+12025550101>'), ext('102', 2, '"B" <+12025550199>')].join('\n') + '\n';
    const r = await report({ 'Master.csv': text }, { inventory: join(dir, 'inv.csv'), track: 'inventory' });
    expect(Object.keys(r.calls)).toEqual(['+12025550101']);
    expect(r.json.numbers[0].pool).toBe('sales');
    expect(r.ingest.skipped).toEqual({ not_ours: 1 });
  });

  it('max_tracked_numbers: new callers beyond the cap are skipped as numbers_over_cap', async () => {
    const dir = tmp('numrep-cap-');
    writeFileSync(join(dir, 'cap.yml'), 'max_tracked_numbers: 2\n');
    const text = [1, 2, 3, 4].map((i) => ext(String(100 + i), i, `"x" <+1202555010${i}>`)).join('\n') + '\n';
    const r = await report({ 'Master.csv': text }, { config: join(dir, 'cap.yml') });
    expect(Object.keys(r.calls).sort()).toEqual(['+12025550101', '+12025550102']);
    expect(r.ingest.skipped).toEqual({ numbers_over_cap: 2 });
  });
});

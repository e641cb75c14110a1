import { describe, expect, it } from 'vitest';
import { createReader, detectFormat } from '../../src/ingest/formats/index.js';
import type { RawCall } from '../../src/model/types.js';
import { pushKey } from '../../src/classify/callKeys.js';

/** A row's keys as a reader makes them: the hash of each (kind, id). */
function keysOf(...ids: [string, string][]): number[] {
  const k: number[] = [];
  for (const [kind, id] of ids) pushKey(k, kind, id);
  return k;
}

// Exports users have: header synonyms of PBX GUI exports and the presets chosen by header (Twilio, Vonage,
// Telnyx, Plivo: column lists as their documentation gives them), and a FreeSWITCH CSV a spreadsheet re-saved.

function read(format: string, text: string, options = {}) {
  const r = createReader(format, { timezone: 'UTC', ...options });
  const out: (RawCall | string)[] = [];
  text.trim().split('\n').forEach((l, i) => {
    const res = r.parseLine(l, { file: 'x', line: i + 1 });
    if (res.kind === 'records') out.push(...res.records);
    else if (res.kind === 'reject') out.push(`${res.rejection.reason}: ${res.rejection.detail}`);
  });
  return out as RawCall[];
}

describe('header synonyms of PBX exports', () => {
  it('a PBX GUI export (Caller Number, Callee Number, CallerID Number, Talk Time, Call Time, Unique ID, Context, Source Channel, Dest. Channel)', () => {
    const text = [
      'Account Code,Caller Number,Callee Number,Context,CallerID Number,Source Channel,Dest. Channel,Last app.,Last date,Start Time,Answer Time,End Time,Call Time,Talk Time,Disposition,AMA Flags,Unique ID,Log Userfield',
      ',203,902595038,outbound-route-4,"""AGENT"" <788888484>",PJSIP/203-00025a67,PJSIP/trunk_1-00025a68,Dial,x,2026-07-03 09:01:57,2026-07-03 09:02:16,2026-07-03 09:02:17,20,1,ANSWERED,DOCUMENTATION,1783051317.621890,Outbound',
    ].join('\n');
    expect(detectFormat(text.split('\n'))).toBe('generic');
    const [r] = read('generic', text, { defaultCountryCode: '998' });
    expect(r).toMatchObject({
      caller: '+998788888484', called: '+998902595038', outcome: 'answered', talkSec: 1, ringMs: 19_000,
      context: 'outbound-route-4', inTrunk: 'PJSIP/203-00025a67', outChannel: 'PJSIP/trunk_1-00025a68', trunk: 'PJSIP/trunk_1-00025a68', keys: keysOf(['gen', '1783051317.621890']),
    });
    expect(r.direction).toBeUndefined(); // Log Userfield is not a direction column unless mapped
    const [m] = read('generic', text, { defaultCountryCode: '998', columns: { direction: 'Log Userfield' } });
    expect(m.direction).toBe('outbound');
  });

  it('a database dump with NULL cells, calldate and a DID column (inbound when it holds a value)', () => {
    const text = 'clid,src,dst,dcontext,channel,dstchannel,calldate,duration,billsec,disposition,uniqueid,linkedid,trunk,did\n' +
      '"""ACME"" <2484363600>",13022662555,2484363600,VIOrig,PJSIP/VIOrig-0000000e,NULL,"2018-11-30 12:00:00",20,18,ANSWERED,1543597200.1,1543597200.1,NULL,2484363600\n' +
      '""Ramana" <1115>",1115,2485261900,default,PJSIP/1115-00000001,PJSIP/VIOrig-00000002,"2018-11-29 20:20:17",21,20,ANSWERED,1543540817.1,1543540817.1,VIOrig,NULL';
    const [inbound, outbound] = read('generic', text);
    expect(inbound).toMatchObject({ direction: 'inbound', keys: keysOf(['gen', '1543597200.1']) });
    expect(outbound.direction).toBeUndefined();
    expect(outbound).toMatchObject({ caller: '', callerText: '1115', called: '+12485261900', trunk: 'PJSIP/VIOrig-00000002', outChannel: 'PJSIP/VIOrig-00000002' });
  });
});

describe('presets chosen by header', () => {
  it('Twilio call log: duration is talk time, answered_by is AMD, completed is answered, outbound-api is outbound', () => {
    const text = 'Sid,Parent Call Sid,From,To,Status,Start Time,End Time,Duration,Direction,Answered By\n' +
      'CA1,,+12025550101,+13105551001,completed,2026-11-20 10:00:00 UTC,2026-11-20 10:01:05 UTC,60,outbound-api,human\n' +
      'CA2,,+12025550101,+13105551002,completed,2026-11-20 10:02:00 UTC,2026-11-20 10:02:30 UTC,25,outbound-api,machine_start\n' +
      'CA3,,+12025550101,+13105551003,no-answer,2026-11-20 10:03:00 UTC,2026-11-20 10:03:30 UTC,0,outbound-api,\n' +
      'CA4,,+13105551004,+12025550101,completed,2026-11-20 10:04:00 UTC,2026-11-20 10:05:00 UTC,55,inbound,\n' +
      'CA5,CA4,+12025550101,+13105559999,canceled,2026-11-20 10:04:01 UTC,2026-11-20 10:04:10 UTC,0,outbound-dial,';
    const rows = read('generic', text);
    expect(rows.map((r) => [r.outcome, r.talkSec, r.direction])).toEqual([
      ['answered', 60, 'outbound'], ['voicemail', 25, 'outbound'], ['no_answer', 0, 'outbound'], ['answered', 55, 'inbound'], ['cancelled', 0, 'outbound'],
    ]);
    expect(rows[0].ts).toBe(Date.parse('2026-11-20T10:00:00Z'));
    // A child leg carries its parent's id: joined with it, it is one call.
    expect(rows[4].keys).toEqual(keysOf(['gen', 'CA5'], ['gen', 'CA4']));
  });

  it('Telnyx detail records (cli, cld, billed_sec, call_sec, session id)', () => {
    const text = 'cli,cld,direction,started_at,call_sec,billed_sec,hangup_cause,telnyx_leg_id,session_id,connection_name\n' +
      '+12025550101,+13105551001,outbound,2026-11-20T10:00:00Z,70,60,normal_clearing,leg-1,sess-1,verizon-trunk';
    const [r] = read('generic', text);
    expect(r).toMatchObject({ caller: '+12025550101', called: '+13105551001', direction: 'outbound', talkSec: 60, ringMs: 10_000, trunk: 'verizon-trunk', keys: keysOf(['gen', 'leg-1'], ['gen', 'sess-1']) });
  });

  it('Vonage and Plivo: duration / bill_duration are talk time', () => {
    const vonage = read('generic', 'uuid,conversation_uuid,from,to,status,start_time,duration,direction\nu1,c1,12025550101,13105551001,completed,2026-11-20T10:00:00Z,42,outbound');
    expect(vonage[0]).toMatchObject({ caller: '+12025550101', outcome: 'answered', talkSec: 42, keys: keysOf(['gen', 'u1'], ['gen', 'c1']) });
    const plivo = read('generic', 'call_uuid,from,to,start_time,end_time,bill_duration,call_status,hangup_cause,direction\np1,+12025550101,+13105551001,2026-11-20 10:00:00,2026-11-20 10:01:00,33,completed,NORMAL_CLEARING,outbound');
    expect(plivo[0]).toMatchObject({ outcome: 'answered', talkSec: 33, direction: 'outbound', keys: keysOf(['gen', 'p1']) });
  });
});

describe('a FreeSWITCH cdr_csv file a spreadsheet re-saved (unquoted, 2020/2/10 22:41)', () => {
  it('is detected and read', () => {
    const text = 'Outbound Call,+12025550101,+13105551001,default,2020/2/10 22:41,2020/2/10 22:41,2020/2/10 22:42,64,61,NORMAL_CLEARING,b9d0a33e-4c15-11ea-978a-9dd79410affb,,gw1,PCMU,PCMU';
    expect(detectFormat([text])).toBe('freeswitch');
    const [r] = read('freeswitch', text);
    expect(r).toMatchObject({ caller: '+12025550101', outcome: 'answered', talkSec: 61, ts: Date.parse('2020-02-10T22:41:00Z'), context: 'default', keys: keysOf(['fs', 'b9d0a33e-4c15-11ea-978a-9dd79410affb']) });
  });
});

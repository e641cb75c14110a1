import { describe, expect, it } from 'vitest';
import { pushKey } from '../../src/classify/callKeys.js';

/** A SIP record's key: the hash of its Call-ID. */
const sipKey = (callId: string) => {
  const k: number[] = [];
  pushKey(k, 'sip', callId);
  return k;
};
import { SippReader } from '../../src/ingest/formats/sipp.js';
import { SofiaReader, looksLikeSofia } from '../../src/ingest/formats/sofia.js';
import { looksLikeSipp } from '../../src/ingest/formats/sipp.js';
import { parseSipMessage, params, uriUser, uriHostPort, splitList } from '../../src/ingest/sip/message.js';
import { decodePassport, passportOf, verstatOf } from '../../src/ingest/sip/passport.js';
import { MAX_ENGINES, boundHost, sipOptions } from '../../src/ingest/sip/dialogs.js';
import type { SipReaderOptions } from '../../src/ingest/sip/trace.js';
import { b64, passport, readText } from './harness.js';

// Dialog correlation on hand-written traces: each case is a list of messages with a time
// offset and a direction, rendered as a sipp -trace_msg (or sofia) text.

const T0 = Date.parse('2026-11-22T09:00:00Z');
const CALLER = '+12025550101';
const CALLED = '+13125550199';

interface M {
  at: number; // ms after T0
  dir: 'sent' | 'received';
  text: string;
}

function stamp(ms: number): string {
  const d = new Date(T0 + ms).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 23)}000`;
}

function sippText(msgs: M[]): string {
  let s = '';
  for (const m of msgs) {
    const lines = m.text.trim().split('\n').map((l) => l.trim());
    // headers CRLF, empty line, body: one CRLF after the body, or the empty line ends a bodiless message
    const body = lines.join('\r\n') + (lines.includes('') ? '\r\n' : '\r\n\r\n');
    const n = Buffer.byteLength(body);
    s += `${'-'.repeat(47)} ${stamp(m.at)}\n`;
    s += m.dir === 'sent' ? `UDP message sent (${n} bytes):\n\n` : `UDP message received [${n}] bytes :\n\n`;
    s += body + '\n';
  }
  return s;
}

const CID = 'abc123@10.0.0.1';

function invite(o: { cseq?: number; pai?: string; from?: string; identity?: string; ruri?: string; extra?: string; callId?: string; toTag?: string } = {}): string {
  return `INVITE ${o.ruri ?? `sip:${CALLED}@gw.carrier.example:5060`} SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1
From: ${o.from ?? `<sip:${CALLER}@10.0.0.1>`};tag=f1
To: <sip:${CALLED}@gw.carrier.example>${o.toTag ? `;tag=${o.toTag}` : ''}
Call-ID: ${o.callId ?? CID}
CSeq: ${o.cseq ?? 1} INVITE
${o.pai ? `P-Asserted-Identity: ${o.pai}\n` : ''}${o.identity ? `Identity: ${o.identity}\n` : ''}${o.extra ? o.extra + '\n' : ''}Content-Type: application/sdp
Content-Length: 10

v=0
s=-`;
}

function resp(code: number, reason: string, o: { cseq?: number; method?: string; extra?: string; sdp?: boolean; callId?: string } = {}): string {
  return `SIP/2.0 ${code} ${reason}
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1
From: <sip:${CALLER}@10.0.0.1>;tag=f1
To: <sip:${CALLED}@gw.carrier.example>;tag=t1
Call-ID: ${o.callId ?? CID}
CSeq: ${o.cseq ?? 1} ${o.method ?? 'INVITE'}
${o.extra ? o.extra + '\n' : ''}${o.sdp ? 'Content-Type: application/sdp\nContent-Length: 10\n\nv=0\ns=-' : 'Content-Length: 0'}`;
}

function req(method: string, cseq: number, o: { callId?: string } = {}): string {
  return `${method} sip:${CALLED}@gw.carrier.example:5060 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-2
From: <sip:${CALLER}@10.0.0.1>;tag=f1
To: <sip:${CALLED}@gw.carrier.example>;tag=t1
Call-ID: ${o.callId ?? CID}
CSeq: ${cseq} ${method}
Content-Length: 0`;
}

const run = (msgs: M[], opts?: Partial<SipReaderOptions>, flush = true) => readText(new SippReader({ timezone: 'UTC', ...opts }), sippText(msgs), 't.log', flush);

describe('dialog correlation', () => {
  it('answered call: ring time to the first 18x, talk from 200 to BYE; retransmissions count once', () => {
    const r = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 500, dir: 'sent', text: invite() }, // retransmission
      { at: 600, dir: 'received', text: resp(100, 'Trying') },
      { at: 1500, dir: 'received', text: resp(180, 'Ringing') },
      { at: 1600, dir: 'received', text: resp(180, 'Ringing') },
      { at: 9000, dir: 'received', text: resp(200, 'OK', { sdp: true }) },
      { at: 9400, dir: 'received', text: resp(200, 'OK', { sdp: true }) }, // retransmitted 200
      { at: 9010, dir: 'sent', text: req('ACK', 1) },
      { at: 71_000, dir: 'received', text: req('BYE', 2) }, // the far end hangs up
      { at: 71_010, dir: 'sent', text: resp(200, 'OK', { cseq: 2, method: 'BYE' }) },
      { at: 71_500, dir: 'received', text: req('BYE', 2) }, // BYE retransmission after the end
    ]);
    expect(r.rejects).toEqual([]);
    expect(r.records).toEqual([
      { ts: T0, caller: CALLER, called: CALLED, outcome: 'answered', sipCode: 200, ringMs: 1500, talkSec: 62, attestation: 'none', source: 'sipp', trunk: 'gw.carrier.example:5060', direction: 'outbound', keys: sipKey(r.calls[0].callId) },
    ]);
    expect(r.calls[0].end).toBe('bye');
    expect(r.calls[0].earlyMedia).toBe(false);
  });

  it('183 with SDP is early media; 183 without SDP is not', () => {
    const a = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 800, dir: 'received', text: resp(183, 'Session Progress', { sdp: true }) },
      { at: 5000, dir: 'received', text: resp(480, 'Temporarily Unavailable') },
    ]);
    expect(a.calls[0].earlyMedia).toBe(true);
    expect(a.records[0]).toMatchObject({ outcome: 'no_answer', sipCode: 480, ringMs: 800 });
    const b = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 800, dir: 'received', text: resp(183, 'Session Progress') },
      { at: 5000, dir: 'received', text: resp(486, 'Busy Here') },
    ]);
    expect(b.calls[0].earlyMedia).toBe(false);
    expect(b.records[0]).toMatchObject({ outcome: 'busy', sipCode: 486 });
  });

  it('CANCEL then 487 is cancelled; a CANCEL with no final before the timeout is cancelled too', () => {
    const a = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(180, 'Ringing') },
      { at: 20_000, dir: 'sent', text: req('CANCEL', 1).replace(';tag=t1', '') },
      { at: 20_010, dir: 'received', text: resp(200, 'OK', { method: 'CANCEL' }) },
      { at: 20_020, dir: 'received', text: resp(487, 'Request Terminated') },
    ]);
    expect(a.records).toHaveLength(1);
    expect(a.records[0]).toMatchObject({ outcome: 'cancelled', sipCode: 487, ringMs: 1000, talkSec: 0 });
    const b = run(
      [
        { at: 0, dir: 'sent', text: invite() },
        { at: 20_000, dir: 'sent', text: req('CANCEL', 1).replace(';tag=t1', '') },
        { at: 400_000, dir: 'sent', text: invite({ callId: 'other@x' }) },
      ],
      {},
      false,
    );
    expect(b.records).toHaveLength(1);
    expect(b.records[0]).toMatchObject({ outcome: 'cancelled', talkSec: 0 });
    expect(b.records[0].sipCode).toBeUndefined();
    expect(b.calls[0].end).toBe('timeout');
  });

  it('no final response: failed/timeout after the configured time, by the log clock (deterministic)', () => {
    const msgs: M[] = [
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(180, 'Ringing') },
      { at: 9_000, dir: 'sent', text: invite({ callId: 'c2@x' }) },
      { at: 11_500, dir: 'sent', text: invite({ callId: 'c3@x' }) },
    ];
    const short = run(msgs, { sip: { timeoutSeconds: 10 } }, false);
    expect(short.records).toHaveLength(1);
    expect(short.records[0]).toMatchObject({ outcome: 'failed', ringMs: 1000 });
    expect(short.calls[0].end).toBe('timeout');
    expect(run(msgs, {}, false).records).toHaveLength(0); // default 300 s: still pending
    const all = run(msgs); // end of a one-shot run: the rest are flushed
    expect(all.records.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(all.calls.map((c) => c.end)).toEqual(['flush', 'flush', 'flush']);
  });

  it('answered with no BYE: emitted after maxCallSeconds, or at flush, with the talk seen so far', () => {
    const msgs: M[] = [
      { at: 0, dir: 'sent', text: invite() },
      { at: 2000, dir: 'received', text: resp(200, 'OK', { sdp: true }) },
      { at: 62_000, dir: 'sent', text: invite({ callId: 'c2@x' }) },
    ];
    const a = run(msgs, { sip: { maxCallSeconds: 30 } }, false);
    expect(a.records).toHaveLength(1);
    expect(a.records[0]).toMatchObject({ outcome: 'answered', talkSec: 60 });
    expect(a.calls[0].end).toBe('max_call');
    const b = run(msgs.slice(0, 2));
    expect(b.records[0]).toMatchObject({ outcome: 'answered', talkSec: 0 });
    expect(b.calls[0].end).toBe('flush');
  });

  it('401/407 challenges: the INVITE is sent again with a higher CSeq and that one decides', () => {
    const r = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 100, dir: 'received', text: resp(407, 'Proxy Authentication Required') },
      { at: 110, dir: 'sent', text: req('ACK', 1) },
      { at: 200, dir: 'sent', text: invite({ cseq: 2, extra: 'Proxy-Authorization: Digest username="u"' }) },
      { at: 1200, dir: 'received', text: resp(180, 'Ringing', { cseq: 2 }) },
      { at: 3200, dir: 'received', text: resp(603, 'Decline', { cseq: 2 }) },
    ]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ ts: T0, outcome: 'rejected', sipCode: 603, ringMs: 1200 });
  });

  it('re-INVITEs inside the dialog and their responses change nothing', () => {
    const r = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(200, 'OK', { sdp: true }) },
      { at: 5000, dir: 'sent', text: invite({ cseq: 2, toTag: 't1' }) },
      { at: 5100, dir: 'received', text: resp(491, 'Request Pending', { cseq: 2 }) },
      { at: 11_000, dir: 'sent', text: req('BYE', 3) },
    ]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ outcome: 'answered', sipCode: 200, talkSec: 10 });
  });

  it('forked / late finals after the first final are ignored', () => {
    const r = run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(486, 'Busy Here') },
      { at: 1100, dir: 'received', text: resp(486, 'Busy Here') },
      { at: 1200, dir: 'received', text: resp(200, 'OK') },
    ]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0].outcome).toBe('busy');
  });

  it('finished Call-IDs are remembered for late retransmissions, then forgotten by log time (small snapshots)', () => {
    const reader = new SippReader({ timezone: 'UTC' });
    const msgs: M[] = [];
    for (let i = 0; i < 50; i++) {
      msgs.push({ at: i * 100, dir: 'sent', text: invite({ callId: `d${i}@x` }) });
      msgs.push({ at: i * 100 + 50, dir: 'received', text: resp(486, 'Busy Here', { callId: `d${i}@x` }) });
    }
    msgs.push({ at: 6000, dir: 'received', text: resp(486, 'Busy Here', { callId: 'd0@x' }) }); // late retransmission
    const r = readText(reader, sippText(msgs), 't.log', false);
    expect(r.records).toHaveLength(50);
    expect(reader.snapshot().dialogs.done).toHaveLength(50);
    readText(reader, sippText([{ at: 200_000, dir: 'sent', text: invite({ callId: 'later@x' }) }]), 't.log', false);
    expect(reader.snapshot().dialogs.done).toHaveLength(0);
    expect(reader.snapshot().dialogs.open.map((d) => d.callId)).toEqual(['later@x']);
  });

  it('direction: INVITEs received are not our calls by default; sip.direction=both counts them', () => {
    const msgs: M[] = [
      { at: 0, dir: 'received', text: invite() },
      { at: 1000, dir: 'sent', text: resp(486, 'Busy Here') },
    ];
    expect(run(msgs).records).toHaveLength(0);
    expect(run(msgs, { sip: { direction: 'both' } }).records).toHaveLength(1);
    expect(run(msgs, { sip: { direction: 'received' } }).records).toHaveLength(1);
  });
});

describe('blocking signals (docs/architecture.md#outcomes)', () => {
  const final = (code: number, reason: string, extra?: string) =>
    run([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(code, reason, { extra }) },
    ]).records[0];

  it('608 is blocked, keeping the Call-Info redress host, never the URL', () => {
    const r = final(608, 'Rejected', 'Call-Info: <https://Redress.FirstOrion.example/dispute?tn=12025550101&id=9>;purpose=jwt');
    expect(r).toMatchObject({ outcome: 'blocked', sipCode: 608, blockEngine: 'redress.firstorion.example' });
    expect(final(608, 'Rejected')).toMatchObject({ outcome: 'blocked' });
    expect(final(608, 'Rejected').blockEngine).toBeUndefined();
  });

  it('603 with reason phrase "Network Blocked" or a Reason text starting v=analytics is blocked; plain 603 and 607 are rejected', () => {
    expect(final(603, 'Network Blocked')).toMatchObject({ outcome: 'blocked' });
    expect(final(603, 'Decline', 'Reason: SIP;cause=603;text="v=analytics1;url=https://redress.hiya.example/x;desc=spam"')).toMatchObject({
      outcome: 'blocked',
      blockEngine: 'redress.hiya.example',
    });
    expect(final(603, 'Decline')).toMatchObject({ outcome: 'rejected', sipCode: 603 });
    expect(final(603, 'Decline').blockEngine).toBeUndefined();
    expect(final(607, 'Unwanted')).toMatchObject({ outcome: 'rejected', sipCode: 607 });
    expect(final(403, 'Forbidden')).toMatchObject({ outcome: 'rejected' });
    expect(final(404, 'Not Found')).toMatchObject({ outcome: 'failed' });
    expect(final(503, 'Service Unavailable')).toMatchObject({ outcome: 'failed' });
    expect(final(600, 'Busy Everywhere')).toMatchObject({ outcome: 'busy' });
  });

  it('at most MAX_ENGINES distinct engine values per reader, then "other" (the far end writes Call-Info)', () => {
    const msgs: M[] = [];
    for (let i = 0; i < MAX_ENGINES + 8; i++) {
      msgs.push({ at: i * 10, dir: 'sent', text: invite({ callId: `e${i}@x` }) });
      msgs.push({ at: i * 10 + 5, dir: 'received', text: resp(608, 'Rejected', { callId: `e${i}@x`, extra: `Call-Info: <https://r${i}.engine.example/x>;purpose=jwt` }) });
    }
    msgs.push({ at: 1000, dir: 'sent', text: invite({ callId: 'again@x' }) });
    msgs.push({ at: 1005, dir: 'received', text: resp(608, 'Rejected', { callId: 'again@x', extra: 'Call-Info: <https://r0.engine.example/x>' }) });
    const engines = run(msgs).records.map((r) => r.blockEngine);
    expect(new Set(engines).size).toBe(MAX_ENGINES + 1);
    expect(engines.slice(MAX_ENGINES, MAX_ENGINES + 8)).toEqual(Array(8).fill('other'));
    expect(engines[engines.length - 1]).toBe('r0.engine.example');
  });

  it('block engine values are bounded host names', () => {
    expect(boundHost('Hiya.COM.')).toBe('hiya.com');
    expect(boundHost('https://x')).toBeUndefined();
    expect(boundHost('a'.repeat(100) + '.example')).toHaveLength(64);
  });
});

describe('caller, called, attestation', () => {
  it('caller from P-Asserted-Identity (first phone number), else From; called from the Request-URI, else To', () => {
    const pai = run([
      { at: 0, dir: 'sent', text: invite({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>', pai: '"Clinic" <sip:+12025550177@10.0.0.1;user=phone>, <tel:+12025550177>' }) },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
    ]).records[0];
    expect(pai.caller).toBe('+12025550177');
    const telPai = run([
      { at: 0, dir: 'sent', text: invite({ pai: '<sip:clinic@10.0.0.1>, <tel:+1-202-555-0178;verstat=TN-Validation-Passed>' }) },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
    ]);
    expect(telPai.records[0].caller).toBe('+12025550178');
    expect(telPai.calls[0].verstat).toBe('TN-Validation-Passed');
    const toOnly = run([
      { at: 0, dir: 'sent', text: invite({ ruri: 'sip:gw.carrier.example;transport=udp' }) },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
    ]).records[0];
    expect(toOnly.called).toBe(CALLED);
    expect(toOnly.trunk).toBe('gw.carrier.example');
    const npdi = run([
      { at: 0, dir: 'sent', text: invite({ ruri: `sip:${CALLED};npdi;rn=+13125550000@10.9.9.9:5080;user=phone` }) },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
    ]).records[0];
    expect(npdi).toMatchObject({ called: CALLED, trunk: '10.9.9.9:5080' });
  });

  it('an INVITE whose caller is not a phone number is rejected once (without the called number in the detail)', () => {
    const r = run([
      { at: 0, dir: 'sent', text: invite({ from: '<sip:sipp@10.0.0.1>' }) },
      { at: 500, dir: 'sent', text: invite({ from: '<sip:sipp@10.0.0.1>' }) },
      { at: 900, dir: 'received', text: resp(486, 'Busy Here') },
    ]);
    expect(r.records).toEqual([]);
    expect(r.rejects).toHaveLength(1);
    expect(r.rejects[0].reason).toBe('invalid_number');
    expect(r.rejects[0].detail).not.toContain('3125550199');
  });

  it('PASSporT attestation A/B/C from the Identity header; verstat from From', () => {
    for (const level of ['A', 'B', 'C'] as const) {
      const rec = run([
        { at: 0, dir: 'sent', text: invite({ identity: `${passport(level, CALLER, CALLED)};info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken` }) },
        { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
      ]).records[0];
      expect(rec.attestation).toBe(level);
    }
    const vs = run([
      { at: 0, dir: 'sent', text: invite({ from: `<sip:${CALLER}@10.0.0.1;user=phone;verstat=TN-Validation-Failed>` }) },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here') },
    ]);
    expect(vs.records[0].attestation).toBe('none');
    expect(vs.calls[0].verstat).toBe('TN-Validation-Failed');
  });

  it('compact header forms and folded headers are read', () => {
    const text = invite()
      .replace('Call-ID:', 'i:')
      .replace('From:', 'f:')
      .replace('To:', 't:')
      .replace('Content-Type: application/sdp', `y: ${passport('B', CALLER, CALLED)}\n ;info=<https://cert.example/c.pem>;ppt=shaken\nContent-Type: application/sdp`);
    const r = run([
      { at: 0, dir: 'sent', text },
      { at: 1, dir: 'received', text: resp(486, 'Busy Here').replace('Call-ID:', 'i:') },
    ]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0].attestation).toBe('B');
  });
});

describe('PASSporT decoding', () => {
  it('decodes attest, orig.tn, dest.tn, iat, origid, ppt', () => {
    const p = decodePassport(`${passport('A', '+12025550101', '+13125550199', 1_700_000_000)};info=<https://c.example/x>;alg=ES256;ppt=shaken`);
    expect(p).toEqual({ attest: 'A', origTn: '12025550101', destTn: ['13125550199'], iat: 1_700_000_000, origid: '123e4567-e89b-12d3-a456-426655440000', ppt: 'shaken' });
  });

  it('returns null for tokens that are not a readable JWT, and none for a missing/odd attest', () => {
    expect(decodePassport('garbage')).toBeNull();
    expect(decodePassport('a.b.c')).toBeNull();
    expect(decodePassport(`${b64({ alg: 'ES256' })}.${Buffer.from('not json').toString('base64url')}.sig`)).toBeNull();
    expect(decodePassport(`${b64({ alg: 'ES256' })}.${b64({ attest: 'Z' })}.sig`)?.attest).toBe('none');
    expect(decodePassport(`"${b64({ alg: 'ES256' })}.${b64({ attest: 'c' })}.sig"`)?.attest).toBe('C');
  });

  it('prefers a SHAKEN PASSporT among several Identity headers', () => {
    const div = `${b64({ alg: 'ES256', ppt: 'div' })}.${b64({ orig: { tn: '1' } })}.sig;ppt=div`;
    const msg = parseSipMessage(`INVITE sip:x@y SIP/2.0\nCall-ID: 1\nIdentity: ${div}\nIdentity: ${passport('B', CALLER, CALLED)};ppt=shaken\n`)!;
    expect(passportOf(msg)?.attest).toBe('B');
    expect(verstatOf(msg)).toBeUndefined();
  });
});

describe('message helpers', () => {
  it('params, lists and URIs', () => {
    const p = params('SIP;cause=603;text="v=analytics1;url=https://x.example/y"');
    expect(p.get('')).toBe('SIP');
    expect(p.get('cause')).toBe('603');
    expect(p.get('text')).toBe('v=analytics1;url=https://x.example/y');
    expect(splitList('"A, B" <sip:1@h>, <tel:+1>')).toEqual(['"A, B" <sip:1@h>', '<tel:+1>']);
    expect(uriUser('sip:+12025550101;npdi@h;user=phone')).toBe('+12025550101');
    expect(uriUser('tel:+12025550101;verstat=x')).toBe('+12025550101');
    expect(uriUser('sip:h')).toBeUndefined();
    expect(uriHostPort('sips:u@Edge.Example:5061;transport=tls')).toBe('edge.example:5061');
  });

  it('options are validated', () => {
    expect(() => sipOptions({ timeoutSeconds: 0 })).toThrow(/timeoutSeconds/);
    expect(() => sipOptions({ direction: 'up' as never })).toThrow(/direction/);
    expect(() => sipOptions({ date: '22/11/2026' })).toThrow(/date/);
    expect(sipOptions(undefined)).toMatchObject({ timeoutSeconds: 300, direction: 'sent' });
  });
});

describe('sipp framing', () => {
  it('a trace whose last message has no following block is handled when its byte count is reached', () => {
    const r = new SippReader({ timezone: 'UTC' });
    const lines = sippText([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(486, 'Busy Here') },
    ])
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l !== '');
    const got = lines.flatMap((l, i) => {
      const res = r.parseLine(l, { file: 't', line: i + 1 });
      return res.kind === 'records' ? res.records : [];
    });
    expect(got).toHaveLength(1); // without flush(): a live tail sees it at once
  });

  it('detects sipp and not sofia, and the other way round', () => {
    const s = sippText([{ at: 0, dir: 'sent', text: invite() }]).split('\n').filter((l) => l !== '');
    expect(looksLikeSipp(s.slice(0, 10))).toBe(true);
    expect(looksLikeSofia(s.slice(0, 10))).toBe(false);
    expect(looksLikeSipp(['send 10 bytes to udp/[1.2.3.4]:5060 at 09:00:00.000000:'])).toBe(false);
  });

  it('local time stamps follow ReaderOptions.timezone', () => {
    const text = sippText([
      { at: 0, dir: 'sent', text: invite() },
      { at: 1000, dir: 'received', text: resp(486, 'Busy Here') },
    ]);
    const r = readText(new SippReader({ timezone: 'America/New_York' }), text);
    expect(r.records[0].ts).toBe(T0 + 5 * 3_600_000); // 09:00 in New York is 14:00 UTC in November
  });
});

describe('sofia siptrace', () => {
  function sofiaText(msgs: M[], o: { indent?: boolean; logDate?: string } = {}): string {
    let s = o.logDate ? `${o.logDate} 08:59:59.000000 [NOTICE] switch_core.c:2500 FreeSWITCH Started\n` : '';
    for (const m of msgs) {
      const lines = m.text.trim().split('\n').map((l) => l.trim());
      const n = Buffer.byteLength(lines.join('\r\n') + (lines.includes('') ? '\r\n' : '\r\n\r\n'));
      const tod = stamp(m.at).slice(11);
      const ind = o.indent ? '   ' : '';
      s += `${m.dir === 'sent' ? 'send' : 'recv'} ${n} bytes ${m.dir === 'sent' ? 'to' : 'from'} udp/[203.0.113.7]:5060 at ${tod}:\n`;
      s += `${ind}${'-'.repeat(72)}\n` + lines.map((l) => ind + l + '\n').join('') + (o.indent ? `${ind}\n${ind}${'-'.repeat(72)}\n` : '\n');
    }
    return s;
  }
  const msgs: M[] = [
    { at: 0, dir: 'sent', text: invite() },
    { at: 2000, dir: 'received', text: resp(183, 'Session Progress', { sdp: true }) },
    { at: 4000, dir: 'received', text: resp(200, 'OK', { sdp: true }) },
    { at: 34_000, dir: 'sent', text: req('BYE', 2) },
  ];

  it('reads both layouts, dating the stamps from FreeSWITCH log lines', () => {
    for (const indent of [true, false]) {
      const r = readText(new SofiaReader({ timezone: 'UTC' }), sofiaText(msgs, { indent, logDate: '2026-11-22' }));
      expect(r.rejects).toEqual([]);
      expect(r.records).toEqual([
        { ts: T0, caller: CALLER, called: CALLED, outcome: 'answered', sipCode: 200, ringMs: 2000, talkSec: 30, attestation: 'none', source: 'sofia', trunk: 'gw.carrier.example:5060', direction: 'outbound', keys: sipKey(r.calls[0].callId) },
      ]);
      expect(r.calls[0].earlyMedia).toBe(true);
    }
  });

  it('without a dated log line: the Date header, then sip.date; with neither the message is rejected as bad_timestamp', () => {
    const noDate = sofiaText(msgs);
    const rej = readText(new SofiaReader({ timezone: 'UTC' }), noDate);
    expect(rej.records).toEqual([]);
    expect(rej.rejects.length).toBe(4);
    expect(rej.rejects[0].reason).toBe('bad_timestamp');
    const opt = readText(new SofiaReader({ timezone: 'UTC', sip: { date: '2026-11-22' } } as Partial<SipReaderOptions>), noDate);
    expect(opt.records[0].ts).toBe(T0);
    const withDate = sofiaText([{ ...msgs[0], text: msgs[0].text.replace('Content-Type', 'Date: Sun, 22 Nov 2026 09:00:00 GMT\nContent-Type') }, ...msgs.slice(1)]);
    expect(readText(new SofiaReader({ timezone: 'UTC' }), withDate).records[0].ts).toBe(T0);
  });

  it('a time of day that goes back by more than 12 h means midnight passed', () => {
    const late: M[] = [
      { at: 15 * 3_600_000 - 5000, dir: 'sent', text: invite() }, // 23:59:55
      { at: 15 * 3_600_000 + 5000, dir: 'received', text: resp(486, 'Busy Here') }, // 00:00:05 next day
      { at: 15 * 3_600_000 + 6000, dir: 'sent', text: invite({ callId: 'next@x' }) },
      { at: 15 * 3_600_000 + 7000, dir: 'received', text: resp(486, 'Busy Here', { callId: 'next@x' }) },
    ];
    const r = readText(new SofiaReader({ timezone: 'UTC' }), sofiaText(late, { logDate: '2026-11-22' }));
    expect(r.records.map((x) => x.ts)).toEqual([T0 + 15 * 3_600_000 - 5000, T0 + 15 * 3_600_000 + 6000]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { tmp } from '../core/helpers.js';
import { freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until, type Served } from '../support/proc.js';
import { formParams, twilioSignatureValid } from '../../src/ingest/push/twilio.js';

// Pushed CDRs against a running serve: FreeSWITCH mod_json_cdr (every encoding it sends), Twilio status
// callbacks signed as Twilio signs them (the official twilio package computes the signatures and is the
// oracle for numrep's validator), Telnyx webhooks signed with a generated Ed25519 key pair. Each is
// authenticated, stored before the 2xx (a SIGKILL right after it loses nothing), counted once when sent
// again, and visible in /metrics at once.

const twilio = createRequire(import.meta.url)('twilio') as {
  getExpectedTwilioSignature(token: string, url: string, params: Record<string, string | string[]>): string;
  validateRequest(token: string, sig: string, url: string, params: Record<string, string | string[]>): boolean;
};

const TOKEN = '12345678901234567890123456789012';
let dir = '';
let telnyxKey: KeyObject;
let telnyxPub = '';
beforeAll(() => {
  dir = tmp('numrep-push-');
  writeFileSync(join(dir, 'fs.cred'), 'freeswitch:s3cret-pass\n');
  writeFileSync(join(dir, 'twilio.token'), TOKEN + '\n');
  const kp = generateKeyPairSync('ed25519');
  telnyxKey = kp.privateKey;
  telnyxPub = (kp.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12).toString('base64');
  writeFileSync(join(dir, 'map.csv'), 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n');
});
afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let port = 0;
async function start(db = 'push.db'): Promise<{ srv: Served; base: string }> {
  port = port || (await freeTcpPort());
  const cfg = join(dir, 'numrep.yaml');
  writeFileSync(cfg, [
    `listen: 127.0.0.1:${port}`, `db: ${join(dir, db)}`, `inbox: ${join(dir, 'inbox')}`, `prefix_map: ${join(dir, 'map.csv')}`,
    'push:',
    '  freeswitch:', `    credentials_file: ${join(dir, 'fs.cred')}`,
    '  twilio:', `    auth_token_file: ${join(dir, 'twilio.token')}`, '    url: https://numrep.example.com/api/v1/cdr/twilio',
    '  telnyx:', `    public_key: ${telnyxPub}`,
  ].join('\n') + '\n');
  const srv = serveCli(['--config', cfg]);
  const base = `http://127.0.0.1:${port}`;
  await until(`readyz (${srv.log()})`, async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
  return { srv, base };
}

const basic = 'Basic ' + Buffer.from('freeswitch:s3cret-pass').toString('base64');
const now = Date.now();
const us = (ms: number) => String(ms * 1000);

/** A mod_json_cdr document as FreeSWITCH writes it with encode-values=true (values URL-encoded). */
function jsonCdr(o: { uuid: string; caller: string; called: string; cause: string; billsec: number; sip?: number; phrase?: string; amd?: string; array?: boolean; start?: number }): string {
  const start = o.start ?? now - 120_000;
  const answered = o.billsec > 0 ? start + 4_000 : 0;
  const variables: Record<string, string> = {
    uuid: o.uuid, direction: 'outbound', call_direction: 'outbound', sip_call_id: `${o.uuid}@10.0.0.5`,
    effective_caller_id_number: encodeURIComponent(o.caller), sip_req_user: encodeURIComponent(o.called), sip_gateway_name: 'carrier-gw',
    start_uepoch: us(start), answer_uepoch: answered ? us(answered) : '0', end_uepoch: us(start + 4_000 + o.billsec * 1000),
    billsec: String(o.billsec), duration: String(4 + o.billsec), answersec: answered ? '4' : '0', progress_mediasec: '1',
    hangup_cause: o.cause, ...(o.sip ? { sip_term_status: String(o.sip) } : {}), ...(o.phrase ? { sip_term_phrase: encodeURIComponent(o.phrase) } : {}),
    ...(o.amd ? { amd_result: o.amd } : {}),
  };
  const flow = { dialplan: 'XML', profile_index: '1', caller_profile: { caller_id_number: o.caller, destination_number: o.called, uuid: o.uuid, context: 'default' }, times: { created_time: us(start), answered_time: answered ? us(answered) : '0' } };
  return JSON.stringify({ 'core-uuid': 'c0re', switchname: 'fs1', channel_data: { state: 'CS_REPORTING', direction: 'outbound' }, variables, app_log: { application: [] }, callflow: o.array === false ? flow : [flow] });
}

const calls = (base: string, number: string) => fetch(`${base}/api/v1/numbers/${encodeURIComponent(number)}`).then(async (r) => (r.ok ? ((await r.json()) as { windows: Record<string, { calls: number; answered: number; avg_talk_seconds: number | null; outcomes: Record<string, number> }>; attestation: Record<string, number> }) : null));

describe('POST /api/v1/cdr/freeswitch (mod_json_cdr)', () => {
  it('reads every encoding mod_json_cdr sends, maps the outcome, and is idempotent on the uuid', async () => {
    const { srv, base } = await start();
    const post = (body: string, ct: string, auth = basic) => fetch(`${base}/api/v1/cdr/freeswitch?uuid=x`, { method: 'POST', headers: { 'Content-Type': ct, Authorization: auth }, body });
    const docs = [
      [jsonCdr({ uuid: 'fs-1', caller: '+12025550191', called: '+12125550101', cause: 'NORMAL_CLEARING', billsec: 42, sip: 200 }), 'urlencoded'],
      [jsonCdr({ uuid: 'fs-2', caller: '+12025550191', called: '+13105550102', cause: 'NORMAL_CLEARING', billsec: 20, amd: 'MACHINE', array: false }), 'base64'],
      [jsonCdr({ uuid: 'fs-3', caller: '+12025550191', called: '+14155550103', cause: 'ORIGINATOR_CANCEL', billsec: 0, sip: 487 }), 'json'],
      [jsonCdr({ uuid: 'fs-4', caller: '+12025550191', called: '+12125550104', cause: 'USER_BUSY', billsec: 0, sip: 486 }), 'json'],
      [jsonCdr({ uuid: 'fs-5', caller: '+12025550191', called: '+12125550105', cause: 'CALL_REJECTED', billsec: 0, sip: 603, phrase: 'Network Blocked' }), 'urlencoded'],
      [jsonCdr({ uuid: 'fs-6', caller: '+12025550191', called: '+12125550106', cause: 'NO_ANSWER', billsec: 0 }), 'json'],
    ] as const;
    for (const [doc, enc] of docs) {
      const res = enc === 'urlencoded' ? await post(`cdr=${encodeURIComponent(doc)}`, 'application/x-www-form-urlencoded')
        : enc === 'base64' ? await post(`cdr=${Buffer.from(doc).toString('base64')}`, 'application/x-www-form-base64-encoded')
        : await post(doc, 'application/json');
      expect(res.status, `${enc}: ${await res.clone().text()}`).toBe(200);
    }
    // Sent again (mod_json_cdr retries on a lost answer): counted once.
    expect((await post(docs[0][0], 'application/json')).status).toBe(200);
    const n = await calls(base, '+12025550191');
    expect(n!.windows['24h'].outcomes).toMatchObject({ answered: 1, voicemail: 1, cancelled: 1, busy: 1, blocked: 1, no_answer: 1 });
    expect(n!.windows['24h'].calls).toBe(6);
    expect(n!.windows['24h'].avg_talk_seconds).toBe(42);
    expect(await scrapeNumber(base, /numrep_ingest_records_total\{format="freeswitch_json",result="accepted",reason="ok"\} (\d+)/)).toBe(6);
    expect(await scrapeNumber(base, /numrep_push_requests_total\{provider="freeswitch",status="200"\} (\d+)/)).toBe(7);
    // Authentication, and nothing from a browser.
    expect((await post(docs[1][0], 'application/json', '')).status).toBe(401);
    expect((await post(docs[1][0], 'application/json', 'Basic ' + Buffer.from('freeswitch:guess').toString('base64'))).status).toBe(401);
    const xsite = await fetch(`${base}/api/v1/cdr/freeswitch`, { method: 'POST', headers: { Authorization: basic, Origin: 'https://evil.example', 'Content-Type': 'application/json' }, body: docs[1][0] });
    expect(xsite.status).toBe(403);
    // A body that is no CDR: stored as rejected (never with the body), 422.
    expect((await post('cdr=%7Bnot-json', 'application/x-www-form-urlencoded')).status).toBe(422);
    expect(srv.log()).not.toContain('+1212555');
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 30_000);

  it('a CDR is durable once answered: SIGKILL right after the 200, and it is there after the restart', async () => {
    const { srv, base } = await start('durable.db');
    const res = await fetch(`${base}/api/v1/cdr/freeswitch`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body: jsonCdr({ uuid: 'fs-d1', caller: '+12025550192', called: '+12125550107', cause: 'NORMAL_CLEARING', billsec: 9, sip: 200 }) });
    expect(res.status).toBe(200);
    srv.kill('SIGKILL');
    await new Promise((r) => srv.once('exit', r));
    const again = await start('durable.db');
    expect((await calls(again.base, '+12025550192'))!.windows['24h']).toMatchObject({ calls: 1, answered: 1 });
    expect(await stopWith(again.srv, 'SIGTERM')).toBe(0);
  }, 30_000);
});

describe('POST /api/v1/cdr/twilio (status callbacks)', () => {
  it('numrep\'s signature check agrees with the twilio package\'s validator (the oracle), tampered or not', () => {
    const url = fc.constantFrom('https://numrep.example.com/api/v1/cdr/twilio', 'https://numrep.example.com:443/api/v1/cdr/twilio?x=1', 'http://10.0.0.9:9847/api/v1/cdr/twilio');
    const params = fc.dictionary(fc.constantFrom('CallSid', 'CallStatus', 'From', 'To', 'Direction', 'SipResponseCode', 'AnsweredBy', 'Caller'), fc.string({ maxLength: 20 }), { maxKeys: 8 });
    fc.assert(fc.property(url, params, fc.boolean(), fc.string({ maxLength: 3 }), (u, p, tamper, extra) => {
      const sig = twilio.getExpectedTwilioSignature(TOKEN, u, p);
      const sent = tamper ? { ...p, CallStatus: (p.CallStatus ?? '') + extra + 'x' } : p;
      const form = new URLSearchParams(sent as Record<string, string>).toString();
      const mine = twilioSignatureValid(TOKEN, sig, [u], formParams(form));
      expect(mine).toBe(twilio.validateRequest(TOKEN, sig, u, sent));
    }), { numRuns: 300 });
  });

  it('maps final statuses to outcomes; refuses bad signatures; ignores non-final statuses; counts a resend once', async () => {
    const { srv, base } = await start('twilio.db');
    const url = 'https://numrep.example.com/api/v1/cdr/twilio';
    const post = (p: Record<string, string>, sig = twilio.getExpectedTwilioSignature(TOKEN, url, p)) =>
      fetch(`${base}/api/v1/cdr/twilio`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': sig, Host: 'numrep.example.com' }, body: new URLSearchParams(p).toString() });
    const ts = new Date(now - 60_000).toUTCString();
    const cb = (sid: string, to: string, status: string, extra: Record<string, string> = {}) => ({ AccountSid: 'AC1', CallSid: sid, From: '+12025550193', To: to, Direction: 'outbound-api', CallStatus: status, Timestamp: ts, ApiVersion: '2010-04-01', ...extra });
    const sent = [
      cb('CA1', '+12125550111', 'completed', { CallDuration: '33', SipResponseCode: '200', StirStatus: 'A' }),
      cb('CA2', '+13105550112', 'completed', { CallDuration: '18', AnsweredBy: 'machine_end_beep', StirStatus: 'B' }),
      cb('CA3', '+14155550113', 'busy', { SipResponseCode: '486' }),
      cb('CA4', '+12125550114', 'no-answer', { SipResponseCode: '487' }),
      cb('CA5', '+12125550115', 'failed', { SipResponseCode: '608' }),
      cb('CA6', '+12125550116', 'canceled'),
    ];
    for (const p of sent) expect((await post(p)).status).toBe(200);
    expect((await post(sent[0])).status).toBe(200); // Twilio retries: once
    expect((await post(cb('CA7', '+12125550117', 'ringing'))).status).toBe(200); // not final: not stored
    expect((await post(cb('CA8', '+12125550118', 'completed', { CallDuration: '5' }), 'bm90LWEtc2lnbmF0dXJl')).status).toBe(403);
    const tampered = cb('CA9', '+12125550119', 'completed', { CallDuration: '5' });
    const sig = twilio.getExpectedTwilioSignature(TOKEN, url, tampered);
    expect((await post({ ...tampered, CallDuration: '500' }, sig)).status).toBe(403);
    const n = await calls(base, '+12025550193');
    expect(n!.windows['24h'].calls).toBe(6);
    expect(n!.windows['24h'].outcomes).toMatchObject({ answered: 1, voicemail: 1, busy: 1, cancelled: 2, blocked: 1 });
    expect(n!.attestation).toMatchObject({ A: 1, B: 1, none: 4 });
    expect(await scrapeNumber(base, /numrep_push_requests_total\{provider="twilio",status="403"\} (\d+)/)).toBe(2);
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 30_000);
});

describe('POST /api/v1/cdr/telnyx (call.hangup webhooks, Ed25519)', () => {
  it('verifies the signature with the configured public key, maps hangups to outcomes, talk time from call.answered', async () => {
    const { srv, base } = await start('telnyx.db');
    const post = (event: object, o: { key?: KeyObject; ts?: number; tamper?: boolean } = {}) => {
      const body = JSON.stringify(event);
      const ts = String(Math.floor((o.ts ?? Date.now()) / 1000));
      const sig = sign(null, Buffer.from(`${ts}|${body}`), o.key ?? telnyxKey).toString('base64');
      return fetch(`${base}/api/v1/cdr/telnyx`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': ts }, body: o.tamper ? body.replace('+1212', '+1213') : body });
    };
    const start0 = now - 300_000;
    const ev = (type: string, session: string, payload: object, at = start0) => ({ data: { record_type: 'event', event_type: type, id: `${session}-${type}`, occurred_at: new Date(at).toISOString(), payload: { call_control_id: 'v3:x', call_leg_id: session, call_session_id: session, connection_id: '1', from: '+12025550194', direction: 'outgoing', ...payload } }, meta: { attempt: 1 } });
    const hang = (session: string, to: string, cause: string, sip: string, end = start0 + 30_000) => ev('call.hangup', session, { to, start_time: new Date(start0).toISOString(), end_time: new Date(end).toISOString(), hangup_cause: cause, hangup_source: 'callee', sip_hangup_cause: sip, state: 'hangup' }, end);
    expect((await post(ev('call.initiated', 's1', { to: '+12125550121' }))).status).toBe(200);
    expect((await post(ev('call.answered', 's1', { to: '+12125550121' }, start0 + 6_000))).status).toBe(200);
    expect((await post(hang('s1', '+12125550121', 'normal_clearing', '200', start0 + 30_000))).status).toBe(200);
    expect((await post(ev('call.answered', 's2', { to: '+13105550122' }, start0 + 3_000))).status).toBe(200);
    expect((await post(ev('call.machine.detection.ended', 's2', { to: '+13105550122', result: 'machine' }, start0 + 5_000))).status).toBe(200);
    expect((await post(hang('s2', '+13105550122', 'normal_clearing', '200', start0 + 13_000))).status).toBe(200);
    expect((await post(hang('s3', '+14155550123', 'user_busy', '486'))).status).toBe(200);
    expect((await post(hang('s4', '+12125550124', 'call_rejected', '603'))).status).toBe(200);
    expect((await post(hang('s5', '+12125550125', 'timeout', ''))).status).toBe(200);
    expect((await post(hang('s6', '+12125550126', 'originator_cancel', '487'))).status).toBe(200);
    expect((await post(hang('s1', '+12125550121', 'normal_clearing', '200', start0 + 30_000))).status).toBe(200); // resent
    // Refused: another key, a tampered body, a stale timestamp.
    expect((await post(hang('s7', '+12125550127', 'normal_clearing', '200'), { key: generateKeyPairSync('ed25519').privateKey })).status).toBe(403);
    expect((await post(hang('s8', '+12125550128', 'normal_clearing', '200'), { tamper: true })).status).toBe(403);
    expect((await post(hang('s9', '+12125550129', 'normal_clearing', '200'), { ts: Date.now() - 3_600_000 })).status).toBe(403);
    const n = await calls(base, '+12025550194');
    expect(n!.windows['24h'].calls).toBe(6);
    expect(n!.windows['24h'].outcomes).toMatchObject({ answered: 1, voicemail: 1, busy: 1, rejected: 1, no_answer: 1, cancelled: 1 });
    expect(n!.windows['24h'].avg_talk_seconds).toBe(24); // 6 s → 30 s, from call.answered, not from the start
    expect(await scrapeNumber(base, /numrep_push_requests_total\{provider="telnyx",status="403"\} (\d+)/)).toBe(3);
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 30_000);
});

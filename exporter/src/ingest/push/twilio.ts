// Twilio voice status callbacks (StatusCallback on a call; StatusCallbackEvent may add initiated,
// ringing, answered): application/x-www-form-urlencoded parameters, signed in X-Twilio-Signature.
//
// Read: CallSid (the call's id: a callback sent again counts once), ParentCallSid (an outbound-dial
// leg joins its parent), From, To, Direction (inbound, outbound-api, outbound-dial), CallStatus,
// SipResponseCode, CallDuration (seconds from the answer), AnsweredBy (AMD: machine_* is voicemail),
// StirStatus (the attestation Twilio signed an outbound call with: A, B, C) or StirVerstat
// (TN-Validation-Passed-A … on calls coming in), Timestamp (RFC 2822, when the callback fired).
// Only final statuses are outcomes: completed, busy, no-answer, canceled, failed; the others are
// acknowledged and not stored.
//
// Signature (Twilio's request validation): base64 HMAC-SHA1, keyed with the account's Auth Token, of the
// full URL Twilio requested followed by every POST parameter, sorted by name, as name + value (values of
// a repeated name sorted and each appended with the name). The URL is tried with and without its
// default port, as Twilio's own validator does.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Attestation, RawCall } from '../../model/types.js';
import type { ReaderOptions } from '../reader.js';
import { ReaderKit, withDefaults } from '../formats/common.js';
import { connected, isMachine, outcomeFromSip, type OutcomeResult } from '../../model/outcome.js';
import { parseDirection } from '../../classify/direction.js';
import { pushKey } from '../../classify/callKeys.js';
import type { PushParse } from './freeswitch.js';

export type FormParams = Map<string, string[]>;

export function formParams(body: string): FormParams {
  const m: FormParams = new Map();
  for (const [k, v] of new URLSearchParams(body)) {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  }
  return m;
}

/** Twilio's string to sign: the URL, then name + value for every parameter, names sorted. */
export function twilioSigningString(url: string, params: FormParams): string {
  let s = url;
  for (const k of [...params.keys()].sort()) {
    const vs = [...new Set(params.get(k)!)].sort();
    for (const v of vs) s += k + v;
  }
  return s;
}

export function twilioSignature(token: string, url: string, params: FormParams): string {
  return createHmac('sha1', token).update(Buffer.from(twilioSigningString(url, params), 'utf8')).digest('base64');
}

/** The URL with its scheme's default port added (when it has none) and removed. */
function portVariants(url: string): string[] {
  const m = /^(https?:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf('@');
  const user = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const def = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const withPort = colon < 0 ? scheme + user + host + def + rest : url;
  return [...new Set([url, scheme + user + host + rest, withPort])];
}

/** Does `signature` sign these parameters for one of the URLs (each with and without its port)? */
export function twilioSignatureValid(token: string, signature: string | undefined, urls: string[], params: FormParams): boolean {
  if (!signature) return false;
  const got = Buffer.from(signature);
  for (const u of urls) {
    for (const v of portVariants(u)) {
      const want = Buffer.from(twilioSignature(token, v, params));
      if (want.length === got.length && timingSafeEqual(want, got)) return true;
    }
  }
  return false;
}

const FINAL: Record<string, OutcomeResult['outcome']> = {
  completed: 'answered',
  busy: 'busy',
  'no-answer': 'no_answer',
  canceled: 'cancelled',
  failed: 'failed',
};

function attestationOf(stirStatus: string | undefined, verstat: string | undefined): Attestation {
  const s = (stirStatus ?? '').trim().toUpperCase();
  if (s === 'A' || s === 'B' || s === 'C') return s;
  const m = /TN-VALIDATION-PASSED-([ABC])\b/.exec((verstat ?? s).toUpperCase());
  return m ? (m[1] as Attestation) : 'none';
}

/** Start of the call: the callback's Timestamp minus the talk time (ring time is not in the callback). */
function startOf(timestamp: string | undefined, talkSec: number, now: number): number {
  const t = timestamp ? Date.parse(timestamp) : NaN;
  return (Number.isFinite(t) ? t : now) - talkSec * 1000;
}

export function parseTwilioCallback(p: FormParams, ro: Partial<ReaderOptions>, now: number): PushParse {
  const one = (k: string) => p.get(k)?.[0]?.trim();
  const sid = one('CallSid');
  const status = one('CallStatus')?.toLowerCase();
  if (!sid) return { kind: 'reject', reason: 'missing_field', detail: 'a Twilio status callback without CallSid' };
  if (!status) return { kind: 'reject', reason: 'missing_field', detail: 'a Twilio status callback without CallStatus' };
  const base = FINAL[status];
  if (base === undefined) return { kind: 'skip', why: `CallStatus ${status.slice(0, 20)} is not final` };
  const sip = Number(one('SipResponseCode'));
  const amd = one('AnsweredBy');
  let oc: OutcomeResult;
  if (Number.isInteger(sip) && sip >= 200 && sip <= 699 && !(status === 'completed' && sip !== 200)) oc = outcomeFromSip(sip, { amd });
  else oc = { outcome: base === 'answered' && isMachine(amd) ? 'voicemail' : base };
  const duration = Number(one('CallDuration') ?? '0');
  const talk = connected(oc.outcome) && Number.isFinite(duration) && duration > 0 ? Math.round(duration) : 0;
  const kit = new ReaderKit(withDefaults(ro));
  const rec: RawCall = {
    ts: startOf(one('Timestamp'), talk, now),
    caller: '', called: '', outcome: oc.outcome, talkSec: talk,
    attestation: attestationOf(one('StirStatus'), one('StirVerstat')),
    source: 'twilio',
    fields: { caller: 'Parameter From (caller)', called: 'Parameter To (called number)' },
  };
  kit.caller(rec, one('From') ?? '');
  kit.calledInto(rec, one('To') ?? '');
  if (Number.isInteger(sip) && sip >= 100) rec.sipCode = sip;
  if (oc.blockEngine) rec.blockEngine = oc.blockEngine;
  const d = parseDirection(one('Direction'));
  if (d !== undefined) rec.direction = d;
  const keys: number[] = [];
  pushKey(keys, 'gen', sid);
  const parent = one('ParentCallSid');
  if (parent) pushKey(keys, 'gen', parent);
  rec.keys = keys;
  return { kind: 'records', records: [rec], id: sid };
}

// Telnyx Call Control webhooks (API v2): JSON, signed with Ed25519. Headers telnyx-signature-ed25519
// (base64 signature) and telnyx-timestamp (Unix seconds); the signed message is the timestamp, a `|`
// and the raw body. The public key is the account's (base64, 32 bytes, or PEM).
//
//   { "data": { "event_type": "call.hangup", "id": "…", "occurred_at": "…",
//       "payload": { "call_session_id", "call_leg_id", "from", "to", "direction", "start_time", "end_time",
//                    "hangup_cause", "hangup_source", "sip_hangup_cause", … } } }
//
// call.hangup is the outcome: sip_hangup_cause (a SIP code ≥ 300) first, else hangup_cause
// (normal_clearing: answered; originator_cancel: cancelled; user_busy: busy; timeout, no_answer:
// no_answer; call_rejected: rejected; not_found, unspecified: failed; time_limit: answered). call.answered
// and call.machine.detection.ended are remembered (bounded) by call_session_id: the talk time runs from
// the answer, and a machine makes an answered call voicemail. Other events are acknowledged.

import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Outcome, RawCall } from '../../model/types.js';
import type { ReaderOptions } from '../reader.js';
import { ReaderKit, withDefaults } from '../formats/common.js';
import { connected, isMachine, outcomeFromSip } from '../../model/outcome.js';
import { parseDirection } from '../../classify/direction.js';
import { pushKey } from '../../classify/callKeys.js';
import type { PushParse } from './freeswitch.js';

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

/** The account public key: base64 of the 32 raw bytes (as Mission Control shows it), or PEM. */
export function telnyxPublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  const raw = Buffer.from(t, 'base64');
  if (raw.length !== 32) throw new Error('the Telnyx public key is base64 of 32 bytes (or a PEM key)');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });
}

export function telnyxSignatureValid(key: KeyObject, body: Buffer, signature: string | undefined, timestamp: string | undefined, now: number, toleranceMs: number): 'ok' | 'missing' | 'stale' | 'bad' {
  if (!signature || !timestamp) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp.trim())) return 'bad';
  if (Math.abs(now - Number(timestamp) * 1000) > toleranceMs) return 'stale';
  const sig = Buffer.from(signature.trim(), 'base64');
  if (sig.length !== 64) return 'bad';
  try {
    return verify(null, Buffer.concat([Buffer.from(`${timestamp.trim()}|`), body]), key, sig) ? 'ok' : 'bad';
  } catch {
    return 'bad';
  }
}

const CAUSE: Record<string, Outcome> = {
  normal_clearing: 'answered',
  time_limit: 'answered',
  originator_cancel: 'cancelled',
  user_busy: 'busy',
  timeout: 'no_answer',
  no_answer: 'no_answer',
  call_rejected: 'rejected',
  not_found: 'failed',
  unspecified: 'failed',
};

/** What earlier webhooks of a call said, kept until its hangup (bounded; committed with each webhook). */
export interface TelnyxState {
  /** call_session_id → [answered at (ms) | 0, machine detected (1) | 0] */
  calls: Array<[string, number, number]>;
}

const MAX_PENDING = 20_000;

export class TelnyxCalls {
  private readonly calls = new Map<string, [number, number]>();

  restore(s: unknown): void {
    const st = s as TelnyxState | undefined;
    for (const e of st?.calls ?? []) if (Array.isArray(e) && typeof e[0] === 'string') this.calls.set(e[0], [Number(e[1]) || 0, Number(e[2]) || 0]);
  }

  snapshot(): TelnyxState {
    return { calls: [...this.calls].map(([k, [a, m]]) => [k, a, m]) };
  }

  private note(id: string, answeredAt: number | null, machine: boolean | null): void {
    const cur = this.calls.get(id) ?? [0, 0];
    if (answeredAt !== null && cur[0] === 0) cur[0] = answeredAt;
    if (machine !== null) cur[1] = machine ? 1 : 0;
    this.calls.delete(id);
    this.calls.set(id, cur);
    if (this.calls.size > MAX_PENDING) this.calls.delete(this.calls.keys().next().value as string);
  }

  /** One webhook. `changed`: state to commit even when no row came of it. */
  parse(body: Buffer, ro: Partial<ReaderOptions>): PushParse & { changed?: boolean } {
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return { kind: 'reject', reason: 'bad_json', detail: 'the Telnyx webhook body is not JSON' };
    }
    const data = (doc as { data?: Record<string, unknown> })?.data;
    const p = data?.payload as Record<string, unknown> | undefined;
    const type = typeof data?.event_type === 'string' ? data.event_type : '';
    const s = (v: unknown) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined);
    if (!data || !p || type === '') return { kind: 'reject', reason: 'missing_field', detail: 'a Telnyx webhook without data.event_type and data.payload' };
    const session = s(p.call_session_id) ?? s(p.call_leg_id);
    if (type === 'call.answered' && session) {
      const at = Date.parse(s(data.occurred_at) ?? '');
      this.note(session, Number.isFinite(at) ? at : Date.now(), null);
      return { kind: 'skip', why: 'call.answered remembered', changed: true };
    }
    if (type === 'call.machine.detection.ended' && session) {
      this.note(session, null, isMachine(s(p.result)));
      return { kind: 'skip', why: 'machine detection remembered', changed: true };
    }
    if (type !== 'call.hangup') return { kind: 'skip', why: `${type.slice(0, 40)} is not a hangup` };
    if (!session) return { kind: 'reject', reason: 'missing_field', detail: 'a call.hangup without call_session_id' };
    const start = Date.parse(s(p.start_time) ?? '');
    const end = Date.parse(s(p.end_time) ?? s(data.occurred_at) ?? '');
    if (!Number.isFinite(start)) return { kind: 'reject', reason: 'bad_timestamp', detail: 'call.hangup start_time is not an ISO 8601 time' };
    const seen = this.calls.get(session);
    this.calls.delete(session);
    const sip = Number(s(p.sip_hangup_cause));
    const cause = (s(p.hangup_cause) ?? '').toLowerCase();
    let outcome: Outcome;
    let blockEngine: string | undefined;
    if (Number.isInteger(sip) && sip >= 300 && sip <= 699) {
      const oc = outcomeFromSip(sip);
      outcome = oc.outcome;
      blockEngine = oc.blockEngine;
    } else outcome = CAUSE[cause] ?? 'failed';
    if (outcome === 'answered' && seen?.[1] === 1) outcome = 'voicemail';
    const from = seen && seen[0] > 0 ? seen[0] : start;
    const talk = connected(outcome) && Number.isFinite(end) && end >= from ? Math.round((end - from) / 1000) : 0;
    const kit = new ReaderKit(withDefaults(ro));
    const rec: RawCall = {
      ts: start, caller: '', called: '', outcome, talkSec: talk, attestation: 'none', source: 'telnyx',
      fields: { caller: 'Field from (caller)', called: 'Field to (called number)' },
    };
    kit.caller(rec, s(p.from) ?? '');
    kit.calledInto(rec, s(p.to) ?? '');
    if (Number.isInteger(sip) && sip >= 100) rec.sipCode = sip;
    if (cause !== '') rec.q850 = cause.toUpperCase();
    if (seen && seen[0] > start) rec.ringMs = seen[0] - start;
    if (blockEngine) rec.blockEngine = blockEngine;
    const d = parseDirection(s(p.direction));
    if (d !== undefined) rec.direction = d;
    rec.keys = [];
    pushKey(rec.keys, 'gen', session);
    return { kind: 'records', records: [rec], id: session, changed: seen !== undefined };
  }
}

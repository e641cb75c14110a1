// FreeSWITCH mod_json_cdr, one POST per call leg at hangup (json_cdr.conf.xml):
//   encode=true (default)  Content-Type application/x-www-form-urlencoded, body `cdr=` + the URL-encoded JSON
//   encode=base64          Content-Type application/x-www-form-base64-encoded, body `cdr=` + base64 JSON
//   encode=false           Content-Type application/json, the JSON itself
// and with encode-values=true (default) every value in `variables` URL-encoded. The JSON:
//   { "core-uuid", "channel_data", "variables": { … }, "app_log", "callflow": [ … ] or { … } }
// `callflow` is an array in current FreeSWITCH and one object in old ones; its caller_profile and
// times fill what `variables` lacks (caller_id_number, destination_number, uuid, context, start and
// answer times in microseconds).
//
// The variables are read exactly as the mod_cdr_csv reader reads a custom template
// (formats/freeswitch.ts): the same outcome rules (sip_term_status → sip_hangup_disposition →
// hangup_cause, billsec, AMD variables, 603+ reason text), the same classification hints
// (call_direction, context, uuid and bleg_uuid), so a call pushed and the same call in Master.csv
// count once. `sip_call_id` joins it to the same call seen by the HEP collector or a SIP trace.

import type { RawCall } from '../../model/types.js';
import type { ReaderOptions } from '../reader.js';
import { FreeswitchReader } from '../formats/freeswitch.js';
import { pushKey } from '../../classify/callKeys.js';

/** The variables the cdr_csv reader knows by name (formats/freeswitch.ts layoutFor). */
const KNOWN = [
  'caller_id_number', 'effective_caller_id_number', 'origination_caller_id_number', 'sip_from_user',
  'destination_number', 'callee_id_number', 'sip_req_user', 'sip_to_user',
  'start_uepoch', 'start_epoch', 'answer_uepoch', 'answer_epoch', 'end_uepoch', 'end_epoch',
  'billsec', 'duration', 'hangup_cause', 'sip_term_status', 'sip_invite_failure_status', 'sip_hangup_disposition',
  'sip_term_phrase', 'sip_invite_failure_phrase', 'carrier', 'numrep_carrier',
  'sip_gateway_name', 'sip_gateway', 'gateway', 'sip_req_host', 'sip_to_host', 'accountcode',
  'context', 'call_direction', 'uuid', 'bleg_uuid',
];
/** Variables the reader matches by pattern: AMD results, Reason texts, attestation. */
const PATTERNED = /amd|attest|reason/i;

export type PushParse = { kind: 'records'; records: RawCall[]; id?: string } | { kind: 'reject'; reason: string; detail: string } | { kind: 'skip'; why: string };

function decodeValue(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v; // encode-values=false and a literal '%'
  }
}

/** The JSON document from the body as mod_json_cdr sends it, or null. */
export function jsonCdrText(body: Buffer, contentType: string): string | null {
  const text = body.toString('utf8').trim();
  const ct = contentType.toLowerCase();
  if (text.startsWith('{')) return text;
  if (!text.startsWith('cdr=')) return null;
  const rest = text.slice(4);
  if (ct.includes('base64')) {
    const b = Buffer.from(rest.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'base64').toString('utf8').trim();
    return b.startsWith('{') ? b : null;
  }
  const v = new URLSearchParams(text).get('cdr');
  return v === null ? null : v.trim();
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** One mod_json_cdr document into rows (one: a leg). */
export function parseJsonCdr(text: string, ro: Partial<ReaderOptions>): PushParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: 'reject', reason: 'bad_json', detail: 'the body is not JSON (mod_json_cdr sends cdr=<JSON>, or JSON with encode=false)' };
  }
  if (!isObj(doc) || !isObj(doc.variables)) return { kind: 'reject', reason: 'missing_field', detail: 'the JSON CDR has no "variables" object' };
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(doc.variables)) {
    const s = str(v);
    if (s !== undefined && k.length <= 128) vars.set(k.toLowerCase(), decodeValue(s));
  }
  // callflow: an array (current) or one object (old); the first profile with a destination.
  const flows = Array.isArray(doc.callflow) ? doc.callflow : isObj(doc.callflow) ? [doc.callflow] : [];
  const flow = flows.find((f) => isObj(f) && isObj(f.caller_profile) && str((f.caller_profile as Obj).destination_number)) as Obj | undefined;
  if (flow) {
    const cp = flow.caller_profile as Obj;
    const fill = (name: string, v: string | undefined) => {
      if (v !== undefined && v !== '' && !vars.get(name)) vars.set(name, decodeValue(v));
    };
    fill('caller_id_number', str(cp.caller_id_number));
    fill('destination_number', str(cp.destination_number));
    fill('context', str(cp.context));
    fill('uuid', str(cp.uuid));
    if (isObj(flow.times)) {
      const t = flow.times as Obj;
      fill('start_uepoch', str(t.created_time));
      const ans = str(t.answered_time);
      if (ans !== undefined && ans !== '0') fill('answer_uepoch', ans);
      fill('end_uepoch', str(t.hangup_time));
    }
  }
  const names = [...KNOWN, ...[...vars.keys()].filter((k) => PATTERNED.test(k) && !KNOWN.includes(k)).slice(0, 32)];
  const line = names.map((n) => `"${(vars.get(n) ?? '').replace(/[\r\n]+/g, ' ').replace(/"/g, '""')}"`).join(',');
  const reader = new FreeswitchReader({ ...ro, template: names });
  const r = reader.parseLine(line, { file: 'push:freeswitch', line: 1 });
  if (r.kind === 'reject') return { kind: 'reject', reason: r.rejection.reason, detail: r.rejection.detail };
  if (r.kind === 'skip') return { kind: 'skip', why: 'no call' };
  for (const rec of r.records) {
    rec.source = 'freeswitch_json';
    const callId = vars.get('sip_call_id');
    if (callId) pushKey((rec.keys ??= []), 'sip', callId);
    // answersec: seconds from the start to the answer, when the epochs did not give the ring time.
    const answersec = Number(vars.get('answersec'));
    if (rec.ringMs === undefined && rec.talkSec > 0 && Number.isFinite(answersec) && answersec >= 0) rec.ringMs = answersec * 1000;
    const progress = Number(vars.get('progress_mediasec') ?? vars.get('progresssec'));
    if (rec.ringMs === undefined && Number.isFinite(progress) && progress > 0) rec.ringMs = progress * 1000;
  }
  return { kind: 'records', records: r.records, id: vars.get('uuid') };
}

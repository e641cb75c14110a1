// Generic CSV with a header row, mapped by options.columns.
//
// Logical fields (options.columns maps a logical field to a header name; without a mapping,
// the header names below are recognised case-insensitively, with spaces, '_', '-' and '.'
// alike — `Start Time`, `start_time` and `start-time` are one name):
//   caller       caller, from, caller_number, calling_number, ani, src, cli, source number  (required)
//   caller_id    clid, callerid, callerid_number, caller_id: the presented caller ID (`"Agent" <DID>`),
//                used when the caller column holds an extension
//   called       called, to, called_number, destination, dnis, dst, callee_number, cld   (required)
//   start        start, start_time, call_start, timestamp, time, calldate, started_at   (required)
//   answer       answer, answer_time
//   end          end, end_time, finished_at
//   billsec      billsec, talk_seconds, talk_sec, talk, talk_time, billed_sec, bill_duration
//   duration     duration, call_time, call_sec: ring + talk
//   sip_code     sip_code, sip_status, response_code, code     (sip_code or disposition required)
//   disposition  disposition, outcome, status, result, hangup_cause, call_status
//   reason       reason, reason_phrase      (603 "Network Blocked" / Reason text for 603+)
//   carrier      carrier
//   trunk        trunk, gateway, host, destination_trunk_name, connection_name (else dst_channel)
//   in_trunk     in_trunk, source_trunk_name: the trunk the call came in on (else channel)
//   channel      channel, source_channel: the switch channel the call came from (SIP/101-…)
//   dst_channel  dstchannel, dest_channel: the channel it was bridged to
//   attestation  attestation, attest
//   amd          amd, amd_status, amd_result
//   direction    direction, call_direction, call_type: inbound/outbound/internal, in/out, …
//   call_id      call_id, callid, linkedid, uniqueid, unique_id, uuid, call_uuid, sid, session_id:
//                rows with one call_id are legs of one call
//   parent_call_id  parent_call_sid, parent_call_id: a child leg's parent (joined with it)
//   context      context, dcontext
//   did          did, inbound_did: the DID an inbound call came in on (a value here: the row is inbound)
//   result       dialer_result, call_result, dispo, dialer_disposition, agent_disposition, lead_status: the
//                dialer's disposition (SALE, NI, ABANDON, …: model/disposition.ts), never the outcome; a column
//                headed just `result` is read as disposition unless columns.result names it
// Presets, chosen by the header, map what the aliases cannot know: Twilio's call log (sid,
// from, to, status, start_time, duration = talk seconds, answered_by), Vonage (uuid,
// conversation_uuid, duration = talk seconds), Telnyx (cli, cld, billed_sec, call_sec,
// session id) and Plivo (call_uuid, bill_duration). The literal `NULL` (database dumps) is an
// empty cell.
// Times: ISO 8601 with an offset or Z, wall time `YYYY-MM-DD HH:MM[:SS]` or `YYYY/M/D H:MM`
// in options.timezone, or epoch seconds / milliseconds. The delimiter is ',' unless the header
// uses ';' or TAB and no ','. Line 1 of every file is its header (the header is part of the
// snapshot). Outcome: sip_code when present and valid, else disposition (an outcome name such
// as no_answer or Twilio's completed, an Asterisk disposition, or a FreeSWITCH hangup cause).

import { DEFAULT_DISPOSITIONS, dispositionOf, type DispositionMap } from '../../model/disposition.js';
import type { LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { connected, outcomeFromDisposition, outcomeFromSip, type OutcomeResult } from '../../model/outcome.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, callRecord, one, parseAttestation, parseSeconds, parseSipCode, reject, withDefaults } from './common.js';
import { parseEpoch } from './time.js';
import { parseDirection } from '../../classify/direction.js';
import { pushKey } from '../../classify/callKeys.js';

export const GENERIC_FIELDS = {
  caller: ['caller', 'from', 'caller_number', 'calling_number', 'ani', 'src', 'cli', 'source_number', 'from_number', 'source'],
  caller_id: ['caller_id', 'clid', 'callerid', 'callerid_number', 'caller_id_number', 'presented_number'],
  called: ['called', 'to', 'called_number', 'destination', 'dnis', 'dst', 'callee_number', 'callee', 'destination_number', 'dest_number', 'cld', 'to_number', 'dialed_number'],
  start: ['start', 'start_time', 'call_start', 'timestamp', 'time', 'calldate', 'call_date', 'started_at', 'starttime', 'date'],
  answer: ['answer', 'answer_time', 'answered_at'],
  end: ['end', 'end_time', 'finished_at', 'ended_at', 'endtime'],
  billsec: ['billsec', 'talk_seconds', 'talk_sec', 'talk', 'talk_time', 'talktime', 'billed_sec', 'bill_duration'],
  duration: ['duration', 'call_time', 'call_sec', 'calltime', 'total_duration'],
  sip_code: ['sip_code', 'sip_status', 'response_code', 'code', 'sip_response_code'],
  disposition: ['disposition', 'outcome', 'status', 'result', 'hangup_cause', 'call_status'],
  reason: ['reason', 'reason_phrase'],
  carrier: ['carrier'],
  trunk: ['trunk', 'gateway', 'host', 'destination_trunk_name', 'connection_name'],
  in_trunk: ['in_trunk', 'source_trunk_name', 'source_trunk'],
  channel: ['channel', 'source_channel', 'src_channel'],
  dst_channel: ['dstchannel', 'dest_channel', 'destination_channel', 'dst_channel'],
  attestation: ['attestation', 'attest'],
  amd: ['amd', 'amd_status', 'amd_result'],
  direction: ['direction', 'call_direction', 'call_type', 'calltype'],
  call_id: ['call_id', 'callid', 'linkedid', 'uniqueid', 'unique_id', 'uuid', 'call_uuid', 'call_sid', 'callsid', 'sid', 'call_session_id', 'session_id'],
  parent_call_id: ['parent_call_sid', 'parent_call_id', 'parent_call_uuid'],
  context: ['context', 'dcontext'],
  did: ['did', 'inbound_did', 'destination_did'],
  result: ['dialer_result', 'call_result', 'dispo', 'dialer_disposition', 'agent_disposition', 'lead_disposition', 'lead_status'],
} as const;
export type GenericField = keyof typeof GENERIC_FIELDS;

/** A header name as the aliases are matched: lower case, runs of space, '_', '-' and '.' as one '_'. */
export function headerKey(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_.\-]+/g, '_').replace(/^_|_$/g, '');
}

/**
 * Exports whose columns mean something the aliases cannot tell, recognised by their header: each maps
 * logical fields to header keys (null: not this column, whatever its alias says).
 */
const PRESETS: Array<{ name: string; when: string[]; columns: Partial<Record<GenericField, string | null>> }> = [
  // Twilio call log: `duration` counts from answer; answered_by is AMD; outbound-dial legs have a parent.
  { name: 'twilio', when: ['sid', 'from', 'to', 'status', 'start_time'], columns: { billsec: 'duration', duration: null, amd: 'answered_by', call_id: 'sid' } },
  // Vonage Voice API: `duration` counts from answer.
  { name: 'vonage', when: ['uuid', 'conversation_uuid', 'from', 'to'], columns: { billsec: 'duration', duration: null, call_id: 'uuid', parent_call_id: 'conversation_uuid' } },
  // Telnyx detail records: cli/cld, billed and total seconds, one session per call.
  { name: 'telnyx', when: ['cli', 'cld'], columns: { billsec: 'billed_sec', duration: 'call_sec', call_id: 'telnyx_leg_id', parent_call_id: 'session_id' } },
  // Plivo: bill_duration is talk.
  { name: 'plivo', when: ['call_uuid', 'bill_duration'], columns: { billsec: 'bill_duration', duration: null, call_id: 'call_uuid' } },
];

type Layout = { [K in GenericField]: number } & { n: number; delimiter: string; header: string[]; fields: { caller: string; called: string } };

/** Content check used by detectFormat: a header naming a caller and a called column. */
export function looksLikeGenericHeader(line: string): boolean {
  const delim = pickDelimiter(line);
  const out: string[] = [];
  if (splitCsvLine(line, out, delim) < 3) return false;
  const names = out.map(headerKey);
  const has = (f: GenericField) => GENERIC_FIELDS[f].some((a) => names.includes(a));
  return has('caller') && has('called') && has('start');
}

function pickDelimiter(header: string): string {
  if (header.includes(',')) return ',';
  if (header.includes('\t')) return '\t';
  if (header.includes(';')) return ';';
  return ',';
}

export class GenericReader implements Reader {
  readonly format = 'generic';
  readonly independentLines = true;
  private readonly kit: ReaderKit;
  private readonly mapping: Partial<Record<GenericField, string>>;
  private layout: Layout | null = null;
  private layoutError: string | null = null;
  private headerLine: string | null = null;
  private readonly f: string[] = [];
  private readonly dispositions: DispositionMap;

  constructor(options?: Partial<ReaderOptions>) {
    const o = withDefaults(options);
    this.kit = new ReaderKit(o);
    this.dispositions = o.dispositions ?? DEFAULT_DISPOSITIONS;
    this.mapping = {};
    for (const [k, v] of Object.entries(o.columns ?? {})) {
      if (!(k in GENERIC_FIELDS)) {
        throw new Error(`generic columns: unknown field "${k}" (known: ${Object.keys(GENERIC_FIELDS).join(', ')})`);
      }
      this.mapping[k as GenericField] = v;
    }
  }

  private setHeader(line: string): string | null {
    this.headerLine = line;
    const delimiter = pickDelimiter(line);
    const out: string[] = [];
    if (splitCsvLine(line, out, delimiter) < 0) return 'The header line has an unterminated quote.';
    const names = out.map(headerKey);
    const preset = PRESETS.find((p) => p.when.every((k) => names.includes(k)));
    const L = { n: names.length, delimiter, header: out.map((h) => h.trim()) } as Layout;
    for (const f of Object.keys(GENERIC_FIELDS) as GenericField[]) {
      const mapped = this.mapping[f];
      if (mapped !== undefined) {
        L[f] = names.indexOf(headerKey(mapped));
        if (L[f] < 0) {
          this.layout = null;
          return `The header has no column "${mapped}" (mapped to ${f}).`;
        }
        continue;
      }
      const fromPreset = preset?.columns[f];
      if (fromPreset === null) L[f] = -1;
      else if (fromPreset !== undefined && names.includes(fromPreset)) L[f] = names.indexOf(fromPreset);
      else L[f] = GENERIC_FIELDS[f].map((a) => names.indexOf(a)).find((i) => i >= 0) ?? -1;
    }
    // A column mapped to one field is not also read as another by alias (Twilio `duration` is talk, not ring + talk).
    const taken = new Set((Object.keys(GENERIC_FIELDS) as GenericField[]).filter((f) => this.mapping[f] !== undefined || preset?.columns[f]).map((f) => L[f]));
    for (const f of Object.keys(GENERIC_FIELDS) as GenericField[]) {
      if (this.mapping[f] === undefined && preset?.columns[f] === undefined && taken.has(L[f])) L[f] = -1;
    }
    const missing = (['caller', 'called', 'start'] as const).filter((f) => L[f] < 0);
    if (L.sip_code < 0 && L.disposition < 0) missing.push('sip_code or disposition' as never);
    if (missing.length > 0) {
      this.layout = null;
      return `The header has no column for ${missing.join(', ')} (map one with columns.<field>).`;
    }
    L.fields = { caller: `Column ${L.header[L.caller]} (caller)`, called: `Column ${L.header[L.called]} (called number)` };
    this.layout = L;
    return null;
  }

  private time(text: string): number | null {
    const t = text.trim();
    if (/^\d+(\.\d+)?$/.test(t)) return parseEpoch(t);
    return this.kit.clock.parse(t);
  }

  parseLine(raw: string, ctx: LineContext): LineResult {
    const line = cleanLine(raw);
    if (ctx.line === 1 || (this.layout === null && this.layoutError === null)) {
      if (line.trim() === '') return SKIP;
      this.layoutError = this.setHeader(line);
      return this.layoutError === null ? SKIP : reject('no_header', this.layoutError);
    }
    if (line.trim() === '') return SKIP;
    const L = this.layout;
    if (L === null) return reject('no_header', this.layoutError ?? 'No usable header line.');
    const f = this.f;
    const n = splitCsvLine(line, f, L.delimiter);
    if (n === CSV_UNTERMINATED_QUOTE) {
      return reject('unterminated_quote', `Column ${f.length + 1} (${L.header[f.length] ?? 'extra'}) opens a quote that never closes.`);
    }
    if (n !== L.n) return reject('wrong_column_count', `Expected ${L.n} columns as in the header, found ${n}.`);
    const col = (i: number): string => {
      if (i < 0) return '';
      const v = f[i].trim();
      return v === 'NULL' ? '' : v;
    };
    const name = (k: GenericField) => L.header[L[k]];
    const kit = this.kit;

    const startText = col(L.start);
    if (startText === '') return reject('bad_timestamp', `Column ${name('start')} is empty.`);
    const ts = this.time(startText);
    if (ts === null) return reject('bad_timestamp', `Column ${name('start')} is not a date (ISO 8601, YYYY-MM-DD HH:MM:SS or epoch).`);
    let answerMs: number | null = null;
    if (col(L.answer) !== '') {
      answerMs = this.time(col(L.answer));
      if (answerMs === null) return reject('bad_timestamp', `Column ${name('answer')} is not a date.`);
    }
    let endMs: number | null = null;
    if (col(L.end) !== '') {
      endMs = this.time(col(L.end));
      if (endMs === null) return reject('bad_timestamp', `Column ${name('end')} is not a date.`);
    }
    let billsec: number;
    if (col(L.billsec) !== '') {
      const b = parseSeconds(col(L.billsec));
      if (b === null) return reject('bad_value', `Column ${name('billsec')} is not a number of seconds.`);
      billsec = b;
    } else if (answerMs !== null && endMs !== null && endMs >= answerMs) billsec = Math.round((endMs - answerMs) / 1000);
    else billsec = 0;
    const duration = col(L.duration) !== '' ? parseSeconds(col(L.duration)) : null;

    const amd = col(L.amd) || undefined;
    const reason = col(L.reason) || undefined;
    let oc: OutcomeResult | null = null;
    const codeText = col(L.sip_code);
    const sipCode = parseSipCode(codeText);
    if (codeText !== '' && sipCode === undefined && col(L.disposition) === '') {
      return reject('bad_value', `Column ${name('sip_code')} is not a SIP status code.`);
    }
    if (sipCode !== undefined) oc = outcomeFromSip(sipCode, { reasonPhrase: reason, reasonText: reason, amd });
    else {
      const disp = col(L.disposition);
      if (disp === '') return reject('missing_field', `Columns ${L.sip_code >= 0 ? name('sip_code') : ''}${L.sip_code >= 0 && L.disposition >= 0 ? ' and ' : ''}${L.disposition >= 0 ? name('disposition') : ''} are empty.`);
      oc = outcomeFromDisposition(disp, billsec, amd);
      if (oc === null) return reject('unknown_disposition', `Column ${name('disposition')} is not an outcome, Asterisk disposition or Q.850 cause.`);
    }

    const answered = connected(oc.outcome);
    const rec = callRecord(ts, '', '', oc.outcome, billsec, parseAttestation(col(L.attestation)), 'generic');
    // The caller: the caller column when it is a number, else the presented caller ID column (`"Agent" <DID>`).
    kit.caller(rec, col(L.caller));
    if (rec.caller === '' && col(L.caller_id) !== '') {
      const viaId = kit.callers.normalize(col(L.caller_id));
      if (viaId.ok) {
        rec.caller = viaId.e164;
        delete rec.callerText;
      }
    }
    kit.calledInto(rec, col(L.called));
    if (sipCode !== undefined) rec.sipCode = sipCode;
    if (answered && answerMs !== null && answerMs >= ts) rec.ringMs = answerMs - ts;
    else if (duration !== null && duration >= (answered ? billsec : 0)) rec.ringMs = (duration - (answered ? billsec : 0)) * 1000;
    else if (!answered && endMs !== null && endMs >= ts) rec.ringMs = endMs - ts;
    if (oc.blockEngine) rec.blockEngine = oc.blockEngine;
    const disposition = dispositionOf(col(L.result), this.dispositions);
    if (disposition !== undefined) rec.disposition = disposition;
    const carrier = col(L.carrier);
    if (carrier) rec.carrier = carrier;
    // Channels as Asterisk names them: the one the call left on is a trunk unless it is a Local/ channel.
    const channel = col(L.channel);
    const dstChannel = col(L.dst_channel);
    // The channel the call was bridged to is what it left on; a trunk column (which some exports fill with the next
    // trunk a failover would try) is read when there is no such channel.
    const trunk = (dstChannel !== '' && !/^local\//i.test(dstChannel) ? dstChannel : '') || col(L.trunk);
    if (trunk) rec.trunk = trunk;
    rec.fields = L.fields;
    const inTrunk = col(L.in_trunk) || channel;
    if (inTrunk) rec.inTrunk = inTrunk;
    if (dstChannel) rec.outChannel = dstChannel;
    const context = col(L.context);
    if (context) rec.context = context;
    // A direction column wins; else a DID column that holds a value says the call came in on it.
    const direction = parseDirection(col(L.direction)) ?? (col(L.did) !== '' ? 'inbound' : undefined);
    if (direction) rec.direction = direction;
    const keys: number[] = [];
    const callId = col(L.call_id);
    if (callId) pushKey(keys, 'gen', callId);
    const parent = col(L.parent_call_id);
    if (parent) pushKey(keys, 'gen', parent);
    if (keys.length > 0) rec.keys = keys;
    return one(rec);
  }

  snapshot(): { v: 1; header: string | null } {
    return { v: 1, header: this.layout ? this.headerLine : null };
  }

  restore(state: unknown): void {
    const s = state as { v?: number; header?: string | null } | null;
    this.layout = null;
    this.layoutError = null;
    if (s && s.v === 1 && typeof s.header === 'string') this.layoutError = this.setHeader(s.header);
  }
}

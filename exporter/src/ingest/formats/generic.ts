// Generic CSV with a header row, mapped by options.columns.
//
// Logical fields (options.columns maps a logical field to a header name; without a
// mapping, the header names below are recognised case-insensitively):
//   caller       caller, from, caller_number, calling_number, ani, src          (required)
//   called       called, to, called_number, destination, dnis, dst              (required)
//   start        start, start_time, call_start, timestamp, time                 (required)
//   answer       answer, answer_time
//   end          end, end_time
//   billsec      billsec, talk_seconds, talk_sec, talk
//   sip_code     sip_code, sip_status, response_code, code     (sip_code or disposition required)
//   disposition  disposition, outcome, status, result, hangup_cause
//   reason       reason, reason_phrase      (603 "Network Blocked" / Reason text for 603+)
//   carrier      carrier
//   trunk        trunk, gateway, host
//   attestation  attestation, attest
//   amd          amd, amd_status, amd_result
// Times: ISO 8601 with an offset or Z, wall time `YYYY-MM-DD HH:MM:SS` in options.timezone,
// or epoch seconds / milliseconds. The delimiter is ',' unless the header uses ';' or TAB
// and no ','. Line 1 of every file is its header (the header is part of the snapshot).
// Outcome: sip_code when present and valid, else disposition (an outcome name such as
// no_answer, an Asterisk disposition, or a FreeSWITCH hangup cause).

import type { LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { connected, outcomeFromDisposition, outcomeFromSip, type OutcomeResult } from '../../model/outcome.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, callRecord, one, parseAttestation, parseSeconds, parseSipCode, reject, withDefaults } from './common.js';
import { parseEpoch } from './time.js';

export const GENERIC_FIELDS = {
  caller: ['caller', 'from', 'caller_number', 'calling_number', 'ani', 'src'],
  called: ['called', 'to', 'called_number', 'destination', 'dnis', 'dst'],
  start: ['start', 'start_time', 'call_start', 'timestamp', 'time'],
  answer: ['answer', 'answer_time'],
  end: ['end', 'end_time'],
  billsec: ['billsec', 'talk_seconds', 'talk_sec', 'talk'],
  sip_code: ['sip_code', 'sip_status', 'response_code', 'code'],
  disposition: ['disposition', 'outcome', 'status', 'result', 'hangup_cause'],
  reason: ['reason', 'reason_phrase'],
  carrier: ['carrier'],
  trunk: ['trunk', 'gateway', 'host'],
  attestation: ['attestation', 'attest'],
  amd: ['amd', 'amd_status', 'amd_result'],
} as const;
export type GenericField = keyof typeof GENERIC_FIELDS;

type Layout = { [K in GenericField]: number } & { n: number; delimiter: string; header: string[] };

/** Content check used by detectFormat: a header naming a caller and a called column. */
export function looksLikeGenericHeader(line: string): boolean {
  const delim = pickDelimiter(line);
  const out: string[] = [];
  if (splitCsvLine(line, out, delim) < 3) return false;
  const names = out.map((h) => h.trim().toLowerCase());
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
  private readonly kit: ReaderKit;
  private readonly mapping: Partial<Record<GenericField, string>>;
  private layout: Layout | null = null;
  private layoutError: string | null = null;
  private headerLine: string | null = null;
  private readonly f: string[] = [];

  constructor(options?: Partial<ReaderOptions>) {
    const o = withDefaults(options);
    this.kit = new ReaderKit(o);
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
    const names = out.map((h) => h.trim().toLowerCase());
    const L = { n: names.length, delimiter, header: out.map((h) => h.trim()) } as Layout;
    for (const f of Object.keys(GENERIC_FIELDS) as GenericField[]) {
      const mapped = this.mapping[f];
      L[f] = mapped !== undefined ? names.indexOf(mapped.trim().toLowerCase()) : GENERIC_FIELDS[f].map((a) => names.indexOf(a)).find((i) => i >= 0) ?? -1;
      if (mapped !== undefined && L[f] < 0) {
        this.layout = null;
        return `The header has no column "${mapped}" (mapped to ${f}).`;
      }
    }
    const missing = (['caller', 'called', 'start'] as const).filter((f) => L[f] < 0);
    if (L.sip_code < 0 && L.disposition < 0) missing.push('sip_code or disposition' as never);
    if (missing.length > 0) {
      this.layout = null;
      return `The header has no column for ${missing.join(', ')} (map one with columns.<field>).`;
    }
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
    const col = (i: number): string => (i >= 0 ? f[i].trim() : '');
    const name = (k: GenericField) => L.header[L[k]];
    const kit = this.kit;

    const callerText = col(L.caller);
    if (callerText === '') return reject('missing_field', `Column ${name('caller')} (caller) is empty.`);
    const callerRes = kit.callers.normalize(callerText);
    if (!callerRes.ok) return reject('invalid_number', `Column ${name('caller')} (caller) ${callerRes.why}.`);
    const calledText = col(L.called);
    if (calledText === '') return reject('missing_field', `Column ${name('called')} (called number) is empty.`);
    const calledRes = kit.called.normalize(calledText);
    if (!calledRes.ok) return reject('invalid_number', `Column ${name('called')} (called number) ${calledRes.why}.`);

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
    const rec = callRecord(ts, callerRes.e164, calledRes.e164, oc.outcome, billsec, parseAttestation(col(L.attestation)), 'generic');
    if (sipCode !== undefined) rec.sipCode = sipCode;
    if (answered && answerMs !== null && answerMs >= ts) rec.ringMs = answerMs - ts;
    else if (!answered && endMs !== null && endMs >= ts) rec.ringMs = endMs - ts;
    if (oc.blockEngine) rec.blockEngine = oc.blockEngine;
    const carrier = col(L.carrier);
    if (carrier) rec.carrier = carrier;
    const trunk = col(L.trunk);
    if (trunk) rec.trunk = trunk;
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

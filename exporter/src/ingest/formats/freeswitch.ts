// FreeSWITCH mod_cdr_csv.
//
// Templates:
//   default (built in, 13): caller_id_name, caller_id_number, destination_number, context,
//     start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid,
//     bleg_uuid, accountcode
//   example (vanilla cdr_csv.conf.xml, 15): the 13 + read_codec, write_codec
//   custom: options.template, the template's ${var} list in order (e.g. from
//     `parseFreeswitchTemplate('"${caller_id_number}","${sip_term_status}",…')`).
// Without a custom template, 13 fields read as `default` and 15 as `example`.
//
// Variables used when the template has them (first non-empty wins):
//   caller  caller_id_number, effective_caller_id_number, origination_caller_id_number, sip_from_user
//   called  destination_number, callee_id_number, sip_req_user, sip_to_user
//   start   start_uepoch, start_epoch, start_stamp (stamps are local time in options.timezone)
//   answer  answer_uepoch, answer_epoch (0 = unanswered), answer_stamp (empty = unanswered)
//   talk    billsec (else end − answer)
//   ring    duration − billsec, or answer − start from epochs
//   outcome sip_term_status, sip_invite_failure_status (SIP code) → sip_hangup_disposition → hangup_cause
//   603+    sip_term_phrase / sip_invite_failure_phrase (reason phrase), any var named *reason* (Reason text)
//   AMD     any var whose name contains "amd" (amd_result, amd_status, avmd_detect, AMDSTATUS)
//   STIR    any var whose name contains "attest" (A/B/C)
//   carrier carrier, numrep_carrier
//   trunk   sip_gateway_name, sip_gateway, gateway, sip_req_host, sip_to_host, accountcode
//   result  dialer_result, call_result, dispo, dialer_disposition, numrep_result, result, userfield: the
//           dialer's disposition, a bare value (SALE) or a `RESULT=SALE` pair (model/disposition.ts)
// Classification (classify/): context (`public` is FreeSWITCH's inbound context), the call's
//   direction from call_direction (FusionPBX sets it: inbound, outbound, local), and the keys that
//   join the legs of one call: uuid and bleg_uuid. FreeSWITCH's own `direction` variable is the
//   direction of one leg (the A leg of a call a phone places is "inbound" to FreeSWITCH), so it
//   is not read as the call's.

import { DEFAULT_DISPOSITIONS, dispositionInText, type DispositionMap } from '../../model/disposition.js';
import type { LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { BytesMemo, CsvFields, ascii, bytesEqual, digitsValue, optionalDigits, skipSpace, trimEnd } from '../bytes.js';
import { connected, outcomeFromHangupCause, type FreeswitchDetail } from '../../model/outcome.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, callerMemo, SKIP, callRecord, calledFromBytes, callerFromBytes, one, parseAttestation, parseSeconds, parseSipCode, reject, varName, withDefaults } from './common.js';
import { parseEpoch } from './time.js';
import { parseDirection } from '../../classify/direction.js';
import { RowKeys, pushKey } from '../../classify/callKeys.js';

export const FREESWITCH_DEFAULT_TEMPLATE = [
  'caller_id_name', 'caller_id_number', 'destination_number', 'context', 'start_stamp', 'answer_stamp',
  'end_stamp', 'duration', 'billsec', 'hangup_cause', 'uuid', 'bleg_uuid', 'accountcode',
];
export const FREESWITCH_EXAMPLE_TEMPLATE = [...FREESWITCH_DEFAULT_TEMPLATE, 'read_codec', 'write_codec'];

/** Variable names from a mod_cdr_csv template string: `"${a}","${b}"` → ['a','b']. */
export function parseFreeswitchTemplate(template: string): string[] {
  const out: string[] = [];
  const re = /\$\{([^}]+)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template)) !== null) out.push(m[1].trim());
  return out;
}

// Also a spreadsheet's re-save: `2020/2/10 22:41`.
const DATE_RE = /^\d{4}[-/]\d{1,2}[-/]\d{1,2} \d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const CAUSE_RE = /^[A-Z][A-Z0-9_]+$/;

export function looksLikeFreeswitch(fields: string[]): boolean {
  const n = fields.length;
  return (n === 13 || n === 15) && DATE_RE.test(fields[4]) && CAUSE_RE.test(fields[9]);
}

/** Column indexes of the variables the reader uses (-1 = not in the template). */
interface Layout {
  n: number;
  names: string[];
  caller: number[];
  called: number[];
  startEpoch: number[];
  startStamp: number;
  answerEpoch: number[];
  answerStamp: number;
  endEpoch: number[];
  endStamp: number;
  billsec: number;
  duration: number;
  cause: number;
  sipStatus: number[];
  disposition: number;
  phrase: number[];
  reasonText: number[];
  amd: number[];
  attest: number[];
  carrier: number[];
  trunk: number[];
  context: number;
  callDirection: number;
  uuids: number[];
  /** Variables with the dialer's result (model/disposition.ts). */
  result: number[];
  fields: { caller: string; called: string };
}

function layoutFor(names: string[]): Layout {
  const lower = names.map((v) => varName(v).toLowerCase());
  const idx = (n: string) => lower.indexOf(n);
  const all = (...ns: string[]) => ns.map(idx).filter((i) => i >= 0);
  const matching = (re: RegExp, except: RegExp = /$^/) =>
    lower.map((n, i) => (re.test(n) && !except.test(n) ? i : -1)).filter((i) => i >= 0);
  return {
    n: names.length,
    names: names.map(varName),
    caller: all('caller_id_number', 'effective_caller_id_number', 'origination_caller_id_number', 'sip_from_user'),
    called: all('destination_number', 'callee_id_number', 'sip_req_user', 'sip_to_user'),
    startEpoch: all('start_uepoch', 'start_epoch'),
    startStamp: idx('start_stamp'),
    answerEpoch: all('answer_uepoch', 'answer_epoch'),
    answerStamp: idx('answer_stamp'),
    endEpoch: all('end_uepoch', 'end_epoch'),
    endStamp: idx('end_stamp'),
    billsec: idx('billsec'),
    duration: idx('duration'),
    cause: idx('hangup_cause'),
    sipStatus: all('sip_term_status', 'sip_invite_failure_status'),
    disposition: idx('sip_hangup_disposition'),
    phrase: all('sip_term_phrase', 'sip_invite_failure_phrase'),
    reasonText: matching(/reason/, /phrase|hangup|disposition/),
    amd: matching(/amd/),
    attest: matching(/attest/),
    carrier: all('carrier', 'numrep_carrier'),
    trunk: all('sip_gateway_name', 'sip_gateway', 'gateway', 'sip_req_host', 'sip_to_host', 'accountcode'),
    context: idx('context'),
    callDirection: idx('call_direction'),
    uuids: all('uuid', 'bleg_uuid'),
    result: all('dialer_result', 'call_result', 'dispo', 'dialer_disposition', 'numrep_result', 'result', 'userfield', 'cdr_userfield'),
    fields: {
      caller: `Column ${names.map(varName)[all('caller_id_number', 'effective_caller_id_number', 'origination_caller_id_number', 'sip_from_user')[0]] ?? 'caller_id_number'} (caller)`,
      called: `Column ${names.map(varName)[all('destination_number', 'callee_id_number', 'sip_req_user', 'sip_to_user')[0]] ?? 'destination_number'} (called number)`,
    },
  };
}

/** Classification hints of a row (the same on the byte and the string path). */
function addHints(rec: RawCall, L: Layout, context: string, callDirection: string, uuids: string[]): void {
  const keys: number[] = [];
  for (const u of uuids) if (u !== '') pushKey(keys, 'fs', u);
  addHintKeys(rec, L, context, callDirection, keys);
}

/** addHints with the uuid keys already hashed (the byte path hashes them from the bytes: no string per uuid). */
function addHintKeys(rec: RawCall, L: Layout, context: string, callDirection: string, keys: number[] | undefined): void {
  rec.fields = L.fields;
  if (context !== '') rec.context = context;
  const d = parseDirection(callDirection);
  if (d !== undefined) rec.direction = d;
  if (keys !== undefined && keys.length > 0) rec.keys = keys;
}

/** buf[s, e) has no control character (below space, or DEL). */
function printable(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] < 32 || buf[i] === 127) return false;
  return true;
}

function first(f: string[], idxs: number[]): string | undefined {
  for (const i of idxs) {
    const v = f[i]?.trim();
    if (v) return v;
  }
  return undefined;
}

export class FreeswitchReader implements Reader {
  readonly format = 'freeswitch';
  readonly independentLines = true;
  private readonly kit: ReaderKit;
  private readonly f: string[] = [];
  private readonly custom: Layout | null;
  private readonly builtin13 = layoutFor(FREESWITCH_DEFAULT_TEMPLATE);
  private readonly builtin15 = layoutFor(FREESWITCH_EXAMPLE_TEMPLATE);

  /** The byte fast path, for the built-in templates only (a custom template is read by parseLine). */
  readonly parseBytes?: (buf: Buffer, start: number, end: number, clean: boolean) => RawCall | null;
  private readonly fields = new CsvFields();
  /** Trimmed caller bytes → E.164, or null for a caller parseLine must judge. */
  private readonly callers = callerMemo();
  /** Trimmed hangup-cause bytes → the same text as a string; likewise the accountcode (a gateway: few values). */
  private readonly causes = new BytesMemo<string>(256, 16 * 1024);
  private readonly trunks = new BytesMemo<string>(256, 16 * 1024);
  private readonly rowKeys = new RowKeys();
  private readonly detail: FreeswitchDetail = { billsec: 0, answered: false };
  private readonly dispositions: DispositionMap;

  constructor(options?: Partial<ReaderOptions>) {
    const o = withDefaults(options);
    this.kit = new ReaderKit(o);
    this.dispositions = o.dispositions ?? DEFAULT_DISPOSITIONS;
    this.custom = o.template && o.template.length > 0 ? layoutFor(o.template) : null;
    if (this.custom === null) this.parseBytes = (buf, start, end, clean) => this.builtinBytes(buf, start, end, clean);
    if (this.custom) {
      const L = this.custom;
      const missing: string[] = [];
      if (L.caller.length === 0) missing.push('caller_id_number');
      if (L.called.length === 0) missing.push('destination_number');
      if (L.startEpoch.length === 0 && L.startStamp < 0) missing.push('start_stamp or start_epoch');
      if (L.cause < 0 && L.sipStatus.length === 0) missing.push('hangup_cause or sip_term_status');
      if (missing.length > 0) throw new Error(`FreeSWITCH template lacks ${missing.join(', ')}`);
    }
  }

  /**
   * A plain line of the built-in 13/15-column templates — ASCII, a caller and a called number,
   * `YYYY-MM-DD HH:MM:SS` stamps, whole-second durations, a hangup cause — read from bytes; null for
   * anything else (parseLine judges it). Columns: 1 caller_id_number, 2 destination_number,
   * 4 start_stamp, 5 answer_stamp, 6 end_stamp, 7 duration, 8 billsec, 9 hangup_cause, 12 accountcode.
   */
  private builtinBytes(buf: Buffer, start: number, end: number, clean: boolean): RawCall | null {
    const fl = this.fields;
    if (!fl.scan(buf, start, end, clean)) return null;
    const n = fl.count;
    if (n !== 13 && n !== 15) return null;
    const fs = fl.start;
    const fe = fl.end;
    const esc = fl.escaped;
    if (esc[1] || esc[2] || esc[9] || esc[12]) return null;
    const clock = this.kit.clock;

    // caller, called (trimmed, as first() reads them)
    const cs = skipSpace(buf, fs[1], fe[1]);
    const ce = trimEnd(buf, cs, fe[1]);
    if (cs === ce) return null;
    // Not a number (an A leg from an extension, an internal call): kept as text for the classification stage, as
    // parseLine keeps it — unless it holds control characters String.trim would treat otherwise.
    const caller = callerFromBytes(this.kit, this.callers, buf, cs, ce);
    if (caller === null && (!printable(buf, cs, ce) || bytesEqual(buf, cs, ce, 'caller_id_number'))) return null; // a header: parseLine's
    const ds = skipSpace(buf, fs[2], fe[2]);
    const de = trimEnd(buf, ds, fe[2]);
    if (ds === de) return null;
    const called = calledFromBytes(this.kit, buf, ds, de);
    if (called === null && !printable(buf, ds, de)) return null;

    // start_stamp, answer_stamp, end_stamp
    if (fe[4] - fs[4] !== 19) return null;
    const ts = clock.parseBytes(buf, fs[4]);
    if (ts !== ts) return null;
    let answerMs: number | null = null;
    if (skipSpace(buf, fs[5], fe[5]) !== fe[5]) {
      if (fe[5] - fs[5] !== 19) return null;
      answerMs = clock.parseBytes(buf, fs[5]);
      if (answerMs !== answerMs) return null;
    }
    let endMs: number | null = null;
    if (skipSpace(buf, fs[6], fe[6]) !== fe[6]) {
      if (fe[6] - fs[6] !== 19) return null;
      endMs = clock.parseBytes(buf, fs[6]);
      if (endMs !== endMs) return null;
    }

    const billsec = digitsValue(buf, fs[8], fe[8]);
    const duration = optionalDigits(buf, fs[7], fe[7]);
    if (billsec < 0 || duration === -1) return null;

    // hangup_cause
    const hs = skipSpace(buf, fs[9], fe[9]);
    const he = trimEnd(buf, hs, fe[9]);
    if (hs === he) return null;
    let cause = this.causes.get(buf, hs, he);
    if (cause === undefined) {
      cause = ascii(buf, hs, he);
      this.causes.set(buf, hs, he, cause);
    }
    const d = this.detail;
    d.billsec = billsec;
    d.answered = answerMs !== null;
    const oc = outcomeFromHangupCause(cause, d);
    if (oc === null) return null;

    const answered = connected(oc.outcome);
    const talkSec = answered ? billsec : 0;
    let ringMs: number | undefined;
    if (answered && answerMs !== null && answerMs >= ts) ringMs = answerMs - ts;
    else if (duration !== null && duration >= talkSec) ringMs = (duration - talkSec) * 1000;
    else if (!answered && endMs !== null && endMs >= ts) ringMs = endMs - ts;
    const ks = skipSpace(buf, fs[12], fe[12]);
    const ke = trimEnd(buf, ks, fe[12]);
    let trunk: string | undefined;
    if (ks !== ke) {
      trunk = this.trunks.get(buf, ks, ke);
      if (trunk === undefined) {
        trunk = ascii(buf, ks, ke);
        this.trunks.set(buf, ks, ke, trunk);
      }
    }
    if (esc[3] || esc[10] || esc[11]) return null;
    const xs = skipSpace(buf, fs[3], fe[3]);
    const xe = trimEnd(buf, xs, fe[3]);
    let context = '';
    if (xs !== xe) {
      const memo = this.trunks.get(buf, xs, xe);
      context = memo ?? ascii(buf, xs, xe);
      if (memo === undefined) this.trunks.set(buf, xs, xe, context);
    }
    const keys = this.rowKeys;
    keys.clear();
    this.uuidKey(keys, buf, fs[10], fe[10]);
    this.uuidKey(keys, buf, fs[11], fe[11]);
    // The row as callRecord and addHintKeys make it on the string path, in one object of one shape (absent values
    // undefined: no reader of a RawCall tells the two apart), as the Asterisk reader's fast rows are.
    return {
      ts,
      caller: caller ?? '',
      called: called ?? '',
      outcome: oc.outcome,
      talkSec,
      attestation: 'none',
      source: 'freeswitch',
      callerText: caller === null ? ascii(buf, cs, ce) : undefined,
      calledText: called === null ? ascii(buf, ds, de) : undefined,
      q850: cause,
      ringMs,
      blockEngine: oc.blockEngine || undefined,
      trunk,
      fields: (n === 15 ? this.builtin15 : this.builtin13).fields,
      context: context !== '' ? context : undefined,
      keys: keys.take(),
    };
  }

  /** The key of a uuid field (trimmed), as addHints hashes its text; nothing for an empty one. */
  private uuidKey(keys: RowKeys, buf: Buffer, s: number, e: number): void {
    const from = skipSpace(buf, s, e);
    const to = trimEnd(buf, from, e);
    if (from !== to) keys.addBytes('fs', buf, from, to);
  }

  parseLine(raw: string, _ctx: LineContext): LineResult {
    const line = cleanLine(raw);
    if (line.trim() === '') return SKIP;
    const f = this.f;
    const n = splitCsvLine(line, f);
    const L = this.custom ?? (n === 15 ? this.builtin15 : this.builtin13);
    if (n === CSV_UNTERMINATED_QUOTE) {
      return reject('unterminated_quote', `Column ${f.length + 1} (${L.names[f.length] ?? 'extra'}) opens a quote that never closes.`);
    }
    if (n !== L.n) {
      const want = this.custom ? `${L.n} (custom template)` : '13 (default template) or 15 (example template)';
      return reject('wrong_column_count', `Expected ${want} FreeSWITCH cdr_csv fields, found ${n}.`);
    }
    if (L.caller.length > 0 && f[L.caller[0]] === L.names[L.caller[0]]) return SKIP; // a header line

    const kit = this.kit;

    // Times.
    let ts: number | null = null;
    const startEpoch = first(f, L.startEpoch);
    if (startEpoch !== undefined) {
      ts = parseEpoch(startEpoch);
      if (ts === null) return reject('bad_timestamp', `Column ${L.names[L.startEpoch[0]]} is not an epoch time.`);
    } else if (L.startStamp >= 0) {
      if (f[L.startStamp].trim() === '') return reject('bad_timestamp', 'Column start_stamp is empty.');
      ts = kit.clock.parse(f[L.startStamp]);
      if (ts === null) return reject('bad_timestamp', 'Column start_stamp is not a date like 2026-11-20 09:15:02.');
    } else return reject('bad_timestamp', 'The start time columns are empty.');

    let answerMs: number | null = null;
    let answeredStamp = false;
    const answerEpoch = first(f, L.answerEpoch);
    if (answerEpoch !== undefined && answerEpoch !== '0') {
      answerMs = parseEpoch(answerEpoch);
      if (answerMs === null) return reject('bad_timestamp', `Column ${L.names[L.answerEpoch[0]]} is not an epoch time.`);
      answeredStamp = true;
    } else if (answerEpoch === undefined && L.answerStamp >= 0 && f[L.answerStamp].trim() !== '') {
      answerMs = kit.clock.parse(f[L.answerStamp]);
      if (answerMs === null) return reject('bad_timestamp', 'Column answer_stamp is not a date like 2026-11-20 09:15:02.');
      answeredStamp = true;
    }

    let endMs: number | null = null;
    const endEpoch = first(f, L.endEpoch);
    if (endEpoch !== undefined) endMs = parseEpoch(endEpoch);
    else if (L.endStamp >= 0 && f[L.endStamp].trim() !== '') endMs = kit.clock.parse(f[L.endStamp]);

    let billsec: number | null = null;
    if (L.billsec >= 0) {
      billsec = parseSeconds(f[L.billsec]);
      if (billsec === null) return reject('bad_value', 'Column billsec is not a whole number of seconds.');
    } else if (answerMs !== null) {
      billsec = endMs !== null && endMs >= answerMs ? Math.round((endMs - answerMs) / 1000) : 0;
    } else billsec = 0;
    const duration = L.duration >= 0 ? parseSeconds(f[L.duration]) : null;

    // Outcome.
    const cause = L.cause >= 0 ? f[L.cause].trim() : '';
    let sipCode: number | undefined;
    for (const i of L.sipStatus) {
      sipCode = parseSipCode(f[i]);
      if (sipCode !== undefined && sipCode >= 200) break;
      sipCode = undefined;
    }
    if (cause === '' && sipCode === undefined) {
      return reject('missing_field', `Column ${L.cause >= 0 ? 'hangup_cause' : L.names[L.sipStatus[0]]} is empty.`);
    }
    const oc = outcomeFromHangupCause(cause, {
      billsec,
      answered: answeredStamp,
      sipTermStatus: sipCode,
      sipHangupDisposition: L.disposition >= 0 ? f[L.disposition] : undefined,
      reasonPhrase: first(f, L.phrase),
      reasonText: first(f, L.reasonText),
      amd: first(f, L.amd),
    });
    if (oc === null) return reject('unknown_disposition', 'Column hangup_cause is not a Q.850 cause name such as NORMAL_CLEARING.');

    const answered = connected(oc.outcome);
    const rec = callRecord(ts, '', '', oc.outcome, billsec, parseAttestation(first(f, L.attest)), 'freeswitch');
    kit.caller(rec, firstNumber(kit, f, L.caller));
    kit.calledInto(rec, first(f, L.called) ?? '');
    if (sipCode !== undefined) rec.sipCode = sipCode;
    if (cause !== '') rec.q850 = cause;
    if (answered && answerMs !== null && answerMs >= ts) rec.ringMs = answerMs - ts;
    else if (duration !== null && duration >= (answered ? billsec : 0)) rec.ringMs = (duration - (answered ? billsec : 0)) * 1000;
    else if (!answered && endMs !== null && endMs >= ts) rec.ringMs = endMs - ts;
    if (oc.blockEngine) rec.blockEngine = oc.blockEngine;
    const disposition = dispositionInText(first(f, L.result), this.dispositions);
    if (disposition !== undefined) rec.disposition = disposition;
    const carrier = first(f, L.carrier);
    if (carrier) rec.carrier = carrier;
    const trunk = first(f, L.trunk);
    if (trunk) rec.trunk = trunk;
    addHints(rec, L, L.context >= 0 ? f[L.context].trim() : '', L.callDirection >= 0 ? f[L.callDirection] : '', L.uuids.map((i) => f[i].trim()));
    return one(rec);
  }
}

/**
 * The caller field: the first non-empty candidate that is a number (an extension in caller_id_number
 * may come with the DID in effective_caller_id_number), else the first non-empty one as written.
 */
function firstNumber(kit: ReaderKit, f: string[], idxs: number[]): string {
  let text: string | undefined;
  for (const i of idxs) {
    const v = f[i]?.trim();
    if (!v) continue;
    if (kit.callers.normalize(v).ok) return v;
    text ??= v;
  }
  return text ?? '';
}

// Asterisk cdr_csv (Master.csv).
//
// Columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
// start, answer, end, duration, billsec, disposition, amaflags (16); then uniqueid
// (loguniqueid=yes), userfield (loguserfield=yes); then peeraccount, linkedid, sequence
// (newcdrcolumns=yes). 16, 18 and 21 are the usual counts; 17/19/20 (one of the optional
// groups switched off) are accepted too: in a 17/20-column line the extra field is the
// uniqueid when it looks like one ("1783469596.2321"), else the userfield.
//
// Fields used: src (caller; falls back to the number in clid `"Name" <num>`), dst
// (called), start (call start, local time in options.timezone unless usegmtime), answer
// (empty when unanswered), duration and billsec (ring = duration − billsec, talk =
// billsec), disposition (+ AMD from the userfield: `MACHINE` or `AMDSTATUS=MACHINE`), and
// the trunk: dstchannel unless empty or Local/, else channel (`SIP/att-trunk-0000063a` →
// peer `att-trunk` in the carrier resolver).

import type { LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { BytesMemo, CsvFields, ascii, bytesEqual, digitsValue, optionalDigits, skipSpace, trimEnd } from '../bytes.js';
import { isMachine, outcomeFromAsterisk } from '../../model/outcome.js';
import type { Outcome } from '../../model/types.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, callRecord, calledFromBytes, callerFromBytes, one, parseSeconds, reject, withDefaults } from './common.js';

export const ASTERISK_COLUMNS = [
  'accountcode', 'src', 'dst', 'dcontext', 'clid', 'channel', 'dstchannel', 'lastapp', 'lastdata',
  'start', 'answer', 'end', 'duration', 'billsec', 'disposition', 'amaflags',
  'uniqueid', 'userfield', 'peeraccount', 'linkedid', 'sequence',
] as const;

const DISPOSITIONS = new Set(['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION']);
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Index of the userfield for a given column count, or -1. */
function userfieldIndex(n: number, fields: string[]): number {
  if (n === 18 || n === 21) return 17;
  if (n === 17 || n === 20) return /^\d+\.\d+$/.test(fields[16]) ? -1 : 16;
  return -1;
}

/** `Local/…` in any case. */
function isLocalChannel(buf: Uint8Array, s: number, e: number): boolean {
  return e - s >= 6 && (buf[s] | 32) === 108 && (buf[s + 1] | 32) === 111 && (buf[s + 2] | 32) === 99 &&
    (buf[s + 3] | 32) === 97 && (buf[s + 4] | 32) === 108 && buf[s + 5] === 47;
}

/** Content check used by detectFormat: a line that is an Asterisk CDR. */
export function looksLikeAsterisk(fields: string[]): boolean {
  const n = fields.length;
  return n >= 16 && n <= 21 && DATE_RE.test(fields[9]) && DISPOSITIONS.has(fields[14]);
}

export class AsteriskReader implements Reader {
  readonly format = 'asterisk';
  private readonly kit: ReaderKit;
  private readonly f: string[] = [];
  private readonly fields = new CsvFields();
  /** Caller bytes → E.164, or null for a caller the string path must judge. */
  private readonly callers = new BytesMemo<string | null>();

  constructor(options?: Partial<ReaderOptions>) {
    this.kit = new ReaderKit(withDefaults(options));
  }

  /**
   * The plain line — ASCII, 16/18/21 columns, `+E.164` or cached callers, `YYYY-MM-DD HH:MM:SS`
   * times, whole-second durations, one of the five dispositions — read from bytes; null for
   * anything else (parseLine judges it, with its error messages).
   */
  parseBytes(buf: Buffer, start: number, end: number, clean: boolean): RawCall | null {
    const fl = this.fields;
    if (!fl.scan(buf, start, end, clean)) return null;
    const n = fl.count;
    if (n !== 16 && n !== 18 && n !== 21) return null; // 17/20 need the userfield guess, others are errors
    const fs = fl.start;
    const fe = fl.end;
    const esc = fl.escaped;
    const kit = this.kit;

    // start, answer
    if (fe[9] - fs[9] !== 19) return null;
    const ts = kit.clock.parseBytes(buf, fs[9]);
    if (ts !== ts) return null; // NaN
    if (fe[10] !== fs[10] && (fe[10] - fs[10] !== 19 || Number.isNaN(kit.clock.parseBytes(buf, fs[10])))) return null;

    const billsec = digitsValue(buf, fs[13], fe[13]);
    const duration = optionalDigits(buf, fs[12], fe[12]);
    if (billsec < 0 || duration === -1) return null;

    let outcome: Outcome;
    const ds = fs[14];
    const de = fe[14];
    switch (de - ds) {
      case 8:
        if (!bytesEqual(buf, ds, de, 'ANSWERED')) return null;
        if (n !== 16 && fe[17] !== fs[17]) {
          if (esc[17]) return null;
          outcome = isMachine(ascii(buf, fs[17], fe[17])) ? 'voicemail' : 'answered';
        } else outcome = 'answered';
        break;
      case 9:
        if (!bytesEqual(buf, ds, de, 'NO ANSWER')) return null;
        outcome = 'no_answer';
        break;
      case 4:
        if (!bytesEqual(buf, ds, de, 'BUSY')) return null;
        outcome = 'busy';
        break;
      case 6:
      case 10:
        if (!bytesEqual(buf, ds, de, 'FAILED') && !bytesEqual(buf, ds, de, 'CONGESTION')) return null;
        outcome = 'failed';
        break;
      default:
        return null;
    }

    // caller (src), called (dst)
    if (esc[1] || esc[2]) return null;
    const caller = callerFromBytes(kit, this.callers, buf, fs[1], fe[1]);
    if (caller === null) return null;
    const called = calledFromBytes(kit, buf, fs[2], fe[2]);
    if (called === null) return null;

    const rec = callRecord(ts, caller, called, outcome, billsec, 'none', 'asterisk');
    if (duration !== null && duration >= billsec) rec.ringMs = (duration - rec.talkSec) * 1000;
    // The trunk: dstchannel unless empty or Local/, else channel (as parseLine).
    let col = 6;
    let from = skipSpace(buf, fs[6], fe[6]);
    let to = trimEnd(buf, from, fe[6]);
    if (from === to || isLocalChannel(buf, from, to)) {
      col = 5;
      from = skipSpace(buf, fs[5], fe[5]);
      to = trimEnd(buf, from, fe[5]);
    }
    if (from !== to) {
      if (esc[col]) return null;
      rec.trunk = ascii(buf, from, to);
    }
    return rec;
  }

  parseLine(raw: string, _ctx: LineContext): LineResult {
    const line = cleanLine(raw);
    if (line.trim() === '') return SKIP;
    const f = this.f;
    const n = splitCsvLine(line, f);
    if (n === CSV_UNTERMINATED_QUOTE) {
      return reject('unterminated_quote', `Column ${f.length + 1} (${ASTERISK_COLUMNS[f.length] ?? 'extra'}) opens a quote that never closes.`);
    }
    if (n < 16 || n > 21) {
      return reject('wrong_column_count', `Expected 16, 18 or 21 Asterisk cdr_csv columns, found ${n}.`);
    }
    if (f[9] === 'start' && f[14] === 'disposition') return SKIP; // a hand-added header

    const kit = this.kit;
    let callerRes = kit.callers.normalize(f[1]);
    if (!callerRes.ok && f[4] !== '') {
      const viaClid = kit.callers.normalize(f[4]);
      if (viaClid.ok) callerRes = viaClid;
    }
    if (!callerRes.ok) return reject('invalid_number', `Column src (caller) ${callerRes.why}.`);
    if (f[2].trim() === '') return reject('missing_field', 'Column dst (called number) is empty.');
    const calledRes = kit.called.normalize(f[2]);
    if (!calledRes.ok) return reject('invalid_number', `Column dst (called number) ${calledRes.why}.`);

    if (f[9].trim() === '') return reject('bad_timestamp', 'Column start is empty.');
    const ts = kit.clock.parse(f[9]);
    if (ts === null) return reject('bad_timestamp', 'Column start is not a date like 2026-11-20 09:15:02.');
    if (f[10] !== '' && kit.clock.parse(f[10]) === null) {
      return reject('bad_timestamp', 'Column answer is not a date like 2026-11-20 09:15:02.');
    }
    const billsec = parseSeconds(f[13]);
    if (billsec === null) return reject('bad_value', 'Column billsec is not a whole number of seconds.');
    const duration = parseSeconds(f[12]);

    const uf = userfieldIndex(n, f);
    const userfield = uf >= 0 ? f[uf] : undefined;
    const oc = outcomeFromAsterisk(f[14], userfield);
    if (oc === null) {
      return reject(f[14].trim() === '' ? 'missing_field' : 'unknown_disposition',
        f[14].trim() === '' ? 'Column disposition is empty.' : 'Column disposition is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION.');
    }
    const rec = callRecord(ts, callerRes.e164, calledRes.e164, oc.outcome, billsec, 'none', 'asterisk');
    if (duration !== null && duration >= billsec) rec.ringMs = (duration - rec.talkSec) * 1000;
    // The outbound leg: dstchannel (Dial from a phone or a Local channel), else channel
    // (AMI Originate straight to the trunk). A Local/ channel is never the trunk.
    const dst = f[6].trim();
    const trunk = dst !== '' && !/^local\//i.test(dst) ? dst : f[5].trim();
    if (trunk !== '') rec.trunk = trunk;
    return one(rec);
  }
}

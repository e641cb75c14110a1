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
import { outcomeFromAsterisk } from '../../model/outcome.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, one, parseSeconds, reject, withDefaults } from './common.js';

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

/** Content check used by detectFormat: a line that is an Asterisk CDR. */
export function looksLikeAsterisk(fields: string[]): boolean {
  const n = fields.length;
  return n >= 16 && n <= 21 && DATE_RE.test(fields[9]) && DISPOSITIONS.has(fields[14]);
}

export class AsteriskReader implements Reader {
  readonly format = 'asterisk';
  private readonly kit: ReaderKit;
  private readonly f: string[] = [];

  constructor(options?: Partial<ReaderOptions>) {
    this.kit = new ReaderKit(withDefaults(options));
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
    const answered = oc.outcome === 'answered' || oc.outcome === 'voicemail';
    const rec: RawCall = {
      ts,
      caller: callerRes.e164,
      called: calledRes.e164,
      outcome: oc.outcome,
      talkSec: answered ? billsec : 0,
      attestation: 'none',
      source: 'asterisk',
    };
    if (duration !== null && duration >= billsec) rec.ringMs = (duration - (answered ? billsec : 0)) * 1000;
    // The outbound leg: dstchannel (Dial from a phone or a Local channel), else channel
    // (AMI Originate straight to the trunk). A Local/ channel is never the trunk.
    const dst = f[6].trim();
    const trunk = dst !== '' && !/^local\//i.test(dst) ? dst : f[5].trim();
    if (trunk !== '') rec.trunk = trunk;
    return one(rec);
  }
}

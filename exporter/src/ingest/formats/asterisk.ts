// Asterisk cdr_csv (Master.csv).
//
// Columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
// start, answer, end, duration, billsec, disposition, amaflags (16); then uniqueid
// (loguniqueid=yes), userfield (loguserfield=yes); then peeraccount, linkedid, sequence
// (newcdrcolumns=yes). 16, 18 and 21 are the usual counts; 17/19/20 (one of the optional
// groups switched off) are accepted too: in a 17/20-column line the extra field is the
// uniqueid when it looks like one ("1783469596.2321"), else the userfield.
//
// Fields used: src (caller; when it is not a number — an extension — the number in clid
// `"Name" <num>` is the presented caller ID), dst (called), dcontext (classification:
// from-trunk, from-pstn, ext-did… are inbound), channel (where the call came in: classification),
// start (call start, local time in options.timezone unless usegmtime), answer (empty when
// unanswered), duration and billsec (ring = duration − billsec, talk = billsec), disposition
// (+ AMD from the userfield: `MACHINE` or `AMDSTATUS=MACHINE`; a dialer result there, `RESULT=SALE`, is the disposition: model/disposition.ts), the trunk: dstchannel unless
// empty or Local/, else channel (`SIP/att-trunk-0000063a` → peer `att-trunk` in the carrier
// resolver), and the keys that join the rows of one call: linkedid (21 columns), else uniqueid,
// and the base of a Local channel (`Local/…@ctx-0000002a;1` and `;2` are two halves of one).

import { DEFAULT_DISPOSITIONS, dispositionInText, type DispositionMap } from '../../model/disposition.js';
import type { LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { BytesMemo, CsvFields, ascii, bytesEqual, digitsValue, optionalDigits, skipSpace, trimEnd } from '../bytes.js';
import { connected, isMachine, outcomeFromAsterisk } from '../../model/outcome.js';
import type { Disposition, Outcome } from '../../model/types.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, callerMemo, SKIP, callRecord, calledFromBytes, callerFromBytes, one, parseSeconds, reject, withDefaults } from './common.js';
import { partyText } from '../../model/phone.js';
import { channelSuffixStart } from '../../model/carrier.js';
import { RowKeys, pushKey } from '../../classify/callKeys.js';

const FIELDS = { caller: 'Column src (caller)', called: 'Column dst (called number)' };

/** `Local/…;1` → `Local/…` (both halves of a Local channel share it), else null. */
function localBase(channel: string): string | null {
  if (channel.length < 8 || !/^local\//i.test(channel)) return null;
  const semi = channel.lastIndexOf(';');
  return semi > 0 ? channel.slice(0, semi) : channel;
}

/**
 * A channel as the classification rules and the trunk map read it: without its per-call suffix
 * (`SIP/att-trunk-0000063a` → `SIP/att-trunk`); every Local channel is just `Local/` (never a trunk,
 * and its halves are joined by key). A handful of values, so the byte path can memoise them.
 */
export function channelName(channel: string): string {
  if (channel.length >= 6 && /^local\//i.test(channel)) return 'Local/';
  const cut = channel.includes('/') ? channelSuffixStart(channel) : -1;
  return cut < 0 ? channel : channel.slice(0, cut);
}

/** Where channelName cuts buf[s, e): before a `-hex` per-call suffix (and `;digits`), as channelSuffixStart does on text; else e. */
function channelSuffixEnd(buf: Uint8Array, s: number, e: number): number {
  let slash = false;
  for (let i = s; i < e; i++) if (buf[i] === 47) slash = true;
  if (!slash) return e;
  const hex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
  let j = e;
  let k = j;
  while (k > s && buf[k - 1] >= 48 && buf[k - 1] <= 57) k--;
  if (k < j && k > s && buf[k - 1] === 59) j = k - 1;
  let h = j;
  while (h > s && j - h < 9 && hex(buf[h - 1])) h--;
  const run = j - h;
  return run >= 1 && run <= 8 && h > s && buf[h - 1] === 45 ? h - 1 : e;
}

/**
 * The classification hints of a row (direction rules, the keys that join its legs), the same on the
 * byte and the string path. Channels come as channelName gives them; empty values are left out.
 */
function addHints(rec: RawCall, context: string, channel: string, dstChannel: string, keys: number[] | undefined): void {
  rec.fields = FIELDS;
  if (context !== '') rec.context = context;
  if (channel !== '') rec.inTrunk = channel;
  if (dstChannel !== '') rec.outChannel = dstChannel;
  // The outbound leg: dstchannel (Dial from a phone or a Local channel), else channel. A Local/ channel is never the trunk.
  const trunk = dstChannel !== '' && dstChannel !== 'Local/' ? dstChannel : channel;
  if (trunk !== '') rec.trunk = trunk;
  if (keys !== undefined && keys.length > 0) rec.keys = keys;
}

/**
 * The id that joins the rows of one call, by column count: linkedid when newcdrcolumns=yes adds it (21: after
 * uniqueid and userfield; 20: after one of them; 19: after neither — peeraccount, linkedid, sequence), else the
 * uniqueid (18; 17 when that column looks like one). Its kind (`ast:l` / `ast:u`) and index, or null.
 */
function callIdColumn(n: number, fields: string[]): { kind: 'ast:l' | 'ast:u'; index: number } | null {
  if (n >= 19) return { kind: 'ast:l', index: n - 2 };
  if (n === 18) return { kind: 'ast:u', index: 16 };
  if (n === 17 && /^\d+\.\d+$/.test(fields[16].trim())) return { kind: 'ast:u', index: 16 };
  return null;
}

export const ASTERISK_COLUMNS = [
  'accountcode', 'src', 'dst', 'dcontext', 'clid', 'channel', 'dstchannel', 'lastapp', 'lastdata',
  'start', 'answer', 'end', 'duration', 'billsec', 'disposition', 'amaflags',
  'uniqueid', 'userfield', 'peeraccount', 'linkedid', 'sequence',
] as const;

const DISPOSITIONS = new Set(['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION']);
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Index of the userfield for a given column count, or -1 (19: peeraccount, linkedid, sequence, no userfield). */
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
  readonly independentLines = true;
  private readonly kit: ReaderKit;
  private readonly f: string[] = [];
  private readonly fields = new CsvFields();
  /** Caller bytes → E.164, or null for a caller the string path must judge. */
  private readonly callers = callerMemo();
  /** clid bytes → the E.164 it presents, or null (an extension's caller ID, read when src is no number). */
  private readonly clids = callerMemo();
  private readonly contexts = new BytesMemo<string>(256, 16 * 1024);
  /** Channel bytes before the per-call suffix → channelName. */
  private readonly channels = new BytesMemo<string>(256, 16 * 1024);

  private readonly dispositions: DispositionMap;
  private readonly rowKeys = new RowKeys();

  constructor(options?: Partial<ReaderOptions>) {
    const o = withDefaults(options);
    this.kit = new ReaderKit(o);
    this.dispositions = o.dispositions ?? DEFAULT_DISPOSITIONS;
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

    // caller (src), called (dst): numbers only here (anything else is the string path's to judge)
    if (esc[1] || esc[2]) return null;
    // src, else (an agent's extension) the number clid presents, as parseLine reads them.
    const caller = callerFromBytes(kit, this.callers, buf, fs[1], fe[1]) ?? this.clidCaller(buf, fs[4], fe[4], esc[4] === 1);
    if (caller === null) return null;
    const called = calledFromBytes(kit, buf, fs[2], fe[2]);
    if (called === null) return null;
    // dcontext, channel, dstchannel, uniqueid, linkedid: plain text only
    if (esc[3] || esc[5] || esc[6] || (n >= 18 && esc[16]) || (n === 21 && esc[19])) return null;

    // A dialer's result in the userfield (`RESULT=SALE`): read only when the field holds anything.
    let disposition: Disposition | undefined;
    if (n !== 16 && fe[17] !== fs[17]) {
      if (esc[17]) return null;
      disposition = dispositionInText(ascii(buf, fs[17], fe[17]), this.dispositions);
    }
    // The keys: linkedid (21 columns), else uniqueid; and the base of a Local channel on either side.
    const keys = this.rowKeys;
    keys.clear();
    const idCol = n === 21 ? 19 : n >= 18 ? 16 : -1;
    if (idCol >= 0) {
      const is = skipSpace(buf, fs[idCol], fe[idCol]);
      const ie = trimEnd(buf, is, fe[idCol]);
      if (is !== ie) keys.addBytes(n === 21 ? 'ast:l' : 'ast:u', buf, is, ie);
    }
    const context = this.memoText(this.contexts, buf, fs[3], fe[3]);
    const channel = this.channel(buf, fs[5], fe[5], keys);
    const dstChannel = this.channel(buf, fs[6], fe[6], keys);
    const talkSec = connected(outcome) ? billsec : 0;
    const trunk = dstChannel !== '' && dstChannel !== 'Local/' ? dstChannel : channel;
    // The row as callRecord and addHints make it on the string path, in one object of one shape: absent values are
    // undefined (no reader of a RawCall tells the two apart), so no property is added later — each added one made the
    // object grow its property store, a row of a million, and gave the classifier rows of a dozen shapes.
    return {
      ts,
      caller,
      called,
      outcome,
      talkSec,
      attestation: 'none',
      source: 'asterisk',
      ringMs: duration !== null && duration >= billsec ? (duration - talkSec) * 1000 : undefined,
      disposition,
      fields: FIELDS,
      context: context !== '' ? context : undefined,
      inTrunk: channel !== '' ? channel : undefined,
      outChannel: dstChannel !== '' ? dstChannel : undefined,
      trunk: trunk !== '' ? trunk : undefined,
      keys: keys.take(),
    };
  }

  /**
   * The caller ID number of a clid field (`"Acme Sales" <2025550123>`), memoised by its bytes as written (a
   * quoted name's doubled quotes included: the value follows from them), or null: the string path judges the row.
   */
  private clidCaller(buf: Buffer, s: number, e: number, escaped: boolean): string | null {
    if (skipSpace(buf, s, e) === e) return null;
    let v = this.clids.get(buf, s, e);
    if (v === undefined) {
      const text = escaped ? ascii(buf, s, e).replaceAll('""', '"') : ascii(buf, s, e);
      const r = this.kit.callers.normalize(text);
      v = r.ok ? r.e164 : null;
      this.clids.set(buf, s, e, v);
    }
    return v;
  }

  /** A channel field: channelName of it, memoised by its bytes; a Local channel's base goes to `keys`. */
  private channel(buf: Buffer, s: number, e: number, keys: RowKeys): string {
    const from = skipSpace(buf, s, e);
    const to = trimEnd(buf, from, e);
    if (from === to) return '';
    if (to - from >= 6 && (buf[from] | 32) === 108 && (buf[from + 1] | 32) === 111 && (buf[from + 2] | 32) === 99 && (buf[from + 3] | 32) === 97 && (buf[from + 4] | 32) === 108 && buf[from + 5] === 47) {
      // Local/…;N: its halves share the text before the last ';'.
      let semi = to - 1;
      while (semi > from && buf[semi] !== 59) semi--;
      if (to - from >= 8) keys.addBytes('ast:c', buf, from, semi > from ? semi : to);
      return 'Local/';
    }
    // Memoised by the bytes before the per-call suffix (what channelName keeps): a PBX has a handful.
    const cut = channelSuffixEnd(buf, from, to);
    let v = this.channels.get(buf, from, cut);
    if (v === undefined) {
      v = channelName(ascii(buf, from, to));
      this.channels.set(buf, from, cut, v);
    }
    return v;
  }

  private trimmed(buf: Buffer, s: number, e: number): string {
    const from = skipSpace(buf, s, e);
    const to = trimEnd(buf, from, e);
    return from === to ? '' : ascii(buf, from, to);
  }

  /** Trimmed text of a field with few values (the dialplan context), memoised by its bytes. */
  private memoText(memo: BytesMemo<string>, buf: Buffer, s: number, e: number): string {
    const from = skipSpace(buf, s, e);
    const to = trimEnd(buf, from, e);
    if (from === to) return '';
    let v = memo.get(buf, from, to);
    if (v === undefined) {
      v = ascii(buf, from, to);
      memo.set(buf, from, to, v);
    }
    return v;
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
    const blank = (i: number) => f[i].trim() === '';
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
    const rec = callRecord(ts, '', '', oc.outcome, billsec, 'none', 'asterisk');
    // The caller: src when it is a number, else the number clid presents (`"Agent" <+998788888484>`), else src as written.
    kit.caller(rec, f[1]);
    if (rec.caller === '' && f[4].trim() !== '') {
      const viaClid = kit.callers.normalize(f[4]);
      if (viaClid.ok) {
        rec.caller = viaClid.e164;
        delete rec.callerText;
      } else if (blank(1)) rec.callerText = partyText(f[4]);
    }
    kit.calledInto(rec, f[2]);
    if (duration !== null && duration >= billsec) rec.ringMs = (duration - rec.talkSec) * 1000;
    const disposition = dispositionInText(userfield, this.dispositions);
    if (disposition !== undefined) rec.disposition = disposition;
    const keys: number[] = [];
    const id = callIdColumn(n, f);
    if (id !== null && f[id.index].trim() !== '') pushKey(keys, id.kind, f[id.index].trim());
    const channel = f[5].trim();
    const dstChannel = f[6].trim();
    for (const c of [channel, dstChannel]) {
      const base = localBase(c);
      if (base !== null) pushKey(keys, 'ast:c', base);
    }
    addHints(rec, f[3].trim(), channelName(channel), channelName(dstChannel), keys);
    return one(rec);
  }
}

// FreeSWITCH sofia siptrace (`sofia global siptrace on`, or `sofia profile X siptrace on`),
// as written to the console / freeswitch.log by sofia-sip's tport_log_msg():
//
//   send 1011 bytes to udp/[203.0.113.7]:5060 at 09:23:03.055443:
//      ------------------------------------------------------------------------
//      INVITE sip:+12125550065@203.0.113.7:5060 SIP/2.0
//      Via: SIP/2.0/UDP 198.51.100.2;rport;branch=z9hG4bK…
//      …
//      ------------------------------------------------------------------------
//   recv 387 bytes from udp/[203.0.113.7]:5060 at 09:23:03.101210:
//      ------------------------------------------------------------------------
//      SIP/2.0 100 Trying
//      …
//
// Older sofia-sip indents message lines by three spaces and closes with a second rule;
// newer FreeSWITCH builds write them flush left without the closing rule. Both are read:
// a message ends at the closing rule, at its announced byte count, at the next stamp, or
// at a FreeSWITCH log line.
//
// The stamp carries only the time of day (local time, like the rest of freeswitch.log).
// The date comes from, in order: the newest FreeSWITCH log line seen before it
// (`2026-11-22 09:23:01.123456 [DEBUG] …`, optionally behind a UUID); the message's Date
// header; the `sip.date` option. A time of day more than 12 h before the previous one
// means midnight passed. Without any date the message is rejected (`bad_timestamp`).

import type { LineContext, LineResult } from '../reader.js';
import { MessageBuilder, header, type SipMessage } from '../sip/message.js';
import type { SipCall } from '../sip/dialogs.js';
import { SipTraceReader, type Current, type SipReaderOptions } from '../sip/trace.js';

const STAMP = /^\s*(recv|send|sent)\s+(\d+)\s+bytes\s+(?:from|to)\s+\S+\s+at\s+(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?:\s*$/;
const RULE = /^\s*-{20,}\s*$/;
const FSLOG = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} )?(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? /i;

const DAY = 86_400_000;

/** detectFormat: a siptrace stamp line, or a stamp followed by a rule. */
export function looksLikeSofia(lines: string[]): boolean {
  return lines.some((l) => STAMP.test(l.replace(/\r$/, '')));
}

function todOf(h: string, m: string, s: string, frac: string | undefined): number | null {
  const hh = +h;
  const mm = +m;
  const ss = +s;
  if (hh > 23 || mm > 59 || ss > 60) return null;
  const ms = frac === undefined ? 0 : Math.floor(+('0.' + frac) * 1000);
  return ((hh * 60 + mm) * 60 + Math.min(ss, 59)) * 1000 + ms;
}

/** Days since 1970-01-01 of a YYYY-MM-DD date (calendar arithmetic only). */
function dayNumber(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / DAY);
}

function dayText(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

export class SofiaReader extends SipTraceReader {
  readonly format = 'sofia';
  /** Local calendar day (days since epoch) being followed, and the last time of day seen on it. */
  private day: number | null = null;
  private lastTod = 0;
  /** A stamp was read; its message starts after the opening rule. */
  private opened = false;

  constructor(options?: Partial<SipReaderOptions>) {
    super('sofia', options);
    if (this.sip.date !== undefined) {
      const [y, m, d] = this.sip.date.split('-').map(Number);
      this.day = dayNumber(y, m, d);
    }
  }

  parseLine(raw: string, _ctx: LineContext): LineResult {
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const out: SipCall[] = [];

    const st = STAMP.exec(line);
    if (st) {
      const rej = this.complete(out);
      const tod = todOf(st[3], st[4], st[5], st[6]);
      if (tod !== null) {
        this.cur = { ts: null, tod, dir: st[1] === 'recv' ? 'received' : 'sent', builder: new MessageBuilder(Number(st[2])) };
        this.opened = false;
      }
      return this.result(out, rej);
    }
    const fs = FSLOG.exec(line);
    if (fs) {
      const rej = this.complete(out);
      this.day = dayNumber(+fs[1], +fs[2], +fs[3]);
      this.lastTod = todOf(fs[4], fs[5], fs[6], undefined) ?? 0;
      return this.result(out, rej);
    }
    const cur = this.cur;
    if (cur === null) return this.result(out, null);
    if (RULE.test(line)) {
      if (!this.opened && cur.builder.empty) {
        this.opened = true;
        return this.result(out, null);
      }
      return this.result(out, this.complete(out)); // the closing rule
    }
    if (!this.opened && cur.builder.empty && line.trim() === '') return this.result(out, null);
    this.opened = true;
    let text = line;
    if (cur.builder.empty) {
      cur.indent = line.length - line.trimStart().length;
      text = line.trimStart();
    } else if (cur.indent) {
      let i = 0;
      while (i < cur.indent && (text[i] === ' ' || text[i] === '\t')) i++;
      text = text.slice(i);
    }
    if (cur.builder.add(text)) return this.result(out, this.complete(out));
    return this.result(out, null);
  }

  protected timeOf(cur: Current, msg: SipMessage): number | null {
    const tod = cur.tod ?? 0;
    if (this.day === null) {
      const dh = header(msg, 'date');
      const utc = dh ? Date.parse(dh) : NaN;
      if (!Number.isFinite(utc)) return null;
      const local = utc + this.kit.clock.offsetAt(utc);
      this.day = Math.floor(local / DAY);
      this.lastTod = local - this.day * DAY;
    }
    if (tod < this.lastTod - DAY / 2) this.day += 1; // past midnight
    this.lastTod = tod;
    const hh = Math.floor(tod / 3_600_000);
    const mm = Math.floor((tod % 3_600_000) / 60_000);
    const ss = Math.floor((tod % 60_000) / 1000);
    const ms = tod % 1000;
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return this.kit.clock.parse(`${dayText(this.day)} ${pad(hh)}:${pad(mm)}:${pad(ss)}.${pad(ms, 3)}`);
  }

  protected override extraState(): Record<string, unknown> {
    return { day: this.day, lastTod: this.lastTod, opened: this.opened };
  }

  protected override restoreExtra(extra: Record<string, unknown> | undefined): void {
    if (extra && typeof extra.day === 'number') this.day = extra.day;
    if (extra && typeof extra.lastTod === 'number') this.lastTod = extra.lastTod;
    this.opened = extra?.opened === true;
  }
}

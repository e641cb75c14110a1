// sipp message trace (`sipp … -trace_msg [-message_file FILE]`), one block per message:
//
//   ----------------------------------------------- 2026-11-22 09:23:03.055443
//   UDP message sent (985 bytes):
//
//   INVITE sip:+12125550065@127.0.0.1:5074 SIP/2.0
//   Via: …
//   …
//
//   ----------------------------------------------- 2026-11-22 09:23:03.056112
//   UDP message received [275] bytes :
//
//   SIP/2.0 180 Ringing
//   …
//
// 47 dashes, a space, local wall time with microseconds (ReaderOptions.timezone), then the
// transport and direction with the wire size. Messages go to the dialog tracker
// (../sip/dialogs.ts), which emits one record per call placed.

import type { LineContext, LineResult } from '../reader.js';
import { MessageBuilder, type SipMessage } from '../sip/message.js';
import type { SipCall } from '../sip/dialogs.js';
import { SipTraceReader, type Current, type SipReaderOptions } from '../sip/trace.js';

const DELIM = /^-{47} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)\s*$/;
const DIRLINE = /^(UDP|TCP|TLS|SCTP|WSS?) message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes)\s*:?\s*$/;

/** detectFormat: a sipp delimiter line followed by a message direction line. */
export function looksLikeSipp(lines: string[]): boolean {
  for (let i = 0; i + 1 < lines.length; i++) {
    if (DELIM.test(lines[i].replace(/\r$/, '')) && DIRLINE.test(lines[i + 1].replace(/\r$/, ''))) return true;
  }
  return false;
}

export class SippReader extends SipTraceReader {
  readonly format = 'sipp';
  /** Time of the delimiter just read, until its direction line arrives. */
  private stamp: number | null = null;

  constructor(options?: Partial<SipReaderOptions>) {
    super('sipp', options);
  }

  parseLine(raw: string, _ctx: LineContext): LineResult {
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const out: SipCall[] = [];
    if (line.charCodeAt(0) === 45 /* - */ && line.length >= 48) {
      const d = DELIM.exec(line);
      if (d) {
        const rej = this.complete(out);
        const ts = this.kit.clock.parse(d[1]);
        this.stamp = ts;
        if (ts === null && rej === null) {
          return this.result(out, { kind: 'reject', rejection: { reason: 'bad_timestamp', detail: `sipp trace delimiter has an impossible time "${d[1]}"` } });
        }
        return this.result(out, rej);
      }
    }
    if (this.stamp !== null && this.cur === null) {
      const m = DIRLINE.exec(line);
      const ts = this.stamp;
      this.stamp = null;
      if (m) {
        const bytes = Number(m[3] ?? m[4]);
        this.cur = { ts, dir: m[2] === 'sent' ? 'sent' : 'received', builder: new MessageBuilder(Number.isFinite(bytes) ? bytes : null) };
      }
      return this.result(out, null);
    }
    if (this.cur !== null) {
      if (this.cur.builder.add(line)) return this.result(out, this.complete(out));
    }
    return this.result(out, null);
  }

  protected timeOf(cur: Current, _msg: SipMessage): number | null {
    return cur.ts;
  }

  protected override extraState(): Record<string, unknown> {
    return { stamp: this.stamp };
  }

  protected override restoreExtra(extra: Record<string, unknown> | undefined): void {
    this.stamp = typeof extra?.stamp === 'number' ? extra.stamp : null;
  }
}

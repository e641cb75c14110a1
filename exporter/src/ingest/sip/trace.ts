// The part sipp and sofia readers share: one message being assembled, a dialog tracker,
// records held back by a rejection on the same line, and the snapshot of all of it.

import type { LineResult, Reader, ReaderOptions } from '../reader.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, withDefaults } from '../formats/common.js';
import { MessageBuilder, type BuilderState, type SipMessage } from './message.js';
import { DialogTracker, sipOptions, type DialogSnapshot, type Direction, type SipCall, type SipOptions } from './dialogs.js';

/** ReaderOptions plus the SIP settings (config `sip:`), all optional. */
export interface SipReaderOptions extends ReaderOptions {
  sip?: Partial<SipOptions>;
}

/** The message being assembled. `ts` is null until the format can date it (sofia). */
export interface Current {
  ts: number | null;
  /** sofia: milliseconds since local midnight of the stamp. */
  tod?: number;
  dir: Direction;
  builder: MessageBuilder;
  /** sofia: indentation stripped from every message line. */
  indent?: number;
}

interface CurrentState {
  ts: number | null;
  tod?: number;
  dir: Direction;
  builder: BuilderState;
  indent?: number;
}

export interface TraceSnapshot {
  v: 1;
  dialogs: DialogSnapshot;
  cur: CurrentState | null;
  carry: RawCall[];
  /** Format-specific extras (sofia: the date being followed). */
  extra?: Record<string, unknown>;
}

export abstract class SipTraceReader implements Reader {
  abstract readonly format: string;
  protected readonly kit: ReaderKit;
  protected readonly sip: SipOptions;
  protected tracker: DialogTracker;
  protected cur: Current | null = null;
  /** Records finished on a line that had to report a rejection: emitted with the next line. */
  protected carry: RawCall[] = [];
  /** Every finished call with its SIP-only details (early media, verstat), when a test asks. */
  onCall?: (call: SipCall) => void;

  constructor(source: string, options?: Partial<SipReaderOptions>) {
    const o = withDefaults(options) as SipReaderOptions;
    this.kit = new ReaderKit(o);
    this.sip = sipOptions(o.sip);
    this.tracker = new DialogTracker(this.sip, { callers: this.kit.callers, called: this.kit.called }, source);
  }

  abstract parseLine(line: string, ctx: { file: string; line: number }): LineResult;

  /** Time of the current message; null when it cannot be dated (the message is then rejected). */
  protected abstract timeOf(cur: Current, msg: SipMessage): number | null;

  /** Format extras for the snapshot. */
  protected extraState(): Record<string, unknown> | undefined {
    return undefined;
  }

  protected restoreExtra(_extra: Record<string, unknown> | undefined): void {}

  /** Finish the current message (if any) and feed it to the tracker. */
  protected complete(out: SipCall[]): LineResult | null {
    const cur = this.cur;
    this.cur = null;
    if (cur === null || cur.builder.empty) return null;
    const msg = cur.builder.build();
    if (msg === null) return null; // not SIP (e.g. a keep-alive): nothing to count
    const ts = this.timeOf(cur, msg);
    if (ts === null) {
      return { kind: 'reject', rejection: { reason: 'bad_timestamp', detail: 'the message time has no date: the log shows no date line before it and the message has no Date header (set sip.date)' } };
    }
    const rej = this.tracker.onMessage(msg, ts, cur.dir, out);
    return rej === null ? null : { kind: 'reject', rejection: rej };
  }

  /** Turn calls finished on this line (and any rejection) into the line's result. */
  protected result(out: SipCall[], rej: LineResult | null): LineResult {
    const recs: RawCall[] = [];
    for (const c of out) {
      this.onCall?.(c);
      recs.push(c.record);
    }
    if (rej !== null) {
      this.carry.push(...recs);
      return rej;
    }
    if (this.carry.length > 0) {
      recs.unshift(...this.carry);
      this.carry = [];
    }
    return recs.length > 0 ? { kind: 'records', records: recs } : SKIP;
  }

  flush(): RawCall[] {
    const out: SipCall[] = [];
    this.complete(out); // a rejection at the very end has nowhere to go but is harmless
    out.push(...this.tracker.flush());
    const recs = [...this.carry];
    this.carry = [];
    for (const c of out) {
      this.onCall?.(c);
      recs.push(c.record);
    }
    return recs;
  }

  snapshot(): TraceSnapshot {
    const c = this.cur;
    return {
      v: 1,
      dialogs: this.tracker.snapshot(),
      cur: c === null ? null : { ts: c.ts, tod: c.tod, dir: c.dir, builder: c.builder.state(), indent: c.indent },
      carry: this.carry.map((r) => ({ ...r })),
      extra: this.extraState(),
    };
  }

  restore(state: unknown): void {
    const s = state as TraceSnapshot | null | undefined;
    this.cur = null;
    this.carry = [];
    if (!s || s.v !== 1) {
      this.tracker.restore(null);
      this.restoreExtra(undefined);
      return;
    }
    this.tracker.restore(s.dialogs);
    if (s.cur) {
      this.cur = { ts: s.cur.ts, dir: s.cur.dir, builder: MessageBuilder.from(s.cur.builder) };
      if (s.cur.tod !== undefined && s.cur.tod !== null) this.cur.tod = s.cur.tod;
      if (s.cur.indent !== undefined && s.cur.indent !== null) this.cur.indent = s.cur.indent;
    }
    this.carry = (s.carry ?? []).map((r) => ({ ...r }));
    this.restoreExtra(s.extra);
  }
}

// Dialog correlation: SIP messages in log order → one call record per initial INVITE.
//
// Key: Call-ID. A dialog opens on an initial INVITE (no To tag) travelling in the counted
// direction (default: INVITEs we SENT, i.e. calls our numbers placed; a B2BUA's inbound leg
// is not counted twice). Then, for responses whose CSeq is that INVITE's:
//   - first 18x          → ring time (ringMs = 18x time − INVITE time);
//   - 183 with SDP       → early media;
//   - 401/407            → the INVITE will be re-sent with credentials (same Call-ID, higher
//                          CSeq): the dialog stays open and follows the new CSeq;
//   - first other final  → the outcome (docs/architecture.md#outcomes via outcomeFromSip): 487 after our CANCEL
//                          is `cancelled`; 608 keeps the Call-Info redress host as
//                          blockEngine; 603 "Network Blocked" / Reason text `v=analytics…` is
//                          `blocked`; plain 603, 607 are `rejected`;
//   - 2xx                → answered; the record waits for the BYE (either side):
//                          talkSec = BYE time − 200 time.
// Retransmitted requests and responses change nothing (first 18x, first final, first BYE
// win) and messages for a finished Call-ID are ignored, so duplicates count once.
// Time is the log's own: a dialog with no final response `timeoutSeconds` after its INVITE
// ends as `failed` (end reason `timeout`; `cancelled` if we had sent a CANCEL); an answered
// call with no BYE after `maxCallSeconds` is emitted with the talk time known so far.
// `flush()` (end of a one-shot run) emits every open dialog the same way.
// All of it is plain data: `snapshot()`/`restore()` carry it across restarts with the offset.

import type { Attestation, RawCall } from '../../model/types.js';
import { outcomeFromSip, blockEngineFrom } from '../../model/outcome.js';
import type { PhoneNormalizer } from '../../model/phone.js';
import { pushKey } from '../../classify/callKeys.js';
import { cseqOf, hasSdp, header, headers, nameAddrParams, params, splitList, uriHostPort, uriOf, uriUser, type SipMessage } from './message.js';
import { passportOf, verstatOf, type Verstat } from './passport.js';

export type Direction = 'sent' | 'received';

export interface SipOptions {
  /** Seconds after the INVITE with no final response before the call ends as failed/timeout. */
  timeoutSeconds: number;
  /** Seconds after the 200 with no BYE before the answered call is emitted anyway. */
  maxCallSeconds: number;
  /** Which INVITEs open a dialog: those the logging side sent (default), received, or both. */
  direction: 'sent' | 'received' | 'both';
  /** sofia only: the date (YYYY-MM-DD) of time-only stamps when the log shows none. */
  date?: string;
}

export const SIP_DEFAULTS: SipOptions = {
  timeoutSeconds: 300,
  maxCallSeconds: 6 * 3600,
  direction: 'sent',
};

/** How a dialog ended, beyond the outcome (for tests and debugging; not exported). */
export type EndReason = 'final' | 'bye' | 'timeout' | 'max_call' | 'flush';

export interface SipCall {
  record: RawCall;
  callId: string;
  earlyMedia: boolean;
  verstat?: Verstat;
  reasonPhrase?: string;
  end: EndReason;
}

/** One open dialog: plain JSON (snapshot). */
export interface Dialog {
  callId: string;
  cseq: number;
  ts: number;
  caller: string;
  called: string;
  trunk?: string;
  attestation: Attestation;
  verstat?: Verstat;
  ringAt?: number;
  earlyMedia: boolean;
  cancelAt?: number;
  answeredAt?: number;
  sipCode?: number;
  /** Where the initial INVITE came from (a capture's source address): the trunk-map inbound rule. */
  inTrunk?: string;
  /** Capture time of the INVITE copy that set `trunk` (a proxy's forwarded copy moves it to the next hop). */
  hopAt?: number;
}

export interface DialogSnapshot {
  v: 1;
  now: number;
  open: Dialog[];
  /** Finished Call-IDs with the log time they finished, oldest first. */
  done: Array<[string, number]>;
  /** Block engine values seen so far (bounded: see MAX_ENGINES). */
  engines?: string[];
}

/**
 * What changed since the last `takeChanges()` (live captures commit this instead of the whole snapshot: the
 * commit follows the traffic, not the open calls). Open dialogs are kept keyed by Call-ID; finished Call-IDs
 * are appended in finish order and dropped by age and count, as the tracker forgets them (restoreRows).
 */
export interface DialogChanges {
  /** Dialogs opened or changed. */
  open: Dialog[];
  /** Call-IDs no longer open (finished, refused or given way): their open dialog, if stored, goes. */
  closed: string[];
  /** Call-IDs finished (or refused) since, with the log time they finished, in that order. */
  done: Array<[string, number]>;
  /** Finished Call-IDs older than this (log time) are forgotten. */
  keepFrom: number;
  /** At most this many finished Call-IDs are remembered (the newest). */
  maxDone: number;
}

/** The small part of the state kept beside the dialog table (`snapshotHead()`). */
export interface DialogHead {
  v: 2;
  now: number;
  engines: string[];
}

export type Rejected = { reason: 'invalid_number' | 'missing_field'; detail: string };

const MAX_OPEN = 200_000;
const MAX_DONE = 20_000;
const DONE_KEEP_MS = 120_000;
/**
 * Distinct block engine values one reader emits. The far end writes Call-Info and Reason,
 * so the host is not ours to trust: past this many distinct hosts, new ones become 'other'
 * and the `engine` label stays bounded.
 */
export const MAX_ENGINES = 32;

export class DialogTracker {
  private open = new Map<string, Dialog>();
  /**
   * Call-IDs already emitted (or refused) → log time, oldest first: late retransmissions
   * are ignored. Kept DONE_KEEP_MS of log time (well past SIP's 32 s transaction timers),
   * so the snapshot committed with every chunk stays small.
   */
  private done = new Map<string, number>();
  /** Newest log time seen (ms). */
  private now = 0;
  private nextSweep = 0;
  private engines = new Set<string>();
  /** Call-IDs whose entry (open or done) changed since the last takeChanges(); null: not tracked (file readers). */
  private changed: Set<string> | null = null;

  constructor(
    private readonly opts: SipOptions,
    private readonly phones: { callers: PhoneNormalizer; called: PhoneNormalizer },
    private readonly source: string,
    /**
     * `statedDirection: false` (captures: HEP, pcap): the records do not say they are outbound. A capture
     * sees every call on the wire, ours and the ones coming in; classification decides (inventory, trunk
     * map with the INVITE's source address as where it came in, shape).
     */
    private readonly capture: { statedDirection?: boolean } = {},
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /**
   * Feed one message. Finished calls are pushed to `out`. Returns a rejection when an
   * initial INVITE cannot become a record (caller or called number unusable).
   */
  onMessage(msg: SipMessage, ts: number, dir: Direction, out: SipCall[], src?: string): Rejected | null {
    if (ts > this.now) this.now = ts;
    const res = this.handle(msg, ts, dir, out, src);
    if (this.changed !== null) {
      // Any message of an open dialog may have changed it; finishing marks its own Call-ID (emit).
      const callId = header(msg, 'call-id');
      if (callId && this.open.has(callId)) this.changed.add(callId);
    }
    if (this.now >= this.nextSweep) {
      this.sweep(out);
      this.nextSweep = this.now + 1000;
    }
    return res;
  }

  private handle(msg: SipMessage, ts: number, dir: Direction, out: SipCall[], src?: string): Rejected | null {
    const callId = header(msg, 'call-id');
    if (!callId) return null;
    if (this.done.has(callId)) return null;
    const cs = cseqOf(msg);
    if (!cs) return null;

    if (msg.method !== undefined) {
      const d = this.open.get(callId);
      switch (msg.method) {
        case 'INVITE': {
          const toTag = nameAddrParams(header(msg, 'to') ?? '').get('tag');
          if (toTag) return null; // re-INVITE inside a dialog
          if (d) {
            if (cs.seq > d.cseq && d.answeredAt === undefined && d.sipCode === undefined) d.cseq = cs.seq; // re-sent with credentials
            // A proxy's copy of the INVITE towards the next hop (a capture sees both): the trunk is where it went last.
            if (src !== undefined && src !== d.inTrunk && cs.seq === d.cseq && ts >= (d.hopAt ?? d.ts) && msg.uri) {
              const hop = uriHostPort(msg.uri);
              if (hop) {
                d.trunk = hop;
                d.hopAt = ts;
              }
            }
            return null; // retransmission
          }
          if (this.opts.direction !== 'both' && this.opts.direction !== dir) return null;
          const rej = this.openDialog(msg, callId, cs.seq, ts, out);
          const opened = this.open.get(callId);
          if (opened && src !== undefined) opened.inTrunk = src;
          return rej;
        }
        case 'CANCEL':
          if (d && d.cancelAt === undefined && d.answeredAt === undefined) d.cancelAt = ts;
          return null;
        case 'BYE':
          if (d && d.answeredAt !== undefined) {
            this.finish(d, 'bye', ts, out);
          }
          return null;
        default:
          return null;
      }
    }

    // Response
    const d = this.open.get(callId);
    if (!d || cs.method !== 'INVITE' || cs.seq !== d.cseq) return null;
    const code = msg.status!;
    if (code < 200) {
      if (code >= 180 && d.ringAt === undefined) d.ringAt = ts;
      if (code === 183 && hasSdp(msg)) d.earlyMedia = true;
      return null;
    }
    if (d.answeredAt !== undefined || d.sipCode !== undefined) return null; // a retransmitted / forked final
    if (code < 300) {
      d.answeredAt = ts;
      d.sipCode = code;
      return null;
    }
    if (code === 401 || code === 407) return null; // the INVITE comes again with credentials
    d.sipCode = code;
    const reasonHeader = this.reasonText(msg);
    const oc = outcomeFromSip(code, { reasonPhrase: msg.reason, reasonText: reasonHeader });
    let engine = oc.blockEngine;
    if (oc.outcome === 'blocked' && code === 608) engine = this.callInfoHost(msg) ?? engine;
    const rec = this.base(d);
    rec.outcome = oc.outcome;
    if (engine) rec.blockEngine = engine;
    this.emit(d, rec, 'final', out, msg.reason);
    return null;
  }

  private openDialog(msg: SipMessage, callId: string, seq: number, ts: number, out: SipCall[]): Rejected | null {
    // Caller: P-Asserted-Identity (first value that is a phone number), else From.
    let callerText: string | undefined;
    let callerOk: string | null = null;
    let callerWhy = 'is missing';
    const pais: string[] = [];
    for (const h of headers(msg, 'p-asserted-identity')) pais.push(...splitList(h));
    const from = header(msg, 'from');
    const candidates = [...pais.map((v) => ['P-Asserted-Identity', v] as const), ...(from ? [['From', from] as const] : [])];
    let callerHeader = 'From';
    for (const [name, v] of candidates) {
      const uri = uriOf(v);
      const user = uriUser(uri) ?? uri;
      const r = this.phones.callers.normalize(user);
      callerText = user;
      callerHeader = name;
      if (r.ok) {
        callerOk = r.e164;
        break;
      }
      callerWhy = r.why;
    }
    const pp = passportOf(msg);
    if (callerOk === null && pp?.origTn) {
      const r = this.phones.callers.normalize(pp.origTn.startsWith('+') ? pp.origTn : '+' + pp.origTn);
      if (r.ok) callerOk = r.e164;
    }
    if (callerOk === null) {
      this.remember(callId);
      if (callerText === undefined) return { reason: 'missing_field', detail: 'INVITE has no P-Asserted-Identity or From header.' };
      return { reason: 'invalid_number', detail: `INVITE caller (${callerHeader}) ${callerWhy}.` };
    }

    // Called: Request-URI user part, else To.
    let calledOk: string | null = null;
    let calledWhy = 'is missing';
    for (const uri of [msg.uri ?? '', uriOf(header(msg, 'to') ?? '')]) {
      const user = uriUser(uri);
      if (!user) continue;
      const r = this.phones.called.normalize(user);
      if (r.ok) {
        calledOk = r.e164;
        break;
      }
      calledWhy = r.why;
    }
    if (calledOk === null) {
      this.remember(callId);
      return { reason: 'invalid_number', detail: `INVITE called number (Request-URI / To) ${calledWhy}.` };
    }

    const d: Dialog = {
      callId,
      cseq: seq,
      ts,
      caller: callerOk,
      called: calledOk,
      attestation: pp?.attest ?? 'none',
      earlyMedia: false,
    };
    const trunk = msg.uri ? uriHostPort(msg.uri) : undefined;
    if (trunk) d.trunk = trunk;
    const vs = verstatOf(msg);
    if (vs) d.verstat = vs;
    this.open.set(callId, d);
    if (this.open.size > MAX_OPEN) {
      const oldest = this.open.values().next().value as Dialog;
      this.finish(oldest, 'timeout', this.now, out); // bounded state: the oldest gives way
    }
    return null;
  }

  /** Reason header text (`text="…"`), or the whole value when it has no text parameter. */
  private reasonText(msg: SipMessage): string | undefined {
    for (const h of headers(msg, 'reason')) {
      for (const v of splitList(h)) {
        const p = params(v);
        const t = p.get('text');
        if (t !== undefined && t !== '') return t;
      }
    }
    const h = header(msg, 'reason');
    return h === undefined ? undefined : h;
  }

  /** Redress host from Call-Info (608, RFC 8688): a bounded host name, never the URL. */
  private callInfoHost(msg: SipMessage): string | undefined {
    for (const h of headers(msg, 'call-info')) {
      for (const v of splitList(h)) {
        const host = blockEngineFrom(uriOf(v).replace(/^<|>$/g, ''));
        if (host) return boundHost(host);
      }
    }
    return undefined;
  }

  private base(d: Dialog): RawCall {
    const rec: RawCall = {
      ts: d.ts,
      caller: d.caller,
      called: d.called,
      outcome: 'failed',
      talkSec: 0,
      attestation: d.attestation,
      source: this.source,
      keys: [],
    };
    // The INVITEs the `sip.direction` setting counts are our calls; the Call-ID joins the same call in other logs.
    if (this.capture.statedDirection !== false) rec.direction = 'outbound';
    if (d.inTrunk !== undefined) rec.inTrunk = d.inTrunk;
    pushKey(rec.keys!, 'sip', d.callId);
    if (d.sipCode !== undefined) rec.sipCode = d.sipCode;
    if (d.ringAt !== undefined) rec.ringMs = Math.max(0, d.ringAt - d.ts);
    if (d.trunk) rec.trunk = d.trunk;
    return rec;
  }

  private finish(d: Dialog, end: EndReason, at: number, out: SipCall[]): void {
    const rec = this.base(d);
    if (d.answeredAt !== undefined) {
      rec.outcome = 'answered';
      rec.talkSec = Math.max(0, Math.round((at - d.answeredAt) / 1000));
    } else {
      rec.outcome = d.cancelAt !== undefined ? 'cancelled' : 'failed';
    }
    this.emit(d, rec, end, out);
  }

  private emit(d: Dialog, rec: RawCall, end: EndReason, out: SipCall[], reasonPhrase?: string): void {
    if (rec.blockEngine) rec.blockEngine = boundHost(rec.blockEngine);
    if (!rec.blockEngine) delete rec.blockEngine;
    else if (!this.engines.has(rec.blockEngine)) {
      if (this.engines.size < MAX_ENGINES) this.engines.add(rec.blockEngine);
      else rec.blockEngine = 'other';
    }
    const call: SipCall = { record: rec, callId: d.callId, earlyMedia: d.earlyMedia, end };
    if (d.verstat) call.verstat = d.verstat;
    if (reasonPhrase) call.reasonPhrase = reasonPhrase;
    out.push(call);
    this.open.delete(d.callId);
    this.remember(d.callId);
  }

  /** Expire dialogs and finished Call-IDs by log time. */
  private sweep(out: SipCall[]): void {
    const keep = this.now - DONE_KEEP_MS;
    for (const [id, at] of this.done) {
      if (at >= keep) break; // insertion order is finish order
      this.done.delete(id);
    }
    const noFinal = this.now - this.opts.timeoutSeconds * 1000;
    const maxCall = this.now - this.opts.maxCallSeconds * 1000;
    for (const d of [...this.open.values()]) {
      if (d.answeredAt !== undefined) {
        if (d.answeredAt < maxCall) this.finish(d, 'max_call', this.now, out);
      } else if (d.ts < noFinal) {
        this.finish(d, 'timeout', this.now, out);
      }
    }
  }

  /**
   * Live captures: time moves on while no message arrives (a quiet collector still has to end calls whose
   * final response never came). Moves the log clock to `ts` (never back) and expires what is due.
   */
  advance(ts: number, out: SipCall[]): void {
    if (ts <= this.now) return;
    this.now = ts;
    this.sweep(out);
    this.nextSweep = this.now + 1000;
  }

  /** End of a one-shot run: every open dialog, answered ones with the talk time seen so far. */
  flush(): SipCall[] {
    const out: SipCall[] = [];
    for (const d of [...this.open.values()]) this.finish(d, 'flush', this.now, out);
    return out;
  }

  private remember(callId: string): void {
    this.done.delete(callId);
    this.done.set(callId, this.now);
    this.changed?.add(callId);
    if (this.done.size > MAX_DONE) this.done.delete(this.done.keys().next().value as string);
  }

  /** Track changes from now on (live captures: takeChanges() after each commit instead of snapshot()). */
  trackChanges(): void {
    this.changed ??= new Set();
  }

  /**
   * What changed since the last call, and forget it. A commit that fails hands the ids back (`unchanged`
   * undone with markChanged) so the next commit writes their state as it is then.
   */
  takeChanges(): { ids: string[]; changes: DialogChanges } {
    const ids = this.changed === null ? [] : [...this.changed];
    this.changed?.clear();
    const changes: DialogChanges = { open: [], closed: [], done: [], keepFrom: this.now - DONE_KEEP_MS, maxDone: MAX_DONE };
    for (const id of ids) {
      const d = this.open.get(id);
      if (d !== undefined) changes.open.push({ ...d });
      else {
        changes.closed.push(id);
        const at = this.done.get(id);
        if (at !== undefined) changes.done.push([id, at]);
      }
    }
    changes.done.sort((a, b) => a[1] - b[1]);
    return { ids, changes };
  }

  /** Every open dialog and finished Call-ID as changed (state restored from a whole snapshot, to be written as rows). */
  markAllChanged(): void {
    this.markChanged(this.open.keys());
    this.markChanged(this.done.keys());
  }

  /** Call-IDs whose change was not committed: written with the next takeChanges(). */
  markChanged(ids: Iterable<string>): void {
    if (this.changed === null) return;
    for (const id of ids) this.changed.add(id);
  }

  /** Everything but the dialogs and finished Call-IDs (committed whole: a few hundred bytes). */
  snapshotHead(): DialogHead {
    return { v: 2, now: this.now, engines: [...this.engines] };
  }

  /**
   * State from a head, the stored open dialogs and the finished Call-IDs as appended (oldest first; a Call-ID
   * may come more than once, the last counts). Open dialogs by INVITE time and finished Call-IDs by finish
   * time: the order the tracker relies on (the oldest open dialog gives way first; expiry stops at the first
   * finished Call-ID still kept); finished ones the tracker would have forgotten are left out.
   */
  restoreRows(head: DialogHead, open: Dialog[], done: Array<[string, number]>): void {
    const byId = new Map<string, number>();
    for (const [id, at] of done) {
      byId.delete(id);
      byId.set(id, at);
    }
    const keepFrom = head.now - DONE_KEEP_MS;
    const kept = [...byId].filter((e) => e[1] >= keepFrom).sort((a, b) => a[1] - b[1]);
    this.restore({ v: 1, now: head.now, engines: head.engines, open: [...open].sort((a, b) => a.ts - b.ts), done: kept.slice(Math.max(0, kept.length - MAX_DONE)) });
  }

  snapshot(): DialogSnapshot {
    return { v: 1, now: this.now, open: [...this.open.values()].map((d) => ({ ...d })), done: [...this.done], engines: [...this.engines] };
  }

  restore(s: DialogSnapshot | undefined | null): void {
    this.open = new Map();
    this.done = new Map();
    this.engines = new Set();
    this.now = 0;
    this.nextSweep = 0;
    this.changed?.clear();
    if (!s || s.v !== 1) return;
    for (const e of s.engines ?? []) if (this.engines.size < MAX_ENGINES) this.engines.add(e);
    this.now = typeof s.now === 'number' ? s.now : 0;
    for (const d of s.open ?? []) this.open.set(d.callId, { ...d });
    for (const e of s.done ?? []) {
      if (Array.isArray(e) && typeof e[0] === 'string') this.done.set(e[0], typeof e[1] === 'number' ? e[1] : this.now);
    }
  }
}

/** A host name fit for a label: lower-case [a-z0-9.-], at most 64 characters, or undefined. */
export function boundHost(h: string): string | undefined {
  const t = h.trim().toLowerCase().replace(/\.+$/, '');
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(t)) return undefined;
  return t.length > 64 ? t.slice(0, 64).replace(/[.-]+$/, '') : t;
}

/** Options from a reader's option bag (`options.sip`), validated. */
export function sipOptions(o: Partial<SipOptions> | undefined): SipOptions {
  const s = { ...SIP_DEFAULTS, ...Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) } as SipOptions;
  if (!(s.timeoutSeconds > 0)) throw new Error(`sip.timeoutSeconds must be a positive number of seconds, not ${String(s.timeoutSeconds)}`);
  if (!(s.maxCallSeconds > 0)) throw new Error(`sip.maxCallSeconds must be a positive number of seconds, not ${String(s.maxCallSeconds)}`);
  if (!['sent', 'received', 'both'].includes(s.direction)) throw new Error(`sip.direction must be sent, received or both, not ${String(s.direction)}`);
  if (s.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(s.date)) throw new Error(`sip.date must be YYYY-MM-DD, not ${s.date}`);
  return s;
}

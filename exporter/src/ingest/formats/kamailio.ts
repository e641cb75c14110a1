// Kamailio acc module, log backend (syslog, or stderr with -E).
//
//   Nov 25 11:28:04 sbc1 /usr/sbin/kamailio[10814]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: transaction answered: timestamp=…;method=INVITE;from_tag=…;to_tag=…;call_id=…;code=200;reason=OK;src_user=…;…
//    1(10814) NOTICE: acc [acc.c:287]: acc_log_request(): ACC: call missed: timestamp=…;method=INVITE;…;code=486;reason=Busy Here;…
//
// What a real Kamailio 5.6 writes with the stock kamailio.cfg accounting settings
// (log_flag + log_missed_flag on the initial INVITE, log_flag + failed_transaction_flag on
// BYE; captured with sipp, see test/fixtures/kamailio/real-*.log and docs/formats.md):
//   - answered call: `transaction answered` INVITE code=200 (timestamp = the 200's time),
//     then `transaction answered` BYE code=200 with the same call_id. The BYE's
//     dst_user is EMPTY (its R-URI is the contact), so only call_id links the two;
//   - failed call (486, 487 after CANCEL, 603, 608, 480, …): ONE `call missed` INVITE line;
//   - if failed_transaction_flag is also set on the INVITE, the same failure is logged
//     twice: `call missed` and then `transaction answered` with the same call_id, to_tag
//     and code. The reader counts it once.
//   - the reason is the reason phrase only ("Network Blocked"); Reason headers are not logged.
//
// Records:
//   - INVITE 2xx: held (reader state, in snapshot) until the BYE of the same call_id, then
//     emitted as answered with talk = BYE timestamp − INVITE timestamp, ts = the INVITE
//     200's time. An INVITE 2xx for a call already held (re-INVITE) is ignored.
//   - INVITE ≥ 300 (`call missed` or a failed `transaction answered`): emitted at once,
//     outcome from the SIP code + reason phrase (603 "Network Blocked" → blocked).
//   - Held calls with no BYE within maxCallSeconds (default 6 h) of the newest timestamp
//     seen, or still held at flush() (end of a one-shot run), are emitted as answered with
//     talk 0 (unknown).
//   - ACK, CANCEL, in-dialog BYE without a held INVITE, other methods: skipped.
// Extra keys (log_extra): caller `src_user`, called `dst_user` (falls back to
// `dst_ouser`), trunk `dst_domain`, where the call came from `src_ip` (the trunk-map inbound
// rule), and optionally a direction key — configurable via options.kamailio. Each call carries
// its Call-ID as its key, so the same calls in a SIP trace count once.

import type { KamailioOptions, LineContext, LineResult, Reader, ReaderOptions } from '../reader.js';
import { outcomeFromSip } from '../../model/outcome.js';
import type { RawCall } from '../../model/types.js';
import { ReaderKit, SKIP, parseAttestation, reject, withDefaults } from './common.js';
import { parseDirection } from '../../classify/direction.js';
import { keyHash } from '../../classify/callKeys.js';
import { BytesMemo, ascii, skipSpace, trimEnd } from '../bytes.js';

/** The call id's fast hash, read into each INVITE's keys. */
const K = new Uint32Array(2);

export type { KamailioOptions };

export const KAMAILIO_DEFAULTS: KamailioOptions = {
  callerKey: 'src_user',
  calleeKey: 'dst_user',
  domainKey: 'dst_domain',
  sourceKey: 'src_ip',
  maxCallSeconds: 6 * 3600,
};

const MARKER = 'ACC: ';

/** Content check used by detectFormat: an acc line. */
export function looksLikeKamailio(line: string): boolean {
  const i = line.indexOf(MARKER);
  return i >= 0 && line.includes('call_id=', i) && line.includes('method=', i);
}

const KAMAILIO_LOG = /kamailio\[\d+\]: [A-Z]+:|^\s*\d+\(\d+\) [A-Z]+: /;

/** Any Kamailio log line (syslog `kamailio[PID]: LEVEL:` or `-E` stderr ` N(PID) LEVEL: `). */
export function looksLikeKamailioLog(line: string): boolean {
  return KAMAILIO_LOG.test(line);
}

interface Held {
  rec: RawCall;
}

interface KamailioSnapshot {
  v: 1;
  pending: Array<[string, RawCall]>;
  seen: string[];
  newest: number;
}

const MAX_PENDING = 200_000;
const MAX_SEEN = 10_000;

export class KamailioReader implements Reader {
  readonly format = 'kamailio';
  private readonly kit: ReaderKit;
  private readonly k: Required<Pick<KamailioOptions, 'callerKey' | 'calleeKey' | 'domainKey' | 'maxCallSeconds'>> & KamailioOptions;
  private pending = new Map<string, Held>();
  /**
   * The held calls in the order they were held, closed ones skipped when met: the oldest open call
   * without iterating `pending` from its start — in V8 that also walks every entry deleted since the
   * table was last rebuilt, which made each line cost O(calls closed) on a busy log.
   */
  private heldOrder = new FifoQueue<[string, Held]>();
  /** Failure keys already emitted (call_id|to_tag|code), to count a double-logged failure once. */
  private seen = new Set<string>();
  private seenOrder = new FifoQueue<string>();
  private newest = 0;
  private readonly kv = new KvLine();
  private readonly kvBytes = new KvBytes();
  private readonly fields: { caller: string; called: string };

  constructor(options?: Partial<ReaderOptions>) {
    const o = withDefaults(options);
    this.kit = new ReaderKit(o);
    const ko = (o.kamailio ?? {}) as Partial<KamailioOptions>;
    this.k = {
      ...KAMAILIO_DEFAULTS,
      ...Object.fromEntries(Object.entries(ko).filter(([, v]) => v !== undefined && v !== '')),
    } as typeof this.k;
    this.fields = { caller: `Key ${this.k.callerKey} (caller)`, called: `Key ${this.k.calleeKey} (called number)` };
  }

  parseLine(raw: string, _ctx: LineContext): LineResult {
    const at = raw.indexOf(MARKER);
    if (at < 0) return SKIP;
    let line = raw;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    const colon = line.indexOf(': ', at + MARKER.length);
    if (colon < 0) return SKIP;
    const kv = this.kv.load(line.slice(colon + 2));
    const method = (kv.get('method') ?? '').toUpperCase();
    if (method !== 'INVITE' && method !== 'BYE') return SKIP;

    const out: RawCall[] = [];
    const res = this.parseCall(kv, method, out);
    if (res !== null) return res; // a rejection: held calls stay held until a good line
    // Expire after handling the line, so a BYE closes its own call first.
    this.expire(out);
    return out.length > 0 ? { kind: 'records', records: out } : SKIP;
  }

  /**
   * The same line read from its bytes (a clean ASCII step: no line string is made, only the values asked for):
   * what parseLine returns — its records (none: 'skip') — or null for a line parseLine rejects, which it then
   * reads and rejects itself. Nothing is held, closed or remembered before a line is known not to be rejected
   * (parseCall's rejections all come first), so reading such a line twice changes nothing.
   */
  parseBytes(buf: Buffer, start: number, end: number, clean: boolean): RawCall[] | 'skip' | null {
    if (!clean) return null;
    if (end > start && buf[end - 1] === 13) end--; // parseLine drops a CR the ingestor left (a line ending \r\r\n)
    const at = indexOfAscii(buf, MARKER, start, end);
    if (at < 0) return 'skip';
    const colon = indexOfAscii(buf, ': ', at + MARKER.length, end);
    if (colon < 0) return 'skip';
    const kv = this.kvBytes.load(buf, colon + 2, end);
    const method = kv.method();
    if (method === null) return 'skip';
    const out: RawCall[] = [];
    if (this.parseCall(kv, method, out) !== null) return null;
    this.expire(out);
    return out.length > 0 ? out : 'skip';
  }

  /** Handle one INVITE/BYE line; records go to `out`; returns a rejection or null. */
  private parseCall(kv: KvSource, method: string, out: RawCall[]): LineResult | null {
    const callId = kv.get('call_id');
    if (!callId) return reject('missing_field', 'Key call_id is missing or empty.');
    const tsText = kv.get('timestamp') ?? kv.get('time');
    if (tsText === undefined || !/^\d+(\.\d+)?$/.test(tsText.trim())) {
      return reject('bad_timestamp', 'Key timestamp is missing or not Unix seconds.');
    }
    const ts = Math.round(+tsText * 1000);
    const codeText = kv.get('code') ?? '';
    if (!/^[1-6]\d\d$/.test(codeText.trim())) return reject('missing_field', 'Key code is missing or not a SIP status code.');
    const code = +codeText;
    if (ts > this.newest) this.newest = ts;

    if (method === 'BYE') {
      const held = this.pending.get(callId);
      if (held === undefined) return null;
      this.pending.delete(callId);
      held.rec.talkSec = Math.max(0, Math.round((ts - held.rec.ts) / 1000));
      out.push(held.rec);
      return null;
    }

    // INVITE
    if (code < 200) return null;
    if (code < 300 && this.pending.has(callId)) return null; // re-INVITE
    let failureKey: string | null = null;
    if (code >= 300) {
      failureKey = `${callId}|${kv.get('to_tag') ?? ''}|${code}`;
      if (this.seen.has(failureKey)) return null; // the same failure logged twice
    }

    const kit = this.kit;
    const callerText = kv.get(this.k.callerKey);
    if (!callerText) return reject('missing_field', `Key ${this.k.callerKey} (caller) is missing or empty: add it to acc log_extra.`);
    const calledText = kv.get(this.k.calleeKey) || kv.get('dst_ouser');
    if (!calledText) return reject('missing_field', `Key ${this.k.calleeKey} (called number) is missing or empty: add it to acc log_extra.`);

    const oc = outcomeFromSip(code, { reasonPhrase: kv.getFew('reason') });
    keyHash(K, 'sip', callId);
    const from = this.k.sourceKey ? kv.getFew(this.k.sourceKey) : undefined;
    const trunk = kv.getFew(this.k.domainKey);
    const carrier = this.k.carrierKey ? kv.get(this.k.carrierKey) : undefined;
    // One object of one shape (absent values undefined: no reader of a RawCall tells the two apart), so nothing is
    // added to it later; the caller and called fields are filled in place by the reader kit.
    const rec: RawCall = {
      ts,
      caller: '',
      callerText: undefined,
      called: '',
      calledText: undefined,
      outcome: oc.outcome,
      sipCode: code,
      talkSec: 0,
      attestation: parseAttestation(this.k.attestKey ? kv.get(this.k.attestKey) : undefined),
      source: 'kamailio',
      fields: this.fields,
      keys: [K[0], K[1]],
      direction: parseDirection(this.k.directionKey ? kv.get(this.k.directionKey) : undefined) || undefined,
      inTrunk: from || undefined,
      blockEngine: oc.blockEngine || undefined,
      trunk: trunk || undefined,
      carrier: carrier || undefined,
    };
    kit.caller(rec, callerText);
    kit.calledInto(rec, calledText);

    if (failureKey !== null) {
      this.remember(failureKey);
      out.push(rec);
      return null;
    }
    const held: Held = { rec };
    this.pending.set(callId, held);
    this.heldOrder.push([callId, held]);
    if (this.pending.size > MAX_PENDING) {
      const [oldId, old] = this.oldestHeld()!;
      this.pending.delete(oldId);
      out.push(old.rec);
    }
    return null;
  }

  /** The call held longest that is still open (what iterating `pending` would give first), or null. */
  private oldestHeld(): [string, Held] | null {
    for (;;) {
      const e = this.heldOrder.peek();
      if (e === undefined) return null;
      if (this.pending.get(e[0]) === e[1]) return e;
      this.heldOrder.shift(); // closed by its BYE, or evicted
    }
  }

  /** Emit held calls older than maxCallSeconds before the newest timestamp (talk 0). */
  private expire(out: RawCall[]): void {
    const limit = this.newest - this.k.maxCallSeconds * 1000;
    for (let e = this.oldestHeld(); e !== null && e[1].rec.ts < limit; e = this.oldestHeld()) {
      // insertion order ≈ time order
      this.pending.delete(e[0]);
      out.push(e[1].rec);
    }
  }

  private remember(key: string): void {
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seenOrder.shift()!);
  }

  /** End of a one-shot run: answered calls still waiting for their BYE, talk unknown (0). */
  flush(): RawCall[] {
    const out = [...this.pending.values()].map((h) => h.rec);
    this.pending.clear();
    this.heldOrder = new FifoQueue();
    return out;
  }

  snapshot(): KamailioSnapshot {
    return {
      v: 1,
      pending: [...this.pending].map(([id, h]) => [id, h.rec]),
      seen: [...this.seen],
      newest: this.newest,
    };
  }

  restore(state: unknown): void {
    const s = state as KamailioSnapshot | null | undefined;
    this.pending = new Map();
    this.heldOrder = new FifoQueue();
    this.seen = new Set();
    this.seenOrder = new FifoQueue();
    this.newest = 0;
    if (!s || s.v !== 1) return;
    for (const [id, rec] of s.pending ?? []) {
      // A snapshot is written from the Map, so each call id appears once.
      const held: Held = { rec: { ...rec } };
      this.pending.set(id, held);
      this.heldOrder.push([id, held]);
    }
    for (const k of s.seen ?? []) {
      if (this.seen.has(k)) continue;
      this.seen.add(k);
      this.seenOrder.push(k);
    }
    this.newest = typeof s.newest === 'number' ? s.newest : 0;
  }
}

/** A first-in first-out queue: an array and a head index, compacted now and then. */
class FifoQueue<T> {
  private items: T[] = [];
  private head = 0;

  push(v: T): void {
    this.items.push(v);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

/** What parseCall reads of an acc line's pairs: KvLine over its text, KvBytes over its bytes (the same answers). */
interface KvSource {
  get(key: string): string | undefined;
  /** As get, for keys with few distinct values (hosts, reasons): KvBytes gives the same string object each time. */
  getFew(key: string): string | undefined;
}

/** Where `text` (ASCII) first occurs in buf[from, to), or -1 (never looks past `to`, unlike Buffer.indexOf). */
function indexOfAscii(buf: Uint8Array, text: string, from: number, to: number): number {
  const first = text.charCodeAt(0);
  const last = to - text.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let k = 1; k < text.length; k++) if (buf[i + k] !== text.charCodeAt(k)) continue outer;
    return i;
  }
  return -1;
}

const INVITE = 'INVITE';
const BYE = 'BYE';

/** Where an acc line's pairs lie (key and value bounds, in characters or bytes): KvLine's and KvBytes's index. */
abstract class KvPairs {
  protected n = 0;
  protected keyStart = new Int32Array(32);
  protected keyEnd = new Int32Array(32);
  protected valueStart = new Int32Array(32);
  protected valueEnd = new Int32Array(32);

  /** Room for one more pair. */
  protected room(): void {
    if (this.n < this.keyStart.length) return;
    const g = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.keyStart = g(this.keyStart);
    this.keyEnd = g(this.keyEnd);
    this.valueStart = g(this.valueStart);
    this.valueEnd = g(this.valueEnd);
  }
}

/**
 * KvLine over the bytes of a clean ASCII line: the same pairs, keys and trimmed values (ASCII white space is all
 * String.prototype.trim can meet there); values become strings only when asked for.
 */
export class KvBytes extends KvPairs implements KvSource {
  private buf: Buffer = Buffer.alloc(0);
  private readonly few = new BytesMemo<string>(1024, 64 * 1024);

  load(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.n = 0;
    let i = start;
    while (i < end) {
      let semi = i;
      while (semi < end && buf[semi] !== 59 /* ; */) semi++;
      let eq = i;
      while (eq < semi && buf[eq] !== 61 /* = */) eq++;
      // KvLine: the first '=' after i, a pair only when it comes before the ';' and after a character of key.
      if (eq > i && eq < semi) {
        this.room();
        const ks = skipSpace(buf, i, eq);
        this.keyStart[this.n] = ks;
        this.keyEnd[this.n] = trimEnd(buf, ks, eq);
        this.valueStart[this.n] = eq + 1;
        this.valueEnd[this.n] = semi;
        this.n++;
      }
      i = semi + 1;
    }
    return this;
  }

  /** The pair `key` (the last one), or -1. */
  private find(key: string): number {
    const b = this.buf;
    for (let j = this.n - 1; j >= 0; j--) {
      const ks = this.keyStart[j];
      if (this.keyEnd[j] - ks !== key.length) continue;
      let k = 0;
      while (k < key.length && b[ks + k] === key.charCodeAt(k)) k++;
      if (k === key.length) return j;
    }
    return -1;
  }

  get(key: string): string | undefined {
    const j = this.find(key);
    if (j < 0) return undefined;
    const s = skipSpace(this.buf, this.valueStart[j], this.valueEnd[j]);
    const e = trimEnd(this.buf, s, this.valueEnd[j]);
    return s === e ? '' : ascii(this.buf, s, e);
  }

  getFew(key: string): string | undefined {
    const j = this.find(key);
    if (j < 0) return undefined;
    const s = skipSpace(this.buf, this.valueStart[j], this.valueEnd[j]);
    const e = trimEnd(this.buf, s, this.valueEnd[j]);
    if (s === e) return '';
    let v = this.few.get(this.buf, s, e);
    if (v === undefined) {
      v = ascii(this.buf, s, e);
      this.few.set(this.buf, s, e, v);
    }
    return v;
  }

  /** The method upper-cased when it is INVITE or BYE (the only ones read), else null. */
  method(): string | null {
    const v = this.getFew('method');
    if (v === undefined) return null;
    const m = v.length === 6 || v.length === 3 ? v.toUpperCase() : '';
    return m === INVITE ? INVITE : m === BYE ? BYE : null;
  }

}

/**
 * The `a=1;b=two words;c=` part of an acc line, indexed in place: `get` answers as a Map of the trimmed
 * keys to the trimmed values would (values end at the next ';'; a later key wins), but only the values
 * asked for become strings — an acc line has ~14 pairs and the reader reads ~8.
 */
export class KvLine extends KvPairs implements KvSource {
  private text = '';

  load(text: string): this {
    this.text = text;
    this.n = 0;
    let i = 0;
    const len = text.length;
    while (i < len) {
      let semi = text.indexOf(';', i);
      if (semi < 0) semi = len;
      const eq = text.indexOf('=', i);
      if (eq > i && eq < semi) {
        this.room();
        let ks = i;
        let ke = eq;
        while (ks < ke && isTrimmed(text.charCodeAt(ks))) ks++;
        while (ke > ks && isTrimmed(text.charCodeAt(ke - 1))) ke--;
        this.keyStart[this.n] = ks;
        this.keyEnd[this.n] = ke;
        this.valueStart[this.n] = eq + 1;
        this.valueEnd[this.n] = semi;
        this.n++;
      }
      i = semi + 1;
    }
    return this;
  }

  getFew(key: string): string | undefined {
    return this.get(key);
  }

  get(key: string): string | undefined {
    const t = this.text;
    for (let j = this.n - 1; j >= 0; j--) {
      const ks = this.keyStart[j];
      // Length and last character first: most of an acc line's keys differ in one of them (src_user/dst_user do not).
      const ke = this.keyEnd[j];
      if (ke - ks === key.length && (ke === ks || t.charCodeAt(ke - 1) === key.charCodeAt(key.length - 1)) && t.startsWith(key, ks)) {
        return t.slice(this.valueStart[j], this.valueEnd[j]).trim();
      }
    }
    return undefined;
  }

}

/** The characters String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator). */
function isTrimmed(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

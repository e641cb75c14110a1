// Packet captures (tcpdump -w, Wireshark, dumpcap): pcap and pcapng files as an input format. A small
// reader of our own (no maintained npm parser reads pcapng, Linux cooked SLL2 and IP reassembly without a
// native build): the file is cut into records by their lengths (`frameEnd`), each record into link,
// IP, UDP/TCP, and the SIP messages in it — or in the HEPv3 packets it carries — go to the dialog
// tracker of the SIP log readers (ingest/sip/capture.ts).
//
//   pcap      24-byte header (magic a1b2c3d4 µs / a1b23c4d ns, either byte order, link type), then records:
//             ts_sec, ts_frac, incl_len, orig_len (16 bytes) + incl_len bytes
//   pcapng    blocks: type, total length, body, total length; SHB (0x0a0d0d0a, byte-order magic 1a2b3c4d),
//             IDB (1: link type, if_tsresol), EPB (6: interface, 64-bit time, captured length), SPB (3)
//   link      Ethernet (1, with 802.1Q/802.1ad tags), Linux cooked SLL (113) and SLL2 (276), BSD loopback
//             (0 NULL, 108 LOOP), raw IP (101, 228 IPv4, 229 IPv6)
//   IP        IPv4 and IPv6 (extension headers skipped), fragments reassembled (bounded)
//   UDP       one SIP message per datagram, or a HEPv3 packet (its own capture time and addresses)
//   TCP       per direction, segments in sequence order, SIP messages cut by Content-Length across segments
// Damage is contained: a record that cannot be read is rejected with a reason; lengths that cannot be
// true (a record past any sane size) end the file's reading with one rejection.

import type { LineResult, Reader, ReaderOptions } from '../reader.js';
import type { RawCall } from '../../model/types.js';
import { SKIP } from '../formats/common.js';
import { CaptureDialogs } from '../sip/capture.js';
import type { DialogSnapshot, SipCall } from '../sip/dialogs.js';
import { sipStreamLength } from '../sip/packet.js';
import { decodeHep } from '../hep/hep.js';

export type CaptureKind = 'pcap' | 'pcapng';

/** pcap or pcapng by the first 4 bytes, else null. */
export function captureKind(head: Buffer): CaptureKind | null {
  if (head.length < 4) return null;
  const m = head.readUInt32BE(0);
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  if (m === 0x0a0d0d0a) return 'pcapng';
  return null;
}

/** Largest record accepted (a 256 KiB snap length is tcpdump's default); below a read step's smallest size. */
const MAX_RECORD = 512 * 1024;
const MAX_FRAG_SETS = 1024;
const MAX_STREAMS = 10_000;
const MAX_STREAM_BYTES = 256 * 1024;
const MAX_OOO = 64;

interface Iface {
  link: number;
  /** Units of a timestamp per second. */
  perSec: number;
}

interface Stream {
  /** Next sequence number expected. */
  next: number;
  buf: Buffer;
  /** Segments ahead of `next`, by sequence number. */
  ahead: Map<number, Buffer>;
  /** Last capture time seen on the stream (ms). */
  at: number;
}

interface FragSet {
  parts: Array<[number, Buffer]>;
  total: number;
  at: number;
}

interface CaptureState {
  v: 1;
  kind: CaptureKind | null;
  le: boolean;
  nano: boolean;
  link: number;
  ifaces: Iface[];
  frameLe: boolean;
  frameStarted: boolean;
  dialogs: DialogSnapshot;
  streams: Array<[string, number, string, number, Array<[number, string]>?]>;
  frags?: Array<[string, number, number, Array<[number, string]>]>;
}

function readU32(b: Buffer, at: number, le: boolean): number {
  return le ? b.readUInt32LE(at) : b.readUInt32BE(at);
}
function readU16(b: Buffer, at: number, le: boolean): number {
  return le ? b.readUInt16LE(at) : b.readUInt16BE(at);
}

function ip4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}
function ip6(b: Buffer, at: number): string {
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(at + i * 2).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

export class CaptureReader implements Reader {
  readonly format = 'pcap';
  private readonly dialogs: CaptureDialogs;
  private kind: CaptureKind | null = null;
  /** Byte order of the records being read (pcap: the file's; pcapng: the current section's). */
  private le = true;
  private nano = false;
  private link = 1;
  private ifaces: Iface[] = [];
  /** The framing walk's own byte order and whether it has passed the file header (frameEnd runs ahead of parseFrame). */
  private frameLe = true;
  private frameStarted = false;
  private readonly frags = new Map<string, FragSet>();
  private readonly streams = new Map<string, Stream>();
  private out: SipCall[] = [];
  /** Where each record found by the last frameEnd ends. */
  frameEnds: number[] = [];

  constructor(options?: Partial<ReaderOptions>) {
    this.dialogs = new CaptureDialogs(options, 'pcap');
  }

  parseLine(): LineResult {
    return { kind: 'reject', rejection: { reason: 'bad_capture', detail: 'a capture file is read by records, not lines' } };
  }

  /**
   * How many bytes at the start of `buf` (which starts at the next unread record) are whole records; -1
   * when the lengths cannot be true (the rest of the file is unreadable).
   */
  frameEnd(buf: Buffer, len: number, atFileStart: boolean): number {
    const ends = (this.frameEnds = [] as number[]);
    let at = 0;
    if (atFileStart) {
      this.frameStarted = false;
      const k = captureKind(buf.subarray(0, Math.min(len, 4)));
      if (k === null) return len >= 4 ? -1 : 0;
      if (k === 'pcap') {
        if (len < 24) return 0;
        const m = buf.readUInt32BE(0);
        this.frameLe = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
        at = 24;
        ends.push(at);
        this.frameStarted = true;
      }
    }
    const pcapng = atFileStart ? captureKind(buf.subarray(0, 4)) === 'pcapng' : this.kind === 'pcapng' || (this.kind === null && !this.frameStarted);
    for (;;) {
      if (pcapng) {
        if (len - at < 12) return at;
        const type = buf.readUInt32BE(at);
        if (type === 0x0a0d0d0a) {
          const bom = buf.readUInt32BE(at + 8);
          if (bom === 0x1a2b3c4d) this.frameLe = false;
          else if (bom === 0x4d3c2b1a) this.frameLe = true;
          else return -1;
        }
        const total = readU32(buf, at + 4, this.frameLe);
        if (total < 12 || total % 4 !== 0 || total > MAX_RECORD) return -1;
        if (len - at < total) return at;
        at += total;
        ends.push(at);
      } else {
        if (len - at < 16) return at;
        const incl = readU32(buf, at + 8, this.frameLe);
        if (incl > MAX_RECORD) return -1;
        if (len - at < 16 + incl) return at;
        at += 16 + incl;
        ends.push(at);
      }
    }
  }

  /** One record (or the pcap file header) of `buf[s, e)`. */
  parseFrame(buf: Buffer, s: number, e: number, atFileStart: boolean): LineResult {
    this.out = [];
    let res: LineResult | null = null;
    try {
      if (atFileStart && s === 0) {
        this.kind = captureKind(buf.subarray(0, 4));
        if (this.kind === 'pcap') {
          const m = buf.readUInt32BE(0);
          this.le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
          this.nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
          this.link = readU32(buf, 20, this.le) & 0x0fffffff;
          return this.result(null);
        }
      }
      if (this.kind === 'pcapng') res = this.ngBlock(buf, s, e);
      else {
        const sec = readU32(buf, s, this.le);
        const frac = readU32(buf, s + 4, this.le);
        const incl = readU32(buf, s + 8, this.le);
        const ms = sec * 1000 + (this.nano ? Math.floor(frac / 1e6) : Math.floor(frac / 1000));
        res = this.linkFrame(this.link, buf, s + 16, s + 16 + incl, ms);
      }
    } catch {
      res = { kind: 'reject', rejection: { reason: 'bad_packet', detail: 'a packet whose headers do not fit its length' } };
    }
    return this.result(res);
  }

  private result(rej: LineResult | null): LineResult {
    const recs: RawCall[] = this.out.map((c) => c.record);
    this.out = [];
    if (rej !== null && rej.kind === 'reject') {
      // Calls finished by this packet still count: they go out with the next one (rare: a rejection and a
      // finished call from one packet).
      this.pending.push(...recs);
      return rej;
    }
    if (this.pending.length > 0) {
      recs.unshift(...this.pending);
      this.pending = [];
    }
    return recs.length > 0 ? { kind: 'records', records: recs } : SKIP;
  }
  private pending: RawCall[] = [];

  private ngBlock(b: Buffer, s: number, e: number): LineResult | null {
    const type0 = b.readUInt32BE(s);
    if (type0 === 0x0a0d0d0a) {
      this.le = b.readUInt32BE(s + 8) === 0x4d3c2b1a;
      this.ifaces = [];
      return null;
    }
    const le = this.le;
    const type = readU32(b, s, le);
    if (type === 1) {
      // IDB: link type (2), reserved (2), snaplen (4), options
      const link = readU16(b, s + 8, le);
      let perSec = 1e6;
      let o = s + 16;
      while (o + 4 <= e - 4) {
        const code = readU16(b, o, le);
        const olen = readU16(b, o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = b[o + 4];
          perSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
        }
        o += 4 + Math.ceil(olen / 4) * 4;
      }
      this.ifaces.push({ link, perSec });
      return null;
    }
    if (type === 6) {
      const iface = this.ifaces[readU32(b, s + 8, le)];
      if (!iface) return { kind: 'reject', rejection: { reason: 'bad_packet', detail: 'an enhanced packet block names an interface no block described' } };
      const ts = readU32(b, s + 12, le) * 2 ** 32 + readU32(b, s + 16, le);
      const cap = readU32(b, s + 20, le);
      if (28 + cap > e - s) return { kind: 'reject', rejection: { reason: 'bad_packet', detail: 'an enhanced packet block shorter than its captured length' } };
      return this.linkFrame(iface.link, b, s + 28, s + 28 + cap, Math.floor((ts / iface.perSec) * 1000));
    }
    if (type === 3) {
      const iface = this.ifaces[0];
      if (!iface) return null;
      const orig = readU32(b, s + 8, le);
      return this.linkFrame(iface.link, b, s + 12, Math.min(e - 4, s + 12 + orig), Date.now());
    }
    return null; // name resolution, statistics, custom blocks…
  }

  /** A link-layer frame b[s, e) captured at `ms`. */
  private linkFrame(link: number, b: Buffer, s: number, e: number, ms: number): LineResult | null {
    let proto = 0;
    switch (link) {
      case 1: {
        // Ethernet II, VLAN tags
        let at = s + 12;
        proto = b.readUInt16BE(at);
        at += 2;
        while ((proto === 0x8100 || proto === 0x88a8) && at + 4 <= e) {
          proto = b.readUInt16BE(at + 2);
          at += 4;
        }
        return this.network(proto, b, at, e, ms);
      }
      case 113: // Linux cooked SLL: protocol at 14, header 16
        return this.network(b.readUInt16BE(s + 14), b, s + 16, e, ms);
      case 276: // SLL2: protocol at 0, header 20
        return this.network(b.readUInt16BE(s), b, s + 20, e, ms);
      case 0: // BSD loopback: address family, host byte order
      case 108: {
        // LOOP: network byte order
        const fam = link === 108 ? b.readUInt32BE(s) : b.readUInt32LE(s) > 0xffff ? b.readUInt32BE(s) : b.readUInt32LE(s);
        return this.network(fam === 2 ? 0x0800 : [24, 28, 30].includes(fam) ? 0x86dd : 0, b, s + 4, e, ms);
      }
      case 101:
      case 12:
      case 14:
        return this.network((b[s] >> 4) === 6 ? 0x86dd : 0x0800, b, s, e, ms);
      case 228:
        return this.network(0x0800, b, s, e, ms);
      case 229:
        return this.network(0x86dd, b, s, e, ms);
      default:
        return { kind: 'reject', rejection: { reason: 'unsupported_link', detail: `link type ${link} is not read (Ethernet, Linux cooked SLL/SLL2, loopback and raw IP are)` } };
    }
  }

  private network(ethertype: number, b: Buffer, s: number, e: number, ms: number): LineResult | null {
    if (ethertype === 0x0800) return this.ipv4(b, s, e, ms);
    if (ethertype === 0x86dd) return this.ipv6(b, s, e, ms);
    return null; // ARP, LLDP…
  }

  private ipv4(b: Buffer, s: number, e: number, ms: number): LineResult | null {
    if ((b[s] >> 4) !== 4) return null;
    const ihl = (b[s] & 0x0f) * 4;
    const total = Math.min(b.readUInt16BE(s + 2), e - s);
    const flags = b.readUInt16BE(s + 6);
    const proto = b[s + 9];
    const src = ip4(b, s + 12);
    const dst = ip4(b, s + 16);
    const more = (flags & 0x2000) !== 0;
    const off = (flags & 0x1fff) * 8;
    let payload = b.subarray(s + ihl, s + total);
    if (more || off > 0) {
      const whole = this.fragment(`4|${src}|${dst}|${b.readUInt16BE(s + 4)}|${proto}`, off, more, payload, ms);
      if (whole === null) return null;
      payload = whole;
    }
    return this.transport(proto, src, dst, payload, ms);
  }

  private ipv6(b: Buffer, s: number, e: number, ms: number): LineResult | null {
    if ((b[s] >> 4) !== 6) return null;
    const plen = b.readUInt16BE(s + 4);
    let next = b[s + 6];
    const src = ip6(b, s + 8);
    const dst = ip6(b, s + 24);
    let at = s + 40;
    const end = Math.min(e, at + plen);
    let frag: { off: number; more: boolean; id: number } | null = null;
    for (let i = 0; i < 8; i++) {
      if (next === 0 || next === 43 || next === 60) {
        const n = b[at];
        at += (b[at + 1] + 1) * 8;
        next = n;
      } else if (next === 44) {
        const n = b[at];
        const fo = b.readUInt16BE(at + 2);
        frag = { off: fo & 0xfff8, more: (fo & 1) === 1, id: b.readUInt32BE(at + 4) };
        at += 8;
        next = n;
      } else break;
    }
    let payload = b.subarray(at, end);
    if (frag) {
      const whole = this.fragment(`6|${src}|${dst}|${frag.id}|${next}`, frag.off, frag.more, payload, ms);
      if (whole === null) return null;
      payload = whole;
    }
    return this.transport(next, src, dst, payload, ms);
  }

  /** A fragment into its set; the reassembled payload once every byte up to the last fragment is there. */
  private fragment(key: string, off: number, more: boolean, data: Buffer, ms: number): Buffer | null {
    let set = this.frags.get(key);
    if (!set) {
      if (this.frags.size >= MAX_FRAG_SETS) {
        // the oldest set gives way (a capture that lost a fragment must not hold memory forever)
        this.frags.delete(this.frags.keys().next().value as string);
      }
      set = { parts: [], total: -1, at: ms };
      this.frags.set(key, set);
    }
    set.parts.push([off, Buffer.from(data)]);
    if (!more) set.total = off + data.length;
    if (set.total < 0 || set.total > 65_535) return set.total > 65_535 ? (this.frags.delete(key), null) : null;
    const parts = [...set.parts].sort((a, c) => a[0] - c[0]);
    let have = 0;
    for (const [o, d] of parts) {
      if (o > have) return null; // a hole
      have = Math.max(have, o + d.length);
    }
    if (have < set.total) return null;
    const whole = Buffer.alloc(set.total);
    for (const [o, d] of parts) d.copy(whole, o, 0, Math.min(d.length, set.total - o));
    this.frags.delete(key);
    return whole;
  }

  private transport(proto: number, src: string, dst: string, p: Buffer, ms: number): LineResult | null {
    if (proto === 17) {
      if (p.length < 8) return null;
      const body = p.subarray(8, Math.min(p.length, p.readUInt16BE(4) || p.length));
      return this.datagram(body, src, ms);
    }
    if (proto === 6) {
      if (p.length < 20) return null;
      const sport = p.readUInt16BE(0);
      const dport = p.readUInt16BE(2);
      const seq = p.readUInt32BE(4);
      const off = (p[12] >> 4) * 4;
      const flags = p[13];
      const data = p.subarray(off);
      return this.segment(`${src}|${sport}|${dst}|${dport}`, seq, flags, data, src, ms);
    }
    return null;
  }

  /** A UDP payload: a HEPv3 packet or a SIP message. */
  private datagram(body: Buffer, src: string, ms: number): LineResult | null {
    if (body.length >= 4 && body.readUInt32BE(0) === 0x48455033) {
      const r = decodeHep(body);
      if (!r.ok) return { kind: 'reject', rejection: { reason: `hep_${r.reason}`, detail: `a HEP packet refused: ${r.reason}` } };
      const h = r.packet;
      if (h.protoType !== 1 || h.compressed) return null;
      const ts = h.timeSec ? h.timeSec * 1000 + Math.floor((h.timeUsec ?? 0) / 1000) : ms;
      return this.sip(h.payload!, 0, h.payload!.length, ts, h.srcIp ?? src);
    }
    if (!looksSip(body, 0)) return null; // RTP, DNS, …: not ours
    return this.sip(body, 0, body.length, ms, src);
  }

  private sip(b: Buffer, s: number, e: number, ms: number, src: string): LineResult | null {
    const r = this.dialogs.onPayload(b, s, e, ms, src, this.out);
    if (r === 'not_sip') return null;
    if (r !== null) return { kind: 'reject', rejection: r };
    return null;
  }

  /** A TCP segment: in sequence order into its stream, SIP messages cut out as they complete. */
  private segment(key: string, seq: number, flags: number, data: Buffer, src: string, ms: number): LineResult | null {
    const SYN = 0x02;
    let st = this.streams.get(key);
    if (flags & SYN) {
      st = { next: (seq + 1) >>> 0, buf: Buffer.alloc(0), ahead: new Map(), at: ms };
      this.setStream(key, st);
      return null;
    }
    if (data.length === 0) return null;
    if (!st) {
      // Joined mid-stream (the capture started late): start here if this looks like a SIP message start.
      if (!looksSip(data, 0)) return null;
      st = { next: seq, buf: Buffer.alloc(0), ahead: new Map(), at: ms };
      this.setStream(key, st);
    }
    st.at = ms;
    const rel = (seq - st.next) | 0;
    if (rel > 0) {
      if (st.ahead.size < MAX_OOO) st.ahead.set(seq, Buffer.from(data));
      return null;
    }
    let d = data;
    if (rel < 0) {
      if (-rel >= d.length) return null; // a retransmission of what we have
      d = d.subarray(-rel); // overlaps: keep the new part
    }
    this.append(st, d);
    // Segments that were ahead and now fit.
    for (let moved = true; moved && st.ahead.size > 0; ) {
      moved = false;
      for (const [aseq, ad] of st.ahead) {
        const r = (aseq - st.next) | 0;
        if (r > 0) continue;
        st.ahead.delete(aseq);
        if (-r < ad.length) this.append(st, ad.subarray(-r));
        moved = true;
      }
    }
    let rej: LineResult | null = null;
    let at = 0;
    for (;;) {
      const n = sipStreamLength(st.buf, at);
      if (n === 'need_more') break;
      if (n === 'bad') {
        st.buf = Buffer.alloc(0); // not SIP, or lost its framing: wait for the next message start
        st.ahead.clear();
        this.streams.delete(key);
        return rej;
      }
      const r = this.sip(st.buf, at, at + n, ms, src);
      if (r !== null) rej = r;
      at += n;
    }
    if (at > 0) st.buf = Buffer.from(st.buf.subarray(at));
    return rej;
  }

  private append(st: Stream, d: Buffer): void {
    st.buf = st.buf.length === 0 ? Buffer.from(d) : Buffer.concat([st.buf, d]);
    st.next = (st.next + d.length) >>> 0;
    if (st.buf.length > MAX_STREAM_BYTES) st.buf = Buffer.alloc(0); // a stream that never completes a message
  }

  private setStream(key: string, st: Stream): void {
    this.streams.delete(key);
    this.streams.set(key, st);
    if (this.streams.size > MAX_STREAMS) this.streams.delete(this.streams.keys().next().value as string);
  }

  flush(): RawCall[] {
    const recs = [...this.pending];
    this.pending = [];
    for (const c of this.dialogs.tracker.flush()) recs.push(c.record);
    return recs;
  }

  snapshot(): CaptureState {
    return {
      v: 1, kind: this.kind, le: this.le, nano: this.nano, link: this.link, ifaces: this.ifaces.map((i) => ({ ...i })),
      frameLe: this.frameLe, frameStarted: this.frameStarted,
      dialogs: this.dialogs.snapshot(),
      streams: [...this.streams].map(([k, s]) => [k, s.next, s.buf.toString('base64'), s.at, [...s.ahead].map(([q, b]) => [q, b.toString('base64')] as [number, string])]),
      frags: [...this.frags].map(([k, f]) => [k, f.total, f.at, f.parts.map(([o, b]) => [o, b.toString('base64')] as [number, string])]),
    };
  }

  restore(state: unknown): void {
    const s = state as CaptureState | undefined;
    if (!s || s.v !== 1) return;
    this.kind = s.kind;
    this.le = s.le;
    this.nano = s.nano;
    this.link = s.link;
    this.ifaces = (s.ifaces ?? []).map((i) => ({ ...i }));
    this.frameLe = s.frameLe;
    this.frameStarted = s.frameStarted;
    this.dialogs.restore(s.dialogs);
    this.streams.clear();
    this.frags.clear();
    this.pending = [];
    for (const [k, next, b64, at, ahead] of s.streams ?? []) {
      this.streams.set(k, { next, buf: Buffer.from(b64, 'base64'), ahead: new Map((ahead ?? []).map(([q, b]) => [q, Buffer.from(b, 'base64')])), at });
    }
    for (const [k, total, at, parts] of s.frags ?? []) this.frags.set(k, { total, at, parts: parts.map(([o, b]) => [o, Buffer.from(b, 'base64')]) });
  }
}

const SIP_START = /^(?:[A-Z]{3,12} [^ ]+ SIP\/2\.0|SIP\/2\.0 \d{3})/;
function looksSip(b: Buffer, at: number): boolean {
  let s = at;
  while (s < b.length && (b[s] === 13 || b[s] === 10)) s++;
  return SIP_START.test(b.toString('latin1', s, Math.min(b.length, s + 64)));
}

// HEPv3 (Homer Encapsulation Protocol, "EEP"): the framing Kamailio siptrace, OpenSIPS proto_hep,
// FreeSWITCH capture-server, Asterisk res_hep and the heplify agent use to mirror SIP to a collector.
//
//   0      4      6
//   "HEP3" length  chunk chunk chunk …          length: the whole packet, header included (big-endian)
//   chunk: vendor id (2) · type id (2) · length (2, the chunk's own 6 bytes included) · body
//
// Generic chunks (vendor 0) read here, with the body size each must have:
//   0x01 IP family (1: 2 = IPv4, 10 = IPv6)   0x02 IP protocol (1: 17 UDP, 6 TCP)
//   0x03 / 0x04 IPv4 source / destination (4)  0x05 / 0x06 IPv6 source / destination (16)
//   0x07 / 0x08 source / destination port (2)  0x09 time, seconds (4)   0x0a microseconds (4)
//   0x0b protocol type (1: 1 = SIP)            0x0c capture agent id (4)  0x0d keep-alive (2)
//   0x0e authentication key (any)              0x0f payload (any)       0x10 compressed payload (any)
//   0x11 correlation id (any)                  0x12 VLAN (2)             0x13 node name (any)
// Decoding is strict: the length in the header must be the packet's, every chunk must fit in what is
// left and be at least its own header, a generic chunk of a fixed-size type must have exactly that
// size, and no generic chunk may come twice. Vendor chunks (vendor ≠ 0) and unknown generic types are
// skipped. A packet that breaks a rule is refused with one reason from a bounded set (a metric label).

import { isIP } from 'node:net';

export const HEP_MAGIC = 0x48455033; // "HEP3"

export const CHUNK = {
  family: 0x01,
  protocol: 0x02,
  src4: 0x03,
  dst4: 0x04,
  src6: 0x05,
  dst6: 0x06,
  srcPort: 0x07,
  dstPort: 0x08,
  timeSec: 0x09,
  timeUsec: 0x0a,
  protoType: 0x0b,
  agentId: 0x0c,
  keepAlive: 0x0d,
  authKey: 0x0e,
  payload: 0x0f,
  compressed: 0x10,
  correlationId: 0x11,
  vlan: 0x12,
  nodeName: 0x13,
} as const;

/** Body size of the fixed-size generic chunk types. */
const FIXED: Record<number, number> = {
  [CHUNK.family]: 1, [CHUNK.protocol]: 1, [CHUNK.protoType]: 1,
  [CHUNK.srcPort]: 2, [CHUNK.dstPort]: 2, [CHUNK.keepAlive]: 2, [CHUNK.vlan]: 2,
  [CHUNK.src4]: 4, [CHUNK.dst4]: 4, [CHUNK.timeSec]: 4, [CHUNK.timeUsec]: 4, [CHUNK.agentId]: 4,
  [CHUNK.src6]: 16, [CHUNK.dst6]: 16,
};
/** Generic types with a body of any length. */
const VARIABLE = new Set<number>([CHUNK.authKey, CHUNK.payload, CHUNK.compressed, CHUNK.correlationId, CHUNK.nodeName]);

/** Why a packet was refused (bounded: the `reason` label of numrep_hep_packets_malformed_total). */
export const HEP_MALFORMED = [
  'bad_magic', // not "HEP3"
  'bad_length', // the header's length is not the packet's (UDP), or below the 6-byte header
  'truncated_chunk', // fewer than 6 bytes left for a chunk header, or a chunk longer than what is left
  'bad_chunk_length', // a chunk length below its own 6-byte header
  'chunk_size', // a fixed-size generic chunk of the wrong size
  'duplicate_chunk', // the same generic chunk twice
  'family_mismatch', // addresses that do not match the IP family chunk, or source and destination of different families
  'missing_chunk', // no payload, or no protocol type
  'auth', // hep.auth_key is set and the packet's key (chunk 0x0e) is missing or different
  'bad_sip', // protocol type SIP, but the payload is not a SIP message
] as const;
export type HepMalformed = (typeof HEP_MALFORMED)[number];

export interface HepPacket {
  family?: number;
  protocol?: number;
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  dstPort?: number;
  /** Capture time, seconds and microseconds (absent when the sender gave none). */
  timeSec?: number;
  timeUsec?: number;
  protoType?: number;
  agentId?: number;
  authKey?: Buffer;
  /** The captured payload (a view into the packet: copy before keeping it). */
  payload?: Buffer;
  compressed?: boolean;
  correlationId?: Buffer;
  nodeName?: Buffer;
  /** Chunks skipped: vendor chunks and unknown generic types. */
  skipped: number;
}

export type HepResult = { ok: true; packet: HepPacket } | { ok: false; reason: HepMalformed };

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(at + i * 2).toString(16));
  // The shortest form (RFC 5952): the longest run of zero groups (two or more) becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

/**
 * Decode one HEPv3 packet. `buf` must be exactly one packet (a UDP datagram, or one frame of a TCP
 * stream cut by `hepFrameLength`).
 */
export function decodeHep(buf: Buffer): HepResult {
  if (buf.length < 6 || buf.readUInt32BE(0) !== HEP_MAGIC) return { ok: false, reason: 'bad_magic' };
  const total = buf.readUInt16BE(4);
  if (total !== buf.length) return { ok: false, reason: 'bad_length' };
  const p: HepPacket = { skipped: 0 };
  let seen = 0; // bit per generic type read (types 0x01-0x13): no Set allocated per packet
  let at = 6;
  while (at < total) {
    if (total - at < 6) return { ok: false, reason: 'truncated_chunk' };
    const vendor = buf.readUInt16BE(at);
    const type = buf.readUInt16BE(at + 2);
    const len = buf.readUInt16BE(at + 4);
    if (len < 6) return { ok: false, reason: 'bad_chunk_length' };
    if (len > total - at) return { ok: false, reason: 'truncated_chunk' };
    const body = at + 6;
    const size = len - 6;
    at += len;
    if (vendor !== 0 || (FIXED[type] === undefined && !VARIABLE.has(type))) {
      p.skipped++;
      continue;
    }
    if (FIXED[type] !== undefined && FIXED[type] !== size) return { ok: false, reason: 'chunk_size' };
    if ((seen & (1 << type)) !== 0) return { ok: false, reason: 'duplicate_chunk' };
    seen |= 1 << type;
    switch (type) {
      case CHUNK.family: p.family = buf[body]; break;
      case CHUNK.protocol: p.protocol = buf[body]; break;
      case CHUNK.src4: p.srcIp = ipv4(buf, body); break;
      case CHUNK.dst4: p.dstIp = ipv4(buf, body); break;
      case CHUNK.src6: p.srcIp = ipv6(buf, body); break;
      case CHUNK.dst6: p.dstIp = ipv6(buf, body); break;
      case CHUNK.srcPort: p.srcPort = buf.readUInt16BE(body); break;
      case CHUNK.dstPort: p.dstPort = buf.readUInt16BE(body); break;
      case CHUNK.timeSec: p.timeSec = buf.readUInt32BE(body); break;
      case CHUNK.timeUsec: p.timeUsec = buf.readUInt32BE(body); break;
      case CHUNK.protoType: p.protoType = buf[body]; break;
      case CHUNK.agentId: p.agentId = buf.readUInt32BE(body); break;
      case CHUNK.authKey: p.authKey = buf.subarray(body, body + size); break;
      case CHUNK.payload: p.payload = buf.subarray(body, body + size); break;
      case CHUNK.compressed: p.payload = buf.subarray(body, body + size); p.compressed = true; break;
      case CHUNK.correlationId: p.correlationId = buf.subarray(body, body + size); break;
      case CHUNK.nodeName: p.nodeName = buf.subarray(body, body + size); break;
      default: break; // keep-alive, VLAN: read for their size only
    }
  }
  const has = (t: number) => (seen & (1 << t)) !== 0;
  if (has(CHUNK.payload) && has(CHUNK.compressed)) return { ok: false, reason: 'duplicate_chunk' };
  // Addresses must agree with each other and with the family chunk.
  const v4 = has(CHUNK.src4) || has(CHUNK.dst4);
  const v6 = has(CHUNK.src6) || has(CHUNK.dst6);
  if (v4 && v6) return { ok: false, reason: 'family_mismatch' };
  if (p.family !== undefined && ((p.family === 2 && v6) || (p.family === 10 && v4))) return { ok: false, reason: 'family_mismatch' };
  if (p.payload === undefined || p.protoType === undefined) return { ok: false, reason: 'missing_chunk' };
  return { ok: true, packet: p };
}

/**
 * TCP: the length of the HEP frame at the start of `buf` (at least 6 bytes needed), or a reason the stream
 * cannot be read on (then the connection is closed: a stream has no way to find the next frame).
 */
export function hepFrameLength(buf: Buffer, at = 0): number | 'need_more' | 'bad_magic' | 'bad_length' {
  if (buf.length - at < 6) return 'need_more';
  if (buf.readUInt32BE(at) !== HEP_MAGIC) return 'bad_magic';
  const n = buf.readUInt16BE(at + 4);
  if (n < 6) return 'bad_length';
  return n;
}

export interface HepEncodeInput {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** IP protocol of the captured packet: 17 UDP (default), 6 TCP. */
  protocol?: number;
  timeSec: number;
  timeUsec?: number;
  protoType?: number;
  agentId?: number;
  authKey?: string;
  correlationId?: string;
  payload: Buffer | string;
}

function chunk(type: number, body: Buffer, vendor = 0): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(vendor, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([h, body]);
}

function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new Error(`not an IP address: ${ip}`);
  const [head, tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** One HEPv3 packet, the chunks in the order Kamailio's siptrace writes them (tests, bench, the replay tool). */
export function encodeHep(m: HepEncodeInput): Buffer {
  const v6 = isIP(m.srcIp) === 6;
  const parts = [
    chunk(CHUNK.family, u8(v6 ? 10 : 2)),
    chunk(CHUNK.protocol, u8(m.protocol ?? 17)),
    chunk(v6 ? CHUNK.src6 : CHUNK.src4, ipBytes(m.srcIp)),
    chunk(v6 ? CHUNK.dst6 : CHUNK.dst4, ipBytes(m.dstIp)),
    chunk(CHUNK.srcPort, u16(m.srcPort)),
    chunk(CHUNK.dstPort, u16(m.dstPort)),
    chunk(CHUNK.timeSec, u32(m.timeSec)),
    chunk(CHUNK.timeUsec, u32(m.timeUsec ?? 0)),
    chunk(CHUNK.protoType, u8(m.protoType ?? 1)),
    chunk(CHUNK.agentId, u32(m.agentId ?? 0)),
  ];
  if (m.correlationId !== undefined) parts.push(chunk(CHUNK.correlationId, Buffer.from(m.correlationId)));
  if (m.authKey !== undefined) parts.push(chunk(CHUNK.authKey, Buffer.from(m.authKey)));
  parts.push(chunk(CHUNK.payload, typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload));
  const body = Buffer.concat(parts);
  const total = 6 + body.length;
  if (total > 0xffff) throw new Error(`HEP packet of ${total} bytes: over the 65535 a HEP length can say`);
  const head = Buffer.alloc(6);
  head.writeUInt32BE(HEP_MAGIC, 0);
  head.writeUInt16BE(total, 4);
  return Buffer.concat([head, body]);
}

/** A raw chunk (tests: vendor chunks, unknown types, hostile sizes). */
export const hepChunk = chunk;

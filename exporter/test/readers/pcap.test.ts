import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureReader, captureKind } from '../../src/ingest/pcap/capture.js';
import { encodeHep } from '../../src/ingest/hep/hep.js';
import type { RawCall } from '../../src/model/types.js';
import { tmp } from '../core/helpers.js';
import { CLI } from '../support/proc.js';

// The capture reader on captures built byte by byte: what real tools rarely produce on loopback (SIP
// split over TCP segments, out of order, retransmitted; IP fragments; IPv6; HEP inside UDP; every link
// type), and damaged files.

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

function sip(lines: string[], body = ''): string {
  return lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body;
}
function call(id: string, caller: string, called: string, finalLine = 'SIP/2.0 486 Busy Here') {
  const h = (first: string, cseq: string, toTag = true) => [first, `Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-${id}`, `From: <sip:${caller}@10.0.0.1>;tag=f`, `To: <sip:${called}@10.0.0.2>${toTag ? ';tag=t' : ''}`, `Call-ID: ${id}`, `CSeq: ${cseq}`];
  return [
    sip(h(`INVITE sip:${called}@10.0.0.2:5060 SIP/2.0`, '1 INVITE', false), 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n'),
    sip(h('SIP/2.0 180 Ringing', '1 INVITE')),
    sip(h(finalLine, '1 INVITE')),
  ];
}

// --- packet builders ------------------------------------------------------------------------------
const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
function ipv4(proto: number, payload: Buffer, o: { id?: number; off?: number; more?: boolean; src?: string; dst?: string } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.more ? 1 : 0) << 13) | ((o.off ?? 0) / 8), 6);
  h[8] = 64;
  h[9] = proto;
  ip4(o.src ?? '10.0.0.1').copy(h, 12);
  ip4(o.dst ?? '10.0.0.2').copy(h, 16);
  return Buffer.concat([h, payload]);
}
function ipv6(next: number, payload: Buffer, frag?: { off: number; more: boolean; id: number }): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  const ext = frag ? Buffer.alloc(8) : Buffer.alloc(0);
  if (frag) {
    ext[0] = next;
    ext.writeUInt16BE(frag.off | (frag.more ? 1 : 0), 2);
    ext.writeUInt32BE(frag.id, 4);
  }
  h.writeUInt16BE(ext.length + payload.length, 4);
  h[6] = frag ? 44 : next;
  h[7] = 64;
  h[23] = 1; // 2001::1-ish source, ::2 destination
  h[8] = 0x20;
  h[9] = 0x01;
  h[39] = 2;
  return Buffer.concat([h, ext, payload]);
}
function udp(payload: Buffer, sport = 5060, dport = 5060): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}
function tcp(seq: number, payload: Buffer, flags = 0x18, sport = 40000, dport = 5060): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h[12] = 5 << 4;
  h[13] = flags;
  return Buffer.concat([h, payload]);
}
function ethernet(ethertype: number, payload: Buffer, vlan = false): Buffer {
  const h = Buffer.alloc(vlan ? 18 : 14);
  if (vlan) {
    h.writeUInt16BE(0x8100, 12);
    h.writeUInt16BE(42, 14);
    h.writeUInt16BE(ethertype, 16);
  } else h.writeUInt16BE(ethertype, 12);
  return Buffer.concat([h, payload]);
}
function link(type: number, ipPacket: Buffer): Buffer {
  const v6 = ipPacket[0] >> 4 === 6;
  const et = v6 ? 0x86dd : 0x0800;
  switch (type) {
    case 1: return ethernet(et, ipPacket);
    case 113: { const h = Buffer.alloc(16); h.writeUInt16BE(et, 14); return Buffer.concat([h, ipPacket]); }
    case 276: { const h = Buffer.alloc(20); h.writeUInt16BE(et, 0); return Buffer.concat([h, ipPacket]); }
    case 0: { const h = Buffer.alloc(4); h.writeUInt32LE(v6 ? 30 : 2); return Buffer.concat([h, ipPacket]); }
    case 108: { const h = Buffer.alloc(4); h.writeUInt32BE(v6 ? 30 : 2); return Buffer.concat([h, ipPacket]); }
    default: return ipPacket;
  }
}
function pcap(linkType: number, frames: Array<[number, Buffer]>, le = true): Buffer {
  const w32 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const head = Buffer.alloc(24);
  w32(head, 0xa1b2c3d4, 0);
  (le ? head.writeUInt16LE.bind(head) : head.writeUInt16BE.bind(head))(2, 4);
  (le ? head.writeUInt16LE.bind(head) : head.writeUInt16BE.bind(head))(4, 6);
  w32(head, 262144, 16);
  w32(head, linkType, 20);
  const recs = frames.map(([ms, f]) => {
    const r = Buffer.alloc(16);
    w32(r, Math.floor(ms / 1000), 0);
    w32(r, (ms % 1000) * 1000, 4);
    w32(r, f.length, 8);
    w32(r, f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([head, ...recs]);
}
function pcapng(linkType: number, frames: Array<[number, Buffer]>): Buffer {
  const block = (type: number, body: Buffer) => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const total = 12 + body.length + pad.length;
    const h = Buffer.alloc(8);
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(total, 4);
    const t = Buffer.alloc(4);
    t.writeUInt32LE(total);
    return Buffer.concat([h, body, pad, t]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(16);
  idb.writeUInt16LE(linkType, 0);
  idb.writeUInt32LE(262144, 4);
  // if_tsresol = 9 (nanoseconds), then opt_endofopt
  idb.writeUInt16LE(9, 8);
  idb.writeUInt16LE(1, 10);
  idb[12] = 9;
  const out = [block(0x0a0d0d0a, shb), block(1, idb)];
  for (const [ms, f] of frames) {
    const b = Buffer.alloc(20);
    const ns = BigInt(ms) * 1_000_000n;
    b.writeUInt32LE(0, 0);
    b.writeUInt32LE(Number(ns >> 32n), 4);
    b.writeUInt32LE(Number(ns & 0xffffffffn), 8);
    b.writeUInt32LE(f.length, 12);
    b.writeUInt32LE(f.length, 16);
    out.push(block(6, Buffer.concat([b, f])));
  }
  return Buffer.concat(out);
}

/** Read a capture the way the file ingestor does: in steps of `step` bytes, whole records each time. */
function read(buf: Buffer, step = buf.length): { records: RawCall[]; rejects: string[] } {
  const r = new CaptureReader({ timezone: 'UTC' });
  const records: RawCall[] = [];
  const rejects: string[] = [];
  let off = 0;
  while (off < buf.length) {
    const chunk = buf.subarray(off, Math.min(buf.length, off + step));
    const end = r.frameEnd(chunk, chunk.length, off === 0);
    if (end < 0) {
      rejects.push('bad_capture');
      break;
    }
    if (end === 0) {
      if (off + chunk.length >= buf.length) {
        rejects.push('bad_capture');
        break;
      }
      step *= 2;
      continue;
    }
    let s = 0;
    for (const e of r.frameEnds) {
      const res = r.parseFrame(chunk, s, e, off === 0);
      s = e;
      if (res.kind === 'records') records.push(...res.records);
      else if (res.kind === 'reject') rejects.push(res.rejection.reason);
    }
    // A restart between steps: the reader comes back from its snapshot.
    const snap = JSON.parse(JSON.stringify(r.snapshot()));
    r.restore(snap);
    off += end;
  }
  records.push(...r.flush());
  return { records, rejects };
}

const byId = (recs: RawCall[]) => recs.map((x) => `${x.caller}>${x.called} ${x.outcome} ${x.sipCode}`).sort();

describe('pcap / pcapng capture reader', () => {
  it('knows the file kinds by their magic, in both byte orders', () => {
    expect(captureKind(pcap(1, []))).toBe('pcap');
    expect(captureKind(pcap(1, [], false))).toBe('pcap');
    expect(captureKind(pcapng(1, []))).toBe('pcapng');
    expect(captureKind(Buffer.from('Master.csv,1,2'))).toBeNull();
  });

  it('reassembles a TCP stream: SIP messages split across segments, out of order, retransmitted, two in one segment', () => {
    const [inv, ring, busy] = call('tcp-1', '+12025550181', '+12125550100').map((m) => Buffer.from(m));
    const stream = Buffer.concat([inv, ring, busy]);
    const isn = 0xfffffff0; // sequence numbers wrap inside the call
    const cuts = [0, 37, inv.length - 5, inv.length + 11, stream.length - 3, stream.length];
    const segs = cuts.slice(1).map((c, i) => [isn + 1 + cuts[i], stream.subarray(cuts[i], c)] as const);
    const order = [segs[0], segs[2], segs[1], segs[1], segs[3], segs[0], segs[4]]; // out of order and repeated
    const frames: Array<[number, Buffer]> = [[T0, link(1, ipv4(6, tcp(isn, Buffer.alloc(0), 0x02)))]];
    order.forEach(([seq, d], i) => frames.push([T0 + 100 * (i + 1), link(1, ipv4(6, tcp(seq, d)))]));
    for (const step of [1 << 20, 200]) {
      const r = read(pcap(1, frames), step);
      expect(r.rejects).toEqual([]);
      expect(byId(r.records)).toEqual(['+12025550181>+12125550100 busy 486']);
      expect(r.records[0].inTrunk).toBe('10.0.0.1');
      expect(r.records[0].direction).toBeUndefined(); // a capture states no direction: classification decides
    }
  });

  it('reassembles IPv4 fragments (out of order) and IPv6 with a fragment header, on every link type', () => {
    const [inv, , busy] = call('frag-1', '+12025550182', '+13105550100').map((m) => Buffer.from(m));
    const dgram = udp(inv);
    const cut = 48; // a multiple of 8
    const f1 = ipv4(17, dgram.subarray(0, cut), { id: 7, off: 0, more: true });
    const f2 = ipv4(17, dgram.subarray(cut), { id: 7, off: cut, more: false });
    const v6a = ipv6(17, dgram.subarray(0, cut), { off: 0, more: true, id: 9 });
    const v6b = ipv6(17, dgram.subarray(cut), { off: cut, more: false, id: 9 });
    for (const lt of [1, 113, 276, 0, 108, 101]) {
      const v4 = read(pcap(lt, [[T0, link(lt, f2)], [T0 + 1, link(lt, f1)], [T0 + 500, link(lt, ipv4(17, udp(busy)))]]));
      expect(byId(v4.records), `link ${lt} v4`).toEqual(['+12025550182>+13105550100 busy 486']);
      const v6 = read(pcap(lt, [[T0, link(lt, v6a)], [T0 + 1, link(lt, v6b)], [T0 + 500, link(lt, ipv6(17, udp(busy)))]]));
      expect(byId(v6.records), `link ${lt} v6`).toEqual(['+12025550182>+13105550100 busy 486']);
    }
    const vlan = read(pcap(1, [[T0, ethernet(0x0800, ipv4(17, udp(inv)), true)], [T0 + 1, ethernet(0x0800, ipv4(17, udp(busy)), true)]]));
    expect(vlan.records).toHaveLength(1);
  });

  it('reads HEP inside UDP (a capture of a HEP feed) with the HEP packet\'s own time and addresses, and pcapng in nanoseconds', () => {
    const [inv, , ok] = call('hep-1', '+12025550183', '+14155550100', 'SIP/2.0 200 OK');
    const bye = sip(['BYE sip:+14155550100@10.0.0.2 SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-b', 'From: <sip:+12025550183@10.0.0.1>;tag=f', 'To: <sip:+14155550100@10.0.0.2>;tag=t', 'Call-ID: hep-1', 'CSeq: 2 BYE']);
    const h = (payload: string, ms: number) => link(1, ipv4(17, udp(encodeHep({ srcIp: '192.0.2.7', dstIp: '192.0.2.8', srcPort: 5060, dstPort: 5060, timeSec: Math.floor(ms / 1000), timeUsec: (ms % 1000) * 1000, payload }), 40000, 9060)));
    const frames: Array<[number, Buffer]> = [[T0 + 60_000, h(inv, T0)], [T0 + 60_001, h(ok, T0 + 2_000)], [T0 + 60_002, h(bye, T0 + 9_000)]];
    for (const file of [pcap(1, frames), pcapng(1, frames)]) {
      const r = read(file);
      expect(r.records).toHaveLength(1);
      expect(r.records[0]).toMatchObject({ ts: T0, outcome: 'answered', talkSec: 7, inTrunk: '192.0.2.7' });
    }
    const ng = read(pcapng(1, [[T0 + 1234, link(1, ipv4(17, udp(Buffer.from(inv))))]]));
    expect(ng.records[0]).toMatchObject({ ts: T0 + 1234, outcome: 'failed' }); // flushed at the end, no answer
  });

  it('survives damage: a cut last record, a length that cannot be true, garbage packets, unknown link types', () => {
    const [inv, , busy] = call('dmg-1', '+12025550184', '+12125550101');
    const good = pcap(1, [[T0, link(1, ipv4(17, udp(Buffer.from(inv))))], [T0 + 9, link(1, ipv4(17, udp(Buffer.from(busy))))]]);
    expect(read(good).records).toHaveLength(1);
    const cut = read(good.subarray(0, good.length - 7));
    expect(cut.rejects).toEqual(['bad_capture']);
    const lie = Buffer.from(good);
    lie.writeUInt32LE(0x7ffffff0, 24 + 8); // first record's captured length
    expect(read(lie).rejects).toEqual(['bad_capture']);
    const junk = read(pcap(1, [[T0, Buffer.from([1, 2, 3])], [T0, link(1, Buffer.from([0x45, 0, 0, 9]))], [T0, link(1, ipv4(17, udp(Buffer.from('not sip at all'))))]]));
    expect(junk.records).toEqual([]);
    expect(junk.rejects.every((r) => r === 'bad_packet')).toBe(true);
    expect(read(pcap(147, [[T0, Buffer.from('x')]])).rejects).toEqual(['unsupported_link']);
  });

  it('numrep report reads a capture file (and a gzipped one) like any other input', () => {
    const dir = tmp('numrep-pcap-unit-');
    const [inv, , busy] = call('rep-1', '+12025550185', '+12125550102');
    const file = join(dir, 'calls.cap');
    writeFileSync(file, pcapng(276, [[T0, link(276, ipv4(17, udp(Buffer.from(inv))))], [T0 + 800, link(276, ipv4(17, udp(Buffer.from(busy))))]]));
    const out = JSON.parse(execFileSync(process.execPath, [CLI, 'report', file, '--json'], { encoding: 'utf8' })) as { numbers: Array<{ number: string; windows: Record<string, { calls: number; outcomes: Record<string, number> }> }>; ingest: { accepted: number } };
    expect(out.ingest.accepted).toBe(1);
    expect(out.numbers[0]).toMatchObject({ number: '+12025550185', windows: { '24h': { calls: 1, outcomes: { busy: 1 } } } });
    execFileSync('gzip', ['-k', file]);
    const gz = JSON.parse(execFileSync(process.execPath, [CLI, 'report', `${file}.gz`, '--json'], { encoding: 'utf8' })) as { ingest: { accepted: number } };
    expect(gz.ingest.accepted).toBe(1);
  });
});

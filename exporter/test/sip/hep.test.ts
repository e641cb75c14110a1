import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHUNK, decodeHep, encodeHep, hepChunk, hepFrameLength, HEP_MAGIC } from '../../src/ingest/hep/hep.js';
import { sipFromBytes, sipStreamLength } from '../../src/ingest/sip/packet.js';
import { header } from '../../src/ingest/sip/message.js';
import { udpDropsFromProc } from '../../src/ingest/hep/collector.js';

const INVITE = [
  'INVITE sip:+12125550100@10.0.0.2:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1',
  'From: <sip:+12025550101@10.0.0.1>;tag=a',
  'To: <sip:+12125550100@10.0.0.2>',
  'Call-ID: hep-test-1',
  'CSeq: 1 INVITE',
  'Content-Type: application/sdp',
  'Content-Length: 10',
  '',
  'v=0\r\ns=-\r\n',
].join('\r\n');

const base = { srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: 1_795_000_000, timeUsec: 123_456, agentId: 2001, payload: INVITE };

/** A packet from raw chunks, the header length set to the real one. */
function packet(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(6);
  h.writeUInt32BE(HEP_MAGIC, 0);
  h.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([h, body]);
}
const u8 = (v: number) => Buffer.from([v]);

describe('HEPv3 decoding', () => {
  it('reads every generic chunk Kamailio siptrace writes (IPv4 and IPv6)', () => {
    const r = decodeHep(encodeHep({ ...base, authKey: 'k3y', correlationId: 'hep-test-1' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet).toMatchObject({ family: 2, protocol: 17, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: 1_795_000_000, timeUsec: 123_456, protoType: 1, agentId: 2001 });
    expect(r.packet.authKey!.toString()).toBe('k3y');
    expect(r.packet.payload!.toString()).toBe(INVITE);
    const v6 = decodeHep(encodeHep({ ...base, srcIp: '2001:db8::1', dstIp: '::1', protocol: 6 }));
    expect(v6.ok && v6.packet).toMatchObject({ family: 10, protocol: 6, srcIp: '2001:db8::1', dstIp: '::1' });
  });

  it('skips vendor chunks and unknown generic types, and says how many', () => {
    const good = encodeHep(base);
    const extra = packet(good.subarray(6), hepChunk(0x0001, u8(9), 0x0003 /* Kamailio vendor */), hepChunk(0x00ff, Buffer.from('future')));
    const r = decodeHep(extra);
    expect(r.ok && r.packet.skipped).toBe(2);
    expect(r.ok && r.packet.family).toBe(2); // the vendor chunk of type 1 did not overwrite the generic one
  });

  it('refuses, with a reason, what breaks the rules', () => {
    const good = encodeHep(base);
    const cases: Array<[string, Buffer, string]> = [
      ['not HEP3', Buffer.from('HEP2' + 'x'.repeat(40)), 'bad_magic'],
      ['too short for a header', Buffer.from('HEP'), 'bad_magic'],
      ['total length larger than the datagram', Buffer.concat([good.subarray(0, 4), Buffer.from([0xff, 0xff]), good.subarray(6)]), 'bad_length'],
      ['total length smaller than the datagram', Buffer.concat([good, Buffer.from('junk')]), 'bad_length'],
      ['a chunk longer than what is left', packet(hepChunk(CHUNK.family, u8(2)), Buffer.from([0, 0, 0, 0x0f, 0x10, 0x00, 1, 2, 3])), 'truncated_chunk'],
      ['a chunk header cut short', packet(hepChunk(CHUNK.family, u8(2)), Buffer.from([0, 0, 0])), 'truncated_chunk'],
      ['a chunk length below its header', packet(Buffer.from([0, 0, 0, 1, 0, 3])), 'bad_chunk_length'],
      ['a 2-byte IP family', packet(hepChunk(CHUNK.family, Buffer.from([0, 2]))), 'chunk_size'],
      ['a 3-byte IPv4 address', packet(hepChunk(CHUNK.src4, Buffer.from([1, 2, 3]))), 'chunk_size'],
      ['a 4-byte port', packet(hepChunk(CHUNK.srcPort, Buffer.from([0, 0, 0x13, 0xc4]))), 'chunk_size'],
      ['two payloads', packet(hepChunk(CHUNK.protoType, u8(1)), hepChunk(CHUNK.payload, Buffer.from('a')), hepChunk(CHUNK.payload, Buffer.from('b'))), 'duplicate_chunk'],
      ['IPv6 addresses under family IPv4', packet(hepChunk(CHUNK.family, u8(2)), hepChunk(CHUNK.src6, Buffer.alloc(16)), hepChunk(CHUNK.protoType, u8(1)), hepChunk(CHUNK.payload, Buffer.from('x'))), 'family_mismatch'],
      ['no payload', packet(hepChunk(CHUNK.protoType, u8(1))), 'missing_chunk'],
    ];
    for (const [what, buf, reason] of cases) expect(decodeHep(buf), what).toEqual({ ok: false, reason });
  });

  it('never throws: every cut of a real packet, and random and mutated bytes, are answered', () => {
    const good = encodeHep({ ...base, authKey: 'secret' });
    for (let n = 0; n < good.length; n++) {
      const cut = Buffer.from(good.subarray(0, n));
      expect(decodeHep(cut).ok, `cut at ${n}`).toBe(false);
      if (n >= 6) {
        cut.writeUInt16BE(n, 4); // a header that agrees with the cut: the chunks themselves must be checked
        const r = decodeHep(cut);
        if (r.ok) expect(r.packet.payload!.length).toBeLessThanOrEqual(INVITE.length);
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      decodeHep(Buffer.from(bytes));
      hepFrameLength(Buffer.from(bytes));
      sipFromBytes(Buffer.from(bytes));
      sipStreamLength(Buffer.from(bytes));
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (muts) => {
      const b = Buffer.from(good);
      for (const [i, v] of muts) b[i] = v;
      const r = decodeHep(b);
      if (r.ok) expect(r.packet.payload!.length).toBeLessThan(b.length);
    }), { numRuns: 3000 });
  });

  it('frames a TCP stream by the header length, and stops on a stream that lost its framing', () => {
    const a = encodeHep(base);
    const stream = Buffer.concat([a, a.subarray(0, 10)]);
    expect(hepFrameLength(stream, 0)).toBe(a.length);
    expect(hepFrameLength(stream, a.length)).toBe(a.length); // the header of the next one is there
    expect(hepFrameLength(stream, a.length + 6)).toBe('need_more');
    expect(hepFrameLength(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('bad_magic');
    expect(hepFrameLength(Buffer.from([0x48, 0x45, 0x50, 0x33, 0, 3]))).toBe('bad_length');
  });

  it('reads the SIP payload as the dialog tracker needs it (headers, compact forms, the body by Content-Length)', () => {
    const m = sipFromBytes(Buffer.from(INVITE.replace('Call-ID:', 'i:')))!;
    expect(m.method).toBe('INVITE');
    expect(header(m, 'call-id')).toBe('hep-test-1');
    expect(m.bodyLines).toBe(2);
    expect(sipFromBytes(Buffer.from('\r\n\r\n'))).toBeNull();
    expect(sipFromBytes(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toBeNull();
    const two = Buffer.from('\r\n' + INVITE + INVITE);
    const n = sipStreamLength(two);
    expect(n).toBe(2 + INVITE.length);
    expect(sipStreamLength(two.subarray(0, 50))).toBe('need_more');
    expect(sipStreamLength(Buffer.from(INVITE.replace('Content-Length: 10\r\n', '')))).toBe('bad');
  });
});

describe('captured SIP into the dialog tracker (HEP, pcap)', () => {
  it('a proxy\'s two copies of the INVITE are one call: came in from the first source, trunk of the last hop, no stated direction', async () => {
    const { CaptureDialogs } = await import('../../src/ingest/sip/capture.js');
    const d = new CaptureDialogs({ timezone: 'UTC' }, 'hep');
    const out: import('../../src/ingest/sip/dialogs.js').SipCall[] = [];
    const inv = (ruri: string) => Buffer.from(INVITE.replace('INVITE sip:+12125550100@10.0.0.2:5060', `INVITE ${ruri}`));
    const busy = Buffer.from(['SIP/2.0 486 Busy Here', 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1', 'From: <sip:+12025550101@10.0.0.1>;tag=a', 'To: <sip:+12125550100@10.0.0.2>;tag=b', 'Call-ID: hep-test-1', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'));
    const t = 1_795_000_000_000;
    expect(d.onPayload(inv('sip:+12125550100@proxy.example:5060'), 0, inv('sip:+12125550100@proxy.example:5060').length, t, '198.51.100.7', out)).toBeNull();
    const hop = inv('sip:+12125550100@gw.carrier.example:5060');
    expect(d.onPayload(hop, 0, hop.length, t + 3, '192.0.2.5', out)).toBeNull();
    expect(d.openCount).toBe(1);
    d.onPayload(busy, 0, busy.length, t + 900, '192.0.2.9', out);
    d.onPayload(busy, 0, busy.length, t + 901, '192.0.2.5', out); // the proxy's copy of the answer
    expect(out).toHaveLength(1);
    expect(out[0].record).toMatchObject({ outcome: 'busy', sipCode: 486, inTrunk: '198.51.100.7', trunk: 'gw.carrier.example:5060', source: 'hep' });
    expect(out[0].record.direction).toBeUndefined();
  });
});

describe('kernel UDP drops (/proc/net/udp)', () => {
  const proc = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  105: 0100007F:2382 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41233 2 0000000000000000 1187',
    '  200: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1021 2 0000000000000000 0',
  ].join('\n');
  it('reads the drops column of the socket bound to the port, null when none is', () => {
    expect(udpDropsFromProc(proc, 9090)).toBe(1187);
    expect(udpDropsFromProc(proc, 68)).toBe(0);
    expect(udpDropsFromProc(proc, 5060)).toBeNull();
    expect(udpDropsFromProc('', 9090)).toBeNull();
  });
});

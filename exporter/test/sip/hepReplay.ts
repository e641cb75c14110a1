// Real sipp traffic replayed as HEPv3: the messages of a sipp -trace_msg file, each with its trace time,
// encapsulated as Kamailio's siptrace does and sent to a collector over UDP or TCP. Flow control waits on
// the collector's own packet counter (no sleeps); every loop is bounded by the trace's length.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { encodeHep } from '../../src/ingest/hep/hep.js';

export interface TracedMessage {
  ts: number;
  dir: 'sent' | 'received';
  transport: string;
  /** The message as on the wire (CRLF line ends, the empty line before the body). */
  wire: Buffer;
}

const DELIM = /^-{47} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*$/;
const DIR = /^(UDP|TCP|TLS|SCTP) message (sent|received)/;

/** The messages of a sipp trace written with TZ=UTC. */
export function traceMessages(text: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  for (let i = 0; i < lines.length; i++) {
    const d = DELIM.exec(lines[i]);
    if (!d || i + 1 >= lines.length) continue;
    const m = DIR.exec(lines[i + 1]);
    if (!m) continue;
    const ts = Date.parse(`${d[1]}T${d[2].slice(0, 12)}Z`);
    let j = i + 2;
    while (j < lines.length && lines[j] === '') j++; // the blank line after the direction line
    const body: string[] = [];
    for (; j < lines.length && !DELIM.test(lines[j]); j++) body.push(lines[j]);
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    // sipp writes the message as sent: headers, an empty line, the body (when there is one).
    let text2 = body.join('\r\n');
    if (!body.includes('')) text2 += '\r\n\r\n';
    else text2 += '\r\n';
    out.push({ ts, dir: m[2] as 'sent' | 'received', transport: m[1], wire: Buffer.from(text2, 'utf8') });
    i = j - 1;
  }
  return out;
}

/** HEP packets of a trace, as seen from the side that wrote it (its address `self`, the peer `peer`). */
export function hepPackets(msgs: TracedMessage[], self: { ip: string; port: number }, peer: { ip: string; port: number }, agentId = 1): Buffer[] {
  return msgs.map((m) => {
    const [src, dst] = m.dir === 'sent' ? [self, peer] : [peer, self];
    return encodeHep({
      srcIp: src.ip, srcPort: src.port, dstIp: dst.ip, dstPort: dst.port,
      protocol: m.transport === 'TCP' ? 6 : 17,
      timeSec: Math.floor(m.ts / 1000), timeUsec: (m.ts % 1000) * 1000,
      agentId, payload: m.wire,
    });
  });
}

/**
 * Send packets to host:port. UDP: in groups, each group sent once the collector has counted the ones
 * before (`received()` reads its packet counter), so no datagram is lost to a full socket buffer.
 */
export async function sendHep(packets: Buffer[], host: string, port: number, transport: 'udp' | 'tcp', received: () => Promise<number>, base: number): Promise<void> {
  if (transport === 'tcp') {
    const sock = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    for (const p of packets) if (!sock.write(p)) await new Promise((r) => sock.once('drain', r));
    await new Promise<void>((r) => sock.end(() => r()));
    return;
  }
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    const GROUP = 100;
    for (let i = 0; i < packets.length; i += GROUP) {
      const group = packets.slice(i, i + GROUP);
      await Promise.all(group.map((p) => new Promise<void>((resolve, reject) => sock.send(p, port, host, (err) => (err ? reject(err) : resolve())))));
      const want = base + Math.min(packets.length, i + GROUP);
      const deadline = Date.now() + 20_000;
      while ((await received()) < want) {
        if (Date.now() > deadline) throw new Error(`collector counted ${await received()} of ${want} packets`);
        await new Promise((r) => setTimeout(r, 20)); // polling the collector's counter, with a deadline
      }
    }
  } finally {
    sock.close();
  }
}

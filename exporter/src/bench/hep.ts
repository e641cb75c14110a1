// The HEP collector's throughput (`npm run bench`, section hep), beside a bare receive loop measured the
// same way in the same run:
//   bare      a Node process that only receives: UDP datagrams counted, or a TCP stream cut into HEP
//             frames by their length and counted
//   numrep    serve --hep-listen: each packet decoded, its SIP parsed and fed to the dialog tracker, the
//             finished calls classified and committed
// TCP: the whole stream sent as fast as the receiver takes it; packets/s = packets / time until the
// receiver counted them all. UDP: the same packets sent in bursts; packets/s = packets counted / time
// from the first send to the last packet counted, with the share lost (a UDP receiver that falls behind
// drops, it does not slow the sender).
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeHep, hepFrameLength, decodeHep } from '../ingest/hep/hep.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CaptureDialogs } from '../ingest/sip/capture.js';
import type { SipCall } from '../ingest/sip/dialogs.js';

/** SIP messages of `calls` outbound calls (answered with BYE, busy, cancelled), as HEP packets in capture order. */
export function benchHepPackets(calls: number, t0 = Date.now() - 3_600_000): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < calls; i++) {
    const id = `bench-${i}@10.0.0.1`;
    const caller = `+1202555${String(1000 + (i % 500)).padStart(4, '0')}`;
    const called = `+1212${String(2000000 + i).padStart(7, '0')}`;
    const h = (first: string, cseq: string, tag: boolean) =>
      `${first}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${i}\r\nFrom: <sip:${caller}@10.0.0.1>;tag=f${i}\r\nTo: <sip:${called}@10.0.0.2>${tag ? `;tag=t${i}` : ''}\r\nCall-ID: ${id}\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`;
    const kind = i % 3;
    const at = t0 + i * 10;
    const msgs: Array<[string, number]> = [[h(`INVITE sip:${called}@10.0.0.2:5060 SIP/2.0`, '1 INVITE', false), 0], [h('SIP/2.0 180 Ringing', '1 INVITE', true), 200]];
    if (kind === 0) msgs.push([h('SIP/2.0 200 OK', '1 INVITE', true), 3000], [h(`BYE sip:${called}@10.0.0.2 SIP/2.0`, '2 BYE', true), 40_000]);
    else if (kind === 1) msgs.push([h('SIP/2.0 486 Busy Here', '1 INVITE', true), 2000]);
    else msgs.push([h(`CANCEL sip:${called}@10.0.0.2:5060 SIP/2.0`, '1 CANCEL', false), 9000], [h('SIP/2.0 487 Request Terminated', '1 INVITE', true), 9100]);
    for (const [m, dt] of msgs) {
      const ms = at + dt;
      out.push(encodeHep({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: Math.floor(ms / 1000), timeUsec: (ms % 1000) * 1000, agentId: 1, payload: m }));
    }
  }
  return out;
}

/**
 * `n` INVITEs never answered, all at capture time `at`: dialogs a collector holds open (long calls, slow
 * answers) beside the measured traffic, so that what a commit costs with many calls open shows.
 */
export function heldInvites(n: number, at: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const called = `+1646${String(2000000 + i).padStart(7, '0')}`;
    const payload =
      `INVITE sip:${called}@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-o${i}\r\n` +
      `From: <sip:+12025551${String(i % 1000).padStart(3, '0')}@10.0.0.9>;tag=o${i}\r\nTo: <sip:${called}@10.0.0.2>\r\n` +
      `Call-ID: held-${i}@10.0.0.9\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    out.push(encodeHep({ srcIp: '10.0.0.9', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: Math.floor(at / 1000), timeUsec: 0, agentId: 1, payload }));
  }
  return out;
}

/**
 * Memory per open dialog: `n` calls' INVITEs fed to the capture dialog tracker (as the collector does) with no
 * answer, the heap before and after (after a full GC), and the JSON an open dialog's row holds in the dialog table.
 */
export function dialogMemory(n: number): { bytesPerDialog: number; snapshotBytesPerDialog: number; open: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const packets = benchHepPackets(n).filter((p) => p.includes('INVITE sip:'));
  const payloads = packets.map((p) => {
    const r = decodeHep(p);
    if (!r.ok) throw new Error('bench packet does not decode');
    return { payload: Buffer.from(r.packet.payload!), src: r.packet.srcIp };
  });
  const t0 = Date.now() - 3_600_000; // 1 ms apart: all of them open within sip.timeout_seconds
  const d = new CaptureDialogs(undefined, 'hep');
  const out: SipCall[] = [];
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < payloads.length; i++) d.onPayload(payloads[i].payload, 0, payloads[i].payload.length, t0 + i, payloads[i].src, out);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const open = d.openCount;
  const snap = JSON.stringify(d.snapshot()).length;
  return { bytesPerDialog: (after - before) / open, snapshotBytesPerDialog: snap / open, open };
}

/** Send over TCP as fast as the receiver takes it. */
export async function sendTcp(packets: Buffer[], port: number): Promise<void> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  const batch = 256;
  for (let i = 0; i < packets.length; i += batch) {
    if (!s.write(Buffer.concat(packets.slice(i, i + batch)))) await new Promise((r) => s.once('drain', r));
  }
  await new Promise<void>((r) => s.end(() => r()));
}

/**
 * Send over UDP in bursts of `burst` from a connected socket, a turn of the event loop between them; at most
 * `rate` packets/s when given, and never longer than `maxMs`. Resolves with the send time in ms.
 */
export async function sendUdp(packets: Buffer[], port: number, rate?: number, burst = 64, maxMs = 120_000): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  const t0 = performance.now();
  for (let i = 0; i < packets.length && performance.now() - t0 < maxMs; i += burst) {
    const end = Math.min(packets.length, i + burst);
    // One callback a burst (the socket sends in order): no promise per datagram on the sender's side.
    await new Promise<void>((r) => {
      for (let j = i; j < end; j++) s.send(packets[j], j === end - 1 ? () => r() : undefined);
    });
    const ahead = rate ? (end / rate) * 1000 - (performance.now() - t0) : 0;
    await new Promise((r) => (ahead > 1 ? setTimeout(r, ahead) : setImmediate(r)));
  }
  const ms = performance.now() - t0;
  s.close();
  return ms;
}

/** A bare receiver in its own process: prints {"count", "ms"} (ms from the first to the last packet counted). */
export function bareReceiver(kind: 'udp' | 'tcp', expect: number): Promise<{ port: number; result: Promise<{ count: number; ms: number }> }> {
  const p = spawn(process.execPath, [fileURLToPath(import.meta.url), `bare-${kind}`, String(expect)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    let buf = '';
    let portSeen = false;
    let done: (v: { count: number; ms: number }) => void = () => undefined;
    const result = new Promise<{ count: number; ms: number }>((r) => (done = r));
    p.stdout!.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const j = JSON.parse(l) as { port?: number; count?: number; ms?: number };
        if (j.port !== undefined && !portSeen) {
          portSeen = true;
          resolve({ port: j.port, result });
        } else if (j.count !== undefined) done({ count: j.count, ms: j.ms ?? 0 });
      }
    });
  });
}

async function bareMain(kind: string, expect: number): Promise<void> {
  let count = 0;
  let first = 0;
  let last = 0;
  let idle: NodeJS.Timeout | null = null;
  const finish = () => {
    process.stdout.write(JSON.stringify({ count, ms: last - first }) + '\n');
    process.exit(0);
  };
  const seen = () => {
    const t = performance.now();
    if (count === 0) first = t;
    count++;
    last = t;
    if (count >= expect) finish();
    if (idle) clearTimeout(idle);
    idle = setTimeout(finish, 2000);
  };
  if (kind === 'bare-udp') {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1_048_576 });
    s.on('message', seen);
    s.bind(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\n'));
  } else {
    const srv = createServer((c) => {
      let buf: Buffer = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        let at = 0;
        for (;;) {
          const n = hepFrameLength(buf, at);
          if (typeof n !== 'number' || buf.length - at < n) break;
          at += n;
          seen();
        }
        buf = Buffer.from(buf.subarray(at));
      });
    });
    srv.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (srv.address() as { port: number }).port }) + '\n'));
  }
}

if (process.argv[1] && /bench[/\\]hep\.js$/.test(process.argv[1]) && process.argv[2]?.startsWith('bare-')) {
  void bareMain(process.argv[2], Number(process.argv[3]));
}

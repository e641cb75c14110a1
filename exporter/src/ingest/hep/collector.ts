// The HEP collector (`serve --hep-listen HOST:PORT`, config `hep.listen`): HEPv3 over UDP and TCP on
// one port, from Kamailio siptrace, OpenSIPS proto_hep, FreeSWITCH capture-server, Asterisk res_hep or
// heplify. SIP payloads go through the same dialog tracker as the SIP log readers
// (ingest/sip/capture.ts); finished calls go through the classification stage and commit with what
// changed in the tracker (live_dialogs, live_done: store/db.ts) in one transaction, as a file's step
// does (ingest/live.ts): a restart resumes the calls in flight. A crash loses what arrived since the last commit (at most `commitMs` of packets):
// a call whose messages fell in that gap is still counted, from the messages around it, unless the gap
// held its INVITE. UDP is read by a receive thread (UDP_RECEIVER) so that a commit does not stop the
// reading; what is dropped unread — by the kernel or that thread — is counted (numrep_hep_udp_drops_total).
//
// Nothing from a packet is logged: payloads hold the called number.

import { Worker } from 'node:worker_threads';
import { createServer, isIP, type Server, type Socket as TcpSocket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ReaderOptions } from '../reader.js';
import type { RawCall } from '../../model/types.js';
import type { SipCall } from '../sip/dialogs.js';
import type { Dialog, DialogHead, DialogSnapshot } from '../sip/dialogs.js';
import { CaptureDialogs } from '../sip/capture.js';
import { LiveSource, type LiveReject, type LiveRuntime } from '../live.js';
import { decodeHep, hepFrameLength, HEP_MALFORMED, type HepMalformed } from './hep.js';

export interface HepCollectorOptions {
  host: string;
  port: number;
  /** `hep.auth_key`: packets must carry this key (chunk 0x0e). */
  authKey?: string;
  live: LiveRuntime;
  readerOptions: ReaderOptions;
  /** Longest wait between a packet and the commit that holds its call (default 250 ms). */
  commitMs?: number;
  /** TCP connections at once (default 256). */
  maxConnections?: number;
  log(msg: string): void;
}

/**
 * UDP receive buffer asked for: ~0.5 s of 50k packets/s of ~600-byte HEP packets. Linux caps what a process
 * gets at net.core.rmem_max (often 208 KiB); the start-up log says when it was capped (docs/operations.md).
 */
export const UDP_RECV_BUFFER = 32 * 1_048_576;
/** Bytes of packets the receive thread may hold for the main thread before it drops (and counts) more. */
const UDP_QUEUE_BYTES = 64 * 1_048_576;

/**
 * The UDP receive loop, in a worker thread: it owns the socket and only reads, so the kernel's buffer is
 * drained while the main thread decodes, tracks dialogs and commits (a commit blocks its event loop for
 * tens of ms; the kernel buffer alone holds ~0.1 s of 50k packets/s). Packets go over in batches
 * (u32 length + bytes, one transferred ArrayBuffer each); the main thread acknowledges each batch, and
 * past UDP_QUEUE_BYTES unacknowledged the worker drops and counts. Plain JS, evaluated: no file to
 * find next to the compiled code (the tests run the TypeScript sources).
 */
const UDP_RECEIVER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, type, recvBufferSize, maxQueued } = workerData;
const s = dgram.createSocket({ type, recvBufferSize });
let pending = [];
let pendingBytes = 0;
let queued = 0;
let dropped = 0;
let scheduled = false;
function send() {
  scheduled = false;
  if (pending.length === 0 && dropped === 0) return;
  const ab = new ArrayBuffer(pendingBytes);
  const u8 = new Uint8Array(ab);
  const dv = new DataView(ab);
  let at = 0;
  for (const m of pending) { dv.setUint32(at, m.length); u8.set(m, at + 4); at += 4 + m.length; }
  queued += ab.byteLength;
  parentPort.postMessage({ packets: ab, dropped }, [ab]);
  pending = [];
  pendingBytes = 0;
  dropped = 0;
}
s.on('message', (m) => {
  if (queued + pendingBytes + m.length > maxQueued) { dropped++; return; }
  pending.push(m);
  pendingBytes += m.length + 4;
  if (pendingBytes >= 1048576) send();
  else if (!scheduled) { scheduled = true; setImmediate(send); }
});
s.on('error', (e) => parentPort.postMessage({ error: e.message }));
parentPort.on('message', (m) => {
  if (m.done !== undefined) queued -= m.done;
  else if (m.close) s.close(() => { send(); parentPort.postMessage({ closed: true }); });
});
s.bind(port, host, () => parentPort.postMessage({ bound: s.getRecvBufferSize() }));
`;

/** Kernel UDP drops are logged at most this often. */
const DROP_LOG_MS = 60_000;

/**
 * Datagrams the kernel dropped on the UDP sockets bound to `port` (hex, the `drops` column of
 * /proc/net/udp or /proc/net/udp6 — its receive buffer was full), or null when no line matches.
 */
export function udpDropsFromProc(text: string, port: number): number | null {
  const want = port.toString(16).toUpperCase().padStart(4, '0');
  let drops: number | null = null;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13 || !f[1].includes(':')) continue;
    if (f[1].slice(f[1].lastIndexOf(':') + 1) !== want) continue;
    const d = Number(f[f.length - 1]);
    if (Number.isFinite(d)) drops = (drops ?? 0) + d;
  }
  return drops;
}

/** Distinct capture agent ids kept as label values; more become `other`. */
const MAX_AGENTS = 64;
const PROTO_NAMES: Record<number, string> = { 1: 'sip', 5: 'rtcp', 34: 'rtp_agent', 35: 'rtcp_xr', 53: 'dns', 100: 'log' };

export interface HepStats {
  /** `${agent}\u0000${transport}` → packets / bytes */
  packets: Map<string, number>;
  bytes: Map<string, number>;
  malformed: Map<HepMalformed, number>;
  /** Packets of a protocol type other than SIP, by type name. */
  ignored: Map<string, number>;
  sipMessages: number;
  connectionsRefused: number;
  /** UDP datagrams the kernel dropped on our socket since it was bound (null: not readable here, e.g. not Linux). */
  udpDrops: number | null;
  /** Receive buffer the kernel gave the UDP socket (bytes; Linux reports twice what was set). */
  udpRecvBuffer: number;
}

export class HepCollector {
  private readonly dialogs: CaptureDialogs;
  private readonly source: LiveSource;
  private udp: Worker | null = null;
  private udpFamily: 'udp4' | 'udp6' = 'udp4';
  /** Packets the receive thread dropped because the main thread was too far behind. */
  private queueDrops = 0;
  private tcp: Server | null = null;
  private readonly conns = new Set<TcpSocket>();
  private readonly authKey: Buffer | null;
  private rows: RawCall[] = [];
  private rejects: LiveReject[] = [];
  private dirty = false;
  /** Call-IDs whose open dialog is in the store (a call that starts and ends between two commits never is). */
  private readonly stored = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private failing = false;
  /** Newest capture time seen and the wall time it arrived: the log clock moves on between packets. */
  private lastTs = 0;
  private lastArrival = 0;
  private readonly agents = new Set<string>();
  readonly stats: HepStats = { packets: new Map(), bytes: new Map(), malformed: new Map(), ignored: new Map(), sipMessages: 0, connectionsRefused: 0, udpDrops: null, udpRecvBuffer: 0 };
  private dropsAtBind = 0;
  private dropsLogged = 0;
  private dropLogAt = 0;
  /** Called after every commit (tests await it instead of sleeping). */
  onCommit?: () => void;
  /** Port bound (the configured one, or the one chosen for port 0). */
  port = 0;

  constructor(private readonly o: HepCollectorOptions) {
    this.authKey = o.authKey ? Buffer.from(o.authKey) : null;
    this.dialogs = new CaptureDialogs(o.readerOptions, 'hep');
    this.source = new LiveSource(o.live, 'hep', 'hep');
    const st = this.source.readerState as { dialogs?: DialogSnapshot | DialogHead; lastTs?: number } | undefined;
    // The tracker's changes are committed, not its whole state (a commit follows the traffic, not the open calls).
    const tracker = this.dialogs.tracker;
    tracker.trackChanges();
    if (st?.dialogs?.v === 2) {
      const rows = o.live.store.liveDialogs(this.source.state.id);
      tracker.restoreRows(st.dialogs, rows.open as Dialog[], rows.done);
      for (const d of rows.open as Dialog[]) this.stored.add(d.callId);
    } else if (st?.dialogs?.v === 1) {
      // Written whole by an older numrep: into the dialog table with the first commit.
      tracker.restore(st.dialogs);
      tracker.markAllChanged();
      this.dirty = true;
    }
    if (typeof st?.lastTs === 'number') this.lastTs = st.lastTs;
  }

  get openDialogs(): number {
    return this.dialogs.openCount;
  }

  get tcpConnections(): number {
    return this.conns.size;
  }

  /** Listen on UDP and TCP, same address and port. */
  async start(): Promise<void> {
    const family = isIP(this.o.host) === 6 ? 'udp6' : 'udp4';
    // TCP first: with port 0 it picks the port, and UDP takes the same one.
    this.tcp = createServer((s) => this.onConnection(s));
    this.tcp.maxConnections = this.o.maxConnections ?? 256;
    this.tcp.on('drop', () => this.stats.connectionsRefused++);
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once('error', reject);
      this.tcp!.listen(this.o.port, this.o.host, () => {
        this.tcp!.off('error', reject);
        resolve();
      });
    });
    const addr = this.tcp.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.o.port;
    this.tcp.on('error', (err) => this.o.log(`hep: tcp: ${err.message}`));
    this.udpFamily = family;
    const udp = new Worker(UDP_RECEIVER, { eval: true, workerData: { host: this.o.host, port: this.port, type: family, recvBufferSize: UDP_RECV_BUFFER, maxQueued: UDP_QUEUE_BYTES } });
    this.udp = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.once('message', (m: { bound?: number; error?: string }) => {
        udp.off('error', reject);
        if (m.error !== undefined) reject(new Error(m.error));
        else {
          this.stats.udpRecvBuffer = m.bound ?? 0;
          resolve();
        }
      });
    }).catch(async (err) => {
      this.udp = null;
      await udp.terminate();
      await new Promise<void>((r) => this.tcp!.close(() => r()));
      throw err;
    });
    udp.on('message', (m: { packets?: ArrayBuffer; dropped?: number; error?: string }) => {
      if (m.error !== undefined) this.o.log(`hep: udp: ${m.error}`);
      if (m.packets === undefined) return;
      this.queueDrops += m.dropped ?? 0;
      const b = Buffer.from(m.packets);
      for (let at = 0; at + 4 <= b.length; ) {
        const n = b.readUInt32BE(at);
        this.onPacket(b.subarray(at + 4, at + 4 + n), 'udp');
        at += 4 + n;
      }
      udp.postMessage({ done: m.packets.byteLength });
    });
    udp.on('error', (err) => this.o.log(`hep: udp receiver: ${err.message}`));
    // Linux doubles what it grants; below the ask, net.core.rmem_max capped it and bursts overflow sooner.
    if (this.stats.udpRecvBuffer < UDP_RECV_BUFFER) {
      this.o.log(`hep: UDP receive buffer ${mib(this.stats.udpRecvBuffer)} MiB (asked ${mib(UDP_RECV_BUFFER)} MiB; the kernel caps it at net.core.rmem_max: sysctl -w net.core.rmem_max=${UDP_RECV_BUFFER})`);
    }
    const atBind = this.kernelDrops();
    this.dropsAtBind = atBind ?? 0;
    this.stats.udpDrops = atBind === null ? null : 0;
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  private onConnection(s: TcpSocket): void {
    this.conns.add(s);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      let at = 0;
      for (;;) {
        const n = hepFrameLength(buf, at);
        if (n === 'need_more') break;
        if (typeof n !== 'number') {
          // A stream that lost its framing cannot find the next packet: count it and hang up.
          this.count('unknown', 'tcp', buf.length - at);
          this.malformed(n);
          s.destroy();
          return;
        }
        if (buf.length - at < n) break; // the rest of this frame is still on its way (at most 64 KiB held)
        this.onPacket(buf.subarray(at, at + n), 'tcp');
        at += n;
      }
      buf = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    });
    s.on('error', () => undefined); // a reset by the peer: nothing to do but forget it
    s.on('close', () => this.conns.delete(s));
  }

  private count(agent: string, transport: string, bytes: number): void {
    const k = `${agent}\u0000${transport}`;
    this.stats.packets.set(k, (this.stats.packets.get(k) ?? 0) + 1);
    this.stats.bytes.set(k, (this.stats.bytes.get(k) ?? 0) + bytes);
  }

  private malformed(reason: HepMalformed): void {
    this.stats.malformed.set(reason, (this.stats.malformed.get(reason) ?? 0) + 1);
  }

  private agentLabel(id: number | undefined): string {
    if (id === undefined) return 'none';
    const s = String(id);
    if (this.agents.has(s)) return s;
    if (this.agents.size >= MAX_AGENTS) return 'other';
    this.agents.add(s);
    return s;
  }

  /** One HEP packet (a datagram, or one TCP frame). Never throws. */
  onPacket(buf: Buffer, transport: 'udp' | 'tcp'): void {
    const r = decodeHep(buf);
    if (!r.ok) {
      this.count('unknown', transport, buf.length);
      this.malformed(r.reason);
      return;
    }
    const p = r.packet;
    this.count(this.agentLabel(p.agentId), transport, buf.length);
    if (this.authKey !== null && (p.authKey === undefined || p.authKey.length !== this.authKey.length || !timingSafeEqual(p.authKey, this.authKey))) {
      this.malformed('auth');
      return;
    }
    if (p.protoType !== 1) {
      const name = PROTO_NAMES[p.protoType!] ?? 'other';
      this.stats.ignored.set(name, (this.stats.ignored.get(name) ?? 0) + 1);
      return;
    }
    if (p.compressed) {
      this.stats.ignored.set('compressed', (this.stats.ignored.get('compressed') ?? 0) + 1);
      return;
    }
    const arrival = Date.now();
    const ts = p.timeSec !== undefined && p.timeSec > 0 ? p.timeSec * 1000 + Math.floor((p.timeUsec ?? 0) / 1000) : arrival;
    const out: SipCall[] = [];
    let res;
    try {
      res = this.dialogs.onPayload(p.payload!, 0, p.payload!.length, ts, p.srcIp, out);
    } catch {
      res = 'not_sip' as const; // a message the parser could not take is one malformed packet, never a crash
    }
    if (res === 'not_sip') {
      this.malformed('bad_sip');
      return;
    }
    this.stats.sipMessages++;
    if (ts >= this.lastTs) {
      this.lastTs = ts;
      this.lastArrival = arrival;
    }
    if (res !== null) this.rejects.push({ format: 'hep', reason: res.reason, detail: res.detail });
    for (const c of out) this.rows.push(c.record);
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.o.commitMs ?? 250);
  }

  /** The kernel's drop count for our UDP port (Linux /proc), or null. */
  private kernelDrops(): number | null {
    const file = this.udpFamily === 'udp6' ? '/proc/net/udp6' : '/proc/net/udp';
    try {
      return udpDropsFromProc(readFileSync(file, 'latin1'), this.port);
    } catch {
      return null;
    }
  }

  /** Kernel drops into the metric, and a log line (at most one a minute) when they grew: loss is never silent. */
  pollDrops(now = Date.now()): void {
    const k = this.kernelDrops();
    if (k === null) return;
    this.stats.udpDrops = Math.max(0, k - this.dropsAtBind) + this.queueDrops;
    if (this.stats.udpDrops > this.dropsLogged && now - this.dropLogAt >= DROP_LOG_MS) {
      this.o.log(
        `hep: the kernel dropped ${this.stats.udpDrops - this.dropsLogged} UDP packet(s) (receive buffer full, ${mib(this.stats.udpRecvBuffer)} MiB; ` +
          `numrep_hep_udp_drops_total): raise net.core.rmem_max, or send HEP over TCP`,
      );
      this.dropsLogged = this.stats.udpDrops;
      this.dropLogAt = now;
    }
  }

  /** Time passes without packets: end calls whose final response never came. */
  private tick(): void {
    this.pollDrops();
    if (this.lastTs === 0) return;
    const out: SipCall[] = [];
    this.dialogs.tracker.advance(this.lastTs + (Date.now() - this.lastArrival), out);
    if (out.length > 0) {
      for (const c of out) this.rows.push(c.record);
      this.dirty = true;
      this.schedule();
    }
  }

  /** Commit what arrived (rows, rejections, the tracker state) in one transaction. */
  flush(): void {
    if (!this.dirty) return;
    const rows = this.rows;
    const rejects = this.rejects;
    this.rows = [];
    this.rejects = [];
    this.dirty = false;
    const tracker = this.dialogs.tracker;
    const { ids, changes } = tracker.takeChanges();
    const closed = changes.closed.filter((id) => this.stored.has(id));
    try {
      this.source.commit(rows, rejects, { dialogs: tracker.snapshotHead(), lastTs: this.lastTs }, { ...changes, closed });
      for (const d of changes.open) this.stored.add(d.callId);
      for (const id of closed) this.stored.delete(id);
      if (this.failing) this.o.log('hep: commits work again');
      this.failing = false;
    } catch (err) {
      // Kept for the next try: the tracker moved on, its state is committed with the rows that came of it.
      this.rows = rows.concat(this.rows);
      this.rejects = rejects.concat(this.rejects);
      tracker.markChanged(ids);
      this.dirty = true;
      if (!this.failing) this.o.log(`hep: commit failed (${(err as Error).message}); retrying`);
      this.failing = true;
      this.schedule();
      return;
    }
    this.onCommit?.();
  }

  /** The receive thread closes its socket and hands over what it holds; then it ends. */
  private async closeUdp(w: Worker): Promise<void> {
    await Promise.race([
      new Promise<void>((r) => {
        w.on('message', (m: { closed?: boolean }) => {
          if (m.closed) r();
        });
        w.postMessage({ close: true });
      }),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    await w.terminate();
  }

  /** Stop listening, close connections, commit what is pending. */
  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.conns) s.destroy();
    await Promise.all([
      this.udp ? this.closeUdp(this.udp) : undefined,
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : undefined,
    ]);
    this.udp = null;
    this.tcp = null;
    try {
      this.flush();
    } catch {
      // logged by flush
    }
  }
}

function mib(bytes: number): string {
  return (bytes / 1_048_576).toFixed(bytes < 1_048_576 ? 2 : 0);
}

export { HEP_MALFORMED };

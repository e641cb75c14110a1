// Shared helpers for the SIP tests: reading traces the way the tailer feeds readers, and
// running real sipp processes on loopback (free ports, bounded runs, killed in finally).

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freeTestPort } from '../support/ports.js';
import type { RawCall } from '../../src/model/types.js';
import type { Rejection } from '../../src/ingest/reader.js';
import type { SipCall } from '../../src/ingest/sip/dialogs.js';
import type { SipTraceReader } from '../../src/ingest/sip/trace.js';

export const SCENARIOS = fileURLToPath(new URL('../fixtures/sip/scenarios/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/sip/', import.meta.url));

export interface TraceResult {
  records: RawCall[];
  calls: SipCall[];
  rejects: Array<Rejection & { line: number }>;
}

/** Lines as the tailer hands them over: '\r' stripped, empty lines dropped. */
export function traceLines(text: string): Array<{ line: string; no: number }> {
  const out: Array<{ line: string; no: number }> = [];
  const parts = text.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  for (let i = 0; i < parts.length; i++) {
    let l = parts[i];
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.length === 0) continue;
    out.push({ line: l, no: i + 1 });
  }
  return out;
}

/** Feed a whole text through a reader, then flush (a one-shot run). */
export function readText(reader: SipTraceReader, text: string, file = 'trace.log', flush = true): TraceResult {
  const res: TraceResult = { records: [], calls: [], rejects: [] };
  reader.onCall = (c) => res.calls.push(c);
  for (const { line, no } of traceLines(text)) {
    const r = reader.parseLine(line, { file, line: no });
    if (r.kind === 'records') res.records.push(...r.records);
    else if (r.kind === 'reject') res.rejects.push({ ...r.rejection, line: no });
  }
  if (flush) res.records.push(...reader.flush());
  return res;
}

export function readFile(reader: SipTraceReader, path: string): TraceResult {
  return readText(reader, readFileSync(path, 'utf8'), path);
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
/** A free loopback UDP port outside the ephemeral range (see ../support/ports.ts for why). */
export function freeUdpPort(): Promise<number> {
  return freeTestPort('udp');
}

/**
 * True when something holds UDP port `port`. On Linux this only looks at /proc/net/udp (no
 * probe socket that could race the process binding it); elsewhere a bind probe.
 */
function udpBound(port: number): Promise<boolean> {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const table = readFileSync('/proc/net/udp', 'utf8');
    return Promise.resolve(table.split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(`:${hex}`)));
  } catch {
    return udpBoundProbe(port);
  }
}

function udpBoundProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.close();
      resolve(err.code === 'EADDRINUSE');
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

/** Wait (bounded) until a process listens on UDP 127.0.0.1:port, or fail if it exited. */
export async function waitUdpBound(port: number, proc: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sipp exited (${proc.exitCode}) before listening on ${port}: ${(proc as SippProcess).log?.() ?? ''}`);
    if (await udpBound(port)) return;
    await new Promise((r) => setTimeout(r, 25)); // polling a condition, with a deadline
  }
  throw new Error(`sipp did not bind UDP 127.0.0.1:${port} within ${ms} ms: ${(proc as SippProcess).log?.() ?? ''}`);
}

/** Wait (bounded) until a process listens on TCP 127.0.0.1:port (/proc/net/tcp, state 0A), or fail if it exited. */
export async function waitTcpListening(port: number, proc: ChildProcess, ms = 10_000): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}) before listening on TCP ${port}: ${(proc as SippProcess).log?.() ?? ''}`);
    const table = readFileSync('/proc/net/tcp', 'utf8');
    if (table.split('\n').some((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(`:${hex}`) && f[3] === '0A'; })) return;
    await new Promise((r) => setTimeout(r, 25)); // polling a condition, with a deadline
  }
  throw new Error(`nothing listened on TCP 127.0.0.1:${port} within ${ms} ms`);
}

export type SippProcess = ChildProcess & { log: () => string; done: Promise<number | null> };

export function sipp(args: string[], cwd: string): SippProcess {
  const p = spawn('sipp', [...args, '-nostdin'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } }) as SippProcess;
  let log = '';
  p.stdout!.on('data', (d) => (log = (log + d).slice(-20_000)));
  p.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
  p.log = () => log;
  p.done = new Promise((r) => {
    p.once('exit', (code) => r(code));
    p.once('error', (err) => {
      log += `\n${String(err)} (is sipp installed? Debian: apt-get install sip-tester)`;
      r(-1);
    });
  });
  return p;
}

/** Wait for exit, bounded; kill on timeout. */
export async function exitOf(p: SippProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  const res = await Promise.race([p.done, timeout]);
  clearTimeout(timer);
  if (res === 'timeout') {
    p.kill('SIGKILL');
    throw new Error(`sipp did not exit within ${ms} ms: ${p.log()}`);
  }
  return res;
}

export function kill(p: ChildProcess | undefined): void {
  if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** base64url JSON */
export function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** A SHAKEN PASSporT (unsigned: the signature part is a placeholder; numrep does not verify it). */
export function passport(attest: 'A' | 'B' | 'C', orig: string, dest: string, iat = 1_795_000_000): string {
  const head = b64({ alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: 'https://cert.numrep.test/shaken.pem' });
  const payload = b64({ attest, dest: { tn: [dest.replace('+', '')] }, iat, orig: { tn: orig.replace('+', '') }, origid: '123e4567-e89b-12d3-a456-426655440000' });
  return `${head}.${payload}.${Buffer.from('not-a-signature').toString('base64url')}`;
}

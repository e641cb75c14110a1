import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPairs, type Kind, type Pair } from './live.js';
import { freeUdpPort, kill, waitUdpBound } from './harness.js';
import { tmp } from '../core/helpers.js';
import { mulberry32 } from '../../src/sim/demo.js';
import { freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until } from '../support/proc.js';

// A real Kamailio (the Debian package) proxies real sipp calls and mirrors every message it receives and
// sends to numrep with siptrace (hep_mode_on, hep_version 3, trace_mode 1): once with HEP over UDP, once
// over TCP, each with its capture id and the auth key numrep requires. The figures per number and per
// carrier come out exactly as planned, and each call counts once although Kamailio reports every
// message twice (received from one side, sent to the other).

const CFG = fileURLToPath(new URL('../fixtures/kamailio/hep/kamailio-hep.cfg', import.meta.url));
const MPATH = ['/usr/lib/x86_64-linux-gnu/kamailio/modules/', '/usr/lib/aarch64-linux-gnu/kamailio/modules/', '/usr/lib/kamailio/modules/'].find((p) => existsSync(join(p, 'siptrace.so'))) ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules/';
const AUTH_KEY = 'numrep-hep-test-key';
const CALLERS = ['+12025550141', '+12025550142', '+12025550143'];
const CARRIER_PREFIX: Array<[string, string]> = [['att', '+1212'], ['verizon', '+1310'], ['tmobile', '+1415']];
const PREFIX_MAP = 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n';

const OUTCOME: Record<Kind, string> = {
  answered: 'answered', early: 'answered', retrans: 'answered', cancel: 'cancelled', busy486: 'busy',
  decline603: 'rejected', block603: 'blocked', unwanted607: 'rejected', block608: 'blocked',
};

function plan(seed: number, kinds: Array<{ kind: Kind; n: number; talkMs?: number }>, serial: number): Pair[] {
  const rand = mulberry32(seed);
  return kinds.map(({ kind, n, talkMs }) => ({
    kind,
    talkMs,
    calls: Array.from({ length: n }, () => {
      const caller = CALLERS[Math.floor(rand() * CALLERS.length)];
      const [, prefix] = CARRIER_PREFIX[Math.floor(rand() * CARRIER_PREFIX.length)];
      const a = rand();
      const attest = a < 0.5 ? ('A' as const) : a < 0.7 ? ('B' as const) : a < 0.85 ? ('C' as const) : undefined;
      return { caller, called: `${prefix}555${String(serial++)}`, attest };
    }),
  }));
}
const UDP_PAIRS = plan(11, [
  { kind: 'answered', n: 8, talkMs: 1000 }, { kind: 'cancel', n: 6 }, { kind: 'busy486', n: 5 },
  { kind: 'block603', n: 5 }, { kind: 'unwanted607', n: 4 },
], 8000);
const TCP_PAIRS = plan(12, [
  { kind: 'early', n: 6, talkMs: 1000 }, { kind: 'retrans', n: 3, talkMs: 1000 }, { kind: 'decline603', n: 5 },
  { kind: 'block608', n: 5 }, { kind: 'cancel', n: 4 },
], 9000);

let dir = '';
afterEach(killAll);
beforeAll(() => {
  dir = tmp('numrep-kam-hep-');
  writeFileSync(join(dir, 'map.csv'), PREFIX_MAP);
});
afterAll(() => {
  if (dir && process.env.NUMREP_KEEP_SIPP !== '1') rmSync(dir, { recursive: true, force: true });
});

/** Kamailio with siptrace towards 127.0.0.1:hepPort; killed by the caller. */
async function kamailio(sipPort: number, hepPort: number, transport: 'udp' | 'tcp', captureId: number): Promise<ChildProcess & { log(): string }> {
  const cfg = readFileSync(CFG, 'utf8')
    .replaceAll('@SIP_PORT@', String(sipPort))
    .replaceAll('@HEP_PORT@', String(hepPort))
    .replaceAll('@HEP_TRANSPORT@', transport === 'tcp' ? ';transport=tcp' : '')
    .replaceAll('@CAPTURE_ID@', String(captureId))
    .replaceAll('@AUTH_KEY@', AUTH_KEY)
    .replaceAll('@MPATH@', MPATH);
  const file = join(dir, `kamailio-${transport}.cfg`);
  writeFileSync(file, cfg);
  const p = spawn('kamailio', ['-f', file, '-DD', '-E', '-w', dir], { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { log(): string };
  let log = '';
  p.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
  p.log = () => log;
  p.once('error', (err) => (log += `\n${String(err)} (is kamailio installed? Debian: apt-get install kamailio)`));
  await waitUdpBound(sipPort, p);
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => kill(p), 5000);
  await done;
  clearTimeout(t);
}

type Kpis = { calls: number; outcomes: Record<string, number> };
type Report = { numbers: Array<{ number: string; attestation: Record<string, number>; windows: Record<string, Kpis>; carriers: Record<string, Record<string, Kpis>> }> };

describe('a real Kamailio mirrors sipp calls to serve --hep-listen with siptrace (HEPv3)', () => {
  it('over UDP and over TCP: exact per-number and per-carrier outcomes and attestation, each call once', async () => {
    const port = await freeTcpPort();
    const hepPort = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'numrep.yaml'), `hep:\n  auth_key: ${AUTH_KEY}\n`);
    const srv = serveCli(['--config', join(dir, 'numrep.yaml'), '--listen', `127.0.0.1:${port}`, '--hep-listen', `127.0.0.1:${hepPort}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'hep.db'), '--prefix-map', join(dir, 'map.csv')]);
    await until(`HEP collector up (${srv.log()})`, async () => (srv.log().includes('HEP collector on') ? true : undefined));

    let first = 0;
    for (const [transport, pairs, captureId] of [['udp', UDP_PAIRS, 2001], ['tcp', TCP_PAIRS, 2002]] as const) {
      const sipPort = await freeUdpPort();
      const kam = await kamailio(sipPort, hepPort, transport, captureId);
      try {
        await runPairs(dir, pairs, { uacArgs: ['-rsa', `127.0.0.1:${sipPort}`], first });
      } catch (err) {
        throw new Error(`${(err as Error).message}\nkamailio: ${kam.log()}`);
      } finally {
        await stop(kam);
      }
      first += pairs.length;
      const want = pairs.reduce((a, p) => a + p.calls.length, 0);
      expect(await scrapeNumber(base, new RegExp(`numrep_hep_packets_total\\{agent="${captureId}",transport="${transport}"\\} (\\d+)`)), `${transport} packets`).toBeGreaterThan(want * 4);
    }

    const pairs = [...UDP_PAIRS, ...TCP_PAIRS];
    const total = pairs.reduce((a, p) => a + p.calls.length, 0);
    await until(`${total} calls counted from Kamailio's HEP (${srv.log()})`, async () => {
      const n = await scrapeNumber(base, /numrep_ingest_records_total\{format="hep",result="accepted",reason="ok"\} (\d+)/);
      return n === total ? n : undefined;
    });
    expect(await scrapeNumber(base, /numrep_hep_packets_malformed_total\{reason="[^"]*"\} (\d+)/g)).toBe(0);
    expect(await scrapeNumber(base, /numrep_hep_dialogs_open (\d+)/)).toBe(0);

    // The plan, with plain loops.
    const truth = new Map<string, { calls: number; outcomes: Record<string, number>; attest: Record<string, number>; carriers: Record<string, Record<string, number>> }>();
    for (const p of pairs) {
      for (const c of p.calls) {
        let t = truth.get(c.caller);
        if (!t) truth.set(c.caller, (t = { calls: 0, outcomes: {}, attest: { A: 0, B: 0, C: 0, none: 0 }, carriers: {} }));
        const o = OUTCOME[p.kind];
        t.calls++;
        t.outcomes[o] = (t.outcomes[o] ?? 0) + 1;
        t.attest[c.attest ?? 'none']++;
        const car = CARRIER_PREFIX.find(([, pre]) => c.called.startsWith(pre))![0];
        const ct = (t.carriers[car] ??= {});
        ct[o] = (ct[o] ?? 0) + 1;
      }
    }
    const got = (await (await fetch(`${base}/api/v1/numbers`)).json()) as Report;
    expect(got.numbers.map((n) => n.number).sort()).toEqual([...truth.keys()].sort());
    for (const n of got.numbers) {
      const t = truth.get(n.number)!;
      expect(n.windows['24h'].calls, n.number).toBe(t.calls);
      for (const [o, count] of Object.entries(n.windows['24h'].outcomes)) expect(count, `${n.number} ${o}`).toBe(t.outcomes[o] ?? 0);
      expect(n.attestation, n.number).toEqual(t.attest);
      expect(Object.keys(n.carriers).sort()).toEqual(Object.keys(t.carriers).sort());
      for (const [car, outcomes] of Object.entries(t.carriers)) {
        for (const [o, count] of Object.entries(n.carriers[car]['24h'].outcomes)) expect(count, `${n.number} ${car} ${o}`).toBe(outcomes[o] ?? 0);
      }
    }
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 180_000);
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPairs, type Kind, type Pair } from './live.js';
import { hepPackets, sendHep, traceMessages } from './hepReplay.js';
import { tmp } from '../core/helpers.js';
import { mulberry32 } from '../../src/sim/demo.js';
import { CLI, freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until } from '../support/proc.js';

// The "done when" of the live-signal work: held-out real sipp traffic (a seed and a mix of calls no
// other test uses), replayed as HEPv3 to `numrep serve --hep-listen` — some traces over UDP, some over
// TCP, and the far end's trace of the same calls too, as a collector hearing both sides would — gives
// exactly the per-number and per-carrier outcomes and attestation counts that `numrep report` gives
// for the same traffic read as trace files.

const CALLERS = ['+12025550131', '+12025550132', '+12025550133', '+12025550134'];
const CARRIER_PREFIX: Array<[string, string]> = [['att', '+1212'], ['verizon', '+1310'], ['tmobile', '+1415']];
const PREFIX_MAP = 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n';
const KINDS: Array<{ kind: Kind; n: number; talkMs?: number }> = [
  { kind: 'answered', n: 24, talkMs: 1000 },
  { kind: 'early', n: 10, talkMs: 1000 },
  { kind: 'retrans', n: 4, talkMs: 1800 },
  { kind: 'cancel', n: 20 },
  { kind: 'busy486', n: 14 },
  { kind: 'decline603', n: 8 },
  { kind: 'block603', n: 12 },
  { kind: 'unwanted607', n: 8 },
  { kind: 'block608', n: 12 },
];

function plan(seed: number): Pair[] {
  const rand = mulberry32(seed);
  let serial = 7000;
  return KINDS.map(({ kind, n, talkMs }) => ({
    kind,
    talkMs,
    calls: Array.from({ length: n }, () => {
      const caller = CALLERS[Math.floor(rand() * CALLERS.length)];
      const [, prefix] = CARRIER_PREFIX[Math.floor(rand() * CARRIER_PREFIX.length)];
      const a = rand();
      const attest = a < 0.45 ? ('A' as const) : a < 0.6 ? ('B' as const) : a < 0.75 ? ('C' as const) : undefined;
      return { caller, called: `${prefix}555${String(serial++)}`, attest };
    }),
  }));
}
const PAIRS = plan(4_242_031);
const TOTAL = PAIRS.reduce((a, p) => a + p.calls.length, 0);

type Kpis = { calls: number; answered: number; avg_talk_seconds: number | null; outcomes: Record<string, number> };
type Report = { numbers: Array<{ number: string; attestation: Record<string, number>; windows: Record<string, Kpis>; carriers: Record<string, Record<string, Kpis>> }>; carriers: Array<{ carrier: string; '24h': Kpis }> };

let dir = '';
let traces: string[] = [];
let truth: Report;

beforeAll(async () => {
  dir = tmp('numrep-hep-replay-');
  traces = await runPairs(dir, PAIRS);
  writeFileSync(join(dir, 'map.csv'), PREFIX_MAP);
  const newest = Math.max(...traces.flatMap((t) => traceMessages(readFileSync(t, 'utf8')).map((m) => m.ts)));
  truth = JSON.parse(
    execFileSync(process.execPath, [CLI, 'report', ...traces, '--json', '--prefix-map', join(dir, 'map.csv'), '--at', new Date(newest + 60_000).toISOString()], { encoding: 'utf8', timeout: 60_000 }),
  ) as Report;
}, 120_000);

afterEach(killAll);
afterAll(() => {
  if (dir && process.env.NUMREP_KEEP_SIPP !== '1') rmSync(dir, { recursive: true, force: true });
});

/** The per-number and per-carrier figures that must agree, in a comparable shape. */
function figures(r: Report) {
  return r.numbers
    .map((n) => ({
      number: n.number,
      calls: n.windows['24h'].calls,
      outcomes: n.windows['24h'].outcomes,
      avgTalk: n.windows['24h'].avg_talk_seconds,
      attestation: n.attestation,
      carriers: Object.fromEntries(Object.entries(n.carriers).map(([c, w]) => [c, { calls: w['24h'].calls, outcomes: w['24h'].outcomes }])),
    }))
    .sort((a, b) => a.number.localeCompare(b.number));
}

describe('held-out sipp traffic replayed as HEPv3 to serve --hep-listen (UDP and TCP)', () => {
  it('gives exactly the per-number, per-carrier and attestation figures of the same traffic read as trace files', async () => {
    expect(truth.numbers.reduce((a, n) => a + n.windows['24h'].calls, 0)).toBe(TOTAL);
    const port = await freeTcpPort();
    const hepPort = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    const srv = serveCli(['--listen', `127.0.0.1:${port}`, '--hep-listen', `127.0.0.1:${hepPort}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'hep.db'), '--prefix-map', join(dir, 'map.csv')]);
    await until(`readyz (${srv.log()})`, async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    await until(`HEP collector up (${srv.log()})`, async () => (srv.log().includes('HEP collector on') ? true : undefined));
    const received = async () => (await scrapeNumber(base, /numrep_hep_packets_total\{agent="[^"]*",transport="udp"\} (\d+)/g)) ?? 0;
    let udpSent = 0;
    let tcpSent = 0;
    for (let i = 0; i < traces.length; i++) {
      // The UAC's trace over one transport, the UAS's trace of the same calls over the other.
      const uac = hepPackets(traceMessages(readFileSync(traces[i], 'utf8')), { ip: '127.0.0.1', port: 5061 }, { ip: '127.0.0.1', port: 5062 }, 101);
      const uas = hepPackets(traceMessages(readFileSync(traces[i].replace(/trace_(\d+)_/, 'uas_$1_'), 'utf8')), { ip: '127.0.0.1', port: 5062 }, { ip: '127.0.0.1', port: 5061 }, 102);
      const [udp, tcp] = i % 2 === 0 ? [uac, uas] : [uas, uac];
      await sendHep(udp, '127.0.0.1', hepPort, 'udp', received, udpSent);
      udpSent += udp.length;
      await sendHep(tcp, '127.0.0.1', hepPort, 'tcp', received, 0);
      tcpSent += tcp.length;
    }
    await until(`${TOTAL} calls from HEP (${srv.log()})`, async () => {
      const n = await scrapeNumber(base, /numrep_ingest_records_total\{format="hep",result="accepted",reason="ok"\} (\d+)/);
      return n === TOTAL ? n : undefined;
    });
    expect(await scrapeNumber(base, /numrep_hep_packets_total\{agent="[^"]*",transport="tcp"\} (\d+)/g)).toBe(tcpSent);
    expect(await received()).toBe(udpSent);
    expect(await scrapeNumber(base, /numrep_hep_packets_malformed_total\{reason="[^"]*"\} (\d+)/g)).toBe(0);
    expect(await scrapeNumber(base, /numrep_hep_dialogs_open (\d+)/)).toBe(0);
    const got = (await (await fetch(`${base}/api/v1/numbers`)).json()) as Report;
    expect(figures(got)).toEqual(figures(truth));
    const carriers = (r: Report) => Object.fromEntries(r.carriers.map((c) => [c.carrier, { calls: c['24h'].calls, outcomes: c['24h'].outcomes }]));
    expect(carriers(got)).toEqual(carriers(truth));
    // The called numbers (+1212555…, +1310555…, +1415555…) appear nowhere: metrics, API, log.
    const called = /\+1(212|310|415)555\d{4}/;
    expect(await (await fetch(`${base}/metrics`)).text()).not.toMatch(called);
    expect(JSON.stringify(got)).not.toMatch(called);
    expect(JSON.stringify(await (await fetch(`${base}/api/v1/sources`)).json())).not.toMatch(called);
    expect(srv.log()).not.toMatch(called);
    // Both sides of every call were heard: each call counted once, the far end's copy changed nothing.
    expect(await scrapeNumber(base, /numrep_ingest_records_total\{format="hep",result="skipped",reason="[^"]*"\} (\d+)/g)).toBe(0);
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 120_000);
});

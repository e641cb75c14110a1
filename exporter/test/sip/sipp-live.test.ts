import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { SippReader, looksLikeSipp } from '../../src/ingest/formats/sipp.js';
import { detectFormat } from '../../src/ingest/formats/index.js';
import { readFile, traceLines, type TraceResult } from './harness.js';
import type { SipReaderOptions } from '../../src/ingest/sip/trace.js';
import type { RawCall } from '../../src/model/types.js';
import { runPairs, type Kind, type Pair } from './live.js';
import { tmp } from '../core/helpers.js';
import { mulberry32 } from '../../src/sim/demo.js';
import { freeTcpPort, until } from '../support/proc.js';

// Real SIP traffic: sipp UAS scenarios on 127.0.0.1 answer, ring into a CANCEL (487), refuse
// with 486 / 603 / 603+ (Network Blocked, Reason v=analytics) / 607 / 608 (Call-Info), or
// send early media (183 with SDP); sipp UACs place the calls with Identity headers carrying
// PASSporTs (attest A/B/C) and write -trace_msg. The traces go through the sipp reader and
// through the built CLI (`numrep report --json`), and every call must come out exactly.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const CALLERS = ['+12025550101', '+12025550102', '+12025550103', '+12025550104', '+12025550105'];
const PREFIX_MAP = 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n';
const CARRIER_PREFIX: Array<[string, string]> = [['att', '+1212'], ['verizon', '+1310'], ['tmobile', '+1415']];
const carrierOf = (called: string) => CARRIER_PREFIX.find(([, p]) => called.startsWith(p))![0];

// A few hundred calls: per kind a count and talk time; callers, carriers and attestation
// drawn from a seeded generator, so the traffic is different per kind but reproducible.
const KINDS: Array<{ kind: Kind; n: number; talkMs?: number }> = [
  { kind: 'answered', n: 60, talkMs: 2000 },
  { kind: 'early', n: 30, talkMs: 1000 },
  { kind: 'retrans', n: 6, talkMs: 1800 }, // + the 1.2 s late ACK: 3.0 s nominal, far from a rounding edge
  { kind: 'cancel', n: 50 },
  { kind: 'busy486', n: 40 },
  { kind: 'decline603', n: 20 },
  { kind: 'block603', n: 30 },
  { kind: 'unwanted607', n: 20 },
  { kind: 'block608', n: 30 },
];

function plan(seed: number): Pair[] {
  const rand = mulberry32(seed);
  let serial = 1000;
  return KINDS.map(({ kind, n, talkMs }) => ({
    kind,
    talkMs,
    calls: Array.from({ length: n }, () => {
      const caller = CALLERS[Math.floor(rand() * CALLERS.length)];
      const [, prefix] = CARRIER_PREFIX[Math.floor(rand() * CARRIER_PREFIX.length)];
      const a = rand();
      const attest = a < 0.5 ? ('A' as const) : a < 0.65 ? ('B' as const) : a < 0.8 ? ('C' as const) : undefined;
      return { caller, called: `${prefix}555${String(serial++)}`, attest };
    }),
  }));
}
const PAIRS = plan(20261125);

const EXPECT: Record<Kind, { outcome: string; sipCode: number; engine?: string; early?: boolean; extraTalkMs?: number }> = {
  answered: { outcome: 'answered', sipCode: 200 },
  early: { outcome: 'answered', sipCode: 200, early: true },
  retrans: { outcome: 'answered', sipCode: 200, extraTalkMs: 1200 }, // the late ACK: talk runs from the first 200
  cancel: { outcome: 'cancelled', sipCode: 487 },
  busy486: { outcome: 'busy', sipCode: 486 },
  decline603: { outcome: 'rejected', sipCode: 603 },
  block603: { outcome: 'blocked', sipCode: 603, engine: 'redress.tns.example' },
  unwanted607: { outcome: 'rejected', sipCode: 607 },
  block608: { outcome: 'blocked', sipCode: 608, engine: 'redress.hiya.example' },
};
const talkOf = (p: Pair) => Math.round(((p.talkMs ?? 0) + (EXPECT[p.kind].extraTalkMs ?? 0)) / 1000);

let dir = '';
let traces: string[] = [];
const results: TraceResult[] = [];

beforeAll(async () => {
  dir = tmp('numrep-sipp-');
  traces = await runPairs(dir, PAIRS);
  for (const t of traces) results.push(readFile(new SippReader({ timezone: 'UTC' }), t));
}, 120_000);

afterAll(() => {
  if (dir && process.env.NUMREP_KEEP_SIPP !== '1') rmSync(dir, { recursive: true, force: true });
});

describe('sipp traces from real sipp traffic', () => {
  it('are detected as sipp', () => {
    for (const t of traces) {
      const first = traceLines(readFileSync(t, 'utf8')).slice(0, 10).map((l) => l.line);
      expect(looksLikeSipp(first)).toBe(true);
      expect(detectFormat(first)).toBe('sipp');
    }
  });

  it('hold real retransmissions (INVITE before the 100, 200 OK before a late ACK)', () => {
    const i = PAIRS.findIndex((p) => p.kind === 'retrans');
    const text = readFileSync(traces[i], 'utf8');
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    expect(count(/^INVITE sip:/gm)).toBeGreaterThan(PAIRS[i].calls.length);
    expect(count(/^SIP\/2\.0 200 OK\r?$/gm)).toBeGreaterThan(2 * PAIRS[i].calls.length);
  });

  it('give exactly one record per call placed, with outcome, SIP code, ring time, early media, block engine and attestation', () => {
    PAIRS.forEach((pair, i) => {
      const r = results[i];
      expect(r.rejects, `${pair.kind} rejects`).toEqual([]);
      expect(r.records.length, `${pair.kind} records`).toBe(pair.calls.length);
      const byCalled = new Map(r.calls.map((c) => [c.record.called, c]));
      const e = EXPECT[pair.kind];
      for (const planned of pair.calls) {
        const c = byCalled.get(planned.called);
        expect(c, `${pair.kind} ${planned.called}`).toBeDefined();
        const rec = c!.record;
        expect(rec.caller).toBe(planned.caller);
        expect(rec.outcome).toBe(e.outcome);
        expect(rec.sipCode).toBe(e.sipCode);
        expect(rec.attestation).toBe(planned.attest ?? 'none');
        expect(rec.source).toBe('sipp');
        expect(rec.trunk).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(rec.blockEngine).toBe(e.engine);
        expect(c!.earlyMedia).toBe(e.early === true);
        expect(rec.ringMs).toBeGreaterThanOrEqual(0); // every UAS scenario sends a 18x
        if (e.outcome === 'answered') {
          expect(rec.talkSec).toBe(talkOf(pair));
          expect(c!.end).toBe('bye');
        } else {
          expect(rec.talkSec).toBe(0);
          expect(c!.end).toBe('final');
        }
      }
    });
  });

  it('the UAS side of the same calls: its INVITEs were received, so nothing by default; with sip.direction=received the same calls', () => {
    PAIRS.forEach((pair, i) => {
      const uasTrace = traces[i].replace(/trace_(\d+)_/, 'uas_$1_');
      expect(readFile(new SippReader({ timezone: 'UTC' }), uasTrace).records, pair.kind).toEqual([]);
      const far = readFile(new SippReader({ timezone: 'UTC', sip: { direction: 'received' } } as Partial<SipReaderOptions>), uasTrace);
      expect(far.rejects).toEqual([]);
      const key = (r: RawCall) => `${r.caller} ${r.called} ${r.outcome} ${r.sipCode} ${r.attestation} ${r.blockEngine ?? '-'}`;
      expect(far.records.map(key).sort(), pair.kind).toEqual(results[i].records.map(key).sort());
    });
  });

  it('numrep report --json over the traces reproduces per-number and per-carrier counts and attestation exactly', () => {
    expect(existsSync(CLI), 'build the exporter first (npm run build -w @numrep/exporter)').toBe(true);
    const map = join(dir, 'map.csv');
    writeFileSync(map, PREFIX_MAP);
    const newest = Math.max(...results.flatMap((r) => r.records.map((x) => x.ts)));
    const at = new Date(newest + 60_000).toISOString();
    const out = execFileSync(process.execPath, [CLI, 'report', ...traces, '--json', '--prefix-map', map, '--at', at], { encoding: 'utf8', timeout: 60_000 });
    const rep = JSON.parse(out) as {
      numbers: Array<{ number: string; attestation: Record<string, number>; windows: Record<string, { calls: number; answered: number; outcomes: Record<string, number>; block_ratio: number | null; cancel_ratio: number | null; avg_talk_seconds: number | null }>; carriers: Record<string, Record<string, { calls: number; outcomes: Record<string, number> }>> }>;
    };

    // Ground truth from the plan, with plain loops.
    type Tally = { calls: number; outcomes: Record<string, number>; attest: Record<string, number>; talk: number; answered: number; carriers: Record<string, { calls: number; outcomes: Record<string, number> }> };
    const truth = new Map<string, Tally>();
    for (const p of PAIRS) {
      for (const c of p.calls) {
        let t = truth.get(c.caller);
        if (!t) truth.set(c.caller, (t = { calls: 0, outcomes: {}, attest: { A: 0, B: 0, C: 0, none: 0 }, talk: 0, answered: 0, carriers: {} }));
        const o = EXPECT[p.kind].outcome;
        t.calls++;
        t.outcomes[o] = (t.outcomes[o] ?? 0) + 1;
        t.attest[c.attest ?? 'none']++;
        if (o === 'answered') {
          t.answered++;
          t.talk += talkOf(p);
        }
        const car = carrierOf(c.called);
        const ct = (t.carriers[car] ??= { calls: 0, outcomes: {} });
        ct.calls++;
        ct.outcomes[o] = (ct.outcomes[o] ?? 0) + 1;
      }
    }
    expect(rep.numbers.map((n) => n.number).sort()).toEqual([...truth.keys()].sort());
    for (const n of rep.numbers) {
      const t = truth.get(n.number)!;
      const w = n.windows['24h'];
      expect(w.calls, n.number).toBe(t.calls);
      expect(w.answered).toBe(t.answered);
      for (const [o, count] of Object.entries(w.outcomes)) expect(count, `${n.number} ${o}`).toBe(t.outcomes[o] ?? 0);
      expect(w.block_ratio).toBeCloseTo((t.outcomes.blocked ?? 0) / t.calls, 9);
      expect(w.cancel_ratio).toBeCloseTo((t.outcomes.cancelled ?? 0) / t.calls, 9);
      if (t.answered > 0) expect(w.avg_talk_seconds).toBeCloseTo(t.talk / t.answered, 9);
      expect(n.attestation).toEqual(t.attest);
      expect(Object.keys(n.carriers).sort()).toEqual(Object.keys(t.carriers).sort());
      for (const [car, ct] of Object.entries(t.carriers)) {
        expect(n.carriers[car]['24h'].calls, `${n.number} ${car}`).toBe(ct.calls);
        for (const [o, count] of Object.entries(n.carriers[car]['24h'].outcomes)) expect(count, `${n.number} ${car} ${o}`).toBe(ct.outcomes[o] ?? 0);
      }
    }
  });

  it('a trunk map on the Request-URI host:port wins over the prefix map (docs/architecture.md#outcomes)', () => {
    const i = PAIRS.findIndex((p) => p.kind === 'block608');
    const trunk = results[i].records[0].trunk!;
    const map = join(dir, 'map.csv');
    const trunks = join(dir, 'trunks.csv');
    writeFileSync(map, PREFIX_MAP);
    writeFileSync(trunks, `trunk,carrier\n${trunk},firstorion\n`);
    const newest = Math.max(...results.flatMap((r) => r.records.map((x) => x.ts)));
    const out = execFileSync(process.execPath, [CLI, 'report', traces[i], '--json', '--prefix-map', map, '--trunk-map', trunks, '--at', new Date(newest + 60_000).toISOString()], { encoding: 'utf8', timeout: 60_000 });
    const rep = JSON.parse(out) as { carriers: Array<{ carrier: string; '24h': { calls: number; block_ratio: number } }> };
    expect(rep.carriers.map((c) => c.carrier)).toEqual(['firstorion']);
    expect(rep.carriers[0]['24h']).toMatchObject({ calls: PAIRS[i].calls.length, block_ratio: 1 });
  });

  it('the same traces dropped into a running numrep serve give the same figures in /metrics as the report', async () => {
    const map = join(dir, 'map.csv');
    writeFileSync(map, PREFIX_MAP);
    const newest = Math.max(...results.flatMap((r) => r.records.map((x) => x.ts)));
    const rep = JSON.parse(
      execFileSync(process.execPath, [CLI, 'report', ...traces, '--json', '--prefix-map', map, '--at', new Date(newest + 60_000).toISOString()], { encoding: 'utf8', timeout: 60_000 }),
    ) as { numbers: Array<{ number: string; windows: Record<string, Record<string, number | null>>; carriers: Record<string, Record<string, Record<string, number | null>>>; attestation: Record<string, number> }> };
    const total = PAIRS.reduce((a, p) => a + p.calls.length, 0);

    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const port = await freeTcpPort();
    const srv = spawn(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'serve.db'), '--prefix-map', map, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    srv.stderr!.on('data', (d) => (log += d));
    try {
      await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
      for (const t of traces) {
        copyFileSync(t, join(inbox, basename(t) + '.part'));
        renameSync(join(inbox, basename(t) + '.part'), join(inbox, basename(t)));
      }
      const body = await until(`${total} sipp records ingested (${log})`, async () => {
        const b = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return b.includes(`numrep_ingest_records_total{format="sipp",result="accepted",reason="ok"} ${total}\n`) ? b : undefined;
      });
      const series = parseMetrics(body);
      const get = (name: string, labels: Record<string, string>) => {
        const hit = series.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
        expect(hit.length, `${name} ${JSON.stringify(labels)}`).toBe(1);
        return hit[0].value;
      };
      let checked = 0;
      for (const n of rep.numbers) {
        for (const win of ['24h', '7d']) {
          const w = n.windows[win];
          const l = { number: n.number, pool: 'default', window: win };
          expect(get('numrep_number_calls', l)).toBe(w.calls);
          for (const [m, k] of [['answer_ratio', 'answer_ratio'], ['cancel_ratio', 'cancel_ratio'], ['rejection_ratio', 'rejection_ratio'], ['block_ratio', 'block_ratio']] as const) {
            expect(get(`numrep_number_${m}`, l), `${n.number} ${win} ${m}`).toBeCloseTo(w[k] as number, 9);
            checked++;
          }
          for (const level of ['A', 'B', 'C', 'none']) {
            expect(get('numrep_number_attestation_ratio', { ...l, level })).toBeCloseTo(n.attestation[level] / (w.calls as number), 9);
          }
        }
        for (const [carrier, cw] of Object.entries(n.carriers)) {
          const k = cw['24h'];
          const l = { number: n.number, carrier, window: '24h' };
          expect(get('numrep_number_carrier_calls', l)).toBe(k.calls);
          expect(get('numrep_number_carrier_answer_ratio', l)).toBeCloseTo(k.answer_ratio as number, 9);
          expect(get('numrep_number_carrier_cancel_ratio', l)).toBeCloseTo(k.cancel_ratio as number, 9);
          expect(get('numrep_number_carrier_block_ratio', l)).toBeCloseTo(k.block_ratio as number, 9);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(40);
      const blocked608 = PAIRS.find((p) => p.kind === 'block608')!.calls.length;
      const sum = series.filter((x) => x.name === 'numrep_blocks_total' && x.labels.engine === 'redress.hiya.example').reduce((a, x) => a + x.value, 0);
      expect(sum).toBe(blocked608);
    } finally {
      if (srv.exitCode === null && srv.signalCode === null) srv.kill('SIGKILL');
    }
  }, 60_000);
});

function parseMetrics(body: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}



import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { SippReader, looksLikeSipp } from '../../src/ingest/formats/sipp.js';
import { detectFormat } from '../../src/ingest/formats/index.js';
import { readFile, traceLines, type TraceResult } from './harness.js';
import { runPairs, type Kind, type Pair } from './live.js';
import { tmp } from '../core/helpers.js';

// Real SIP traffic: sipp UAS scenarios on 127.0.0.1 answer, ring into a CANCEL (487), refuse
// with 486 / 603 / 603+ (Network Blocked, Reason v=analytics) / 607 / 608 (Call-Info), or
// send early media (183 with SDP); sipp UACs place the calls with Identity headers carrying
// PASSporTs (attest A/B/C) and write -trace_msg. The traces go through the sipp reader and
// through the built CLI (`numrep report --json`), and every call must come out exactly.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const A = '+12025550101';
const B = '+12025550102';
const C = '+12025550103';
const att = (i: number) => `+1212555${String(1000 + i)}`;
const vz = (i: number) => `+1310555${String(1000 + i)}`;
const tmo = (i: number) => `+1415555${String(1000 + i)}`;
const PREFIX_MAP = 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n';
const carrierOf = (called: string) => (called.startsWith('+1212') ? 'att' : called.startsWith('+1310') ? 'verizon' : 'tmobile');

const PAIRS: Pair[] = [
  { kind: 'answered', talkMs: 2000, calls: [{ caller: A, called: att(1), attest: 'A' }, { caller: A, called: att(2), attest: 'A' }, { caller: A, called: vz(3), attest: 'A' }] },
  { kind: 'early', talkMs: 1000, calls: [{ caller: B, called: tmo(4), attest: 'B' }, { caller: B, called: tmo(5), attest: 'B' }] },
  { kind: 'cancel', calls: [{ caller: A, called: att(6), attest: 'A' }, { caller: A, called: vz(7), attest: 'A' }] },
  { kind: 'busy486', calls: [{ caller: B, called: vz(8), attest: 'C' }, { caller: B, called: vz(9), attest: 'C' }] },
  { kind: 'decline603', calls: [{ caller: C, called: tmo(10) }] },
  { kind: 'block603', calls: [{ caller: C, called: vz(11), attest: 'A' }, { caller: C, called: vz(12), attest: 'A' }] },
  { kind: 'unwanted607', calls: [{ caller: C, called: att(13) }] },
  { kind: 'block608', calls: [{ caller: C, called: att(14), attest: 'B' }, { caller: C, called: att(15), attest: 'B' }] },
];

const EXPECT: Record<Kind, { outcome: string; sipCode: number; engine?: string; early?: boolean; ring: boolean }> = {
  answered: { outcome: 'answered', sipCode: 200, ring: true },
  early: { outcome: 'answered', sipCode: 200, early: true, ring: true },
  cancel: { outcome: 'cancelled', sipCode: 487, ring: true },
  busy486: { outcome: 'busy', sipCode: 486, ring: true },
  decline603: { outcome: 'rejected', sipCode: 603, ring: true },
  block603: { outcome: 'blocked', sipCode: 603, engine: 'redress.tns.example', ring: true },
  unwanted607: { outcome: 'rejected', sipCode: 607, ring: true },
  block608: { outcome: 'blocked', sipCode: 608, engine: 'redress.hiya.example', ring: true },
};

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
        if (e.ring) expect(rec.ringMs).toBeGreaterThanOrEqual(0);
        if (e.outcome === 'answered') {
          expect(rec.talkSec).toBe(Math.round(pair.talkMs! / 1000));
          expect(c!.end).toBe('bye');
        } else {
          expect(rec.talkSec).toBe(0);
          expect(c!.end).toBe('final');
        }
      }
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
          t.talk += Math.round(p.talkMs! / 1000);
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
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { createApp, listen } from '../../src/http/server.js';
import { assessSnapshot, enrichWith, verdictOf } from '../../src/reputation/evaluate.js';
import { parseReputationConfig } from '../../src/reputation/config.js';
import { OUTCOME_RANK } from '../../src/classify/legs.js';
import type { Outcome } from '../../src/model/types.js';
import { tmp } from '../core/helpers.js';
import { freeTcpPort, killAll, serveCli, stopWith, until } from '../support/proc.js';

// Privacy is a property: over random mixes of outbound, inbound, internal and multi-leg Asterisk rows, no
// called number and no inbound caller ever appears in /metrics, the API, the CSV, the sources, history,
// rejection details or the serve log — and the counts equal a plain loop over the calls that were made.

const NOW = Date.parse('2026-11-20T18:00:00Z');
const DIDS = ['+12025550101', '+12025550102', '+12025550103', '+12025550104'];
const EXT_OF = new Map(DIDS.map((d, i) => [d, String(101 + i)]));

type Disp = 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED';
const OUTCOME: Record<Disp, Outcome> = { ANSWERED: 'answered', 'NO ANSWER': 'no_answer', BUSY: 'busy', FAILED: 'failed' };

interface Call {
  kind: 'outbound' | 'failover' | 'local' | 'inbound' | 'internal';
  did: number;
  consumer: string; // ten digits
  national: boolean;
  viaExtension: boolean;
  disps: Disp[];
  offsetSec: number;
  toS: boolean;
  defaultContext: boolean;
}

const consumerArb = fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 999_999 }))
  .map(([a, b, c, d]) => `${a}${String(b).padStart(2, '0')}${c}${String(d).padStart(6, '0')}`);
const dispArb = fc.constantFrom<Disp>('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED');
const callArb: fc.Arbitrary<Call> = fc.record({
  kind: fc.constantFrom('outbound', 'outbound', 'failover', 'local', 'inbound', 'inbound', 'internal'),
  did: fc.integer({ min: 0, max: DIDS.length - 1 }),
  consumer: consumerArb,
  national: fc.boolean(),
  viaExtension: fc.boolean(),
  disps: fc.array(dispArb, { minLength: 1, maxLength: 3 }),
  offsetSec: fc.integer({ min: 60, max: 6 * 86_400 }),
  toS: fc.boolean(),
  defaultContext: fc.boolean(),
});

const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
function row(o: { src: string; dst: string; ctx: string; clid: string; ch: string; dch: string; start: number; disp: Disp; uid: string }): string {
  const t = new Date(o.start).toISOString().slice(0, 19).replace('T', ' ');
  const ans = o.disp === 'ANSWERED';
  return [q(''), q(o.src), q(o.dst), q(o.ctx), q(o.clid), q(o.ch), q(o.dch), q('Dial'), q(''), q(t), ans ? q(t) : '', q(t), ans ? '45' : '0', ans ? '45' : '0', q(o.disp), q('DOCUMENTATION'), q(o.uid), q('')].join(',');
}

/** The Master.csv rows of the calls, and what a correct reader must count per DID. */
function render(calls: Call[]) {
  const lines: string[] = [];
  const expected = new Map<string, Record<string, number>>();
  const secrets = new Set<string>();
  calls.forEach((c, n) => {
    const did = DIDS[c.did];
    // Distinct calls start in distinct seconds (the same caller, consumer and second would be one call).
    const start = NOW - ((c.offsetSec % 500) * 1000 + n + 60) * 1000;
    const uid = `${Math.floor(start / 1000)}.${n}`;
    const hex = (k: number) => (n * 4 + k).toString(16).padStart(8, '0');
    const consumer = c.national ? c.consumer : `+1${c.consumer}`;
    secrets.add(c.consumer);
    const src = c.viaExtension ? EXT_OF.get(did)! : did;
    const clid = `"Agent ${n}" <${did}>`;
    const phone = `SIP/${EXT_OF.get(did)}-${hex(0)}`;
    const count = (disp: Disp) => {
      const e = expected.get(did) ?? {};
      e[OUTCOME[disp]] = (e[OUTCOME[disp]] ?? 0) + 1;
      expected.set(did, e);
    };
    switch (c.kind) {
      case 'outbound':
        lines.push(row({ src, dst: consumer, ctx: 'from-internal', clid, ch: phone, dch: `SIP/att-trunk-${hex(1)}`, start, disp: c.disps[0], uid }));
        count(c.disps[0]);
        break;
      case 'failover': // one uniqueid, one row per trunk tried: counted once, with the best leg's outcome
        c.disps.forEach((d, k) => lines.push(row({ src, dst: consumer, ctx: 'macro-dialout-trunk', clid, ch: phone, dch: `SIP/${k % 2 ? 'verizon' : 'att-trunk'}-${hex(1 + k)}`, start: start + k * 1000, disp: d, uid })));
        count(c.disps.reduce((a, b) => (OUTCOME_RANK[OUTCOME[b]] > OUTCOME_RANK[OUTCOME[a]] ? b : a)));
        break;
      case 'local': // a dialer's Local channel: the ;2 half dials the trunk, the ;1 half reaches an agent
        lines.push(row({ src: did, dst: consumer, ctx: 'from-dialer', clid, ch: `Local/${consumer}@out-${hex(0)};2`, dch: `SIP/att-trunk-${hex(1)}`, start, disp: c.disps[0], uid }));
        lines.push(row({ src: did, dst: consumer, ctx: 'from-dialer', clid, ch: `Local/${consumer}@out-${hex(0)};1`, dch: `SIP/${EXT_OF.get(did)}-${hex(2)}`, start, disp: c.disps[0], uid: `${uid}1` }));
        count(c.disps[0]);
        break;
      case 'inbound': // a consumer calls one of our DIDs in on the trunk
        lines.push(row({ src: consumer, dst: c.toS ? 's' : did, ctx: c.defaultContext ? 'default' : 'from-trunk', clid: `"CALLER" <${consumer}>`, ch: `SIP/att-trunk-${hex(0)}`, dch: c.toS ? '' : phone, start, disp: c.disps[0], uid }));
        break;
      case 'internal':
        lines.push(row({ src: EXT_OF.get(did)!, dst: String(200 + (n % 50)), ctx: 'from-internal', clid: `"Agent" <${EXT_OF.get(did)}>`, ch: phone, dch: `SIP/${200 + (n % 50)}-${hex(1)}`, start, disp: c.disps[0], uid }));
        break;
    }
  });
  return { text: lines.join('\n') + '\n', expected, secrets };
}

/** Digit runs in a text that are a consumer's number (ten digits, with or without the 1). */
function leaks(text: string, secrets: Set<string>): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\d{7,}/g)) {
    const d = m[0];
    if (secrets.has(d) || (d.length === 11 && d[0] === '1' && secrets.has(d.slice(1)))) out.push(d);
  }
  return out;
}

function setup(dir: string): { trunkMap: string; callerMap: string } {
  writeFileSync(join(dir, 'trunk-map.csv'), 'trunk,carrier\natt-trunk,att\nverizon,verizon\n');
  writeFileSync(join(dir, 'caller-map.csv'), 'extension,number\n' + [...EXT_OF].map(([d, e]) => `${e},${d}`).join('\n') + '\n');
  return { trunkMap: join(dir, 'trunk-map.csv'), callerMap: join(dir, 'caller-map.csv') };
}

describe('privacy and counts over random mixed traffic', () => {
  it('serve-like runtime, HTTP API: no consumer number anywhere, counts equal the plain loop', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 60 }), async (calls) => {
        const dir = tmp('numrep-privacy-');
        const inbox = join(dir, 'inbox');
        mkdirSync(inbox);
        const { trunkMap } = setup(dir);
        const { text, expected, secrets } = render(calls);
        writeFileSync(join(inbox, 'Master.csv'), text);
        const { loadCallerMap } = await import('../../src/classify/callerMap.js');
        const rt = new Runtime({
          db: join(dir, 'numrep.db'), bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
          resolver: CarrierResolver.fromFiles({ trunkMap }), classify: { callerMap: loadCallerMap(join(dir, 'caller-map.csv')) },
          settleMs: 0, maxRecordBytes: 65_536, now: () => NOW,
        });
        await rt.poll();
        const evaluate = { config: parseReputationConfig({}), labels: rt.labels, registered: rt.registered };
        const metrics = new MetricsExporter(rt, { version: 'test', seriesBudget: 100_000, verdicts: (s) => new Map([...assessSnapshot(s, evaluate)].map(([n, a]) => [n, verdictOf(a)])) });
        const app = createApp({ runtime: rt, metrics, enrichFor: (s) => enrichWith(assessSnapshot(s, evaluate), rt.labels), inbox, maxUploadBytes: 1 << 20, listenHost: '127.0.0.1', defaultCountryCode: '1', isReady: () => true, log: () => undefined });
        const server = await listen(app, '127.0.0.1', 0);
        try {
          const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          const get = async (p: string) => (await fetch(base + p)).text();
          const numbers = JSON.parse(await get('/api/v1/numbers')) as { numbers: { number: string; windows: { '7d': { outcomes: Record<string, number> } } }[] };
          const bodies = [await get('/metrics'), JSON.stringify(numbers), await get('/api/v1/numbers.csv'), await get('/api/v1/carriers'), await get('/api/v1/sources')];
          for (const n of numbers.numbers) bodies.push(await get(`/api/v1/numbers/${encodeURIComponent(n.number)}`), await get(`/api/v1/numbers/${encodeURIComponent(n.number)}/history`));
          bodies.push(...rt.store.quarantined().map((e) => e.detail));
          expect(leaks(bodies.join('\n'), secrets)).toEqual([]);
          // Only our DIDs are numbers, with exactly the outcomes of the calls they made.
          const got = new Map(numbers.numbers.map((n) => [n.number, Object.fromEntries(Object.entries(n.windows['7d'].outcomes).filter(([, v]) => v > 0))]));
          expect(got).toEqual(expected);
        } finally {
          server.close();
          await rt.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('the real serve: its log and error lines name no consumer either', { timeout: 60_000 }, async () => {
    const calls = fc.sample(fc.array(callArb, { minLength: 200, maxLength: 200 }), { numRuns: 1, seed: 14 })[0];
    const dir = tmp('numrep-privacy-serve-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const { trunkMap, callerMap } = setup(dir);
    const { text, secrets } = render(calls);
    // A few malformed rows too: their rejection details are logged.
    const bad = text.split('\n').slice(0, 3).map((l) => l.replace('"DOCUMENTATION"', '"DOCUMENTATION","extra"').replace(/(\d{4}-\d{2}-\d{2}) /, '$1X'));
    writeFileSync(join(inbox, 'Master.csv'), text + bad.join('\n') + '\n');
    const port = await freeTcpPort();
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', join(dir, 'numrep.db'), '--trunk-map', trunkMap, '--caller-map', callerMap]);
    let log = '';
    p.stdout?.on('data', (d) => (log += String(d)));
    p.stderr?.on('data', (d) => (log += String(d)));
    try {
      await until('file read', async () => (/source .*Master\.csv: read /.test(log) ? true : undefined));
      expect(log).toMatch(/rejected/);
      expect(leaks(log, secrets)).toEqual([]);
    } finally {
      await stopWith(p, 'SIGTERM');
      killAll();
    }
  });
});

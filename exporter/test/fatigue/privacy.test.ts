import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { MetricsExporter } from '../../src/http/metrics.js';
import { createApp, listen } from '../../src/http/server.js';
import { assessSnapshot, enrichWith, verdictOf } from '../../src/reputation/evaluate.js';
import { parseReputationConfig } from '../../src/reputation/config.js';
import { CONSUMER_KIND } from '../../src/classify/classifier.js';
import { hashKeyFrom, keyHash, keyRowId, sipHash64 } from '../../src/classify/callKeys.js';
import { forEachDial } from '../../src/store/db.js';
import { tmp } from '../core/helpers.js';
import { freeTcpPort, killAll, serveCli, stopWith, until } from '../support/proc.js';

// Recipient fatigue keeps a keyed hash of every consumer it counts. Over random mixed traffic (outbound calls that
// re-dial a few consumers, inbound calls from them, malformed rows naming them, dialer dispositions), neither a
// consumer's number nor its hash — in any form a program might print it — appears in /metrics, the API, the CSV,
// history, the quarantine or the serve log; and the fatigue figures equal a plain loop over the calls.

const NOW = Date.parse('2026-11-20T18:00:00Z');
const DAY = 86_400;
const DIDS = ['+12025550101', '+12025550102', '+12025550103'];
const CONSUMERS = ['3125550142', '4155550146', '6465550123', '7135550188', '2125550199', '3035550111'];

interface Call {
  kind: 'outbound' | 'outbound' | 'inbound' | 'bad';
  did: number;
  consumer: number;
  back: number;
  result: string;
}

const callArb: fc.Arbitrary<Call> = fc.record({
  kind: fc.constantFrom('outbound', 'outbound', 'outbound', 'inbound', 'bad') as fc.Arbitrary<Call['kind']>,
  did: fc.integer({ min: 0, max: DIDS.length - 1 }),
  consumer: fc.integer({ min: 0, max: CONSUMERS.length - 1 }),
  // Steps of 200 s back from now over two days: with fewer than 200 calls no two share a second.
  back: fc.integer({ min: 0, max: 850 }),
  result: fc.constantFrom('SALE', 'NI', 'ABANDON', 'AM', ''),
});

/** Every way a program could print the consumer's hash: the 32-bit halves, the 64-bit word, the stored rowid. */
function hashForms(secretFile: string, consumers: string[]): string[] {
  const key = hashKeyFrom(Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'hex'));
  const out: string[] = [];
  const h = new Uint32Array(2);
  for (const c of consumers) {
    keyHash(h, CONSUMER_KIND, `+1${c}`);
    const fast = [h[0], h[1]];
    sipHash64(key, h[0], h[1], h);
    for (const [hi, lo] of [[h[0], h[1]], fast]) {
      const hex = (x: number) => x.toString(16).padStart(8, '0');
      const row = keyRowId(hi, lo);
      out.push(String(hi), String(lo), hex(hi), hex(lo), hex(hi) + hex(lo), row.toString(), BigInt.asUintN(64, row).toString(), BigInt.asUintN(64, row).toString(16));
    }
  }
  return out;
}

function leaks(text: string, secrets: string[]): string[] {
  const t = text.toLowerCase();
  return secrets.filter((s) => t.includes(s.toLowerCase()));
}

function render(calls: Call[], now = NOW): string {
  const lines = ['caller,called,start,billsec,disposition,direction,dialer_result'];
  calls.forEach((c, n) => {
    const start = new Date(Math.floor(now / 1000) * 1000 - (60 + n + c.back * 200) * 1000).toISOString();
    const did = DIDS[c.did];
    const consumer = `+1${CONSUMERS[c.consumer]}`;
    if (c.kind === 'outbound') lines.push([did, consumer, start, c.result === 'AM' || c.result === '' ? 0 : 40, c.result === '' ? 'no_answer' : 'answered', 'outbound', c.result].join(','));
    else if (c.kind === 'inbound') lines.push([consumer, did, start, 30, 'answered', 'inbound', ''].join(','));
    // Malformed: the consumer's number in a row whose start is no date.
    else lines.push([did, consumer, `yesterday-${CONSUMERS[c.consumer]}`, 0, 'answered', 'outbound', ''].join(','));
  });
  return lines.join('\n') + '\n';
}

/** The plain loop: per DID, consumers over the cap of 3 and calls over it in the last 24 h. */
function expectedOverCap(calls: Call[]): Map<string, { consumers_over_cap: number; attempts_over_cap: number; calls: number; consumers: number }> {
  const out = new Map<string, { consumers_over_cap: number; attempts_over_cap: number; calls: number; consumers: number }>();
  const nowSec = NOW / 1000;
  calls.forEach((c, n) => {
    if (c.kind !== 'outbound') return;
    const did = DIDS[c.did];
    if (!out.has(did)) out.set(did, { consumers_over_cap: 0, attempts_over_cap: 0, calls: 0, consumers: 0 });
  });
  for (const did of out.keys()) {
    const e = out.get(did)!;
    const mine = calls.map((c, n) => ({ c, ts: nowSec - (60 + n + c.back * 200) })).filter((x) => x.c.kind === 'outbound' && DIDS[x.c.did] === did);
    for (let k = 0; k < CONSUMERS.length; k++) {
      const ts = mine.filter((x) => x.c.consumer === k).map((x) => x.ts).sort((a, b) => a - b);
      let any = false;
      let over = false;
      ts.forEach((t, i) => {
        if (t <= nowSec - DAY) return;
        any = true;
        e.calls++;
        if (ts.slice(0, i).filter((u) => t - u < DAY).length >= 3) {
          e.attempts_over_cap++;
          over = true;
        }
      });
      if (any) e.consumers++;
      if (over) e.consumers_over_cap++;
    }
  }
  return out;
}

describe('recipient fatigue: privacy and counts over random mixed traffic', () => {
  it('serve-like runtime, HTTP API: no consumer number or hash anywhere, fatigue equals the plain loop', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 120 }), async (calls) => {
        const dir = tmp('numrep-fatigue-privacy-');
        const inbox = join(dir, 'inbox');
        mkdirSync(inbox);
        writeFileSync(join(inbox, 'dialer.csv'), render(calls));
        const db = join(dir, 'numrep.db');
        const rt = new Runtime({
          db, bucketMs: 60_000, inbox, globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
          resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: () => NOW,
        });
        await rt.poll();
        const evaluate = { config: parseReputationConfig({}), labels: rt.labels, registered: rt.registered };
        const metrics = new MetricsExporter(rt, { version: 'test', seriesBudget: 100_000, verdicts: (s) => new Map([...assessSnapshot(s, evaluate)].map(([n, a]) => [n, verdictOf(a)])) });
        const app = createApp({ runtime: rt, metrics, enrichFor: (s) => enrichWith(assessSnapshot(s, evaluate), rt.labels), inbox, maxUploadBytes: 1 << 20, listenHost: '127.0.0.1', defaultCountryCode: '1', isReady: () => true, log: () => undefined });
        const server = await listen(app, '127.0.0.1', 0);
        try {
          const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          const get = async (p: string) => (await fetch(base + p)).text();
          const body = await get('/api/v1/numbers');
          const numbers = JSON.parse(body) as { numbers: { number: string; fatigue: { '24h': Record<string, number> }; recommendation: { reason: string } }[] };
          const scrape = await get('/metrics');
          const bodies = [scrape, body, await get('/api/v1/numbers.csv'), await get('/api/v1/carriers'), await get('/api/v1/sources')];
          for (const n of numbers.numbers) bodies.push(await get(`/api/v1/numbers/${encodeURIComponent(n.number)}`), await get(`/api/v1/numbers/${encodeURIComponent(n.number)}/history`));
          bodies.push(...rt.store.quarantined().flatMap((e) => [e.detail, e.raw]));
          const all = bodies.join('\n');
          const forms = hashForms(`${db}.secret`, CONSUMERS);
          // The forms are the real ones: every stored dial's hash is among them (and no consumer is stored in clear).
          const blocks = rt.store.db.prepare('SELECT numbers, dials FROM consumer_dial_blocks').raw(true).all() as [string, Buffer][];
          const stored: { h: bigint; number: string }[] = [];
          for (const [numbersJson, blob] of blocks) forEachDial(numbersJson, blob, (number, hi, lo) => stored.push({ h: keyRowId(hi, lo), number }));
          expect(stored.length).toBe(calls.filter((c) => c.kind === 'outbound').length);
          for (const r of stored) expect(forms).toContain(BigInt(r.h).toString());
          // The rows as stored, text and bytes: no consumer in clear.
          expect(leaks(blocks.map(([numbersJson, blob]) => `${numbersJson}\n${blob.toString('latin1')}`).join('\n'), CONSUMERS)).toEqual([]);
          expect(leaks(all, CONSUMERS)).toEqual([]);
          expect(leaks(all, forms)).toEqual([]);
          // The figures: each DID's 24h fatigue as the plain loop counts it, in the JSON and in /metrics.
          const want = expectedOverCap(calls);
          for (const n of numbers.numbers) {
            const e = want.get(n.number) ?? { consumers_over_cap: 0, attempts_over_cap: 0, calls: 0, consumers: 0 };
            expect(n.fatigue['24h']).toMatchObject(e);
            if (e.calls > 0) expect(scrape).toContain(`numrep_number_consumers_over_cap{number="${n.number}",pool="default",window="24h"} ${e.consumers_over_cap}\n`);
            if (e.consumers_over_cap > 0) expect(n.recommendation.reason).toMatch(/called more than 3 times in 24h/);
          }
        } finally {
          server.close();
          await rt.close();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the real serve: its log and error lines name no consumer and no hash either', { timeout: 60_000 }, async () => {
    const calls = fc.sample(fc.array(callArb, { minLength: 150, maxLength: 150 }), { numRuns: 1, seed: 20 })[0];
    const dir = tmp('numrep-fatigue-privacy-serve-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    // The real serve evaluates at the wall clock.
    writeFileSync(join(inbox, 'dialer.csv'), render(calls, Date.now()));
    const port = await freeTcpPort();
    const db = join(dir, 'numrep.db');
    const p = serveCli(['--listen', `127.0.0.1:${port}`, '--inbox', inbox, '--db', db]);
    let log = '';
    p.stdout?.on('data', (d) => (log += String(d)));
    p.stderr?.on('data', (d) => (log += String(d)));
    try {
      await until('file read', async () => (/source .*dialer\.csv: read /.test(log) ? true : undefined));
      const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(scrape).toMatch(/numrep_pool_consumers\{pool="default",window="24h"\} \d+/);
      expect(log).toMatch(/rejected/);
      expect(leaks(log + scrape, CONSUMERS)).toEqual([]);
      expect(leaks(log + scrape, hashForms(`${db}.secret`, CONSUMERS))).toEqual([]);
    } finally {
      await stopWith(p, 'SIGTERM');
      killAll();
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../core/helpers.js';
import { ACCEPTED_GENERIC, freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until } from '../support/proc.js';

// Probe F1: one CSV whose `carrier` column names thousands of carriers for one number froze /metrics, the API
// and /healthz for minutes and made SIGTERM wait. Through the real `serve`: 5,000 carriers on one number.

afterEach(killAll);

const FLOOD = '+12025551000';
const CARRIERS = 5000;
const FLOOD_CALLS = 10_000;
const POOL_NUMBERS = 50;
const POOL_CALLS_EACH = 20;
const CAP = 20; // the default max_carriers_per_number
const SCRAPE_BOUND_MS = 3000;
const HEALTHZ_BOUND_MS = 1000;

function floodCsv(nowSec: number): string {
  const codes = [200, 200, 200, 487, 486, 603, 480];
  let s = 'caller,called,start,billsec,sip_code,carrier\n';
  for (let i = 0; i < FLOOD_CALLS; i++) {
    const code = codes[i % codes.length];
    s += `${FLOOD},+1646555${String(1000 + (i % 9000)).padStart(4, '0')},${nowSec - 120 - ((i * 37) % 80_000)},${code === 200 ? 30 : 0},${code},c${i % CARRIERS}\n`;
  }
  for (let n = 0; n < POOL_NUMBERS; n++) {
    for (let i = 0; i < POOL_CALLS_EACH; i++) s += `+1202555${2000 + n},+16465551234,${nowSec - 300 - i * 600},30,${i % 5 === 0 ? 487 : 200},att\n`;
  }
  return s;
}

/** /healthz asked again and again until stopped: every answer's latency, failures as Infinity. */
function probeHealthz(base: string): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        times.push(r.ok ? performance.now() - t0 : Infinity);
      } catch {
        times.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, 20)); // probe pacing, not synchronisation
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

async function timed(url: string): Promise<{ ms: number; body: string; status: number }> {
  const t0 = performance.now();
  const r = await fetch(url);
  const body = await r.text();
  return { ms: performance.now() - t0, body, status: r.status };
}

function memoryOf(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return `RSS ${(kb('VmRSS') / 1024).toFixed(0)} MB, peak ${(kb('VmHWM') / 1024).toFixed(0)} MB`;
}

describe('carrier flood (probe F1) through the real serve', () => {
  it('5,000 carriers on one number: /healthz stays fast, scrapes are bounded, carriers are capped, SIGTERM is prompt', async () => {
    const dir = tmp('numrep-flood-');
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const port = await freeTcpPort();
    const base = `http://127.0.0.1:${port}`;
    const config = join(dir, 'numrep.yml');
    writeFileSync(config, `listen: 127.0.0.1:${port}\ndb: ${join(dir, 'numrep.db')}\ninbox: ${inbox}\nsettle_ms: 200\npoll_interval_ms: 200\n`);
    const p = serveCli(['--config', config]);
    await until('readyz', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));

    const health = probeHealthz(base);
    const rows = FLOOD_CALLS + POOL_NUMBERS * POOL_CALLS_EACH;
    writeFileSync(join(inbox, '.flood.csv.part'), floodCsv(Math.floor(Date.now() / 1000)));
    renameSync(join(inbox, '.flood.csv.part'), join(inbox, 'flood.csv'));
    // Scrapes while it ingests, until every row is counted.
    await until('every row accepted', async () => ((await scrapeNumber(base, ACCEPTED_GENERIC)) === rows ? true : undefined), 60_000);

    const scrapes: number[] = [];
    let body = '';
    for (let i = 0; i < 3; i++) {
      const r = await timed(`${base}/metrics`);
      expect(r.status).toBe(200);
      scrapes.push(r.ms);
      body = r.body;
    }
    const one = await timed(`${base}/api/v1/numbers/${encodeURIComponent(FLOOD)}`);
    const all = await timed(`${base}/api/v1/numbers`);
    const healthTimes = await health.stop();
    const mem = memoryOf(p.pid!);

    // SIGTERM with a scrape in flight: the process stops within seconds.
    const inFlight = fetch(`${base}/metrics`).then((r) => r.text()).catch(() => '');
    const t0 = performance.now();
    const code = await stopWith(p, 'SIGTERM');
    const stopMs = performance.now() - t0;
    await inFlight;

    const sorted = [...healthTimes].sort((a, b) => a - b);
    const worstHealth = sorted[sorted.length - 1];
    console.log(
      `carrier flood: scrapes ${scrapes.map((ms) => ms.toFixed(0)).join(', ')} ms (body ${(body.length / 1e6).toFixed(1)} MB); ` +
        `/api/v1/numbers/{n} ${one.ms.toFixed(0)} ms, /api/v1/numbers ${all.ms.toFixed(0)} ms; ` +
        `/healthz ${healthTimes.length} probes, p99 ${sorted[Math.floor(sorted.length * 0.99)]?.toFixed(0)} ms, worst ${worstHealth.toFixed(0)} ms; ` +
        `${mem}; SIGTERM → exit in ${stopMs.toFixed(0)} ms`,
    );

    expect(healthTimes.length).toBeGreaterThan(5);
    expect(worstHealth).toBeLessThan(HEALTHZ_BOUND_MS);
    for (const ms of scrapes) expect(ms).toBeLessThan(SCRAPE_BOUND_MS);
    expect(one.ms).toBeLessThan(SCRAPE_BOUND_MS);
    expect(all.ms).toBeLessThan(SCRAPE_BOUND_MS);

    // At most the cap of named carriers plus "other" for the flooded number, in every pair family.
    for (const fam of ['calls', 'answer_ratio', 'cancel_ratio', 'rejection_ratio', 'block_ratio', 'flag']) {
      const carriers = new Set([...body.matchAll(new RegExp(`^numrep_number_carrier_${fam}\\{number="\\${FLOOD}",pool="default",carrier="([^"]+)"`, 'gm'))].map((m) => m[1]));
      expect(carriers.size, fam).toBeGreaterThan(1);
      expect(carriers.size, fam).toBeLessThanOrEqual(CAP + 1);
      expect(carriers.has('other'), fam).toBe(true);
    }
    expect(body).toMatch(new RegExp(`^numrep_carriers_folded ${CARRIERS - CAP}$`, 'm'));
    // Folded calls still count for the number.
    expect(body).toMatch(new RegExp(`^numrep_number_calls\\{number="\\${FLOOD}",pool="default",window="7d"\\} ${FLOOD_CALLS}$`, 'm'));

    const json = JSON.parse(one.body) as { windows: Record<string, { calls: number }>; carriers: Record<string, { folded_carriers?: number; '7d'?: { calls: number } }> };
    expect(Object.keys(json.carriers).length).toBeLessThanOrEqual(CAP + 1);
    expect(json.carriers.other.folded_carriers).toBe(CARRIERS - CAP);
    expect(json.windows['7d'].calls).toBe(FLOOD_CALLS);
    expect(Object.values(json.carriers).reduce((s, c) => s + (c['7d']?.calls ?? 0), 0)).toBe(FLOOD_CALLS);

    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(5000);
    expect(p.log()).toContain('stopped cleanly');
  });
});

import { appendFile, writeFile, rename, access } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `numrep serve --demo`: realistic outbound traffic written into the inbox so a newcomer sees
 * per-number metrics at once. A 7-day backfill (relative to now) in generic CSV, then a live
 * trickle appended to a second file. Seeded and deterministic for a given start time.
 *
 * The pool: healthy numbers; one degrading on tmobile over the last day (487s climb first,
 * as carriers' analytics start labelling); one blocked by att (608) and verizon (603+);
 * one brand new (too few calls to judge); one dialled too fast (velocity over the cap).
 */
export interface DemoOptions {
  inbox: string;
  now: () => number;
  log: (msg: string) => void;
  /** Mean seconds between live calls across the pool. */
  liveEverySeconds?: number;
}

export const DEMO_HEADER = 'start,caller,called,carrier,sip_code,reason,billsec,attestation,amd';

interface Profile {
  number: string;
  callsPerDay: number;
  days: number;
  /** Probability weights per outcome, possibly changing with age (hours before now) and carrier. */
  mix(carrier: string, hoursAgo: number): Mix;
}

interface Mix {
  answer: number;
  voicemail: number;
  cancel: number;
  noAnswer: number;
  busy: number;
  reject: number;
  block: number;
  shortShare: number;
}

const HEALTHY: Mix = { answer: 0.46, voicemail: 0.12, cancel: 0.08, noAnswer: 0.24, busy: 0.05, reject: 0.03, block: 0, shortShare: 0.04 };
const CARRIERS = ['att', 'verizon', 'tmobile'];

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function demoProfiles(): Profile[] {
  const healthy = (n: string, perDay = 70): Profile => ({ number: n, callsPerDay: perDay, days: 7, mix: () => HEALTHY });
  return [
    healthy('+12025550101'),
    healthy('+12025550102'),
    healthy('+12025550103', 85),
    healthy('+12025550104'),
    healthy('+12025550105', 60),
    {
      number: '+12025550106', // degrading on tmobile during the last 30 hours: the pre-label signal
      callsPerDay: 80,
      days: 7,
      mix: (carrier, h) =>
        carrier === 'tmobile' && h < 30
          ? { ...HEALTHY, answer: 0.2, cancel: 0.38, noAnswer: 0.3, shortShare: 0.3 }
          : HEALTHY,
    },
    {
      number: '+12025550107', // blocked by att (608) and verizon (603+) since yesterday
      callsPerDay: 90,
      days: 7,
      mix: (carrier, h) =>
        h < 36 && carrier !== 'tmobile'
          ? { ...HEALTHY, answer: 0.12, cancel: 0.1, block: 0.5, reject: 0.08, noAnswer: 0.15, shortShare: 0.4 }
          : h < 36
            ? { ...HEALTHY, answer: 0.22, cancel: 0.3 }
            : HEALTHY,
    },
    { number: '+12025550108', callsPerDay: 12, days: 1, mix: () => HEALTHY }, // new: in progress
    { number: '+12025550109', callsPerDay: 190, days: 7, mix: () => ({ ...HEALTHY, answer: 0.38, cancel: 0.12 }) }, // too fast
  ];
}

function pick(r: number, m: Mix): keyof Omit<Mix, 'shortShare'> {
  const order: (keyof Omit<Mix, 'shortShare'>)[] = ['answer', 'voicemail', 'cancel', 'noAnswer', 'busy', 'reject', 'block'];
  const total = order.reduce((s, k) => s + m[k], 0);
  let x = r * total;
  for (const k of order) {
    x -= m[k];
    if (x < 0) return k;
  }
  return 'noAnswer';
}

export function demoCall(rand: () => number, p: Profile, ts: number, now: number): string {
  const carrier = CARRIERS[Math.floor(rand() * CARRIERS.length)];
  const m = p.mix(carrier, (now - ts) / 3_600_000);
  const kind = pick(rand(), m);
  const called = `+1${['212', '312', '415', '646', '713', '305'][Math.floor(rand() * 6)]}555${String(Math.floor(rand() * 10000)).padStart(4, '0')}`;
  let code = 480;
  let reason = 'Temporarily Unavailable';
  let billsec = 0;
  let amd = '';
  switch (kind) {
    case 'answer':
      code = 200;
      reason = 'OK';
      billsec = rand() < m.shortShare ? 1 + Math.floor(rand() * 8) : 15 + Math.floor(-Math.log(1 - rand()) * 90);
      break;
    case 'voicemail':
      code = 200;
      reason = 'OK';
      billsec = 20 + Math.floor(rand() * 25);
      amd = 'MACHINE';
      break;
    case 'cancel':
      code = 487;
      reason = 'Request Terminated';
      break;
    case 'busy':
      code = 486;
      reason = 'Busy Here';
      break;
    case 'reject':
      code = 603;
      reason = 'Decline';
      break;
    case 'block':
      code = carrier === 'att' ? 608 : 603;
      reason = carrier === 'att' ? 'Rejected' : 'Network Blocked';
      break;
    default:
      break;
  }
  const attestation = rand() < 0.92 ? 'A' : 'B';
  return [new Date(ts).toISOString(), p.number, called, carrier, code, reason, billsec, attestation, amd].join(',');
}

/** The backfill as CSV text: every profile's calls over its days, in time order. */
export function demoBackfill(now: number, seed = 7): string {
  const rand = mulberry32(seed);
  const rows: [number, string][] = [];
  for (const p of demoProfiles()) {
    const total = Math.round(p.callsPerDay * p.days);
    for (let i = 0; i < total; i++) {
      // Dialling happens in business hours: spread calls over 13:00–23:00 UTC (9–7 US Eastern).
      const day = Math.floor(rand() * p.days);
      const ts = now - (day + 1) * 86_400_000 + (13 + rand() * 10) * 3_600_000;
      if (ts > now - 60_000) continue;
      rows.push([ts, '']);
      rows[rows.length - 1][1] = demoCall(rand, p, ts, now);
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  return DEMO_HEADER + '\n' + rows.map((r) => r[1]).join('\n') + '\n';
}

export async function startDemo(o: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const backfill = join(o.inbox, 'demo-backfill.csv');
  const live = join(o.inbox, 'demo-live.csv');
  const exists = await access(backfill).then(() => true, () => false);
  if (!exists) {
    const tmp = join(o.inbox, '.demo-backfill.csv.part');
    await writeFile(tmp, demoBackfill(o.now()));
    await rename(tmp, backfill);
    await writeFile(live, DEMO_HEADER + '\n', { flag: 'a' });
    o.log(`demo: wrote 7 days of sample traffic for ${demoProfiles().length} numbers to ${backfill}; live calls follow in ${live}`);
  } else {
    o.log(`demo: sample traffic already in ${backfill}; appending live calls to ${live}`);
  }
  const rand = mulberry32(o.now() & 0xffff);
  const profiles = demoProfiles().filter((p) => p.days === 7);
  const every = (o.liveEverySeconds ?? 20) * 1000;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const p = profiles[Math.floor(rand() * profiles.length)];
    void appendFile(live, demoCall(rand, p, o.now(), o.now()) + '\n').finally(() => (busy = false));
  }, every);
  return {
    async stop() {
      clearInterval(timer);
    },
  };
}

// A small pool of numbers on three carriers, built day by day, for scenario tests.
import { OUTCOMES, type Kpis } from '../../src/model/types.js';
import { carrierBaselines, type Baselines } from '../../src/reputation/carrierFlag.js';
import type { NumberInput } from '../../src/reputation/assess.js';
import { DAY, kpis, mix, NOW, type Traffic } from './helpers.js';

export const CARRIERS = ['att', 'verizon', 'tmobile'] as const;
export type Carrier = (typeof CARRIERS)[number];

/** Healthy traffic for one carrier-day. */
export const HEALTHY = { answered: 0.45, voicemail: 0.1, cancelled: 0.08, busy: 0.02, rejected: 0.02, failed: 0.03 };

export function sum(...ts: Traffic[]): Traffic {
  const out: Traffic = { short: 0 };
  let talkAcc = 0;
  let ans = 0;
  for (const t of ts) {
    for (const o of OUTCOMES) out[o] = (out[o] ?? 0) + (t[o] ?? 0);
    out.short = (out.short ?? 0) + (t.short ?? 0);
    talkAcc += (t.talk ?? 0) * (t.answered ?? 0);
    ans += t.answered ?? 0;
  }
  out.talk = ans > 0 ? talkAcc / ans : 0;
  return out;
}

/** days[0] is the last 24h, days[1..6] the prior six days; each day per carrier. */
export type Days = Array<Partial<Record<Carrier, Traffic>>>;

export function healthyDays(perCarrierPerDay = 25, shares = HEALTHY, extra = { shortShare: 0.05, talk: 90 }): Days {
  return Array.from({ length: 7 }, () => {
    const d: Partial<Record<Carrier, Traffic>> = {};
    for (const c of CARRIERS) d[c] = mix(perCarrierPerDay, shares, extra);
    return d;
  });
}

type W = '24h' | '48h' | '72h' | '7d';
const WS: Array<[W, number]> = [['24h', 1], ['48h', 2], ['72h', 3], ['7d', 7]];

export interface Built {
  input: NumberInput;
  perCarrier: Record<string, Record<W, Traffic>>;
}

export function buildNumber(number: string, days: Days, opts: Partial<NumberInput> = {}): Built {
  const perCarrier: Record<string, Record<W, Traffic>> = {};
  const carriers: Record<string, Record<W, Kpis>> = {};
  for (const c of CARRIERS) {
    const d7 = sum(...days.map((d) => d[c] ?? {}));
    if ((d7.answered ?? 0) + OUTCOMES.reduce((a, o) => a + (d7[o] ?? 0), 0) === 0) continue;
    perCarrier[c] = {} as Record<W, Traffic>;
    carriers[c] = {} as Record<W, Kpis>;
    for (const [w, n] of WS) {
      perCarrier[c][w] = sum(...days.slice(0, n).map((d) => d[c] ?? {}));
      carriers[c][w] = kpis(perCarrier[c][w]);
    }
  }
  const all = (w: W) => sum(...Object.values(perCarrier).map((p) => p[w]));
  const all24 = all('24h');
  const all7 = all('7d');
  // Spread the 24h evenly: the last hour carries 1/24 of it.
  const h1: Traffic = {};
  for (const o of OUTCOMES) h1[o] = Math.round((all24[o] ?? 0) / 24);
  return {
    perCarrier,
    input: {
      number,
      windows: { '1h': kpis(h1), '24h': kpis(all24), '48h': kpis(all('48h')), '72h': kpis(all('72h')), '7d': kpis(all7) },
      carriers,
      firstSeen: NOW - 120 * DAY,
      lastSeen: NOW - 60_000,
      activeDays7d: days.filter((d) => Object.values(d).some((t) => t && OUTCOMES.some((o) => (t[o] ?? 0) > 0))).length,
      ...opts,
    },
  };
}

export function poolBaselines(numbers: Built[]): Baselines {
  const per: Record<string, Record<W, Kpis>> = {};
  for (const c of CARRIERS) {
    per[c] = {} as Record<W, Kpis>;
    for (const [w] of WS) per[c][w] = kpis(sum(...numbers.map((n) => n.perCarrier[c]?.[w] ?? {})));
  }
  return carrierBaselines(per);
}

export const num = (i: number) => `+1202555${String(100 + i).padStart(4, '0')}`;
export { NOW };

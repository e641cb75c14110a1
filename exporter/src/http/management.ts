// The management layer in the outputs (docs/metrics.md#recipient-fatigue, #business-outcome): recipient fatigue per
// number and pool, and the dialer's dispositions per number, pool and campaign, in the JSON and /metrics. Only counts
// and ratios leave here: never a consumer's number or its hash.

import type { Runtime } from '../runtime.js';
import type { NumberView, Snapshot } from '../stats/snapshot.js';
import { addInto, dispositionsOf, dispositionWindows, emptyVector, type Vector } from '../stats/vector.js';
import { emptyScope, FATIGUE_WINDOWS, type FatigueScope, type FatigueSnapshot, type FatigueWindow } from '../stats/fatigue.js';
import { DEFAULT_ABANDONED_LIMIT } from '../model/disposition.js';
import { withFatigueReason } from '../reputation/recommendation.js';
import { Family, formatValue, labels } from './exposition.js';
import { NUMBER_MANAGEMENT_FAMILIES } from './numberFamilies.js';
import type { CampaignJson, Enrich, PoolJson } from './json.js';

export interface Management {
  fatigue: FatigueSnapshot;
  capOf(pool: string): number;
  campaignOf(number: string): string | undefined;
  abandonedLimit: number;
}

/** What the outputs need from a runtime at `at`; `live` (serve): fatigue remade at most every fatigue.refresh_seconds. */
export function managementOf(rt: Runtime, at: number, live: boolean): Management {
  return {
    fatigue: live ? rt.fatigueNow(at) : rt.fatigueAt(at),
    capOf: (p) => rt.fatigueCapOf(p),
    campaignOf: (n) => rt.campaigns.get(n),
    abandonedLimit: rt.opts.abandonedLimit ?? DEFAULT_ABANDONED_LIMIT,
  };
}

/** A number's fatigue (zeros when it dialled no one in the windows). */
export function numberFatigue(m: Management, number: string, pool: string): FatigueScope {
  return m.fatigue.numbers.get(number) ?? emptyScope(m.capOf(pool));
}

/** The reputation fields, then the number's fatigue, named in the recommendation's reason when over the cap. */
export function withManagement(enrich: Enrich | undefined, m: Management): Enrich {
  return (v, json) => {
    enrich?.(v, json);
    const f = numberFatigue(m, v.number, v.pool);
    json.fatigue = f;
    if (json.recommendation) json.recommendation = withFatigueReason(json.recommendation, f);
  };
}

/** Sums of the numbers' 24h and 7d vectors by a key (pool, campaign). */
function sumBy(snap: Snapshot, keyOf: (number: string, pool: string) => string | undefined): Map<string, Record<FatigueWindow, Vector>> {
  const out = new Map<string, Record<FatigueWindow, Vector>>();
  for (const v of snap.numbers.values()) {
    const k = keyOf(v.number, v.pool);
    if (k === undefined) continue;
    let s = out.get(k);
    if (!s) out.set(k, (s = { '24h': emptyVector(), '7d': emptyVector() }));
    for (const w of FATIGUE_WINDOWS) if (v.windows[w]) addInto(s[w], v.windows[w]);
  }
  return out;
}

export function poolsJson(snap: Snapshot, m: Management): PoolJson[] {
  const sums = sumBy(snap, (_n, pool) => pool);
  const names = new Set([...sums.keys(), ...m.fatigue.pools.keys()]);
  return [...names].sort().map((pool) => {
    const d = sums.get(pool);
    const dispositions = d ? dispositionWindows(d) : undefined;
    return { pool, fatigue: m.fatigue.pools.get(pool) ?? emptyScope(m.capOf(pool)), ...(dispositions ? { dispositions } : {}) };
  });
}

/** Campaigns (inventory) whose numbers' records carried dispositions. */
export function campaignsJson(snap: Snapshot, m: Management): CampaignJson[] {
  const out: CampaignJson[] = [];
  for (const [campaign, w] of [...sumBy(snap, (n) => m.campaignOf(n))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const dispositions = dispositionWindows(w);
    if (!dispositions) continue;
    const share = dispositions['7d']?.abandoned_ratio ?? null;
    out.push({ campaign, dispositions, abandoned_limit: m.abandonedLimit, over_abandoned_limit: share !== null && share > m.abandonedLimit });
  }
  return out;
}

const fam = (name: string, help: string) => new Family(`numrep_${name}`, help, 'gauge');

/** The per-number management families of /metrics, in the order they are written (before the pool families). */

/**
 * One number's management series, one string per NUMBER_MANAGEMENT_FAMILIES entry: its fatigue `fz`
 * (undefined: it dialled no one in the windows) and the dispositions of its 24h/7d vectors. `base` is its
 * rendered `number`, `pool` labels.
 */
export function numberManagementRows(v: NumberView, fz: FatigueScope | undefined, base: string): string[] {
  const segs = NUMBER_MANAGEMENT_FAMILIES.map(() => '');
  for (const w of FATIGUE_WINDOWS) {
    const l = `${base},window="${w}"`;
    if (fz && fz[w].calls > 0) {
      segs[0] += seriesLine(NUMBER_MANAGEMENT_FAMILIES[0][0], l, fz[w].consumers);
      segs[1] += seriesLine(NUMBER_MANAGEMENT_FAMILIES[1][0], l, fz[w].repeat_dial_ratio);
      segs[2] += seriesLine(NUMBER_MANAGEMENT_FAMILIES[2][0], l, fz[w].consumers_over_cap);
      segs[3] += seriesLine(NUMBER_MANAGEMENT_FAMILIES[3][0], l, fz[w].attempts_over_cap);
    }
    const d = v.windows[w] ? dispositionsOf(v.windows[w]) : null;
    if (d) segs[4] += seriesLine(NUMBER_MANAGEMENT_FAMILIES[4][0], l, d.conversion_ratio);
  }
  return segs;
}

/** As Family.add writes one series, '\n'-terminated; absent values write nothing. */
function seriesLine(name: string, labelText: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return `${name}{${labelText}} ${formatValue(value)}\n`;
}

/**
 * The management families of /metrics (docs/metrics.md), rendered from the snapshot and the fatigue figures.
 * `numbers: false` leaves out the per-number families (serve's /metrics keeps their text between scrapes and
 * writes them itself, before these).
 */
export function renderManagement(snap: Snapshot, m: Management, out: string[], opts: { numbers?: boolean } = {}): void {
  const f = {
    poolConsumers: fam('pool_consumers', 'Distinct consumers the pool dialled in the window.'),
    poolRepeat: fam('pool_repeat_dial_ratio', 'Calls to a consumer the pool already dialled in the window / calls.'),
    poolOver: fam('pool_consumers_over_cap', 'Consumers the pool (any of its numbers) called more than the daily cap within 24 h, in the window.'),
    poolAttempts: fam('pool_attempts_over_cap', 'Calls beyond the daily cap to one consumer from the pool, in the window.'),
    poolCap: fam('pool_consumer_daily_cap', 'Calls to one consumer in 24 h beyond which a call is over the cap (fatigue.daily_cap).'),
    poolConversion: fam('pool_conversion_ratio', "Conversions / calls that reached a person across the pool, by the dialer's dispositions."),
    poolAbandoned: fam('pool_abandoned_ratio', 'Abandoned calls / (calls that reached a person + abandoned) across the pool.'),
    campaignAbandoned: fam('campaign_abandoned_ratio', 'Abandoned calls / (calls that reached a person + abandoned) of the campaign (the 3 % rule).'),
    limit: fam('abandoned_ratio_limit', 'The abandoned share a campaign may reach (dispositions.abandoned_limit).'),
  };
  if (opts.numbers !== false) {
    const segs: string[][] = [];
    for (const v of snap.numbers.values()) segs.push(numberManagementRows(v, m.fatigue.numbers.get(v.number), labels({ number: v.number, pool: v.pool })));
    NUMBER_MANAGEMENT_FAMILIES.forEach(([name, help], i) => {
      const text = segs.map((s) => s[i]).join('');
      if (text !== '') out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, text.slice(0, -1));
    });
  }
  const pools = poolsJson(snap, m);
  for (const p of pools) {
    f.poolCap.add(labels({ pool: p.pool }), p.fatigue.cap);
    for (const w of FATIGUE_WINDOWS) {
      const l = labels({ pool: p.pool, window: w });
      const fz = p.fatigue[w];
      if (fz.calls > 0) {
        f.poolConsumers.add(l, fz.consumers);
        f.poolRepeat.add(l, fz.repeat_dial_ratio);
        f.poolOver.add(l, fz.consumers_over_cap);
        f.poolAttempts.add(l, fz.attempts_over_cap);
      }
      const d = p.dispositions?.[w];
      if (d) {
        f.poolConversion.add(l, d.conversion_ratio);
        f.poolAbandoned.add(l, d.abandoned_ratio);
      }
    }
  }
  for (const c of campaignsJson(snap, m)) {
    for (const w of FATIGUE_WINDOWS) f.campaignAbandoned.add(labels({ campaign: c.campaign, window: w }), c.dispositions[w]?.abandoned_ratio);
  }
  const { limit, ...rest } = f;
  for (const x of Object.values(rest)) x.render(out);
  out.push(`# HELP ${limit.name} ${limit.help}`, `# TYPE ${limit.name} gauge`, `${limit.name} ${m.abandonedLimit}`);
}

// Per number × carrier flag (docs/scoring.md §6): clean | warning | flagged, with the reason.
//
// flagged — direct evidence, at any volume: blocks (608 / 603+) from the carrier (`carrier.blockMinCount`,
// default 1), or the carrier's analytics engine labels the number.
// warning — early warning: the number's outcomes on the carrier shifted toward ring-outs, declines and short
// calls against its own earlier days there (evidence.ts, at the level the false-alarm budget sets).
// The industry bands and the pool comparisons are context in the reasons, never triggers.

import type { Kpis } from '../model/types.js';
import type { ReputationConfig } from './config.js';
import { addCounts, countsOf, pct, subCounts, ZERO_COUNTS, type Counts } from './math.js';
import type { WindowName } from '../model/types.js';
import { outcomeShift, type Evidence, type EvidenceCounts } from './evidence.js';

export const CARRIER_FLAGS = ['clean', 'warning', 'flagged'] as const;
export type CarrierFlag = (typeof CARRIER_FLAGS)[number];
export type FlagWindow = '24h' | '7d';
export const FLAG_WINDOWS: readonly FlagWindow[] = ['24h', '7d'];

export const flagRank: Record<CarrierFlag, number> = { clean: 0, warning: 1, flagged: 2 };
export const worseFlag = (a: CarrierFlag, b: CarrierFlag): CarrierFlag => (flagRank[b] > flagRank[a] ? b : a);

export type WindowCounts = Record<FlagWindow, Counts>;

/** Pool-wide counts per carrier and in total, per window (24h and 7d, and the evidence windows when known). */
export interface Baselines {
  carriers: Record<string, WindowCounts & EvidenceCounts>;
  pool: WindowCounts & EvidenceCounts;
}

export const EMPTY_BASELINES: Baselines = {
  carriers: {},
  pool: { '24h': { ...ZERO_COUNTS }, '7d': { ...ZERO_COUNTS } },
};

const EVIDENCE_INPUT_WINDOWS: WindowName[] = ['24h', '48h', '72h', '7d'];

/**
 * Build baselines from the pool's per-carrier KPIs (all numbers together), e.g. the same
 * `{ tmobile: { '24h': Kpis, '7d': Kpis } }` that feeds `numrep_carrier_*`. The pool total is their sum.
 * Each number is later compared with the pool minus its own calls (leave-one-out), so pass totals
 * that include it.
 */
export function carrierBaselines(perCarrier: Record<string, Partial<Record<WindowName, Kpis | null>>>): Baselines {
  const carriers: Baselines['carriers'] = {};
  const pool: Baselines['pool'] = { '24h': { ...ZERO_COUNTS }, '7d': { ...ZERO_COUNTS } };
  for (const [carrier, w] of Object.entries(perCarrier)) {
    const wc: Baselines['carriers'][string] = { '24h': countsOf(w['24h']), '7d': countsOf(w['7d']) };
    for (const name of EVIDENCE_INPUT_WINDOWS) {
      if (name === '24h' || name === '7d' || !w[name]) continue;
      wc[name] = countsOf(w[name]);
    }
    carriers[carrier] = wc;
    for (const name of EVIDENCE_INPUT_WINDOWS) {
      const c = wc[name];
      if (c) pool[name] = addCounts(pool[name] ?? { ...ZERO_COUNTS }, c);
    }
  }
  return { carriers, pool };
}

export interface CarrierWindowInput {
  carrier: string;
  window: FlagWindow;
  /** The number's calls on this carrier in the window. */
  own: Counts;
  /** The carrier's engine label, when it is not benign. */
  label?: { engine: string; label: string } | null;
}

export interface CarrierFlagResult {
  flag: CarrierFlag;
  reason: string;
  /** Every finding at the reported level, e.g. ['blocks', 'label']. */
  kinds: string[];
  /** Blocked calls (608/603+) on the carrier in the window. */
  blocked: number;
}

/** Direct evidence on one carrier in one window: its engine's label, and blocks at any count. */
export function flagCarrierWindow(inp: CarrierWindowInput, cfg: ReputationConfig): CarrierFlagResult {
  const c = cfg.carrier;
  const { own, carrier, window } = inp;
  const flagged: Array<[string, string]> = [];
  const warned: Array<[string, string]> = [];
  if (inp.label) {
    flagged.push(['label', `labelled ${inp.label.label} by ${inp.label.engine}, ${carrier}'s analytics engine`]);
  }
  if (own.blocked > 0) {
    const br = own.blocked / own.calls;
    if (own.blocked >= c.blockMinCount && br >= c.blockMinRatio) {
      flagged.push(['blocks', `${own.blocked} blocked (608/603+) of ${own.calls} calls on ${carrier} (${pct(br, 1)}, ${window})`]);
    } else {
      warned.push(['blocks', `${own.blocked} blocked (608/603+) of ${own.calls} calls on ${carrier} (${window}), below the flag threshold`]);
    }
  }
  const blocked = own.blocked;
  if (flagged.length) return { flag: 'flagged', reason: flagged.map((f) => f[1]).join('; '), kinds: flagged.map((f) => f[0]), blocked };
  if (warned.length) return { flag: 'warning', reason: warned.map((f) => f[1]).join('; '), kinds: warned.map((f) => f[0]), blocked };
  return { flag: 'clean', reason: `no block or label on ${carrier} over ${own.calls} calls (${window})`, kinds: [], blocked };
}

/** The reason of an evidence test, met or not. */
export function evidenceReason(ev: Evidence, where: string): string {
  return (
    `487 + declined/busy + short calls ${pct(ev.badNow)} ${where} in ${ev.window} vs ${pct(ev.badExpected)} expected from its earlier days` +
    `${ev.poolMoved ? ' (moved as the pool moved there)' : ''}, answered ≥ 10 s ${pct(ev.longNow)} vs ${pct(ev.longExpected)}` +
    ` over ${ev.calls} calls (${ev.priorCalls} before); evidence ${ev.g.toFixed(1)} ${ev.met ? '>' : '≤'} ${ev.threshold.toFixed(1)}`
  );
}

export interface CarrierAssessment {
  /** The worst of the two windows' direct evidence and the early-warning evidence. */
  flag: CarrierFlag;
  reason: string;
  windows: Record<FlagWindow, CarrierFlagResult>;
  /** The early-warning test on this carrier (null: too few calls). */
  evidence: Evidence | null;
}

export interface FlagCarriersOptions {
  /**
   * The name of the carrier the number's carriers beyond the cap were folded into (OTHER_CARRIER), when
   * they were (NumberView.foldedCarriers > 0). It mixes carriers: its evidence has no pool to move with.
   */
  folded?: string | null;
  /** The evidence threshold (evidence.ts thresholdFor of the budget level); Infinity: no early warning. */
  threshold?: number;
}

/**
 * Flag every carrier the number used. `labels` are the number's non-benign engine labels by engine id; a
 * carrier is flagged when `config.carrier.engines[carrier]` is one of them. O(carriers).
 */
export function flagCarriers(
  own: Record<string, Partial<Record<WindowName, Kpis | null>>>,
  baselines: Baselines,
  labels: Record<string, string>,
  cfg: ReputationConfig,
  opts: FlagCarriersOptions = {},
): Record<string, CarrierAssessment> {
  const out: Record<string, CarrierAssessment> = {};
  const threshold = opts.threshold ?? Number.POSITIVE_INFINITY;
  for (const car of Object.keys(own).sort()) {
    const w = own[car]!;
    const counts: EvidenceCounts = {};
    for (const name of EVIDENCE_INPUT_WINDOWS) if (w[name] || name === '24h' || name === '7d') counts[name] = countsOf(w[name]);
    const folded = opts.folded !== undefined && opts.folded !== null && car === opts.folded;
    const engine = folded ? undefined : cfg.carrier.engines[car];
    const label = engine && labels[engine] ? { engine, label: labels[engine]! } : null;
    const windows = {} as Record<FlagWindow, CarrierFlagResult>;
    for (const fw of FLAG_WINDOWS) windows[fw] = flagCarrierWindow({ carrier: car, window: fw, own: counts[fw]!, label }, cfg);
    const evidence = outcomeShift(counts, folded ? null : (baselines.carriers[car] ?? null), threshold, cfg);
    const worst = flagRank[windows['7d'].flag] > flagRank[windows['24h'].flag] ? windows['7d'] : windows['24h'];
    let flag = worst.flag;
    let reason = worst.reason;
    if (evidence?.met && flag === 'clean') {
      flag = 'warning';
      reason = evidenceReason(evidence, `on ${car}`);
    }
    out[car] = { flag, reason, windows, evidence };
  }
  return out;
}

// Per number × carrier flag (docs/scoring.md §6): clean | warning | flagged, with the reason.
//
// warning — the number's cancel (487) or rejection ratio on the carrier stands significantly above the
// rest of the pool on that carrier, or its answer ratio collapses on that carrier only. "Significantly"
// is a one-sided Wilson score bound: the lower bound of the number's ratio must exceed baseline + margin
// (for answer collapse: the upper bound must fall below baseline − answerMargin), and the carrier must have
// carried at least `carrier.minCalls` calls from the number in the window. Also warning (24h only): the
// number's refusals (487 + rejected + busy) on the carrier rose against its OWN prior 6 days there — the
// one-sided Newcombe lower bound of the rise exceeds `carrier.ownHistory.margin` (docs/scoring.md §6.2).
// flagged — blocks (608 / 603+) from the carrier above a small threshold, or the carrier's engine labels it.

import type { Kpis } from '../model/types.js';
import type { ReputationConfig } from './config.js';
import { addCounts, countsOf, newcombeLower, pct, subCounts, wilsonLower, wilsonUpper, ZERO_COUNTS, type Counts } from './math.js';

export const CARRIER_FLAGS = ['clean', 'warning', 'flagged'] as const;
export type CarrierFlag = (typeof CARRIER_FLAGS)[number];
export type FlagWindow = '24h' | '7d';
export const FLAG_WINDOWS: readonly FlagWindow[] = ['24h', '7d'];

export const flagRank: Record<CarrierFlag, number> = { clean: 0, warning: 1, flagged: 2 };
export const worseFlag = (a: CarrierFlag, b: CarrierFlag): CarrierFlag => (flagRank[b] > flagRank[a] ? b : a);

export type WindowCounts = Record<FlagWindow, Counts>;

/** Pool-wide counts per carrier and in total, per window: the baselines the carrier test compares against. */
export interface Baselines {
  carriers: Record<string, WindowCounts>;
  pool: WindowCounts;
}

export const EMPTY_BASELINES: Baselines = {
  carriers: {},
  pool: { '24h': { ...ZERO_COUNTS }, '7d': { ...ZERO_COUNTS } },
};

/**
 * Build baselines from the pool's per-carrier KPIs (all numbers together), e.g. the same
 * `{ tmobile: { '24h': Kpis, '7d': Kpis } }` that feeds `numrep_carrier_*`. The pool total is their sum.
 * Each number is later compared with the pool minus its own calls (leave-one-out), so pass totals
 * that include it.
 */
export function carrierBaselines(perCarrier: Record<string, Partial<Record<FlagWindow, Kpis | null>>>): Baselines {
  const carriers: Record<string, WindowCounts> = {};
  let pool: WindowCounts = { '24h': { ...ZERO_COUNTS }, '7d': { ...ZERO_COUNTS } };
  for (const [carrier, w] of Object.entries(perCarrier)) {
    const wc: WindowCounts = { '24h': countsOf(w['24h']), '7d': countsOf(w['7d']) };
    carriers[carrier] = wc;
    pool = { '24h': addCounts(pool['24h'], wc['24h']), '7d': addCounts(pool['7d'], wc['7d']) };
  }
  return { carriers, pool };
}

export interface BaselineRatios {
  calls: number;
  answer: number;
  cancel: number;
  rejection: number;
  /** True when the rest of the pool was too thin and the configured defaults were used. */
  fallback: boolean;
}

export function baselineRatios(rest: Counts | null | undefined, cfg: ReputationConfig): BaselineRatios {
  const d = cfg.carrier.defaultBaseline;
  if (!rest || rest.calls < Math.max(1, cfg.carrier.baselineMinCalls)) {
    return { calls: rest?.calls ?? 0, answer: d.answer, cancel: d.cancel, rejection: d.rejection, fallback: true };
  }
  return {
    calls: rest.calls,
    answer: rest.answered / rest.calls,
    cancel: rest.cancelled / rest.calls,
    rejection: rest.rejected / rest.calls,
    fallback: false,
  };
}

export interface CarrierWindowInput {
  carrier: string;
  window: FlagWindow;
  /** The number's calls on this carrier in the window. */
  own: Counts;
  /** Rest of the pool on this carrier (pool − this number). */
  rest: Counts | null;
  /**
   * The number's own calls on this carrier over its prior 6 days (7d − 24h), for the own-history test of
   * the 24h window. Null/absent in the 7d window (it has no earlier period to compare with).
   */
  prior?: Counts | null;
  /** The number's calls on every other carrier, and the answer ratio the pool gets there (call-weighted). */
  others?: { counts: Counts; expectedAnswer: number } | null;
  /** The carrier's engine label, when it is not benign. */
  label?: { engine: string; label: string } | null;
}

export interface CarrierFlagResult {
  flag: CarrierFlag;
  reason: string;
  /** Every finding at the reported level, e.g. ['cancel'] or ['blocks', 'label']. */
  kinds: string[];
}

/** Ratios closer than this are equal (rounding of sums of products, see flagCarrierWindow). */
const RATIO_TIE = 1e-9;

const baseNote = (b: BaselineRatios) => (b.fallback ? 'default baseline' : 'pool baseline');

export interface OwnRise {
  /** Refusal ratio (487 + rejected + busy) / calls in the last 24 h. */
  now: number;
  /** The same over the prior 6 days. */
  before: number;
  calls: number;
  priorCalls: number;
  /** One-sided Newcombe lower bound of now − before. */
  lower: number;
  /** lower > margin. */
  warn: boolean;
}

/**
 * Own-history refusal test (docs/scoring.md §6.2): refusals (cancelled 487 + rejected + busy) of the last
 * 24 h against the same number × carrier's prior 6 days. Null when either sample is below its floor
 * (`ownHistory.minCalls` and `carrier.minCalls` in 24h, `ownHistory.minPriorCalls` before) or the test is off.
 */
export function ownRefusalRise(last24h: Counts, prior: Counts | null | undefined, cfg: ReputationConfig): OwnRise | null {
  const o = cfg.carrier.ownHistory;
  if (!o.enabled || !prior) return null;
  const n = last24h.calls;
  const m = prior.calls;
  if (n < Math.max(1, o.minCalls, cfg.carrier.minCalls) || m < Math.max(1, o.minPriorCalls)) return null;
  const x = Math.min(n, last24h.cancelled + last24h.rejected);
  const y = Math.min(m, prior.cancelled + prior.rejected);
  const lower = newcombeLower(x, n, y, m, o.z)!;
  return { now: x / n, before: y / m, calls: n, priorCalls: m, lower, warn: lower > o.margin };
}

/** Flag one carrier in one window. */
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

  const enough = own.calls >= c.minCalls;
  if (enough) {
    const b = baselineRatios(inp.rest, cfg);
    const n = own.calls;
    const cancelLo = wilsonLower(own.cancelled, n, c.z);
    if (cancelLo > b.cancel + c.margin) {
      warned.push([
        'cancel',
        `487 rate ${pct(own.cancelled / n)} on ${carrier} vs ${pct(b.cancel)} ${baseNote(b)} over ${n} calls (${window}; lower bound ${pct(cancelLo)})`,
      ]);
    }
    const rejLo = wilsonLower(own.rejected, n, c.z);
    if (rejLo > b.rejection + c.margin) {
      warned.push([
        'rejection',
        `rejection rate ${pct(own.rejected / n)} on ${carrier} vs ${pct(b.rejection)} ${baseNote(b)} over ${n} calls (${window}; lower bound ${pct(rejLo)})`,
      ]);
    }
    const rise = window === '24h' ? ownRefusalRise(own, inp.prior, cfg) : null;
    if (rise?.warn) {
      warned.push([
        'own_refusal',
        `487+rejections ${pct(rise.now)} on ${carrier} in 24h vs ${pct(rise.before)} over its prior 6 days (${rise.calls} calls vs ${rise.priorCalls} before; lower bound of the rise ${(100 * rise.lower).toFixed(0)} points)`,
      ]);
    }
    const ansHi = wilsonUpper(own.answered, n, c.z);
    if (ansHi < b.answer - c.answerMargin) {
      const o = inp.others;
      // A tie is a tie: expectedAnswer is a sum of products whose last bits depend on the order it was
      // summed in, so "at least" allows for that rounding (any real gap between two ratios of call counts
      // is many orders of magnitude wider).
      const elsewhereOk =
        !o || o.counts.calls === 0 || o.counts.answered / o.counts.calls >= o.expectedAnswer - c.margin - RATIO_TIE;
      if (elsewhereOk) {
        const tail = o && o.counts.calls > 0 ? `, ${pct(o.counts.answered / o.counts.calls)} on other carriers` : '';
        warned.push([
          'answer_collapse',
          `answer rate ${pct(own.answered / n)} on ${carrier} vs ${pct(b.answer)} ${baseNote(b)} over ${n} calls (${window}; upper bound ${pct(ansHi)}${tail})`,
        ]);
      }
    }
  }

  if (flagged.length) return { flag: 'flagged', reason: flagged.map((f) => f[1]).join('; '), kinds: flagged.map((f) => f[0]) };
  if (warned.length) return { flag: 'warning', reason: warned.map((f) => f[1]).join('; '), kinds: warned.map((f) => f[0]) };
  return {
    flag: 'clean',
    reason: enough
      ? `no anomaly on ${carrier} over ${own.calls} calls (${window})`
      : `${own.calls} calls on ${carrier} (${window}), fewer than ${c.minCalls} needed to judge`,
    kinds: [],
  };
}

export interface CarrierAssessment {
  /** The worse of the two windows. */
  flag: CarrierFlag;
  reason: string;
  windows: Record<FlagWindow, CarrierFlagResult>;
}

export interface FlagCarriersOptions {
  /**
   * The name of the carrier the number's carriers beyond the cap were folded into (OTHER_CARRIER), when
   * they were (NumberView.foldedCarriers > 0). Its pool baseline is then the pool on every carrier not
   * named for this number (pool total − the named carriers' pool sums), as it mixes carriers.
   */
  folded?: string | null;
}

/**
 * Flag every carrier the number used, in the 24h and 7d windows. `labels` are the number's non-benign
 * engine labels by engine id; a carrier is flagged when `config.carrier.engines[carrier]` is one of them.
 *
 * O(carriers): what the number did on every other carrier (and the answer ratio the pool gets there) is
 * the number's sum over all its carriers minus the carrier itself, not a loop over the others per carrier
 * (O(carriers²): minutes for one number over 10,000 carriers, probe F1).
 */
export function flagCarriers(
  own: Record<string, Partial<Record<FlagWindow, Kpis | null>>>,
  baselines: Baselines,
  labels: Record<string, string>,
  cfg: ReputationConfig,
  opts: FlagCarriersOptions = {},
): Record<string, CarrierAssessment> {
  const carriers = Object.keys(own).sort();
  const counts: Record<string, WindowCounts> = {};
  for (const car of carriers) counts[car] = { '24h': countsOf(own[car]!['24h']), '7d': countsOf(own[car]!['7d']) };
  const folded = opts.folded && counts[opts.folded] ? opts.folded : null;

  // Per window: each carrier's pool counts, the rest of the pool there (pool − the number), and its term
  // in the expected answer elsewhere; and the number's totals over all carriers with calls.
  const restOf = {} as Record<FlagWindow, Map<string, Counts | null>>;
  const termOf = {} as Record<FlagWindow, Map<string, number>>;
  const totalCounts = {} as Record<FlagWindow, Counts>;
  const totalTerm = {} as Record<FlagWindow, number>;
  for (const w of FLAG_WINDOWS) {
    const pooled = new Map<string, Counts | null>();
    for (const car of carriers) if (car !== folded) pooled.set(car, baselines.carriers[car]?.[w] ?? null);
    if (folded) {
      // The pool on every carrier not named for this number.
      let named: Counts = { ...ZERO_COUNTS };
      for (const p of pooled.values()) if (p) named = addCounts(named, p);
      pooled.set(folded, subCounts(baselines.pool[w], named));
    }
    const rest = new Map<string, Counts | null>();
    const term = new Map<string, number>();
    let tc: Counts = { ...ZERO_COUNTS };
    let tt = 0;
    for (const car of carriers) {
      const mine = counts[car]![w];
      const p = pooled.get(car) ?? null;
      const r = p ? subCounts(p, mine) : null;
      rest.set(car, r);
      if (mine.calls === 0) continue;
      const t = mine.calls * baselineRatios(r, cfg).answer;
      term.set(car, t);
      tc = addCounts(tc, mine);
      tt += t;
    }
    restOf[w] = rest;
    termOf[w] = term;
    totalCounts[w] = tc;
    totalTerm[w] = tt;
  }

  const out: Record<string, CarrierAssessment> = {};
  for (const car of carriers) {
    const engine = car === folded ? undefined : cfg.carrier.engines[car];
    const label = engine && labels[engine] ? { engine, label: labels[engine]! } : null;
    const windows = {} as Record<FlagWindow, CarrierFlagResult>;
    for (const w of FLAG_WINDOWS) {
      const mine = counts[car]![w];
      // Other carriers: the number's own calls there, and the pool's answer ratio there (call-weighted).
      const oc = mine.calls === 0 ? totalCounts[w] : exactSub(totalCounts[w], mine);
      const expected = mine.calls === 0 ? totalTerm[w] : totalTerm[w] - termOf[w].get(car)!;
      windows[w] = flagCarrierWindow(
        {
          carrier: car,
          window: w,
          own: mine,
          rest: restOf[w].get(car) ?? null,
          prior: w === '24h' ? subCounts(counts[car]!['7d'], mine) : null,
          others: oc.calls > 0 ? { counts: oc, expectedAnswer: Math.max(0, expected) / oc.calls } : null,
          label,
        },
        cfg,
      );
    }
    const worst = flagRank[windows['7d'].flag] > flagRank[windows['24h'].flag] ? windows['7d'] : windows['24h'];
    out[car] = { flag: worst.flag, reason: worst.reason, windows };
  }
  return out;
}

/** a − b without flooring (b is part of the sum a, so every field stays ≥ 0 up to rounding of talkSec). */
function exactSub(a: Counts, b: Counts): Counts {
  return {
    calls: a.calls - b.calls,
    answered: a.answered - b.answered,
    cancelled: a.cancelled - b.cancelled,
    rejected: a.rejected - b.rejected,
    blocked: a.blocked - b.blocked,
    voicemail: a.voicemail - b.voicemail,
    short: a.short - b.short,
    talkSec: Math.max(0, a.talkSec - b.talkSec),
  };
}

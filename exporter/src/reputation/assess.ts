// One entry point for the reputation engine: KPIs of a number → sub-scores → score → carrier flags →
// status → recommendation. Pure: the clock comes in `ctx.now`.

import type { Kpis, WindowName } from '../model/types.js';
import { DEFAULT_REPUTATION_CONFIG, DIMENSIONS, ENGINES, type Dimension, type ReputationConfig } from './config.js';
import { countsOf, subCounts, type Counts } from './math.js';
import { subscores, reportRatio, answerDropPoints, type Rating } from './subscores.js';
import { composite, scoreCaps, type Band, type ScoreCap } from './score.js';
import { EMPTY_BASELINES, flagCarriers, type Baselines, type CarrierAssessment } from './carrierFlag.js';
import { decideStatus, numberSignals, type Status } from './status.js';
import { recommend, type Recommendation } from './recommendation.js';
import { velocity, type Velocity } from './velocity.js';
import { budgetLevel, EVIDENCE_WINDOWS, outcomeShift, thresholdFor, type EvidenceCounts } from './evidence.js';
import { diagnose, type Diagnosis } from './diagnosis.js';
import { conversionDrop, type ConversionCounts } from './engagement.js';
import { ALL_CARRIERS, carrierEvents, type CarrierEvent } from './events.js';
import type { Signal } from './signals.js';

export interface EngineLabel {
  /** Normalised label (clean, spam, scam, fraud, telemarketer, nuisance, political, unknown, …). */
  label: string;
  /** When the engine was checked: ISO 8601 string or UTC ms. */
  checked_at?: string | number | null;
  /** Spam reports the engine knows of, if the snapshot said. */
  reports?: number | null;
}

export interface NumberInput {
  number?: string;
  /**
   * The number's KPIs per window (docs/architecture.md#kpis). `1h` feeds only the hourly velocity cap; `48h` and
   * `72h` the early-warning evidence (and sustained pacing).
   */
  windows: { '1h'?: Kpis | null; '24h': Kpis; '48h'?: Kpis | null; '72h'?: Kpis | null; '7d': Kpis };
  /** The number's KPIs per terminating carrier and window. */
  carriers?: Record<string, Partial<Record<WindowName, Kpis | null>>>;
  /** The key in `carriers` that sums the carriers beyond the per-number cap, when some were folded (`other`). */
  foldedCarrier?: string | null;
  /** First / newest call seen, UTC ms (inventory registration may stand in for firstSeen). */
  firstSeen?: number | null;
  lastSeen?: number | null;
  /** Days with at least one call among the last 7 (0–7). Optional: derived from 24h vs 7d when absent. */
  activeDays7d?: number | null;
  /** Latest label per engine (hiya, first_orion, tns, other). */
  engines?: Partial<Record<string, EngineLabel | null>>;
  /** Spam reports for the number; when absent, the largest `reports` among the engine labels. */
  spamReports?: number | null;
  /** The dialer's dispositions in 24h and 7d, when the number's records carried any (the diagnosis reads them). */
  dispositions?: { '24h'?: ConversionCounts | null; '7d'?: ConversionCounts | null } | null;
}

export interface AssessContext {
  /** Evaluation time, UTC ms. */
  now: number;
  config?: ReputationConfig;
  /** From carrierBaselines(pool per-carrier KPIs); totals including this number (it is left out here). */
  baselines?: Baselines;
  /** Pool and carrier events (events.ts carrierEvents of the same baselines), for the diagnosis; made from them when absent. */
  events?: CarrierEvent[];
}

export interface Assessment {
  number: string | null;
  evaluatedAt: number;
  /** Composite 0–100 (integer). */
  score: number;
  band: Band;
  /** Integer sub-scores 0–100. */
  subscores: Record<Dimension, number>;
  ratings: Record<Dimension, Rating>;
  /** Caps that applied to the score. */
  caps: ScoreCap[];
  status: Status;
  statusReason: string;
  recommendation: Recommendation;
  /** Per carrier: the worse of the 24h and 7d flags, its reason, and both windows. */
  carriers: Record<string, CarrierAssessment>;
  /** 1 when the engine's latest label is flagging (not in config.labels.benign), else 0; engines with a label only. */
  engineFlagged: Record<string, 0 | 1>;
  /** Spam reports per delivered call (7d), where reports are known. */
  reportRatio: number | null;
  velocity: Velocity;
  /** Every figure behind the verdict, met or not (the JSON's `signals`). */
  signals: Signal[];
  diagnosis: Diagnosis;
  diagnosisReason: string;
  /** The figures each sub-score was built from (docs/scoring.md). */
  detail: Record<Dimension, Record<string, number | null>>;
  /**
   * False when score, sub-scores, ratings, band, status, action and rest date, carrier flags, engine flags and
   * report ratio cannot depend on the pool baselines (see readsBaselines); only reasons and `detail` may.
   */
  pooled: boolean;
}

const DAY = 86_400_000;

/**
 * Whether an assessment's outcome (everything but reason texts and `detail`) may depend on the pool
 * baselines, from the number's own counts alone. The baselines enter assessNumber only as:
 * - `pool` (rest of the pool): connectionScore reads it for the cancel penalty (applied only when
 *   w7d.calls ≥ connection.cancelMinCalls) and the own-drop penalty (only when the number's own
 *   answerDropPoints is not null); numberSignals reads it per window only past the
 *   `n < max(1, signals.minCalls)` gate and for answer_drop only when the own drop is not null;
 *   recommend gets the pool drop for its reason text only;
 * - `baselines.carriers` in flagCarriers: the rest of the pool on the carrier and the other carriers'
 *   expected answer ratio are read only when the number's calls on the carrier in that window reach
 *   carrier.minCalls (`enough`); the fallback note is reason text.
 * When none of those gates opens, two assessments with any two baselines agree on everything else.
 * Pinned by test/reputation/baselines.test.ts (random inputs and baselines).
 */
export function readsBaselines(
  w24h: Counts,
  w7d: Counts,
  carriers: Record<string, { '24h': Counts; '7d': Counts }>,
  cfg: ReputationConfig,
): boolean {
  if (w7d.calls >= cfg.connection.cancelMinCalls) return true;
  if (answerDropPoints(w24h, w7d, cfg.connection.dropMinCalls) !== null) return true;
  // The evidence tests read the pool (prior and moves) once a window holds earlyWarning.minCalls calls; every
  // evidence window lies inside 7d, so 7d calls below that floor mean none did.
  const minEvidence = Math.max(1, cfg.earlyWarning.minCalls);
  if (w7d.calls - w7d.blocked >= minEvidence) return true;
  for (const c of Object.values(carriers)) if (c['7d'].calls - c['7d'].blocked >= minEvidence) return true;
  return false;
}

function checkedIso(v: string | number | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? new Date(v).toISOString() : null;
  return v;
}

export function assessNumber(input: NumberInput, ctx: AssessContext): Assessment {
  const cfg = ctx.config ?? DEFAULT_REPUTATION_CONFIG;
  const baselines = ctx.baselines ?? EMPTY_BASELINES;
  const w1h = input.windows['1h'] ? countsOf(input.windows['1h']) : null;
  const w24h = countsOf(input.windows['24h']);
  const w7d = countsOf(input.windows['7d']);

  // Labels: engines whose latest label is not benign, in ENGINES order then by name.
  const benign = new Set(cfg.labels.benign.map((l) => l.toLowerCase()));
  const engineFlagged: Record<string, 0 | 1> = {};
  const labels: Array<{ engine: string; label: string; checked_at: string | null }> = [];
  const engineOrder = (e: string) => {
    const i = (ENGINES as readonly string[]).indexOf(e);
    return i < 0 ? ENGINES.length : i;
  };
  let maxReports: number | null = null;
  for (const [engine, l] of Object.entries(input.engines ?? {}).sort((a, b) => engineOrder(a[0]) - engineOrder(b[0]) || a[0].localeCompare(b[0]))) {
    if (!l) continue;
    const flagged = !benign.has(l.label.toLowerCase());
    engineFlagged[engine] = flagged ? 1 : 0;
    if (flagged) labels.push({ engine, label: l.label, checked_at: checkedIso(l.checked_at) });
    if (typeof l.reports === 'number' && Number.isFinite(l.reports)) maxReports = Math.max(maxReports ?? 0, l.reports);
  }
  const labelByEngine: Record<string, string> = {};
  for (const l of labels) labelByEngine[l.engine] = l.label;
  const spamReports = input.spamReports ?? maxReports;

  // Rest of the pool: pool totals minus this number's own calls.
  const hasPool = baselines.pool['7d'].calls > 0;
  const pool: { '24h': Counts; '7d': Counts } | null = hasPool
    ? { '24h': subCounts(baselines.pool['24h'], w24h), '7d': subCounts(baselines.pool['7d'], w7d) }
    : null;

  const ageDays = input.firstSeen === null || input.firstSeen === undefined ? null : Math.max(0, (ctx.now - input.firstSeen) / DAY);
  const subs = subscores(
    { w1h, w24h, w7d, pool, ageDays, activeDays7d: input.activeDays7d ?? null, spamReports, labelled: labels.length > 0 },
    cfg,
  );
  const carrierCounts: Record<string, { '24h': Counts; '7d': Counts }> = {};
  for (const [c, w] of Object.entries(input.carriers ?? {})) carrierCounts[c] = { '24h': countsOf(w['24h']), '7d': countsOf(w['7d']) };
  const caps = scoreCaps({ w24h, w7d, carriers: carrierCounts, labels }, cfg);
  const comp = composite(subs, caps, cfg);

  // Early warning: one test per carrier and one over all carriers, three windows each, at the budget's level.
  const carrierNames = Object.keys(input.carriers ?? {});
  const threshold = thresholdFor(budgetLevel((carrierNames.length + 1) * EVIDENCE_WINDOWS.length, cfg), cfg.earlyWarning.test === 'multinomial' ? 4 : 1);
  const carriers = flagCarriers(input.carriers ?? {}, baselines, labelByEngine, cfg, { folded: input.foldedCarrier, threshold });
  const ownAll: EvidenceCounts = { '24h': w24h, '7d': w7d };
  if (input.windows['48h']) ownAll['48h'] = countsOf(input.windows['48h']);
  if (input.windows['72h']) ownAll['72h'] = countsOf(input.windows['72h']);
  const evidence = outcomeShift(ownAll, baselines.pool, threshold, cfg);
  const rr = reportRatio(spamReports, w7d);
  const vel = velocity(w1h, w24h, cfg, ownAll['72h'] ?? null);
  const signals = numberSignals({ w24h, w7d, carriers, evidence, reportRatio: rr, velocity: vel }, cfg);
  const conversion = conversionDrop({ w24h, w7d, dispositions: input.dispositions }, cfg);
  if (conversion) signals.push(conversion);
  const st = decideStatus({ calls7d: w7d.calls, labels, carriers, signals, blocked24h: w24h.blocked, blocked7d: w7d.blocked }, cfg);
  // Events come with the baselines they are made of (evaluate.ts makes them once per snapshot).
  const events = (ctx.events ?? carrierEvents(baselines, cfg)).filter((e) => e.active && (e.carrier === ALL_CARRIERS || carriers[e.carrier]));
  const diag = diagnose({ labelled: labels.length > 0, carriers, signals, events });
  const recommendation = recommend(
    {
      now: ctx.now,
      status: st.status,
      statusReason: st.reason,
      score: comp.score,
      band: comp.band,
      labels,
      signals,
      velocity: vel,
      calls7d: w7d.calls,
      answerRatio7d: w7d.calls > 0 ? w7d.answered / w7d.calls : null,
      events: events.map((e) => e.reason),
    },
    cfg,
  );

  const detail = {} as Record<Dimension, Record<string, number | null>>;
  for (const d of DIMENSIONS) detail[d] = subs[d].parts;

  return {
    number: input.number ?? null,
    evaluatedAt: ctx.now,
    score: comp.score,
    band: comp.band,
    subscores: comp.subscores,
    ratings: comp.ratings,
    caps,
    status: st.status,
    statusReason: st.reason,
    recommendation,
    carriers,
    engineFlagged,
    reportRatio: rr,
    velocity: vel,
    signals,
    diagnosis: diag.diagnosis,
    diagnosisReason: diag.reason,
    detail,
    pooled: readsBaselines(w24h, w7d, carrierCounts, cfg),
  };
}

/**
 * The reputation fields of a docs/architecture.md#json number entry (merge with number, pool, windows, KPIs, engines,
 * first_seen, last_seen, attestation, and the carriers' KPIs which the caller owns).
 */
export function assessmentJson(a: Assessment): {
  status: Status;
  score: number;
  subscores: Record<Dimension, number>;
  ratings: Record<Dimension, Rating>;
  recommendation: { action: Recommendation['action']; reason: string; until: string | null; engine?: string };
  carrier_flags: Record<string, { flag: CarrierAssessment['flag']; reason: string }>;
  diagnosis: { diagnosis: Diagnosis; reason: string };
  signals: Signal[];
} {
  const r = a.recommendation;
  const carrier_flags: Record<string, { flag: CarrierAssessment['flag']; reason: string }> = {};
  for (const [c, v] of Object.entries(a.carriers)) carrier_flags[c] = { flag: v.flag, reason: v.reason };
  return {
    status: a.status,
    score: a.score,
    subscores: a.subscores,
    ratings: a.ratings,
    recommendation: {
      action: r.action,
      reason: r.reason,
      until: r.until === null ? null : new Date(r.until).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(r.engine ? { engine: r.engine } : {}),
    },
    carrier_flags,
    diagnosis: { diagnosis: a.diagnosis, reason: a.diagnosisReason },
    signals: a.signals,
  };
}

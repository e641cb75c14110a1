// Number-level signals and status (docs/scoring.md §7):
// in_progress | healthy | mixed | spam.

import type { ReputationConfig } from './config.js';
import { answerDropPoints } from './subscores.js';
import type { CarrierAssessment, FlagWindow } from './carrierFlag.js';
import { baselineRatios } from './carrierFlag.js';
import { newcombeLower, pct, wilsonLower, wilsonUpper, type Counts } from './math.js';
import { velocityReason, type Velocity } from './recommendation.js';

export const STATUSES = ['in_progress', 'healthy', 'mixed', 'spam'] as const;
export type Status = (typeof STATUSES)[number];

export type SignalKind =
  | 'blocks'
  | 'carrier_flagged'
  | 'carrier_warning'
  | 'rejection'
  | 'cancel'
  | 'short_calls'
  | 'answer_low'
  | 'answer_drop'
  | 'voicemail'
  | 'reports'
  | 'velocity';

export interface Signal {
  window: FlagWindow;
  kind: SignalKind;
  severity: 'warning' | 'flag';
  /** Carrier the signal is about, for carrier_* kinds. */
  carrier?: string;
  /** True when the signal alone does not make the number mixed (a moderate 24h answer drop, docs/scoring.md §7). */
  needsCorroboration?: boolean;
  reason: string;
}

export interface SignalInput {
  w24h: Counts;
  w7d: Counts;
  /** Rest of the pool (all carriers, excluding this number). */
  pool?: { '24h': Counts; '7d': Counts } | null;
  carriers: Record<string, CarrierAssessment>;
  /** Spam reports per delivered call, where known. */
  reportRatio?: number | null;
  /** Calls against the velocity caps (a `velocity` signal when over either and `signals.velocity` is on). */
  velocity?: Velocity | null;
}

/** Every warning and flag the number shows, per window. */
export function numberSignals(inp: SignalInput, cfg: ReputationConfig): Signal[] {
  const out: Signal[] = [];
  const s = cfg.signals;
  for (const w of ['24h', '7d'] as const) {
    const k = w === '24h' ? inp.w24h : inp.w7d;
    const n = k.calls;
    if (k.blocked >= cfg.carrier.blockMinCount && k.blocked / n >= cfg.caps.blockRatio) {
      out.push({ window: w, kind: 'blocks', severity: 'flag', reason: `block ratio ${pct(k.blocked / n, 1)} (${k.blocked} of ${n} calls, ${w})` });
    }
    for (const [car, a] of Object.entries(inp.carriers)) {
      const r = a.windows[w];
      if (r.flag === 'flagged') out.push({ window: w, kind: 'carrier_flagged', severity: 'flag', carrier: car, reason: r.reason });
      else if (r.flag === 'warning') out.push({ window: w, kind: 'carrier_warning', severity: 'warning', carrier: car, reason: r.reason });
    }
    if (n < Math.max(1, s.minCalls)) continue;
    const z = s.z;
    const rej = k.rejected / n;
    const rejLo = wilsonLower(k.rejected, n, z);
    if (rejLo > cfg.sentiment.rejectionCritical) {
      out.push({
        window: w,
        kind: 'rejection',
        severity: 'warning',
        reason: `rejection rate ${pct(rej)} over ${n} calls (${w}; lower bound ${pct(rejLo)}) > ${pct(cfg.sentiment.rejectionCritical)}`,
      });
    }
    const poolRest = inp.pool?.[w];
    const base = baselineRatios(poolRest, cfg);
    const cancelLo = wilsonLower(k.cancelled, n, cfg.carrier.z);
    if (cancelLo > base.cancel + cfg.carrier.margin) {
      out.push({
        window: w,
        kind: 'cancel',
        severity: 'warning',
        reason: `487 rate ${pct(k.cancelled / n)} vs ${pct(base.cancel)} ${base.fallback ? 'default' : 'pool'} baseline over ${n} calls (${w}; lower bound ${pct(cancelLo)})`,
      });
    }
    const shortLo = k.answered > 0 ? wilsonLower(k.short, k.answered, z) : 0;
    if (k.answered >= Math.max(1, s.minAnswered) && shortLo > cfg.engagement.shortCallLowTrust) {
      out.push({
        window: w,
        kind: 'short_calls',
        severity: 'warning',
        reason: `short calls ${pct(k.short / k.answered)} of ${k.answered} answered (${w}; lower bound ${pct(shortLo)}) > ${pct(cfg.engagement.shortCallLowTrust)}`,
      });
    }
    const ans = k.answered / n;
    const ansHi = wilsonUpper(k.answered, n, z);
    if (ansHi < cfg.connection.watch) {
      // Not the number's problem when the rest of the pool answers just as badly.
      const poolWide = !base.fallback && ans >= base.answer - cfg.connection.dropPoints / 100;
      if (!poolWide) {
        out.push({
          window: w,
          kind: 'answer_low',
          severity: 'warning',
          reason: `answer rate ${pct(ans)} over ${n} calls (${w}; upper bound ${pct(ansHi)}) < ${pct(cfg.connection.watch)}`,
        });
      }
    }
    const vmLo = wilsonLower(k.voicemail, n, z);
    if (vmLo > s.voicemailFiltering) {
      out.push({
        window: w,
        kind: 'voicemail',
        severity: 'warning',
        reason: `voicemail ${pct(k.voicemail / n)} of ${n} calls (${w}; lower bound ${pct(vmLo)}) > ${pct(s.voicemailFiltering)}: calls may be filtered`,
      });
    }
  }
  const drop = answerDropPoints(inp.w24h, inp.w7d, cfg.connection.dropMinCalls);
  if (drop !== null) {
    const poolDrop = inp.pool ? answerDropPoints(inp.pool['24h'], inp.pool['7d'], cfg.connection.dropMinCalls) : null;
    const poolPart = Math.max(0, poolDrop ?? 0);
    const own = drop - poolPart;
    const priorCalls = inp.w7d.calls - inp.w24h.calls;
    const priorAnswered = inp.w7d.answered - inp.w24h.answered;
    // The drop must be of a size that matters AND real: Newcombe's lower bound of the difference, less any pool drop, above 0.
    const lo = newcombeLower(priorAnswered, priorCalls, inp.w24h.answered, inp.w24h.calls, s.z);
    if (own > cfg.connection.dropPoints && lo !== null && lo * 100 - poolPart > 0) {
      const prior = priorAnswered / priorCalls;
      out.push({
        window: '24h',
        kind: 'answer_drop',
        severity: 'warning',
        ...(lo * 100 - poolPart > s.answerDropAlonePoints ? {} : { needsCorroboration: true }),
        reason: `answer rate fell ${own.toFixed(0)} points (${pct(prior)} over the prior 6 days → ${pct(inp.w24h.answered / inp.w24h.calls)} in 24h${poolDrop && poolDrop > 0 ? `, pool fell ${poolDrop.toFixed(0)}` : ''})`,
      });
    }
  }
  if (inp.reportRatio !== null && inp.reportRatio !== undefined && inp.reportRatio > cfg.sentiment.reportRed) {
    out.push({ window: '7d', kind: 'reports', severity: 'warning', reason: `spam report rate ${pct(inp.reportRatio, 1)} > ${pct(cfg.sentiment.reportRed, 1)}` });
  }
  // Velocity over a cap: the commonest cause of labels, and numrep's earliest sign (docs/early-warning.md).
  const vr = s.velocity && inp.velocity ? velocityReason(inp.velocity) : null;
  if (vr) out.push({ window: '24h', kind: 'velocity', severity: 'warning', reason: vr });
  return out;
}

/**
 * Signals that make the number `mixed` on their own: all but a moderate 24h answer drop (one whose lower bound
 * does not clear `signals.answerDropAlonePoints`, docs/scoring.md §7).
 */
export const raisesMixed = (sig: Signal): boolean => !sig.needsCorroboration;

/**
 * A window is flagged when it has a flag-level signal or `signals.warningsForFlag` distinct warnings. Velocity
 * is not counted: it is a cause (the number is dialled hard), not evidence that consumers or carriers react.
 */
export function windowFlagged(signals: Signal[], w: FlagWindow, cfg: ReputationConfig): boolean {
  const mine = signals.filter((s) => s.window === w && s.kind !== 'velocity');
  if (mine.some((s) => s.severity === 'flag')) return true;
  const distinct = new Set(mine.map((s) => (s.carrier ? `${s.kind}:${s.carrier}` : s.kind)));
  return distinct.size >= cfg.signals.warningsForFlag;
}

export interface StatusInput {
  calls7d: number;
  /** Non-benign engine labels. */
  labels: Array<{ engine: string; label: string; checked_at?: string | null }>;
  signals: Signal[];
}

export interface StatusResult {
  status: Status;
  reason: string;
  /** Window flags (see windowFlagged). */
  flagged: Record<FlagWindow, boolean>;
}

const firstReasons = (sig: Signal[], max = 2) => {
  const sorted = [...sig].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'flag' ? -1 : 1));
  const reasons = [...new Set(sorted.map((s) => s.reason))];
  return reasons.slice(0, max).join('; ') + (reasons.length > max ? `; +${reasons.length - max} more` : '');
};

export function decideStatus(inp: StatusInput, cfg: ReputationConfig): StatusResult {
  const flagged = { '24h': windowFlagged(inp.signals, '24h', cfg), '7d': windowFlagged(inp.signals, '7d', cfg) };
  if (inp.labels.length) {
    const l = inp.labels
      .map((x) => `${x.label} by ${x.engine}${x.checked_at ? ` (checked ${String(x.checked_at).slice(0, 10)})` : ''}`)
      .join(', ');
    return { status: 'spam', reason: `labelled ${l}`, flagged };
  }
  if (inp.calls7d < cfg.status.minCalls7d) {
    return { status: 'in_progress', reason: `${inp.calls7d} calls in 7d, fewer than ${cfg.status.minCalls7d} needed to judge`, flagged };
  }
  if (flagged['24h'] && flagged['7d']) {
    return { status: 'spam', reason: `flagged in 24h and 7d: ${firstReasons(inp.signals)}`, flagged };
  }
  if (inp.signals.some(raisesMixed)) {
    return { status: 'mixed', reason: firstReasons(inp.signals), flagged };
  }
  const alone = inp.signals.map((x) => x.reason);
  return {
    status: 'healthy',
    reason: `no warnings over ${inp.calls7d} calls in 7d${alone.length ? ` (${alone.join('; ')}: not corroborated by any other signal)` : ''}`,
    flagged,
  };
}

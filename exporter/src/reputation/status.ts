// Number-level signals and status (docs/scoring.md §7): in_progress | healthy | mixed | spam.
//
// Direct evidence (an engine label, blocks) needs no volume. Early warning is the evidence test per carrier
// and over all carriers (evidence.ts). Industry bands are context; pacing only recommends slow_down.

import type { ReputationConfig } from './config.js';
import { evidenceReason, type CarrierAssessment } from './carrierFlag.js';
import type { Evidence } from './evidence.js';
import { pct, type Counts } from './math.js';
import type { Signal } from './signals.js';
import type { Velocity } from './velocity.js';

export const STATUSES = ['in_progress', 'healthy', 'mixed', 'spam'] as const;
export type Status = (typeof STATUSES)[number];

export interface SignalInput {
  w24h: Counts;
  w7d: Counts;
  carriers: Record<string, CarrierAssessment>;
  /** The evidence test over all the number's carriers. */
  evidence?: Evidence | null;
  /** Spam reports per delivered call, where known. */
  reportRatio?: number | null;
  velocity?: Velocity | null;
}

/** Every figure the verdict rests on, met or not: what the JSON lists as `signals`. */
export function numberSignals(inp: SignalInput, cfg: ReputationConfig): Signal[] {
  const out: Signal[] = [];
  for (const [car, a] of Object.entries(inp.carriers)) {
    for (const w of ['24h', '7d'] as const) {
      const r = a.windows[w];
      if (r.kinds.includes('label')) {
        out.push({ name: 'label', carrier: car, window: w, value: 1, threshold: 1, direction: '>', met: true, effect: 'flagged', reason: r.reason });
      }
      if (r.blocked > 0) {
        out.push({ name: 'blocks', carrier: car, window: w, value: r.blocked, threshold: cfg.carrier.blockMinCount, direction: '>', met: r.flag === 'flagged', effect: 'flagged', reason: r.reason });
      }
    }
    const ev = a.evidence;
    if (ev) {
      out.push({ name: 'outcome_shift', carrier: car, window: ev.window, value: round(ev.g), threshold: round(ev.threshold), direction: '>', met: ev.met, effect: 'warning', reason: evidenceReason(ev, `on ${car}`) });
    }
  }
  const ev = inp.evidence;
  if (ev) {
    out.push({ name: 'outcome_shift', window: ev.window, value: round(ev.g), threshold: round(ev.threshold), direction: '>', met: ev.met, effect: 'warning', reason: evidenceReason(ev, 'over all carriers') });
  }
  // Industry bands (vendor rules of thumb): context for the reader, never a trigger on their own.
  const k = inp.w7d;
  if (k.calls >= Math.max(1, cfg.signals.minCalls)) {
    const band = (name: string, value: number, threshold: number, direction: '>' | '<', what: string, over = `over ${k.calls} calls`) => {
      const met = direction === '>' ? value > threshold : value < threshold;
      out.push({ name, window: '7d', value: round(value), threshold, direction, met, effect: 'context', reason: `${what} ${pct(value)} ${over} (7d) ${met ? direction : direction === '>' ? '≤' : '≥'} ${pct(threshold)}` });
    };
    band('answer_rate', k.answered / k.calls, cfg.connection.watch, '<', 'answer rate');
    band('rejection', k.rejected / k.calls, cfg.sentiment.rejectionCritical, '>', 'declined/busy');
    band('voicemail', k.voicemail / k.calls, cfg.signals.voicemailFiltering, '>', 'voicemail');
    if (k.answered >= Math.max(1, cfg.signals.minAnswered)) band('short_calls', k.short / k.answered, cfg.engagement.shortCallLowTrust, '>', 'short calls', `of ${k.answered} answered`);
  }
  if (inp.reportRatio !== null && inp.reportRatio !== undefined) {
    const met = inp.reportRatio > cfg.sentiment.reportRed;
    out.push({ name: 'reports', window: '7d', value: round(inp.reportRatio), threshold: cfg.sentiment.reportRed, direction: '>', met, effect: 'context', reason: `spam report rate ${pct(inp.reportRatio, 1)} ${met ? '>' : '≤'} ${pct(cfg.sentiment.reportRed, 1)}` });
  }
  const v = inp.velocity;
  if (v && cfg.signals.velocity) {
    if (v.calls1h !== null) {
      out.push({ name: 'velocity_hourly', window: '1h', value: v.calls1h, threshold: v.hourlyCap, direction: '>', met: v.overHourly, effect: 'slow_down', reason: `${v.calls1h} calls in the last hour ${v.overHourly ? 'over' : 'within'} the ${v.hourlyCap}/hour cap` });
    }
    out.push({
      name: 'velocity_daily',
      window: '24h',
      value: v.calls24h,
      threshold: v.dailyCap,
      direction: '>',
      met: v.overDaily,
      effect: 'slow_down',
      reason: `${v.calls24h} calls in 24h${v.calls72h === null ? '' : ` and ${v.calls72h} in 72h`} ${v.overDaily ? 'over' : 'within'} the ${v.dailyCap}/day cap${v.calls72h === null ? '' : ` (sustained: over ${cfg.velocity.sustainedDays} days' cap in 72h)`}`,
    });
  }
  return out;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export interface StatusInput {
  calls7d: number;
  /** Non-benign engine labels. */
  labels: Array<{ engine: string; label: string; checked_at?: string | null }>;
  carriers: Record<string, CarrierAssessment>;
  signals: Signal[];
  /** Blocked calls over all carriers in 24h and 7d. */
  blocked24h: number;
  blocked7d: number;
}

export interface StatusResult {
  status: Status;
  reason: string;
}

/** Every reason, whole: flags first, then warnings (no "+N more"). */
export function allReasons(signals: Signal[]): string {
  const rank = (s: Signal) => (s.effect === 'flagged' ? 0 : s.effect === 'warning' ? 1 : 2);
  const met = signals.filter((s) => s.met && (s.effect === 'flagged' || s.effect === 'warning')).sort((a, b) => rank(a) - rank(b));
  return [...new Set(met.map((s) => s.reason))].join('; ');
}

export function decideStatus(inp: StatusInput, cfg: ReputationConfig): StatusResult {
  if (inp.labels.length) {
    const l = inp.labels
      .map((x) => `${x.label} by ${x.engine}${x.checked_at ? ` (checked ${String(x.checked_at).slice(0, 10)})` : ''}`)
      .join(', ');
    return { status: 'spam', reason: `labelled ${l}` };
  }
  const flagged = Object.values(inp.carriers).some((c) => c.flag === 'flagged');
  // Consistent blocks: some in the last 24 h and at least spamMinBlocks over 7 d, at any volume.
  if (flagged && inp.blocked24h > 0 && inp.blocked7d >= cfg.status.spamMinBlocks) {
    return { status: 'spam', reason: `blocked in 24h and 7d: ${allReasons(inp.signals)}` };
  }
  const warned = inp.signals.some((s) => s.met && (s.effect === 'flagged' || s.effect === 'warning'));
  if (warned) return { status: 'mixed', reason: allReasons(inp.signals) };
  if (inp.calls7d < cfg.status.minCalls7d) {
    return { status: 'in_progress', reason: `${inp.calls7d} calls in 7d, fewer than ${cfg.status.minCalls7d} needed to judge, and no block or label` };
  }
  const context = inp.signals.filter((s) => s.met && s.effect === 'context').map((s) => s.reason);
  return {
    status: 'healthy',
    reason: `no early warning, block or label over ${inp.calls7d} calls in 7d${context.length ? ` (context: ${context.join('; ')})` : ''}`,
  };
}

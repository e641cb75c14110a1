import { Diagnosis, diagnosisNote } from './diagnosis';

/**
 * Recipient fatigue in the panel (docs/metrics.md#recipient-fatigue): the number's 24h figures, and the sentence the
 * recommendation tooltip adds when the number called consumers more than the daily cap. Pure: no Grafana imports.
 */
export interface FatigueFacts {
  /** numrep_number_consumers_over_cap, window 24h. */
  consumersOverCap: number | null;
  /** numrep_number_attempts_over_cap, window 24h. */
  attemptsOverCap: number | null;
  /** numrep_number_repeat_dial_ratio, window 24h. */
  repeatDialRatio: number | null;
}

/** A short sentence for the tooltip, or null when no consumer is over the cap (or the figures are absent). */
export function fatigueNote(f: FatigueFacts | null): string | null {
  if (!f || f.consumersOverCap === null || f.consumersOverCap < 1) {
    return null;
  }
  const n = Math.round(f.consumersOverCap);
  const parts = [`${n} consumer${n === 1 ? '' : 's'} called more than the daily cap in 24h`];
  if (f.attemptsOverCap !== null) {
    parts.push(`${Math.round(f.attemptsOverCap)} calls over it`);
  }
  if (f.repeatDialRatio !== null) {
    parts.push(`${Math.round(f.repeatDialRatio * 100)}% repeat dials`);
  }
  return `Recipient fatigue: ${parts.join(', ')}`;
}

/**
 * The recommendation's tooltip: its reason, then the fatigue note unless the reason already names it, then the
 * diagnosis unless it is healthy.
 */
export function recommendationTooltip(reason: string, f: FatigueFacts | null, diagnosis?: Diagnosis | null): string {
  const parts = [reason];
  const note = fatigueNote(f);
  if (note && !/more than \d+ times in 24h/.test(reason)) {
    parts.push(note);
  }
  const d = diagnosisNote(diagnosis);
  if (d) {
    parts.push(d);
  }
  return parts.join('. ');
}

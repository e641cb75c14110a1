// The figures behind a verdict (docs/scoring.md §7): every test the engine ran on a number, with its value,
// the threshold it was held against, whether it was met and what that does. The JSON lists them as `signals`.

export type SignalEffect =
  /** Makes the carrier `flagged` (blocks, the carrier's engine label). */
  | 'flagged'
  /** Makes the carrier (or, number-wide, the number) `warning` / status mixed: early warning. */
  | 'warning'
  /** Recommends slow_down without changing the status (pacing). */
  | 'slow_down'
  /** A pool or carrier event: the pool moved, not this number. */
  | 'external'
  /** Shown with the reasons, never a trigger on its own (industry bands). */
  | 'context';

export interface Signal {
  /** blocks, label, outcome_shift, answer_rate, short_calls, rejection, voicemail, reports, velocity_hourly, velocity_daily, event, conversion_drop. */
  name: string;
  /** The carrier the figure is about; absent: the number over all carriers. */
  carrier?: string;
  window: string;
  value: number | null;
  threshold: number | null;
  /** The figure must be above (`>`) or below (`<`) the threshold to be met. */
  direction: '>' | '<';
  met: boolean;
  effect: SignalEffect;
  /** The whole reason, in words. */
  reason: string;
}

/** Met signals that act (not context), in the order they are listed. */
export const acting = (s: Signal[]): Signal[] => s.filter((x) => x.met && x.effect !== 'context');

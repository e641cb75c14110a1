import { GrafanaTheme2 } from '@grafana/data';
import { Action, CarrierFlag, Rating, StatusOrUnknown } from '../types';
import { ScoreBand } from '../data/ratings';

/** Grafana's named visualisation palette, so the panel matches stat panels and alert colours in either theme. */
export function statusColor(theme: GrafanaTheme2, s: StatusOrUnknown): string {
  const name = { healthy: 'green', mixed: 'orange', spam: 'red', in_progress: 'blue', unknown: 'text' }[s];
  return name === 'text' ? theme.colors.text.secondary : theme.visualization.getColorByName(name);
}

export function bandColor(theme: GrafanaTheme2, b: ScoreBand): string {
  return theme.visualization.getColorByName({ excellent: 'green', degraded: 'orange', critical: 'red' }[b]);
}

export function ratingColor(theme: GrafanaTheme2, r: Rating | null): string {
  if (!r) {
    return theme.colors.text.disabled;
  }
  return theme.visualization.getColorByName({ good: 'green', normal: 'blue', poor: 'orange', very_poor: 'red' }[r]);
}

export function flagColor(theme: GrafanaTheme2, f: CarrierFlag): string {
  return theme.visualization.getColorByName({ clean: 'green', warning: 'orange', flagged: 'red' }[f]);
}

export function actionColor(theme: GrafanaTheme2, a: Action): string {
  if (a === 'keep') {
    return theme.colors.text.secondary;
  }
  return theme.visualization.getColorByName(
    { slow_down: 'yellow', rest: 'purple', retire: 'red', remediate: 'orange' }[a]
  );
}

/** Industry answer-ratio bands (docs/scoring.md): ≥ 40 % healthy, 25–40 % watch, < 25 % alert. */
export function answerColor(theme: GrafanaTheme2, ratio: number | null): string {
  if (ratio === null) {
    return theme.colors.text.disabled;
  }
  return theme.visualization.getColorByName(ratio >= 0.4 ? 'green' : ratio >= 0.25 ? 'orange' : 'red');
}

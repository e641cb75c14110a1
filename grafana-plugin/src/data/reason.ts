import { Action } from '../types';

export interface ReasonFacts {
  action: Action;
  score: number | null;
  answerRatio24h: number | null;
  calls24h: number | null;
  until: number | null;
  enginesFlagged: string[];
  flaggedCarriers: string[];
  warningCarriers: string[];
}

const pct = (r: number) => `${Math.round(r * 100)}%`;

function fmtUntil(ms: number): string {
  // ISO minute precision in UTC: unambiguous for on-call engineers in any time zone.
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/**
 * A short reason when the exporter gave none (the reason is not a metric label by contract; an optional `reason`
 * label on numrep_number_recommendation wins when present).
 */
export function deriveReason(f: ReasonFacts): string {
  const figures: string[] = [];
  if (f.score !== null) {
    figures.push(`score ${Math.round(f.score)}`);
  }
  if (f.answerRatio24h !== null) {
    figures.push(`answer ratio ${pct(f.answerRatio24h)} (24h)`);
  }
  const tail = figures.length ? ` — ${figures.join(', ')}` : '';
  switch (f.action) {
    case 'keep':
      return `Healthy signal, keep dialling${tail}`;
    case 'slow_down':
      return `Over the daily call cap${f.calls24h !== null ? ` (${Math.round(f.calls24h)} calls in 24h)` : ''}; spread the load${
        figures.length ? ` — ${figures.join(', ')}` : ''
      }`;
    case 'rest': {
      const until = f.until !== null ? ` until ${fmtUntil(f.until)}` : '';
      const why = f.warningCarriers.length ? `; warning on ${f.warningCarriers.join(', ')}` : '';
      return `Rest the number${until}${why}${tail}`;
    }
    case 'retire': {
      const why = f.flaggedCarriers.length ? `flagged by ${f.flaggedCarriers.join(', ')}` : 'reputation beyond recovery';
      return `Rotate out of the pool: ${why}${tail}`;
    }
    case 'remediate': {
      const who = f.enginesFlagged.length ? f.enginesFlagged.join(', ') : 'an analytics engine';
      return `Labelled by ${who}: open a review with the engine${tail}`;
    }
  }
}

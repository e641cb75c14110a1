// Score, status and sub-scores over time: a row per change and at least hourly per number,
// and a status-change event whenever the status moves.

import type { Assessment } from './assess.js';
import type { HistoryRow, Store } from '../store/db.js';
import type { Turns } from '../stats/turns.js';

export interface HistoryOptions {
  /** Write a row at least this often per number even when nothing changed. */
  everyMs: number;
  /** A score move of at least this many points is a change. */
  scoreStep: number;
}

export const DEFAULT_HISTORY: HistoryOptions = { everyMs: 3_600_000, scoreStep: 1 };

export class HistoryRecorder {
  private readonly last = new Map<string, HistoryRow>();

  constructor(private readonly store: Store, private readonly opts: HistoryOptions = DEFAULT_HISTORY) {
    for (const r of store.latestHistory()) this.last.set(r.number, r);
  }

  /** Compare with the last row per number; store what changed. Returns the rows written. */
  record(assessments: Map<string, Assessment>, now: number): HistoryRow[] {
    const rows: HistoryRow[] = [];
    for (const [number, a] of assessments) {
      const prev = this.last.get(number);
      const statusChanged = prev !== undefined && prev.status !== a.status;
      const due =
        prev === undefined ||
        statusChanged ||
        prev.action !== a.recommendation.action ||
        Math.abs(prev.score - a.score) >= this.opts.scoreStep ||
        now - prev.at >= this.opts.everyMs;
      if (!due || (prev && now <= prev.at)) continue;
      const row: HistoryRow = {
        number,
        at: now,
        status: a.status,
        score: a.score,
        action: a.recommendation.action,
        subscores: { ...a.subscores },
        reason: a.recommendation.reason,
        event: statusChanged || prev === undefined ? 'status_change' : null,
      };
      rows.push(row);
      this.last.set(number, row);
    }
    if (rows.length) this.store.addHistory(rows);
    return rows;
  }

  /**
   * record() for many numbers, assessed one by one and recorded a slice at a time, with a turn for the event
   * loop between slices (a tick over every number must not hold /healthz or SIGTERM up). Writes what one
   * record() of every assessment would; stops early when `stopped()` says so. `onStatusChange` gets each
   * status change of a number that had a row before, with the status it had.
   */
  async recordInSlices<T>(
    items: Iterable<T>,
    assess: (item: T) => [number: string, assessment: Assessment],
    now: number,
    turns: Turns,
    o: { stopped?: () => boolean; onStatusChange?: (row: HistoryRow, was: string) => void } = {},
  ): Promise<void> {
    const slice = new Map<string, Assessment>();
    const flush = () => {
      const was = new Map([...slice.keys()].map((n) => [n, this.last.get(n)?.status]));
      for (const row of this.record(slice, now)) {
        const before = was.get(row.number);
        if (row.event === 'status_change' && before !== undefined) o.onStatusChange?.(row, before);
      }
      slice.clear();
    };
    for (const item of items) {
      if (o.stopped?.()) return;
      const [number, a] = assess(item);
      slice.set(number, a);
      if (turns.due()) {
        flush();
        await turns.turn();
      }
    }
    flush();
  }

  previous(number: string): HistoryRow | undefined {
    return this.last.get(number);
  }
}

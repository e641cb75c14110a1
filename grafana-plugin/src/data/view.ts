import { NumberRow, SortDir, SortKey, STATUSES, StatusOrUnknown } from '../types';
import { ACTION_SEVERITY, STATUS_SEVERITY } from './ratings';

export type StatusCounts = Record<StatusOrUnknown | 'all', number>;

export function countByStatus(rows: NumberRow[]): StatusCounts {
  const c: StatusCounts = { all: rows.length, healthy: 0, mixed: 0, spam: 0, in_progress: 0, unknown: 0 };
  for (const r of rows) {
    c[r.status]++;
  }
  return c;
}

/** Digits and letters only, so "+1 (202) 555-0101" finds "+12025550101". */
function normalise(s: string): string {
  return s.toLowerCase().replace(/[^0-9a-z]/g, '');
}

export interface ViewQuery {
  statuses: ReadonlySet<StatusOrUnknown>;
  search: string;
  sort: { key: SortKey; dir: SortDir };
}

export function filterRows(rows: NumberRow[], q: Pick<ViewQuery, 'statuses' | 'search'>): NumberRow[] {
  const needle = normalise(q.search);
  const all = q.statuses.size === 0;
  return rows.filter((r) => {
    if (!all && !q.statuses.has(r.status)) {
      return false;
    }
    if (needle && !normalise(r.number).includes(needle) && !normalise(r.pool).includes(needle)) {
      return false;
    }
    return true;
  });
}

/** Nulls sort last in both directions; ties fall back to the number so the order is stable. */
function keyOf(r: NumberRow, key: SortKey): number | string | null {
  switch (key) {
    case 'number':
      return r.number;
    case 'pool':
      return r.pool || null;
    case 'status':
      return STATUS_SEVERITY[r.status];
    case 'score':
      return r.score;
    case 'calls24h':
      return r.calls24h;
    case 'answerRatio':
      return r.answerRatio24h;
    case 'recommendation':
      return r.recommendation ? ACTION_SEVERITY[r.recommendation.action] : null;
  }
}

export function sortRows(rows: NumberRow[], sort: { key: SortKey; dir: SortDir }): NumberRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = rows.map((r) => ({ r, k: keyOf(r, sort.key) }));
  keyed.sort((a, b) => {
    if (a.k === null && b.k === null) {
      return a.r.number < b.r.number ? -1 : 1;
    }
    if (a.k === null) {
      return 1;
    }
    if (b.k === null) {
      return -1;
    }
    if (a.k < b.k) {
      return -sign;
    }
    if (a.k > b.k) {
      return sign;
    }
    return a.r.number < b.r.number ? -1 : a.r.number > b.r.number ? 1 : 0;
  });
  return keyed.map((x) => x.r);
}

export function viewRows(rows: NumberRow[], q: ViewQuery): NumberRow[] {
  return sortRows(filterRows(rows, q), q.sort);
}

export const STATUS_FILTERS: StatusOrUnknown[] = [...STATUSES, 'unknown'];

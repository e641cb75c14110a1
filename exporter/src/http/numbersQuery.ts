// GET /api/v1/numbers and /api/v1/numbers.csv: filters (status, pool, carrier, flag, all of them at once; flag with
// carrier means the flag on that carrier) and pages (limit, cursor). A page is built from its own numbers only: without a status or flag filter, only the numbers on
// the page are assessed; with one, every number that passes the other filters is, since that is what decides.

import type { NumberView, Snapshot } from '../stats/snapshot.js';
import { STATUSES } from '../reputation/status.js';
import { CARRIER_FLAGS } from '../reputation/carrierFlag.js';
import { numberJson, type Enrich, type NumberJson } from './json.js';

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;
const PARAMS = ['status', 'pool', 'carrier', 'flag', 'limit', 'cursor'] as const;

export interface NumbersQuery {
  status?: string;
  pool?: string;
  carrier?: string;
  flag?: string;
  /** Numbers per page; null: all of them (the CSV export's default). */
  limit: number | null;
  /** Continue after this number. */
  after?: string;
}

export interface NumbersPage {
  numbers: NumberJson[];
  /** Numbers that pass the filters, on every page together. */
  total: number;
  /** The cursor of the next page, null on the last. */
  next_cursor: string | null;
}

/** Numbers sort by their text (E.164, so by digits), the same order everywhere a page boundary is compared. */
const byNumber = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const encodeCursor = (after: string): string => Buffer.from(`after:${after}`).toString('base64url');

function decodeCursor(c: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(c)) return null;
  const text = Buffer.from(c, 'base64url').toString('utf8');
  const m = /^after:([^\s\x00-\x1f]{1,64})$/.exec(text);
  return m && encodeCursor(m[1]) === c ? m[1] : null;
}

/** The query of a numbers request, or why it is not one (a 400). */
export function parseNumbersQuery(q: Record<string, unknown>, defaultLimit: number | null): NumbersQuery | string {
  const unknown = Object.keys(q).filter((k) => !(PARAMS as readonly string[]).includes(k));
  if (unknown.length) return `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => k.slice(0, 40)).join(', ')} (known: ${PARAMS.join(', ')})`;
  const v: Record<string, string | undefined> = {};
  for (const p of PARAMS) {
    const x = q[p];
    if (x === undefined) continue;
    if (typeof x !== 'string') return `${p} must be given once, as plain text`;
    if (x !== '') v[p] = x; // an empty field (a form) is no filter
  }
  if (v.status !== undefined && !(STATUSES as readonly string[]).includes(v.status)) return `unknown status ${v.status.slice(0, 40)} (one of ${STATUSES.join(', ')})`;
  if (v.flag !== undefined && !(CARRIER_FLAGS as readonly string[]).includes(v.flag)) return `unknown flag ${v.flag.slice(0, 40)} (one of ${CARRIER_FLAGS.join(', ')})`;
  let limit = defaultLimit;
  if (v.limit !== undefined) {
    if (!/^\d{1,9}$/.test(v.limit)) return `limit ${v.limit.slice(0, 40)} is not a whole number`;
    limit = Number(v.limit);
    if (limit < 1 || limit > MAX_LIMIT) return `limit ${limit} is out of range (1 to ${MAX_LIMIT})`;
  }
  let after: string | undefined;
  if (v.cursor !== undefined) {
    const a = decodeCursor(v.cursor);
    if (a === null) return 'malformed cursor: pass the next_cursor of the page before, as it is';
    after = a;
  }
  return { status: v.status, pool: v.pool, carrier: v.carrier, flag: v.flag, limit, after };
}

/** One page of the snapshot's numbers that pass the filters, in number order. */
export function numbersPage(snap: Pick<Snapshot, 'numbers'>, q: NumbersQuery, enrich?: Enrich): NumbersPage {
  const views: NumberView[] = [];
  for (const v of snap.numbers.values()) {
    if (q.pool !== undefined && v.pool !== q.pool) continue;
    if (q.carrier !== undefined && !v.carriers.has(q.carrier)) continue;
    views.push(v);
  }
  views.sort((a, b) => byNumber(a.number, b.number));
  const limit = q.limit ?? Infinity;
  const afterCursor = (v: NumberView) => q.after === undefined || v.number > q.after;

  if (q.status === undefined && q.flag === undefined) {
    let start = 0;
    if (q.after !== undefined) {
      // first number after the cursor (binary search: the views are sorted)
      let hi = views.length;
      while (start < hi) {
        const mid = (start + hi) >>> 1;
        if (views[mid].number <= q.after) start = mid + 1;
        else hi = mid;
      }
    }
    const page = views.slice(start, start + limit);
    const more = start + page.length < views.length;
    return { numbers: page.map((v) => numberJson(v, enrich)), total: views.length, next_cursor: more && page.length ? encodeCursor(page[page.length - 1].number) : null };
  }

  // Status and flags come from the assessment: each candidate is assessed to know whether it counts.
  const numbers: NumberJson[] = [];
  let total = 0;
  let more = false;
  for (const v of views) {
    const j = numberJson(v, enrich);
    if (q.status !== undefined && j.status !== q.status) continue;
    if (q.flag !== undefined && !(q.carrier !== undefined ? j.carriers[q.carrier]?.flag === q.flag : Object.values(j.carriers).some((c) => c.flag === q.flag))) continue;
    total++;
    if (!afterCursor(v)) continue;
    if (numbers.length < limit) numbers.push(j);
    else more = true;
  }
  return { numbers, total, next_cursor: more ? encodeCursor(numbers[numbers.length - 1].number) : null };
}

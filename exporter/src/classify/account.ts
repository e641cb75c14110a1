// What happened to every row: the account `report --json` prints as `ingest`, `report` and `serve`
// say in a sentence, and /api/v1/sources gives per file. records = accepted + skipped + rejected.

import type { CounterDelta } from '../store/db.js';
import { SKIP_REASONS, type SkipReason } from './classifier.js';

export interface IngestAccount {
  records: number;
  accepted: number;
  skipped: Partial<Record<SkipReason, number>>;
  rejected: Record<string, number>;
}

/** Rows of side files (engine labels, inventory) are imports, not calls: they stay out of the account. */
const SIDE = new Set(['labels', 'inventory']);

export function emptyAccount(): IngestAccount {
  return { records: 0, accepted: 0, skipped: {}, rejected: {} };
}

/** Add ingest counters (by format, result, reason) to an account. */
export function addCounts(a: IngestAccount, counts: Iterable<Pick<CounterDelta, 'format' | 'result' | 'reason' | 'count'>>): IngestAccount {
  for (const c of counts) {
    if (SIDE.has(c.format) || c.count === 0) continue;
    a.records += c.count;
    if (c.result === 'accepted') a.accepted += c.count;
    else if (c.result === 'skipped') a.skipped[c.reason as SkipReason] = (a.skipped[c.reason as SkipReason] ?? 0) + c.count;
    else a.rejected[c.reason] = (a.rejected[c.reason] ?? 0) + c.count;
  }
  return a;
}

export function accountOf(counts: Iterable<Pick<CounterDelta, 'format' | 'result' | 'reason' | 'count'>>): IngestAccount {
  const a = addCounts(emptyAccount(), counts);
  // A stable order for the JSON: the skip reasons as documented, rejections by name.
  const skipped: Partial<Record<SkipReason, number>> = {};
  for (const r of SKIP_REASONS) if (a.skipped[r]) skipped[r] = a.skipped[r];
  const rejected: Record<string, number> = {};
  for (const r of Object.keys(a.rejected).sort()) rejected[r] = a.rejected[r];
  return { ...a, skipped, rejected };
}

const SKIP_WORDS: Record<SkipReason, string> = {
  inbound: 'inbound',
  internal: 'internal',
  leg: 'further legs of counted calls',
  duplicate_call: 'duplicates of calls already counted',
  not_ours: 'from numbers not in the inventory',
  no_caller_id: 'from extensions without a caller ID',
  numbers_over_cap: 'from new numbers over max_tracked_numbers',
  other_shard: "other shards' numbers",
};

const n = (v: number) => v.toLocaleString('en-US');

/** One sentence: "736 rows: 12 outbound calls counted; skipped 650 internal, 74 inbound; rejected 2 bad_timestamp". */
export function describeAccount(a: IngestAccount): string {
  const skipped = SKIP_REASONS.filter((r) => a.skipped[r]).map((r) => `${n(a.skipped[r]!)} ${SKIP_WORDS[r]}`);
  const rejectedTotal = Object.values(a.rejected).reduce((s, v) => s + v, 0);
  const rejected = Object.entries(a.rejected).map(([r, v]) => `${n(v)} ${r}`);
  return (
    `${n(a.records)} row${a.records === 1 ? '' : 's'}: ${n(a.accepted)} outbound call${a.accepted === 1 ? '' : 's'} counted` +
    (skipped.length ? `; skipped ${skipped.join(', ')}` : '') +
    (rejectedTotal ? `; rejected ${rejected.join(', ')}` : '')
  );
}

/** When nothing was counted: why, and what to set. Null when calls were counted or nothing was read. */
export function adviceFor(a: IngestAccount): string | null {
  if (a.accepted > 0 || a.records === 0) return null;
  const s = a.skipped;
  const rejectedTotal = Object.values(a.rejected).reduce((t, v) => t + v, 0);
  if ((s.no_caller_id ?? 0) > 0) {
    return 'numrep scores the numbers your calls present; this PBX logs the extension that dialled, not the DID the carrier saw: give --caller-map FILE (extension,number)';
  }
  if ((s.not_ours ?? 0) > 0) return 'with --track inventory only inventory numbers are counted: check that the inventory lists your outbound DIDs in E.164 (or with --country-code / --region)';
  if ((s.duplicate_call ?? 0) > 0 && (s.duplicate_call ?? 0) + (s.leg ?? 0) >= a.records - rejectedTotal) return 'every call was counted before (an overlapping export or the same file again)';
  if ((s.internal ?? 0) + (s.inbound ?? 0) > 0) {
    return 'no row was an outbound call from a presentable number: if your outbound calls are in these files, map a direction column (generic.columns.direction), give the inventory (--inventory) or the trunk map (--trunk-map)';
  }
  if (rejectedTotal > 0) return 'every row was rejected: see the reasons above (--format, --timezone, generic.columns)';
  return null;
}

import { quoteCsvField } from '../ingest/csv.js';
import type { NumberJson, ReportJson } from './json.js';

/**
 * The JSON of docs/architecture.md#json flattened to one CSV row per number (`report --csv`, `GET /api/v1/numbers.csv`).
 * Cells that a spreadsheet would run as a formula (= + - @, tab, CR) get a leading apostrophe,
 * except plain numbers such as -0.5 or +12025550101.
 */
const KPI_FIELDS = ['calls', 'answered', 'answer_ratio', 'cancel_ratio', 'rejection_ratio', 'block_ratio', 'voicemail_ratio', 'short_call_ratio', 'avg_talk_seconds'] as const;
const OUTCOME_FIELDS = ['answered', 'voicemail', 'cancelled', 'no_answer', 'busy', 'rejected', 'blocked', 'failed'] as const;
const DIMS = ['maturity', 'connection', 'engagement', 'sentiment'] as const;
const WINDOWS = ['24h', '7d'] as const;

export const CSV_COLUMNS: string[] = [
  'number', 'pool', 'status', 'score',
  ...DIMS.map((d) => `subscore_${d}`), ...DIMS.map((d) => `rating_${d}`),
  'action', 'reason', 'until',
  ...WINDOWS.flatMap((w) => [...KPI_FIELDS.map((k) => `${k}_${w}`), ...OUTCOME_FIELDS.map((o) => `${o}_calls_${w}`)]),
  'carrier_flags', 'attestation_A', 'attestation_B', 'attestation_C', 'attestation_none', 'engines', 'first_seen', 'last_seen',
  // Where the number lives and its registration (docs/remediation.md#where-a-number-lives).
  'country', 'area', 'registration', 'registered_at',
];

export function safeCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) s = `'${s}`;
  return quoteCsvField(s);
}

export function numberRow(n: NumberJson): unknown[] {
  const row: unknown[] = [n.number, n.pool, n.status, n.score];
  for (const d of DIMS) row.push(n.subscores?.[d]);
  for (const d of DIMS) row.push(n.ratings?.[d]);
  row.push(n.recommendation?.action, n.recommendation?.reason, n.recommendation?.until);
  for (const w of WINDOWS) {
    const k = n.windows[w];
    for (const f of KPI_FIELDS) row.push(k?.[f]);
    for (const o of OUTCOME_FIELDS) row.push(k?.outcomes[o]);
  }
  row.push(Object.entries(n.carriers).map(([c, v]) => `${c}:${v.flag ?? ''}`).join(' '));
  row.push(n.attestation.A, n.attestation.B, n.attestation.C, n.attestation.none);
  row.push(Object.entries(n.engines ?? {}).map(([e, v]) => `${e}:${v.label}`).join(' '));
  row.push(n.first_seen, n.last_seen);
  row.push(n.country, n.area, n.registration, n.registered_at);
  return row;
}

export function reportCsv(j: ReportJson): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const n of j.numbers) lines.push(numberRow(n).map(safeCell).join(','));
  return lines.join('\n') + '\n';
}

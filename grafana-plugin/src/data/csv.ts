import { DIMENSIONS, NumberRow } from '../types';

/**
 * A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading apostrophe
 * (OWASP "CSV injection"). E.164 numbers start with "+", so they are protected too, which also stops a
 * spreadsheet from turning them into integers.
 */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) {
    return '';
  }
  if (typeof v === 'number') {
    return Number.isFinite(v) ? String(v) : '';
  }
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) {
    s = `'${s}`;
  }
  if (/[",\r\n]/.test(s) || s !== s.trim()) {
    s = `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));

/** The rows shown (already filtered and sorted), with the carriers shown, as RFC 4180 CSV with CRLF line ends. */
export function rowsToCsv(rows: NumberRow[], carriers: string[]): string {
  const header = [
    'number',
    'pool',
    'status',
    'score',
    ...DIMENSIONS.map((d) => `${d}_rating`),
    ...carriers.map((c) => `carrier_${c}`),
    'calls_24h',
    'answer_ratio_24h',
    'recommendation',
    'reason',
    'diagnosis',
    'country',
    'area',
    'registration',
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.number,
        r.pool,
        r.status,
        round(r.score, 1),
        ...DIMENSIONS.map((d) => r.ratings[d]),
        ...carriers.map((c) => r.carriers[c] ?? ''),
        r.calls24h,
        round(r.answerRatio24h, 4),
        r.recommendation?.action ?? '',
        r.recommendation?.reason ?? '',
        r.diagnosis ?? '',
        r.country,
        r.area,
        r.registration,
      ]
        .map(csvCell)
        .join(',')
    );
  }
  return lines.join('\r\n') + '\r\n';
}

export function csvFileName(now: Date = new Date()): string {
  return `numrep-numbers-${now.toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`;
}

import { NumberRow } from '../types';

export type ReplaceVariables = (value: string, scopedVars?: Record<string, { text: string; value: unknown }>) => string;

/**
 * Fill the row's `${number}` and `${pool}` into the link template (URL-encoded), then let Grafana's
 * replaceVariables resolve dashboard variables such as `${__from}` or `$pool`.
 */
export function buildLink(template: string, row: NumberRow, replaceVariables?: ReplaceVariables): string {
  const own: Record<string, string> = { number: row.number, pool: row.pool, status: row.status };
  const filled = template.replace(/\$\{(number|pool|status)\}/g, (_, k: string) => encodeURIComponent(own[k] ?? ''));
  if (!replaceVariables) {
    return filled;
  }
  const scoped = Object.fromEntries(Object.entries(own).map(([k, v]) => [k, { text: v, value: v }]));
  return replaceVariables(filled, scoped);
}

/** Only http(s) and same-origin relative links are followed: a template is user input and must not run script. */
export function isSafeLink(url: string): boolean {
  const u = url.trim();
  if (u.startsWith('/') && !u.startsWith('//')) {
    return true;
  }
  return /^https?:\/\//i.test(u);
}

import { readFileSync } from 'node:fs';
import { Store } from '../store/db.js';
import { detectCsvKind, parseInventoryCsv, parseLabelsCsv, formatIssue, type InventoryRow, type LabelRow } from '../reputation/labels.js';
import type { InventoryEntry, LabelSnapshot } from '../store/db.js';
import { fail } from './log.js';

/**
 * Engine labels or the inventory from a CSV file, as the store takes them; bad rows are printed (file:line:
 * reason) and left out. A file that is not of that kind at all (its header) exits 2.
 */
export function readSideFile(kind: 'labels' | 'inventory', file: string, countryCode = '1'): { labels: LabelSnapshot[]; inventory: InventoryEntry[]; errors: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`${file}: ${(err as Error).message}`, 2);
  }
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  const other = detectCsvKind(firstLine);
  if (other !== null && other !== kind) fail(`${file}: line 1: this looks like ${other}, not ${kind}: use numrep ${other} import${kind === 'labels' ? '' : ' (or --labels)'}`, 2);
  const parsed = kind === 'labels' ? parseLabelsCsv(text, { file, defaultCountryCode: countryCode, now: Date.now() }) : parseInventoryCsv(text, { file, defaultCountryCode: countryCode });
  const headerError = parsed.errors.find((e) => /^(not a .* file|empty file)/.test(e.reason));
  if (headerError) fail(formatIssue(headerError), 2);
  for (const e of parsed.errors) process.stderr.write(`numrep: ${formatIssue(e)}\n`);
  if (kind === 'labels') {
    const labels = (parsed.rows as LabelRow[]).map((r) => ({ number: r.number, engine: r.engine, label: r.label, checkedAt: r.checkedAtMs, reports: r.reports }));
    return { labels, inventory: [], errors: parsed.errors.length };
  }
  const inventory = (parsed.rows as InventoryRow[]).map((r) => ({ number: r.number, pool: r.pool, campaign: r.campaign, registered: r.registered, registeredAt: r.registeredAt }));
  return { labels: [], inventory, errors: parsed.errors.length };
}

/**
 * `numrep labels import FILE` and `numrep inventory import FILE`: write engine-label snapshots or the
 * number inventory into the database; a running `serve` notices the commit and uses them at its next scrape.
 */
export function importSide(kind: 'labels' | 'inventory', file: string, opts: { db: string; countryCode?: string }): void {
  const { labels, inventory, errors } = readSideFile(kind, file, opts.countryCode ?? '1');
  const store = new Store(opts.db);
  try {
    store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels, inventory });
  } finally {
    store.close();
  }
  process.stderr.write(`numrep: imported ${labels.length + inventory.length} ${kind} row(s) from ${file} into ${opts.db}${errors ? `; ${errors} row(s) skipped (see above)` : ''}\n`);
  if (errors > 0) process.exitCode = 1;
}

import { readFileSync } from 'node:fs';
import { Store } from '../store/db.js';
import { parseReputationCsv, formatIssue, type InventoryRow, type LabelRow } from '../reputation/labels.js';
import { fail } from './log.js';

/**
 * `numrep labels import FILE` and `numrep inventory import FILE`: write engine-label snapshots or the
 * number inventory into the database; a running `serve` notices the commit and uses them at its next scrape.
 */
export function importSide(kind: 'labels' | 'inventory', file: string, opts: { db: string; countryCode?: string }): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`${file}: ${(err as Error).message}`, 2);
  }
  const parsed = parseReputationCsv(text, { file, defaultCountryCode: opts.countryCode ?? '1', now: Date.now() });
  if (parsed.kind !== kind) {
    const want = kind === 'labels' ? 'number,engine,label,checked_at[,reports]' : 'number,pool,campaign,registered';
    fail(`${file}: line 1: header must be ${want}${parsed.kind ? ` (this looks like ${parsed.kind}: use numrep ${parsed.kind} import)` : ''}`, 2);
  }
  for (const e of parsed.errors) process.stderr.write(`numrep: ${formatIssue(e)}\n`);
  const store = new Store(opts.db);
  try {
    if (kind === 'labels') {
      const labels = (parsed.rows as LabelRow[]).map((r) => ({ number: r.number, engine: r.engine, label: r.label, checkedAt: r.checkedAtMs, reports: r.reports }));
      store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels });
    } else {
      const inventory = (parsed.rows as InventoryRow[]).map((r) => ({ number: r.number, pool: r.pool, campaign: r.campaign, registered: r.registered, registeredAt: r.registeredAt }));
      store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], inventory });
    }
  } finally {
    store.close();
  }
  process.stderr.write(`numrep: imported ${parsed.rows.length} ${kind} row(s) from ${file} into ${opts.db}${parsed.errors.length ? `; ${parsed.errors.length} row(s) skipped (see above)` : ''}\n`);
  if (parsed.errors.length > 0) process.exitCode = 1;
}

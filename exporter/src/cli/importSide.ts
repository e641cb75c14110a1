import { readFileSync, statSync } from 'node:fs';
import { MAX_SIDE_FILE } from '../ingest/fileSource.js';
import { resolve } from 'node:path';
import { Store } from '../store/db.js';
import { DatabaseLockedError, DbLock } from '../store/lock.js';
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
    const size = statSync(file).size;
    if (size > MAX_SIDE_FILE) fail(`${file}: ${size.toLocaleString('en-US')} bytes; ${kind === 'inventory' ? 'an' : 'a'} ${kind} file larger than ${MAX_SIDE_FILE.toLocaleString('en-US')} bytes is not imported (split it)`, 2);
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
 * number inventory into a database no `serve` holds (a new one, or one whose serve is stopped). It takes
 * the database's lock while it writes (store/lock.ts). A running serve is the one writer of its database:
 * the import is then refused, and the message says how to hand the file to that serve instead (its inbox,
 * or POST /api/v1/upload), which reads labels and inventory files like any other.
 */
export async function importSide(kind: 'labels' | 'inventory', file: string, opts: { db: string; countryCode?: string }): Promise<void> {
  const { labels, inventory, errors } = readSideFile(kind, file, opts.countryCode ?? '1');
  let lock: DbLock;
  try {
    lock = await DbLock.acquire(resolve(opts.db), { command: `${kind} import`, inbox: null, listen: null });
  } catch (err) {
    if (!(err instanceof DatabaseLockedError)) fail(`cannot lock database ${opts.db}: ${(err as Error).message}`);
    fail(`${err.message}, which is this database's only writer. Give the file to it instead: ${handOver(file, err.owner?.inbox ?? null, err.owner?.listen ?? null)}`, 2);
  }
  try {
    const store = new Store(opts.db);
    try {
      store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels, inventory });
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
  process.stderr.write(`numrep: imported ${labels.length + inventory.length} ${kind} row(s) from ${file} into ${opts.db}${errors ? `; ${errors} row(s) skipped (see above)` : ''}\n`);
  if (errors > 0) process.exitCode = 1;
}

/** How to give a side file to a running serve: its inbox, or its upload endpoint. */
function handOver(file: string, inbox: string | null, listen: string | null): string {
  const ways: string[] = [];
  if (inbox) ways.push(`cp ${file} ${inbox}/`);
  // An all-interfaces listen address is reachable on loopback, which also passes the Host check.
  const at = listen ? listen.replace(/^(0\.0\.0\.0|\[::\]|::):/, '127.0.0.1:') : 'HOST:PORT';
  ways.push(`curl --data-binary @${file} http://${at}/api/v1/upload`);
  return ways.join(', or ');
}

import { countryCodeOf } from '../config.js';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Runtime, parseShard, readerOptionsFrom, type Shard } from '../runtime.js';
import { reportJson, type ReportJson } from '../http/json.js';
export { reportCsv } from '../http/csv.js';
import { assessSnapshot, enrichWith } from '../reputation/evaluate.js';
import { parseReputationConfig } from '../reputation/config.js';
import { checkFormat, classifySettingsFrom, configFrom, resolverFrom, type CommonFlags } from './common.js';
import { fail } from './log.js';
import { Progress } from './progress.js';
import { accountOf, adviceFor, describeAccount, type IngestAccount } from '../classify/account.js';
import { readSideFile } from './importSide.js';

export interface ReportFlags extends CommonFlags {
  at?: string;
  json?: boolean;
  csv?: boolean;
  quarantine?: string;
  /** `i/n`: only the numbers of shard i of n (docs/scaling.md). */
  shard?: string;
  /** Our numbers and their pools (a one-shot run has no database to import them into). */
  inventory?: string;
  /** Engine-label snapshots. */
  labels?: string;
}

/** Files named on the command line; directories contribute their regular files, sorted. */
export function expandInputs(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      fail(`${p}: no such file or directory`, 2);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const f = join(p, name);
        if (!name.startsWith('.') && statSync(f).isFile()) out.push(resolve(f));
      }
    } else out.push(resolve(p));
  }
  return out;
}

/** One-shot assessment: the files go through the same readers and windows as `serve`, into an in-memory database. */
export async function runReport(paths: string[], flags: ReportFlags): Promise<{ json: ReportJson; rejected: number; accepted: number; ingest: IngestAccount }> {
  const c = configFrom(flags);
  const format = checkFormat(flags.format);
  let at: number | undefined;
  if (flags.at !== undefined) {
    at = Date.parse(flags.at);
    if (Number.isNaN(at)) fail(`--at ${flags.at}: not an ISO 8601 time, e.g. 2026-11-20T17:30:00Z`, 2);
  }
  const files = expandInputs(paths);
  if (files.length === 0) fail('no input files', 2);
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  const progress = new Progress(total, process.stderr);
  let shard: Shard | undefined;
  try {
    shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  const rt = new Runtime({
    shard,
    db: ':memory:',
    bucketMs: 1000, // one-second buckets: windows exact to the second for --at
    chunkBytes: 16 * 1_048_576, // larger steps than serve: fewer commits, and nothing here has to be durable
    globs: files,
    readerOptions: readerOptionsFrom(c),
    resolver: resolverFrom(c),
    classify: classifySettingsFrom(c),
    maxCarriersPerNumber: c.max_carriers_per_number,
    format,
    settleMs: 0,
    oneShot: true,
    maxRecordBytes: c.max_record_bytes,
    now: Date.now,
    onProgress: (b) => progress.advance(b),
    onError: (p, err) => process.stderr.write(`numrep: ${p}: ${err.message}\n`),
  });
  // The inventory and labels go in before any row: the classification stage reads the inventory.
  const cc = countryCodeOf(c);
  const side = [flags.inventory ? readSideFile('inventory', flags.inventory, cc) : null, flags.labels ? readSideFile('labels', flags.labels, cc) : null];
  for (const s of side) if (s) rt.store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels: s.labels, inventory: s.inventory });
  if (flags.inventory || flags.labels) rt.reloadSideData();
  if (c.track === 'inventory' && rt.pools.size === 0) process.stderr.write('numrep: --track inventory without an inventory (--inventory FILE): no number will be counted\n');
  await rt.poll();
  rt.tailer.flushReaders();
  progress.done();
  const evalAt = at ?? rt.newestTs ?? Date.now();
  const snap = rt.snapshotAt(evalAt, { idleInventory: false });
  const idle = [...rt.pools.keys()].filter((n) => !snap.numbers.has(n));
  if (idle.length > 0 && (flags.inventory || c.track === 'inventory')) {
    process.stderr.write(`numrep: ${idle.length} inventory number(s) placed no call in the windows ending ${new Date(evalAt).toISOString()}: ${idle.slice(0, 10).join(', ')}${idle.length > 10 ? ', …' : ''}\n`);
  }
  let reputation;
  try {
    reputation = parseReputationConfig(c.reputation);
  } catch (err) {
    fail(`${flags.config ?? 'config'}: reputation: ${(err as Error).message}`, 2);
  }
  const json = reportJson(snap, enrichWith(assessSnapshot(snap, { config: reputation, labels: rt.labels, registered: rt.registered }), rt.labels));
  const ingest = accountOf(rt.store.ingestCounts());
  json.ingest = ingest;
  const accepted = ingest.accepted;
  const rejected = Object.values(ingest.rejected).reduce((s, v) => s + v, 0);
  process.stderr.write(`numrep: ${describeAccount(ingest)}.\n`);
  const advice = adviceFor(ingest);
  if (advice) process.stderr.write(`numrep: ${advice}.\n`);
  if (rejected > 0) {
    const q = rt.store.quarantined(1_000_000).reverse();
    const byReason = new Map<string, number>();
    for (const e of q) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
    process.stderr.write(`numrep: ${rejected} record(s) rejected: ${[...byReason].map(([r, n]) => `${r} ${n}`).join(', ')}\n`);
    for (const e of q.slice(0, 5)) process.stderr.write(`  ${e.file}:${e.line}: ${e.reason}: ${e.detail}\n`);
    if (flags.quarantine) {
      writeFileSync(flags.quarantine, q.map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o600 });
      process.stderr.write(`  all rejected lines written to ${flags.quarantine}\n`);
    } else if (q.length > 5) process.stderr.write('  (use --quarantine FILE to keep every rejected line)\n');
  }
  await rt.close();
  return { json, rejected, accepted, ingest };
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

export function reportTable(j: ReportJson): string {
  const rows: string[][] = [['number', 'pool', 'status', 'score', 'calls 24h', 'answer 24h', '487 24h', 'reject 24h', 'block 24h', 'calls 7d', 'answer 7d', 'action']];
  for (const n of j.numbers) {
    const d = n.windows['24h'];
    const w = n.windows['7d'];
    rows.push([
      n.number, n.pool, n.status ?? '-', n.score === undefined ? '-' : String(Math.round(n.score)),
      String(d.calls), pct(d.answer_ratio), pct(d.cancel_ratio), pct(d.rejection_ratio), pct(d.block_ratio),
      String(w.calls), pct(w.answer_ratio), n.recommendation?.action ?? '-',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => (i < 3 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const lines = [fmt(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)];
  lines.push('', `evaluated at ${j.evaluated_at}; carriers: ${j.carriers.map((c) => `${c.carrier} ${pct((c['24h'] as { answer_ratio: number | null }).answer_ratio)} answered 24h`).join(', ') || 'none'}`);
  return lines.join('\n') + '\n';
}

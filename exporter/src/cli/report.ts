import { countryCodeOf } from '../config.js';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Runtime, fatigueSettingsFrom, parseShard, readerOptionsFrom, type Shard } from '../runtime.js';
import { campaignsJson, managementOf, poolsJson, withManagement } from '../http/management.js';
import { carriersJson, evaluatedAt, numberEntries, reportJson, withPlace, type NumberJson, type ReportJson } from '../http/json.js';
import { F_CALLS } from '../stats/vector.js';
import { StreamedArray } from './jsonChunks.js';
export { reportCsv } from '../http/csv.js';
import { enrichByAssessing } from '../reputation/evaluate.js';
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

/**
 * Files named on the command line; directories contribute their regular files, sorted (not their subfolders,
 * said once), leaving out the map, inventory and label files this run was given. `-` is standard input.
 */
export function expandInputs(paths: string[], sideFiles: string[] = []): string[] {
  const out: string[] = [];
  const side = new Set(sideFiles.map((f) => resolve(f)));
  for (const p of paths) {
    if (p === '-') {
      out.push('-');
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      fail(`${p}: no such file or directory`, 2);
    }
    if (st.isDirectory()) {
      let subfolders = 0;
      for (const name of readdirSync(p).sort()) {
        const f = join(p, name);
        if (name.startsWith('.')) continue;
        const fst = statSync(f);
        if (fst.isDirectory()) subfolders++;
        else if (fst.isFile() && !side.has(resolve(f))) {
          if (/\.(ya?ml|md|json)$/i.test(name)) continue; // a config or a note beside the CDRs, not calls
          const map = mapFileKind(f);
          if (map) process.stderr.write(`numrep: ${f}: a ${map} file, not calls: not read (give it with --${map})\n`);
          else out.push(resolve(f));
        }
      }
      if (subfolders > 0) process.stderr.write(`numrep: ${p}: ${subfolders} subfolder(s) not read (name them, or their files, to read them)\n`);
    } else out.push(resolve(p));
  }
  return out;
}

/** The map a file is by its header line (prefix,carrier / trunk,carrier / extension,number), or null. */
function mapFileKind(file: string): 'prefix-map' | 'trunk-map' | 'caller-map' | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(512);
    const n = readSync(fd, head, 0, 512, 0);
    const lines = head.toString('utf8', 0, n).replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const h = (lines[0] ?? '').toLowerCase().replace(/\s/g, '');
    return h === 'prefix,carrier' ? 'prefix-map' : h === 'trunk,carrier' ? 'trunk-map' : h === 'extension,number' ? 'caller-map' : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Inputs a reader cannot seek in, as files it can: standard input is copied, a gzip file (by its magic
 * bytes, whatever its name) is inflated, into a private temporary folder, under a name that says what it was.
 */
async function materialise(files: string[]): Promise<{ files: string[]; cleanup: () => void }> {
  let dir: string | null = null;
  const tmp = () => (dir ??= mkdtempSync(join(tmpdir(), 'numrep-report-')));
  const out: string[] = [];
  for (const f of files) {
    if (f === '-') {
      const target = join(tmp(), 'stdin');
      await pipeline(process.stdin, createWriteStream(target, { mode: 0o600 }));
      out.push(target);
      continue;
    }
    if (!isGzip(f)) {
      out.push(f);
      continue;
    }
    const target = join(tmp(), basename(f).replace(/\.gz$/i, '') || 'input');
    try {
      await pipeline(createReadStream(f), createGunzip(), createWriteStream(target, { mode: 0o600 }));
    } catch (err) {
      fail(`${f}: gzip data is damaged (${(err as Error).message})`, 1);
    }
    out.push(target);
  }
  return { files: out, cleanup: () => dir !== null && rmSync(dir, { recursive: true, force: true }) };
}

function isGzip(file: string): boolean {
  const head = Buffer.alloc(2);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The exit code of a report (README, "Exit codes"): 1 when no call was counted (nothing read, every row
 * skipped or rejected, or no call in the windows ending at --at), or when any row was rejected (unless
 * `allowRejects`); else 0.
 */
export function reportExitCode(r: { noCallIn7d: boolean; ingest: IngestAccount }, o: { allowRejects: boolean }): number {
  const rejected = Object.values(r.ingest.rejected).reduce((a, b) => a + b, 0);
  if (r.ingest.accepted === 0 || r.noCallIn7d) return 1;
  if (rejected > 0 && !o.allowRejects) return 1;
  return 0;
}

export interface ReportRun<J = ReportJson> {
  json: J;
  rejected: number;
  accepted: number;
  ingest: IngestAccount;
  /** No number placed a call in the 7 d window ending at the evaluation time. */
  noCallIn7d: boolean;
}

/** The report JSON with its numbers made as they are written (indentedJsonChunks), not held. */
export type StreamedReportJson = Omit<ReportJson, 'numbers'> & { numbers: StreamedArray<NumberJson> };

/** One-shot assessment: the files go through the same readers and windows as `serve`, into an in-memory database. */
export async function runReport(paths: string[], flags: ReportFlags): Promise<ReportRun> {
  return (await oneShotRun(paths, flags, false)) as ReportRun;
}

/**
 * runReport for `report --json`: the same JSON, but each number is assessed and made only as the writer reaches it,
 * so none outlives its own piece of text (12,000 numbers held until the end were ~1 s of garbage collection).
 */
export async function runReportStreamed(paths: string[], flags: ReportFlags): Promise<ReportRun<StreamedReportJson>> {
  return (await oneShotRun(paths, flags, true)) as ReportRun<StreamedReportJson>;
}

/** runReport and runReportStreamed: `streamed` says which JSON. */
async function oneShotRun(paths: string[], flags: ReportFlags, streamed: boolean): Promise<ReportRun<ReportJson | StreamedReportJson>> {
  const c = configFrom(flags);
  const format = checkFormat(flags.format);
  let at: number | undefined;
  if (flags.at !== undefined) {
    at = Date.parse(flags.at);
    if (Number.isNaN(at)) fail(`--at ${flags.at}: not an ISO 8601 time, e.g. 2026-11-20T17:30:00Z`, 2);
  }
  if (flags.quarantine) {
    // Checked before the run, not after it: a path that cannot be written fails now, naming it.
    try {
      closeSync(openSync(flags.quarantine, 'w', 0o600));
    } catch (err) {
      fail(`--quarantine ${flags.quarantine}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
    }
  }
  const inputs = expandInputs(paths, [flags.config, c.prefix_map, c.trunk_map, c.caller_map, flags.inventory, flags.labels].filter((f): f is string => f !== undefined));
  if (inputs.length === 0) fail(`no input files in ${paths.join(', ')}`, 2);
  const { files, cleanup } = await materialise(inputs);
  process.once('exit', cleanup);
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
    fatigue: fatigueSettingsFrom(c),
    abandonedLimit: c.dispositions.abandoned_limit,
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
  const m = managementOf(rt, snap.at, false);
  // Each number assessed as its entry is made, not all first: 12,000 assessments kept until the last entry were
  // ~0.3 s of garbage collection (they outlived the young generation), for the same entries.
  const enrich = withPlace(withManagement(enrichByAssessing(snap, { config: reputation, labels: rt.labels, registered: rt.registered }), m), rt);
  const json: ReportJson | StreamedReportJson = streamed
    ? { evaluated_at: evaluatedAt(snap), numbers: new StreamedArray(() => numberEntries(snap, enrich)), carriers: carriersJson(snap) }
    : reportJson(snap, enrich);
  // As the numbers' entries say it (windows['7d'].calls), from the sums they are made of.
  const noCallIn7d = [...snap.numbers.values()].every((v) => (v.windows['7d']?.[F_CALLS] ?? 0) === 0);
  json.pools = poolsJson(snap, m);
  json.campaigns = campaignsJson(snap, m);
  const ingest = accountOf(rt.store.ingestCounts());
  json.ingest = ingest;
  const accepted = ingest.accepted;
  const rejected = Object.values(ingest.rejected).reduce((s, v) => s + v, 0);
  process.stderr.write(`numrep: ${describeAccount(ingest)}.\n`);
  const advice = adviceFor(ingest);
  if (advice) process.stderr.write(`numrep: ${advice}.\n`);
  if (accepted > 0 && noCallIn7d) {
    let first = Infinity;
    let last = -Infinity;
    for (const n of rt.seen.values()) {
      first = Math.min(first, n.first);
      last = Math.max(last, n.last);
    }
    process.stderr.write(`numrep: no call in the 7 d window ending ${new Date(evalAt).toISOString()}: the ${accepted.toLocaleString('en-US')} calls counted run from ${new Date(first).toISOString()} to ${new Date(last).toISOString()} (--at moves the window)\n`);
  }
  if (rejected > 0) {
    const q = rt.store.quarantined(1_000_000).reverse();
    process.stderr.write('numrep: rejected rows, e.g.:\n');
    for (const e of q.slice(0, 5)) process.stderr.write(`  ${e.file}:${e.line}: ${e.reason}: ${e.detail}\n`);
    if (flags.quarantine) {
      writeFileSync(flags.quarantine, q.map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o600 });
      process.stderr.write(`  all rejected lines written to ${flags.quarantine}\n`);
    } else if (q.length > 5) process.stderr.write('  (use --quarantine FILE to keep every rejected line)\n');
  }
  await rt.close();
  return { json, rejected, accepted, ingest, noCallIn7d };
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** Worst first: spam, mixed, in progress, healthy; then the lower score; then the number. */
const STATUS_ORDER: Record<string, number> = { spam: 0, mixed: 1, in_progress: 2, healthy: 3 };
function worstFirst(a: ReportJson['numbers'][number], b: ReportJson['numbers'][number]): number {
  return (STATUS_ORDER[a.status ?? ''] ?? 4) - (STATUS_ORDER[b.status ?? ''] ?? 4) || (a.score ?? 101) - (b.score ?? 101) || a.number.localeCompare(b.number);
}

function layout(rows: string[][], right: Set<number>): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => (right.has(i) ? v.padStart(widths[i]) : i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)];
}

/**
 * The terminal table: worst numbers first, the columns that say what to do and why, in `width` columns (the
 * reason is cut to fit, with …; `--explain NUMBER` prints it whole). `wide`: every KPI column and the whole reason.
 */
export function reportTable(j: ReportJson, opts: { wide?: boolean; width?: number } = {}): string {
  const numbers = [...j.numbers].sort(worstFirst);
  const lines: string[] = [];
  if (opts.wide) {
    const rows = [['number', 'pool', 'status', 'score', 'calls 24h', 'answer 24h', '487 24h', 'reject 24h', 'block 24h', 'calls 7d', 'answer 7d', 'action', 'reason']];
    for (const n of numbers) {
      const d = n.windows['24h'];
      const w = n.windows['7d'];
      rows.push([
        n.number, n.pool, n.status ?? '-', n.score === undefined ? '-' : String(Math.round(n.score)),
        String(d.calls), pct(d.answer_ratio), pct(d.cancel_ratio), pct(d.rejection_ratio), pct(d.block_ratio),
        String(w.calls), pct(w.answer_ratio), n.recommendation?.action ?? '-', n.recommendation?.reason ?? '',
      ]);
    }
    lines.push(...layout(rows, new Set([3, 4, 5, 6, 7, 8, 9, 10])));
  } else {
    const width = Math.max(80, opts.width ?? 100);
    const rows = [['number', 'status', 'score', 'action', 'calls 7d', 'answer 7d', 'reason']];
    for (const n of numbers) {
      const w = n.windows['7d'];
      rows.push([n.number, n.status ?? '-', n.score === undefined ? '-' : String(Math.round(n.score)), n.recommendation?.action ?? '-', String(w.calls), pct(w.answer_ratio), n.recommendation?.reason ?? '']);
    }
    // The reason takes what the other columns leave of the width.
    const fixed = rows[0].slice(0, -1).map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 2).reduce((a, b) => a + b, 0);
    const room = Math.max(10, width - fixed);
    for (const r of rows.slice(1)) if (r[6].length > room) r[6] = r[6].slice(0, room - 1) + '…';
    lines.push(...layout(rows, new Set([2, 4, 5])));
  }
  lines.push('', `evaluated at ${j.evaluated_at}`);
  // Carriers, wrapped to the width.
  const width = opts.wide ? Infinity : Math.max(80, opts.width ?? 100);
  let line = 'answered 24h by carrier:';
  for (const c of j.carriers) {
    const item = ` ${c.carrier} ${pct((c['24h'] as { answer_ratio: number | null }).answer_ratio)}`;
    if (line.length + item.length + 1 > width) {
      lines.push(line + ',');
      line = ' ';
    } else if (!line.endsWith(':')) line += ',';
    line += item;
  }
  if (j.carriers.length === 0) line += ' none';
  lines.push(line);
  if (!opts.wide && numbers.some((n) => (n.recommendation?.reason ?? '').length > 0)) lines.push('whole reasons: --wide, or --explain NUMBER');
  return lines.join('\n') + '\n';
}

/** Everything the report knows about one number, for a reader: verdict, why, per carrier, per window. */
export function explainNumber(j: ReportJson, number: string): string | null {
  const n = j.numbers.find((x) => x.number === number);
  if (!n) return null;
  const out: string[] = [];
  out.push(`${n.number} (pool ${n.pool}), evaluated at ${j.evaluated_at}`);
  out.push(`  status ${n.status ?? '-'}, score ${n.score ?? '-'}`);
  if (n.recommendation) out.push(`  action ${n.recommendation.action}${n.recommendation.until ? ` until ${n.recommendation.until}` : ''}: ${n.recommendation.reason}`);
  if (n.subscores && n.ratings) out.push(`  sub-scores: ${Object.entries(n.subscores).map(([k, v]) => `${k} ${v} (${n.ratings![k]})`).join(', ')}`);
  for (const w of ['24h', '7d'] as const) {
    const k = n.windows[w];
    if (!k) continue;
    out.push(`  ${w}: ${k.calls} calls, answered ${pct(k.answer_ratio)}, 487 ${pct(k.cancel_ratio)}, rejected ${pct(k.rejection_ratio)}, blocked ${pct(k.block_ratio)}, voicemail ${pct(k.voicemail_ratio)}, short ${pct(k.short_call_ratio)}, talk ${k.avg_talk_seconds === null ? '-' : `${Math.round(k.avg_talk_seconds)} s`}`);
  }
  if (n.fatigue) {
    for (const w of ['24h', '7d'] as const) {
      const f = n.fatigue[w];
      out.push(`  fatigue ${w}: ${f.consumers} consumers, repeat dials ${pct(f.repeat_dial_ratio)}, ${f.consumers_over_cap} over the ${n.fatigue.cap}/24h cap (${f.attempts_over_cap} calls beyond it)`);
    }
  }
  if (n.dispositions) {
    for (const [w, d] of Object.entries(n.dispositions)) {
      if (d) out.push(`  dispositions ${w}: ${d.connected_human} reached a person, ${d.conversions} converted (${pct(d.conversion_ratio)}), ${d.abandoned} abandoned (${pct(d.abandoned_ratio)})`);
    }
  }
  for (const [c, v] of Object.entries(n.carriers)) {
    const k = v['7d'] as { calls: number; answer_ratio: number | null; cancel_ratio: number | null } | undefined;
    out.push(`  carrier ${c}: ${v.flag ?? '-'}${v.reason ? ` (${v.reason})` : ''}${k ? `; 7d ${k.calls} calls, answered ${pct(k.answer_ratio)}, 487 ${pct(k.cancel_ratio)}` : ''}`);
  }
  if (n.engines) for (const [e, l] of Object.entries(n.engines)) out.push(`  ${e}: ${l.label} (checked ${l.checked_at})`);
  const signals = (n as { signals?: unknown[] }).signals;
  if (Array.isArray(signals) && signals.length > 0) {
    out.push('  signals:');
    for (const s of signals) out.push(`    ${JSON.stringify(s)}`);
  }
  return out.join('\n') + '\n';
}

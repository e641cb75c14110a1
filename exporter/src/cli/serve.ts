import { countryCodeOf } from '../config.js';
import { mkdirSync, appendFileSync, readFileSync, existsSync, realpathSync, accessSync, constants as fsConstants } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import chokidar from 'chokidar';
import { Runtime, fatigueSettingsFrom, parseShard, readerOptionsFrom, type Shard } from '../runtime.js';
import { MetricsExporter } from '../http/metrics.js';
import { createApp, listen } from '../http/server.js';
import { withPlace } from '../http/json.js';
import { loadGeocoding } from '../model/geo.js';
import { checkFormat, classifySettingsFrom, configFrom, parseListen, resolverFrom, type CommonFlags } from './common.js';
import { accountOf, describeAccount } from '../classify/account.js';
import { globToRegExp } from '../ingest/tailer.js';
import { openHint } from '../store/db.js';
import type { SourceState } from '../store/db.js';
import { fail, makeLog } from './log.js';
import { VERSION } from '../version.js';
import { allowedHost } from '../config.js';
import { startDemo } from '../sim/demo.js';
import { LiveWebConfig, describeWeb, loadWebConfig } from '../http/webConfig.js';
import { exposureWarning } from '../http/guards.js';
import { snapshotEvents, assessSnapshot, assessView, enrichByAssessing, verdictOf } from '../reputation/evaluate.js';
import { Turns } from '../stats/turns.js';
import { parseReputationConfig } from '../reputation/config.js';
import { HistoryRecorder } from '../reputation/history.js';
import { DatabaseLockedError, DbLock } from '../store/lock.js';
import { QuarantineFile } from '../ingest/quarantineFile.js';
import { registerIngestMetrics } from '../http/ingestMetrics.js';
import { numberInfoFamily, registerRemediationMetrics } from '../http/managementMetrics.js';
import { ReadProgress } from '../ingest/progress.js';

/** `reputation.labels.benign` (the config was validated when it was read). */
function benignLabelsOf(reputation: unknown): readonly string[] | undefined {
  try {
    return parseReputationConfig(reputation).labels.benign;
  } catch {
    return undefined;
  }
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (p may not exist yet). */
function realPathOf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realPathOf(parent), basename(p));
  }
}
import { setupLive } from './live.js';

export interface ServeFlags extends CommonFlags {
  listen?: string;
  inbox?: string;
  db?: string;
  source?: string[];
  demo?: boolean;
  quiet?: boolean;
  /** `i/n`: this exporter keeps the numbers of shard i of n (docs/scaling.md). */
  shard?: string;
  /** More `web.allowed_hosts`, e.g. the service name other containers use. */
  allowedHost?: string[];
  /** exporter-toolkit web config: TLS, basic auth, headers (wins over `web.config_file`). */
  'web.config.file'?: string;
  /** HEPv3 collector address (config `hep.listen`). */
  hepListen?: string;
}

/** SIGTERM/SIGINT: the most a stop waits for the drain before it exits anyway (under Docker's 10 s grace). */
const STOP_DEADLINE_MS = 8_000;

export async function serve(flags: ServeFlags): Promise<void> {
  const log = makeLog(flags.quiet);
  const c = configFrom(flags);
  if (flags.listen) c.listen = flags.listen;
  if (flags.inbox) c.inbox = flags.inbox;
  if (flags.db) c.db = flags.db;
  const format = checkFormat(flags.format);
  const { host, port } = parseListen(c.listen);
  for (const h of flags.allowedHost ?? []) {
    if (!allowedHost.safeParse(h).success) fail(`--allowed-host ${h}: expected HOST or HOST:PORT, e.g. numrep.internal or exporter:9847`, 2);
  }
  const inbox = resolve(c.inbox);
  const db = resolve(c.db);
  // An inbox that is (or holds) the database's folder reads numrep's own database, WAL and quarantine as input.
  const dbDir = realPathOf(dirname(db));
  const inboxReal = realPathOf(inbox);
  if (dbDir === inboxReal || dbDir.startsWith(inboxReal + sep)) {
    fail(`inbox ${c.inbox} ${dbDir === inboxReal ? 'is' : 'contains'} the database's folder (${dirname(db)}): numrep would read its own database, WAL and quarantine as input; give the inbox a folder of its own`, 2);
  }
  // Files numrep writes: 0600, or 0640 for a group (a backup or monitoring user) with group_readable.
  const fileMode = c.group_readable ? 0o640 : 0o600;
  // One writer per database, taken before anything is created or written (a refused second serve changes nothing).
  let lock: DbLock;
  try {
    lock = await DbLock.acquire(db, { command: 'serve', inbox, listen: c.listen }, fileMode);
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      fail(`${err.message}; a second writer would count every call twice. Stop that one first, or give this one a database of its own (--db)`, 2);
    }
    fail(`cannot lock database ${c.db}: ${(err as Error).message}${openHint(db)}`);
  }
  try {
    mkdirSync(inbox, { recursive: true });
  } catch (err) {
    fail(`inbox ${inbox}: cannot create it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
  }
  // A read-only inbox is still read; uploads and the demo need to write into it.
  let inboxWritable = true;
  try {
    accessSync(inbox, fsConstants.W_OK);
  } catch {
    inboxWritable = false;
    if (flags.demo) fail(`--demo: inbox ${inbox} is not writable by this user: the demo writes its traffic there (choose --inbox)`, 2);
  }
  const globs = [...c.sources.map((s) => s.path), ...(flags.source ?? [])];
  const formats = new Map(c.sources.filter((s) => s.format).map((s) => [resolve(s.path), s.format!]));
  // A link among the sources is read only where its sources: entry says follow_symlinks: true (--source: never).
  const followByGlob = new Map(c.sources.map((s) => [s.path, s.follow_symlinks]));
  const quarantinePath = join(dirname(db), 'quarantine.jsonl');
  const q = c.quarantine;
  const quarantineFile = new QuarantineFile({ path: quarantinePath, maxBytes: q.file_max_bytes, keep: q.file_keep, mode: fileMode, log });
  let overStepCap = 0;

  let shard: Shard | undefined;
  try {
    shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  } catch (err) {
    fail((err as Error).message, 2);
  }

  // A long read (a month of CDRs dropped into the inbox) says how far it is every 10 s.
  const progress = new ReadProgress();
  // Per file, what was read since it was last reported: said in one line once the file is caught up.
  const unreported = new Map<number, { counts: Record<string, number>; first: number; last: number }>();
  // A gzip file of the start-up backlog unpacks into a new file: that one is backlog too (/readyz waits for it).
  const unpackedBeforeReady = new Map<string, number>();
  let rt: Runtime;
  try {
    rt = new Runtime({
      shard,
      maxCarriersPerNumber: c.max_carriers_per_number,
      fatigue: fatigueSettingsFrom(c),
      abandonedLimit: c.dispositions.abandoned_limit,
      db: c.db,
      onMigrate: (message) => log(message),
      bucketMs: c.bucket_seconds * 1000,
      inbox,
      globs,
      readerOptions: readerOptionsFrom(c),
      resolver: resolverFrom(c),
      classify: { ...classifySettingsFrom(c), keyRetentionMs: c.retention_days * 86_400_000 },
      format,
      formatFor: (p) => formats.get(p),
      settleMs: c.settle_ms,
      maxRecordBytes: c.max_record_bytes,
      futureToleranceMs: c.future_tolerance_seconds * 1000,
      quarantine: { maxRawChars: q.max_raw_chars, maxDetailChars: 512, maxPerStep: q.max_per_step },
      quarantineMaxRows: q.db_max_rows,
      benignLabels: benignLabelsOf(c.reputation),
      fileMode,
      followSymlinks: (g) => followByGlob.get(g) ?? false,
      ownFiles: [quarantinePath, ...Array.from({ length: q.file_keep }, (_, i) => `${quarantinePath}.${i + 1}`)],
      stallAfterMs: c.stall_after_seconds * 1000,
      now: Date.now,
      onRotation: (s, kind) => log(`source ${s.path}: ${kind === 'rename' ? 'rotated (renamed)' : 'truncated'}; following the new content`),
      // Once per problem and path (the tailer says a problem again only when it changes).
      onError: (p, err) => log(`source ${p}: ${err.message}`),
      onRecover: (p) => log(`source ${p}: the problem above has cleared`),
      onUnpack: (gz, out, bytes, inflated) => {
        if (!ready) unpackedBeforeReady.set(out, inflated);
        log(`source ${gz}: gzip, ${bytes.toLocaleString('en-US')} bytes unpacked to ${basename(out)} (${inflated.toLocaleString('en-US')} bytes); the compressed file is removed`);
      },
      onCommit: (batch, src) => {
        const line = progress.commit(src.path, batch.records + batch.skipped + batch.rejected, src.offset, rt.tailer.sizeOf(src.path), Date.now());
        if (line !== null) log(line);
        const u = unreported.get(src.id) ?? { counts: {}, first: Infinity, last: -Infinity };
        for (const c of batch.counters.values()) u.counts[`${c.result}:${c.reason}`] = (u.counts[`${c.result}:${c.reason}`] ?? 0) + c.count;
        for (const n of batch.seen.values()) {
          u.first = Math.min(u.first, n.first);
          u.last = Math.max(u.last, n.last);
        }
        unreported.set(src.id, u);
        if (batch.quarantine.length === 0) return;
        // The quarantine keeps the (masked, cut) line; the log line names only file, line and reason.
        quarantineFile.append(batch.quarantine);
        overStepCap += batch.quarantineDropped;
        const first = batch.quarantine[0];
        const notKept = batch.quarantineDropped > 0 ? `; ${batch.quarantineDropped.toLocaleString('en-US')} more not kept (quarantine.max_per_step)` : '';
        log(`source ${src.path}: ${batch.rejected.toLocaleString('en-US')} record(s) rejected, e.g. line ${first.line}: ${first.reason} (${first.detail}); kept in ${quarantinePath}${notKept}`);
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  if (rt.store.unreadableStates > 0) {
    log(`warning: ${rt.store.unreadableStates} source state(s) were sealed under another secret than ${c.db}.secret (was it replaced?): their calls in flight are lost; the sources read on from their offsets`);
  }
  for (const f of rt.store.narrowed) log(`${f}: permissions narrowed to ${fileMode.toString(8).padStart(4, '0')} (group_readable: ${c.group_readable})`);

  if (c.track === 'inventory' && rt.pools.size === 0) {
    log('warning: track: inventory and the inventory is empty: no number is tracked until one is imported (numrep inventory import, or an inventory CSV dropped into the inbox)');
  }

  let token: string | undefined;
  if (c.auth.bearer_token_file) {
    try {
      token = readFileSync(c.auth.bearer_token_file, 'utf8').trim();
    } catch (err) {
      fail(`auth.bearer_token_file: ${(err as Error).message}`, 2);
    }
    if (!token) fail(`auth.bearer_token_file ${c.auth.bearer_token_file} is empty`, 2);
  }

  // --web.config.file / web.config_file: the exporter-toolkit file (TLS, client certificates, basic auth, headers)
  const webFile = flags['web.config.file'] ?? c.web.config_file;
  let web: LiveWebConfig | undefined;
  try {
    web = webFile === undefined ? undefined : new LiveWebConfig(loadWebConfig(webFile));
  } catch (err) {
    fail((err as Error).message, 2);
  }

  let reputation;
  try {
    reputation = parseReputationConfig(c.reputation);
  } catch (err) {
    fail(`${flags.config ?? 'config'}: reputation: ${(err as Error).message}`, 2);
  }
  const evaluate = { config: reputation, labels: rt.labels, registered: rt.registered };
  const metrics = new MetricsExporter(rt, {
    version: VERSION,
    seriesBudget: c.series_budget,
    exclude: c.metrics.exclude,
    verdicts: (snap) => new Map([...assessSnapshot(snap, evaluate)].map(([n, a]) => [n, verdictOf(a)])),
    extraChunks: numberInfoFamily({ registration: rt.registration, sideVersion: () => rt.sideDataVersion }),
    carrierEvents: (snap) => snapshotEvents(snap.carriers, reputation),
  });
  let ready = false;
  const live = setupLive(c, rt, flags.hepListen, log);
  const app = createApp({
    pushRoutes: live.pushRoutes,
    runtime: rt,
    metrics,
    // Each number is assessed when its entry is written: one number's request costs one assessment.
    enrichFor: (snap) => withPlace(enrichByAssessing(snap, evaluate), rt),
    inbox,
    maxUploadBytes: c.max_upload_bytes,
    maxConcurrentUploads: c.web.max_concurrent_uploads,
    listenHost: host,
    allowedHosts: [...c.web.allowed_hosts, ...(flags.allowedHost ?? [])],
    token,
    protectMetrics: c.auth.protect_metrics,
    web,
    defaultCountryCode: countryCodeOf(c),
    isReady: () => ready,
    stalled: () => rt.tailer.stalled(),
    log,
  });
  registerRemediationMetrics(metrics.registry, { cases: () => rt.store.remediations.list(), now: Date.now });
  registerIngestMetrics(metrics.registry, {
    stalled: () => rt.tailer.stalled(),
    quarantineDropped: () => ({
      over_step_cap: overStepCap,
      db_pruned: rt.store.quarantinePruned,
      file_rotated: quarantineFile.droppedRotated,
      file_disk_full: quarantineFile.droppedDiskFull,
      file_write_error: quarantineFile.droppedWriteError,
    }),
  });
  // Where our numbers live: the default calling code's geocoding table decoded before the first scrape needs it.
  loadGeocoding(countryCodeOf(c));
  // A stop asked for while serve is still starting (the first poll of a backlog can take a while) is held and
  // carried out once the full stop is in place; the deadline runs from the signal, not from then.
  let stopHandler: ((signal: string) => void) | null = null;
  let earlySignal: string | null = null;
  const onSignal = (signal: string) => {
    if (stopHandler) return stopHandler(signal);
    if (earlySignal !== null) return;
    earlySignal = signal;
    log(`${signal} while starting: stopping once the read in progress is committed`);
    setTimeout(() => {
      log(`${signal}: not stopped after ${STOP_DEADLINE_MS} ms; exiting without waiting (uncommitted input is read again at the next start)`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  let server;
  try {
    server = await listen(app, host, port, web, log);
  } catch (err) {
    fail(`cannot listen on ${c.listen}: ${(err as Error).message}`);
  }
  log(`numrep ${VERSION} serving ${web?.current.tls ? 'https' : 'http'}://${host === '' ? `*${c.listen}` : c.listen}/metrics and /api/v1/numbers (database ${c.db})`);
  if (web) {
    log(`web config ${webFile}: ${describeWeb(web.current)}${web.current.ignored.length ? `; ignored: ${web.current.ignored.join(', ')}` : ''}`);
    const reloadable = web;
    process.on('SIGHUP', () => void reloadable.reload(server, log)); // new certificates, users, headers
  }
  const open = exposureWarning(host, port, { token: token !== undefined, basicAuth: (web?.current.users.size ?? 0) > 0 });
  if (open) log(open);
  await live.start(metrics.registry);
  if (shard && shard.count > 1) log(`shard ${shard.index}/${shard.count}: keeping the caller numbers that hash to ${shard.index} of ${shard.count}; the other shards count the rest`);
  if (!inboxWritable) log(`warning: inbox ${inbox} is not writable by this user: it is read, but uploads (POST /api/v1/upload) will fail`);
  log(`watching ${inbox} — drop CDR or SIP log files there${existsSync('examples') ? `, e.g. cp examples/Master.csv ${c.inbox}/` : ''}`);
  for (const g of globs) log(`tailing ${g}`);
  if (c.metrics.exclude.length > 0) log(`/metrics leaves out ${c.metrics.exclude.join(', ')} (config metrics.exclude)`);

  let demo: { stop(): Promise<void> } | undefined;
  if (flags.demo) {
    demo = await startDemo({ inbox, now: Date.now, log });
  }

  // One info line per file once it is caught up: what its rows became, and a warning when its calls are all
  // older than the 7 d window (they count in numrep_calls_total only).
  // A file that keeps growing (a live Master.csv, the demo) is caught up after every append: its line comes at
  // most every ten minutes, with what was read since the last one.
  const lastLogged = new Map<number, number>();
  const reportRead = () => {
    const now = Date.now();
    for (const s of rt.tailer.states()) {
      const u = unreported.get(s.id);
      const size = rt.tailer.sizeOf(s.path);
      if (u === undefined || size === null || s.offset < size) continue;
      if (now - (lastLogged.get(s.id) ?? -Infinity) < 600_000) continue;
      unreported.delete(s.id);
      lastLogged.set(s.id, now);
      logFileRead(s, u);
    }
  };
  const logFileRead = (s: SourceState, u: { counts: Record<string, number>; first: number; last: number }) => {
    const account = accountOf(Object.entries(u.counts).map(([k, count]) => {
      const [result, reason] = k.split(':') as ['accepted' | 'skipped' | 'rejected', string];
      return { format: s.format ?? 'unknown', result, reason, count };
    }));
    if (account.records === 0) return;
    const range = u.first <= u.last ? `, calls ${new Date(u.first).toISOString()} … ${new Date(u.last).toISOString()}` : '';
    log(`source ${s.path}: read ${describeAccount(account)} (format ${s.format}${range})`);
    if (account.accepted > 0 && u.last < Date.now() - 7 * 86_400_000) {
      log(`source ${s.path}: all ${account.accepted.toLocaleString('en-US')} calls counted are older than 7 d: they count in numrep_calls_total only, not in the windows or scores`);
    }
  };
  const t0 = Date.now();
  await rt.poll();
  reportRead();
  for (const g of globs) {
    const re = globToRegExp(resolve(g));
    // A path that exists but is not followed (a FIFO, a link) is said by the tailer's own line.
    if (!/[*?]/.test(g) && existsSync(resolve(g))) continue;
    if (!rt.tailer.paths().some((p) => re.test(p))) log(`warning: source ${g}: no file matches it yet; numrep follows it once one appears (numrep_source_glob_files{glob="${g}"} is 0 until then)`);
  }
  // Ready once the backlog present at start is committed: every file then known read up to its size at start
  // (a dropped file is read once it has been quiet for settle_ms). Until then /readyz answers 503.
  const backlog = new Map(rt.tailer.paths().map((p) => [p, rt.tailer.sizeOf(p) ?? 0]));
  const caughtUp = () => {
    for (const [p, size] of unpackedBeforeReady) backlog.set(p, size);
    unpackedBeforeReady.clear();
    const offsets = new Map(rt.tailer.states().map((st) => [st.path, st.offset]));
    for (const [p, size] of backlog) {
      const at = offsets.get(p);
      if (at === undefined ? !existsSync(p) : at >= size) backlog.delete(p); // read, or gone (unpacked, not yet found: neither)
    }
    return backlog.size === 0;
  };
  const markReady = () => {
    if (ready || !caughtUp()) return;
    ready = true;
    log(`ready in ${Date.now() - t0} ms: following ${rt.tailer.paths().length} file(s), ${rt.seen.size} numbers known so far (a dropped file is read once it has been quiet for ${c.settle_ms} ms)`);
  };
  if (!caughtUp()) log(`catching up on ${backlog.size} file(s) present at start (${[...backlog.values()].reduce((a, b) => a + b, 0).toLocaleString('en-US')} bytes): /readyz answers 503 until they are read`);
  markReady();

  // History: a row per change and at least hourly; status changes are logged as events. A tick assesses
  // every number, so it goes a slice at a time with turns for the event loop (/healthz, scrapes, SIGTERM),
  // never overlaps the tick before it, and stops early when the process stops.
  const history = new HistoryRecorder(rt.store);
  let stopping = false;
  let historyRunning = false;
  const historyTick = async () => {
    const snap = rt.snapshotNow();
    await history.recordInSlices(snap.numbers.values(), (v) => [v.number, assessView(v, snap, evaluate)], snap.at, new Turns(), {
      stopped: () => stopping,
      onStatusChange: (row, was) => log(`status ${row.number}: ${was} → ${row.status} (${row.action}: ${row.reason})`),
    });
  };
  const recordHistory = () => {
    if (historyRunning || stopping) return;
    historyRunning = true;
    historyTick()
      .catch((err) => log(`history: ${(err as Error).message}`))
      .finally(() => (historyRunning = false));
  };
  recordHistory();
  const historyTimer = setInterval(recordHistory, 60_000);

  const watchPaths = [inbox, ...globs.map((g) => (/[*?]/.test(g) ? dirname(resolve(g)) : resolve(g)))];
  const watcher = chokidar.watch(watchPaths, {
    ignoreInitial: true,
    usePolling: c.use_polling,
    interval: c.poll_interval_ms,
    depth: 0,
    ignored: (p: string) => /(^|[/\\])\.[^/\\]+\.part$/.test(p),
  });
  let pending = false;
  const kick = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      void rt.poll().then(() => {
        reportRead();
        markReady();
      });
    });
  };
  watcher.on('all', kick);
  // The same watcher error (an unreadable entry) comes on every scan: said once per distinct message.
  const watcherErrors = new Set<string>();
  watcher.on('error', (err) => {
    const msg = (err as Error).message;
    if (watcherErrors.has(msg)) return;
    if (watcherErrors.size >= 1000) watcherErrors.clear();
    watcherErrors.add(msg);
    log(`watcher: ${msg}`);
  });
  // The timer catches what events miss (network mounts, settled partial lines) and moves the windows.
  const timer = setInterval(kick, c.poll_interval_ms);
  const pruneTimer = setInterval(() => {
    const removed = rt.prune(Date.now() - c.retention_days * 86_400_000);
    if (removed > 0) log(`pruned ${removed} buckets older than ${c.retention_days} days`);
  }, 3_600_000);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining and committing before exit`);
    // Whatever the drain waits on (a poll stuck on a file, a slow close), exit within the deadline: every
    // commit is atomic with its offsets, so what is not committed is read again at the next start.
    setTimeout(() => {
      log(`${signal}: not drained after ${STOP_DEADLINE_MS} ms; exiting without waiting (uncommitted input is read again at the next start)`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    clearInterval(timer);
    clearInterval(pruneTimer);
    clearInterval(historyTimer);
    await demo?.stop();
    await watcher.close();
    server.close();
    await live.close(); // the HEP collector's last packets committed with its dialogs
    await rt.close(); // waits for the poll in flight: every batch read is committed
    quarantineFile.close();
    lock.release();
    log('stopped cleanly');
    process.exit(0);
  };
  stopHandler = (signal) => void stop(signal);
  if (earlySignal !== null) stopHandler(earlySignal);
}

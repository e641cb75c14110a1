import type { EngineLabel } from './reputation/assess.js';
import { CarrierResolver } from './model/carrier.js';
import type { ReaderOptions } from './ingest/reader.js';
import { createReader, detectFormat } from './ingest/formats/index.js';
import { Tailer } from './ingest/tailer.js';
import type { Batch } from './ingest/batch.js';
import { Store, type NumberSeen, type SourceState } from './store/db.js';
import { BLOCK_HOUR_MS } from './store/bucketBlocks.js';
import { WindowSet } from './stats/windows.js';
import { takeSnapshot, updateSnapshot, type Snapshot, type SnapshotOptions } from './stats/snapshot.js';
import { Classifier, type Track } from './classify/classifier.js';
import { CallKeySet, hashKeyFrom } from './classify/callKeys.js';
import type { CallerMap } from './classify/callerMap.js';
import { numberPlan } from './model/phone.js';
import { secretFor } from './store/secret.js';
import { countryCodeOf } from './config.js';
import { shardOf } from './classify/shard.js';
import type { QuarantineLimits } from './ingest/redact.js';
import { DEFAULT_DAILY_CAP, DIAL_RETENTION_MS, DialLog, fatigueAt, fatigueAtSliced, type FatigueOptions, type FatigueSnapshot } from './stats/fatigue.js';
import { dispositionMap } from './model/disposition.js';

export { shardOf };

/**
 * One exporter instance: ingest (tailer + readers) → store (SQLite) → windows → snapshot.
 * `serve` keeps it running at the wall clock; `report` runs it once over files into an
 * in-memory database and evaluates at the newest record (or --at).
 */
export interface RuntimeOptions {
  db: string;
  bucketMs: number;
  inbox?: string;
  globs: string[];
  readerOptions: ReaderOptions;
  resolver: CarrierResolver;
  format?: string;
  formatFor?: (path: string) => string | undefined;
  settleMs: number;
  oneShot?: boolean;
  maxRecordBytes: number;
  chunkBytes?: number;
  /** Input bytes and longest time per SQLite transaction of several read steps (IngestOptions; tests and bench). */
  transactionBytes?: number;
  transactionMs?: number;
  futureToleranceMs?: number;
  now: () => number;
  onRotation?(src: SourceState, kind: 'rename' | 'truncate'): void;
  onError?(path: string, err: Error): void;
  onRecover?(path: string): void;
  /** A dropped gzip file was unpacked beside itself. */
  onUnpack?(gz: string, unpacked: string, bytes: number, inflatedBytes: number): void;
  onCommit?(batch: Batch, src: SourceState): void;
  /** A long move of the database to a newer layout, at open (Store onMigrate). */
  onMigrate?(message: string): void;
  onProgress?(bytes: number): void;
  /** Whether a glob's matches are read when they are symbolic links (default yes; serve: sources[].follow_symlinks). */
  followSymlinks?(glob: string): boolean;
  /** numrep's own files besides the database, its WAL/SHM, lock and secret (which are always added): quarantine files. */
  ownFiles?: string[];
  /** Tailer.stalled: a source without progress this long is stalled (default 5 min). */
  stallAfterMs?: number;
  /** What a rejected record keeps (redact.ts). */
  quarantine?: QuarantineLimits;
  /** Rows kept in the quarantine table (default: unbounded). */
  quarantineMaxRows?: number;
  /** `reputation.labels.benign`: labels that suggest no remediation case (store/remediation.ts). */
  benignLabels?: readonly string[];
  /** Mode the database files get (Store fileMode; serve sets it). */
  fileMode?: number;
  /** Reader registry (tests may plug in their own). */
  readers?: { createReader: typeof createReader; detectFormat: typeof detectFormat };
  /** `--shard i/n`: keep only calls from caller numbers with shardOf(number, n) = i. */
  shard?: Shard;
  /** The classification stage's settings (classify/). */
  classify?: ClassifySettings;
  /** Config `max_carriers_per_number` (default DEFAULT_MAX_CARRIERS_PER_NUMBER): the rest fold into `other`. */
  maxCarriersPerNumber?: number;
  /** Recipient fatigue (config `fatigue`, stats/fatigue.ts). */
  fatigue?: FatigueSettings;
  /** Config `dispositions.abandoned_limit` (default DEFAULT_ABANDONED_LIMIT): the 3 % rule. */
  abandonedLimit?: number;
}

export interface FatigueSettings {
  /** Calls to one consumer per 24 h (default DEFAULT_DAILY_CAP), and per pool. */
  dailyCap?: number;
  poolCaps?: Record<string, number>;
  maxDials?: number;
  /** fatigueNow: figures are remade at most this often (default 0: whenever asked at a new instant). */
  refreshMs?: number;
}

/** Config `fatigue` as FatigueSettings. */
export function fatigueSettingsFrom(c: { fatigue: { daily_cap: number; pools: Record<string, number>; max_dials: number; refresh_seconds: number } }): FatigueSettings {
  return { dailyCap: c.fatigue.daily_cap, poolCaps: c.fatigue.pools, maxDials: c.fatigue.max_dials, refreshMs: c.fatigue.refresh_seconds * 1000 };
}

export interface ClassifySettings {
  callerMap?: CallerMap;
  /** `inventory`: only numbers in the inventory are ever tracked. Default `all`. */
  track?: Track;
  /** New callers beyond this many tracked numbers are skipped (`numbers_over_cap`). Default 100,000. */
  maxTrackedNumbers?: number;
  /** How long a counted call's keys are remembered (duplicate and leg detection). Default 8 days. */
  keyRetentionMs?: number;
  /** Outside-line prefixes left in dialled numbers (`9`). */
  dialPrefixes?: string[];
}

export const DEFAULT_MAX_TRACKED_NUMBERS = 100_000;
export const DEFAULT_KEY_RETENTION_MS = 8 * 86_400_000;

/** One of n exporters reading the same sources; each keeps the numbers that hash to its index. */
export interface Shard {
  index: number;
  count: number;
}

/** `i/n` with 0 ≤ i < n (e.g. `0/3`, `1/3`, `2/3`). Throws with a message for the user. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m) throw new Error(`--shard ${v}: expected i/n, e.g. 0/2 (shards are numbered from 0)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 4096) throw new Error(`--shard ${v}: n must be between 1 and 4096`);
  if (index >= count) throw new Error(`--shard ${v}: i must be below n (0 … ${count - 1})`);
  return { index, count };
}

export class Runtime {
  readonly store: Store;
  readonly tailer: Tailer;
  readonly windows: WindowSet;
  readonly seen = new Map<string, NumberSeen>();
  /** Pool per number from the inventory; 'default' otherwise. */
  readonly pools = new Map<string, string>();
  /** Latest engine label per number and engine (reputation assessment snapshots). */
  readonly labels = new Map<string, Partial<Record<string, EngineLabel>>>();
  /** Inventory registration time per number. */
  readonly registered = new Map<string, number>();
  /** Campaign per number from the inventory, where it names one. */
  readonly campaigns = new Map<string, string>();
  /** Inventory `registered` column per number: true, false, or null when the inventory leaves it empty. */
  readonly registration = new Map<string, boolean | null>();
  newestTs: number | null = null;

  readonly detectFormat: typeof detectFormat;
  readonly classifier: Classifier;
  /** Calls counted, remembered by their keys (classify/callKeys.ts). */
  readonly callKeys = new CallKeySet();
  /** Dials of the last 8 days: our number, start and the consumer's keyed hash (stats/fatigue.ts). */
  readonly dials: DialLog;
  /** How long counted calls are remembered and numbers count as tracked. */
  private readonly retentionMs: number;
  /** Numbers with a call since activeEdge() (the tracked-number cap's count). */
  private activeCount = 0;

  constructor(readonly opts: RuntimeOptions) {
    this.detectFormat = opts.readers?.detectFormat ?? detectFormat;
    // One-shot runs into :memory: keep their (1-second) buckets in process memory: nothing outlives the run.
    this.store = new Store(opts.db, {
      bucketMs: opts.bucketMs,
      memoryBuckets: opts.oneShot === true && opts.db === ':memory:',
      fileMode: opts.fileMode,
      quarantineMaxRows: opts.quarantineMaxRows,
      benignLabels: opts.benignLabels,
      now: opts.now,
      onMigrate: opts.onMigrate,
    });
    for (const s of this.store.numbersSeen()) {
      this.seen.set(s.number, s);
      if (this.newestTs === null || s.last > this.newestTs) this.newestTs = s.last;
    }
    this.windows = new WindowSet(this.store, opts.bucketMs);
    const cs = opts.classify ?? {};
    this.retentionMs = cs.keyRetentionMs ?? DEFAULT_KEY_RETENTION_MS;
    this.store.loadCallKeys(this.callKeys, Math.floor((opts.now() - this.retentionMs) / 1000));
    this.dials = new DialLog(opts.fatigue?.maxDials);
    this.store.loadDials((n, hi, lo, t) => this.dials.add(n, hi, lo, t), Math.floor((opts.now() - DIAL_RETENTION_MS) / 1000));
    // The database's secret; a run into memory keeps its keys and dials in memory only, as fast hashes.
    const secret = opts.db === ':memory:' ? null : hashKeyFrom(secretFor(opts.db));
    this.activeCount = this.countActive();
    const shard = opts.shard && opts.shard.count > 1 ? opts.shard : undefined;
    this.classifier = new Classifier({
      plan: numberPlan(opts.readerOptions.defaultCountryCode, opts.readerOptions.defaultRegion),
      callerMap: cs.callerMap,
      track: cs.track ?? 'all',
      inventory: () => this.pools,
      isTrunk: opts.resolver.hasTrunkMap ? (t) => opts.resolver.isTrunk(t) : undefined,
      resolveCarrier: (raw) => opts.resolver.resolve(raw),
      // The tracked-number cap counts the numbers with calls inside the retention (a one-shot run: every number it
      // read), so a pool that rotates its numbers is not refused new ones forever.
      tracked: opts.oneShot ? this.seen : this.activeNumbers(),
      maxTrackedNumbers: cs.maxTrackedNumbers ?? DEFAULT_MAX_TRACKED_NUMBERS,
      keys: this.callKeys,
      // Keys are stored in the database only when it is a file: then they are hashed under its secret.
      secret,
      consumerSecret: secret,
      shard,
      dialPrefixes: cs.dialPrefixes,
    });
    const formatFor = (path: string) => opts.formatFor?.(path) ?? opts.format;
    this.tailer = new Tailer({
      store: this.store,
      bucketMs: opts.bucketMs,
      readerOptions: opts.readerOptions,
      createReader: opts.readers?.createReader ?? createReader,
      detectFormat: this.detectFormat,
      classifier: this.classifier,
      formatFor,
      chunkBytes: opts.chunkBytes ?? 4 * 1_048_576,
      transactionBytes: opts.transactionBytes,
      transactionMs: opts.transactionMs,
      responsive: opts.oneShot !== true,
      maxRecordBytes: opts.maxRecordBytes,
      futureToleranceMs: opts.futureToleranceMs,
      quarantine: opts.quarantine,
      now: opts.now,
      inbox: opts.inbox,
      globs: opts.globs,
      followSymlinks: opts.followSymlinks,
      ownFiles: opts.db === ':memory:' ? opts.ownFiles : [...ownFilesOf(opts.db), ...(opts.ownFiles ?? [])],
      stallAfterMs: opts.stallAfterMs,
      settleMs: opts.settleMs,
      oneShot: opts.oneShot,
      onRotation: opts.onRotation,
      onError: opts.onError,
      onRecover: opts.onRecover,
      onUnpack: opts.onUnpack,
      onProgress: opts.onProgress,
      onCommit: (batch, src) => this.onCommit(batch, src),
      onSideImport: () => this.reloadSideData(),
    });
    this.reloadSideData();
  }

  private dataVersion = -1;
  /** Bumped when labels and inventory are reloaded, and when a batch moves a number's first/last seen. */
  private sideVersion = 0;
  private seenVersion = 0;

  /** Changes whenever labels or inventory were (re)loaded: pools and known numbers may have moved. */
  get sideDataVersion(): number {
    return this.sideVersion;
  }

  /** Labels and inventory from SQLite (imported here, or by `numrep labels import` before serve took the database). */
  reloadSideData(): void {
    this.sideVersion++;
    this.dataVersion = this.store.dataVersion();
    this.labels.clear();
    for (const l of this.store.latestLabels()) {
      const e = this.labels.get(l.number) ?? {};
      e[l.engine] = { label: l.label, checked_at: l.checkedAt, reports: l.reports };
      this.labels.set(l.number, e);
    }
    this.pools.clear();
    this.registered.clear();
    this.campaigns.clear();
    this.registration.clear();
    for (const i of this.store.inventory()) {
      this.pools.set(i.number, i.pool);
      if (i.campaign) this.campaigns.set(i.number, i.campaign);
      this.registration.set(i.number, i.registered);
      if (i.registeredAt !== null) this.registered.set(i.number, i.registeredAt);
    }
  }

  /** Pick up side data another process committed. */
  refreshIfChanged(): void {
    if (this.store.dataVersion() !== this.dataVersion) this.reloadSideData();
  }

  /** The numbers with a call inside the retention, as the classifier asks about them. */
  private activeNumbers(): { has(n: string): boolean; readonly size: number } {
    const rt = this;
    return {
      has: (n) => (rt.seen.get(n)?.last ?? -Infinity) >= rt.activeEdge(),
      get size() {
        return rt.activeCount;
      },
    };
  }

  private activeEdge(): number {
    return this.opts.now() - this.retentionMs;
  }

  private countActive(): number {
    const edge = this.activeEdge();
    let n = 0;
    for (const s of this.seen.values()) if (s.last >= edge) n++;
    return n;
  }

  /**
   * Forget what is older than the retention edge: stored buckets and call keys, the keys in memory, and the
   * numbers that no longer count against the tracked-number cap. Returns the buckets removed.
   */
  prune(before: number): number {
    const removed = this.store.prune(before);
    // Hours closed more than an hour ago: a live tail's blocks of a second each become one block an hour.
    this.store.compactBuckets(Math.floor(this.opts.now() / BLOCK_HOUR_MS) - 1);
    this.callKeys.forgetBefore(Math.floor(before / 1000));
    // Consumer hashes are kept no longer than the fatigue windows need, whatever the bucket retention.
    const dialsBefore = Math.floor(Math.max(before, this.opts.now() - DIAL_RETENTION_MS) / 1000);
    this.store.pruneDials(dialsBefore);
    this.dials.forgetBefore(dialsBefore);
    this.activeCount = this.countActive();
    return removed;
  }

  private onCommit(batch: Batch, src: SourceState): void {
    this.seenVersion++;
    const edge = this.activeEdge();
    for (const s of batch.seen.values()) {
      this.seenChanged.add(s.number);
      const cur = this.seen.get(s.number);
      if ((cur === undefined || cur.last < edge) && s.last >= edge) this.activeCount++;
      if (!cur) this.seen.set(s.number, { ...s });
      else {
        cur.first = Math.min(cur.first, s.first);
        cur.last = Math.max(cur.last, s.last);
      }
    }
    if (batch.newestTs !== null && (this.newestTs === null || batch.newestTs > this.newestTs)) this.newestTs = batch.newestTs;
    const columns = batch.bucketColumns;
    if (columns !== null) this.windows.addColumns(columns);
    else this.windows.addBuckets(batch.buckets.values());
    const { numbers, words } = batch.dials;
    for (let i = 0; i < numbers.length; i++) this.dials.add(numbers[i], words[i * 3], words[i * 3 + 1], words[i * 3 + 2]);
    this.opts.onCommit?.(batch, src);
  }

  poll(): Promise<void> {
    return this.tailer.poll();
  }

  /** A live source (the HEP collector, pushed CDRs: ingest/live.ts) committed a batch: the same bookkeeping as a file step's. */
  liveCommitted(batch: Batch, src: SourceState): void {
    this.onCommit(batch, src);
  }

  poolOf = (number: string): string => this.pools.get(number) ?? 'default';

  private lastSnapshot: { key: string; side: number; snap: Snapshot } | null = null;
  /** Numbers whose first/last seen moved since the last snapshot. */
  private readonly seenChanged = new Set<string>();

  /**
   * Windows at the wall clock (serve): open at the top, moved forward incrementally. A snapshot is
   * a pure function of the window sums, the seen times and the side data, so while none of them
   * changed (same bucket, no commit, no import) the last one's views are handed out again with the
   * new time; when only some numbers' sums or seen times moved, only those get new views
   * (updateSnapshot), the others keep theirs (object identity: an unchanged number's view is the
   * same object). Snapshots and views are read-only for every consumer.
   */
  snapshotNow(): Snapshot {
    this.refreshIfChanged();
    this.windows.advance(this.opts.now());
    const changed = this.windows.takeChanges();
    const key = `${this.windows.version}:${this.seenVersion}:${this.sideVersion}`;
    const last = this.lastSnapshot;
    let snap: Snapshot;
    if (last && last.key === key) snap = { at: this.windows.at, numbers: last.snap.numbers, carriers: last.snap.carriers };
    else if (last && last.side === this.sideVersion && changed !== 'all') {
      for (const n of this.seenChanged) changed.add(n);
      snap = updateSnapshot(last.snap, this.windows, this.seen, this.poolOf, () => this.knownNumbers(), changed, this.snapshotOptions);
    } else snap = takeSnapshot(this.windows, this.seen, this.poolOf, this.knownNumbers(), this.snapshotOptions);
    this.seenChanged.clear();
    this.lastSnapshot = { key, side: this.sideVersion, snap };
    return snap;
  }

  /**
   * Windows closed at `at` (report): calls after `at` are left out. `idleInventory: false` leaves out
   * inventory numbers that placed no call in the windows (a one-shot assessment is about the numbers that dialled).
   */
  snapshotAt(at: number, opts: { idleInventory?: boolean } = {}): Snapshot {
    this.lastSnapshot = null;
    this.seenChanged.clear();
    this.windows.build(at, true);
    return takeSnapshot(this.windows, this.seen, this.poolOf, this.knownNumbers(opts.idleInventory ?? true), this.snapshotOptions);
  }

  private fatigueCache: { key: string; snap: FatigueSnapshot } | null = null;

  /**
   * Recipient fatigue at `at` (stats/fatigue.ts). `maxAgeMs` (serve: fatigue.refresh_seconds): figures made less
   * than this long before `at` are handed out again, even if calls were counted since (a refresh costs a pass over
   * every dial of the last 8 days).
   */
  fatigueAt(at: number, maxAgeMs = 0): FatigueSnapshot {
    const key = `${this.dials.version}:${this.sideVersion}`;
    const c = this.fatigueCache;
    // The same dials and pools at the same instant; or (serve) figures younger than maxAgeMs, whatever came since.
    if (c && ((c.key === key && c.snap.at === at) || (at >= c.snap.at && at - c.snap.at < maxAgeMs))) return c.snap;
    const snap = fatigueAt(this.dials, at, this.fatigueOptions());
    this.fatigueCache = { key, snap };
    return snap;
  }

  /**
   * serve's /metrics render: make fresh figures (when fatigueNow would) in slices, giving the event loop `turn`s,
   * so the synchronous readers after it (the render, the API) find them made.
   */
  async refreshFatigue(at: number, turn: () => Promise<void>): Promise<void> {
    const maxAgeMs = this.opts.fatigue?.refreshMs ?? 0;
    const key = `${this.dials.version}:${this.sideVersion}`;
    const c = this.fatigueCache;
    if (c && ((c.key === key && c.snap.at === at) || (at >= c.snap.at && at - c.snap.at < maxAgeMs))) return;
    const snap = await fatigueAtSliced(this.dials, at, this.fatigueOptions(), turn);
    // Made from the dials and pools as they were when it began: a commit meanwhile makes the key differ.
    this.fatigueCache = { key, snap };
  }

  private fatigueOptions(): FatigueOptions {
    const f = this.opts.fatigue ?? {};
    return { poolOf: this.poolOf, capOf: (p) => f.poolCaps?.[p] ?? f.dailyCap ?? DEFAULT_DAILY_CAP };
  }

  /** The daily cap a pool is judged against. */
  fatigueCapOf(pool: string): number {
    const f = this.opts.fatigue ?? {};
    return f.poolCaps?.[pool] ?? f.dailyCap ?? DEFAULT_DAILY_CAP;
  }

  /** Fatigue for serve: at the wall clock, remade at most every fatigue.refresh_seconds. */
  fatigueNow(at: number): FatigueSnapshot {
    return this.fatigueAt(at, this.opts.fatigue?.refreshMs ?? 0);
  }

  private get snapshotOptions(): SnapshotOptions {
    return { maxCarriersPerNumber: this.opts.maxCarriersPerNumber };
  }

  /** Numbers shown even without calls: the inventory (unless told not to) and labelled numbers. */
  private *knownNumbers(idleInventory = true): Iterable<string> {
    const s = this.opts.shard;
    for (const src of idleInventory ? [this.pools.keys(), this.labels.keys()] : [this.labels.keys()]) {
      for (const n of src) if (!s || s.count <= 1 || shardOf(n, s.count) === s.index) yield n;
    }
  }

  async close(): Promise<void> {
    await this.tailer.close();
    this.store.close();
  }
}

/** The files numrep keeps beside a database (never to be read as input). */
export function ownFilesOf(db: string): string[] {
  return [db, `${db}-wal`, `${db}-shm`, `${db}-journal`, `${db}.secret`, `${db}.lock`, `${db}.lock-journal`];
}

export function readerOptionsFrom(c: {
  dispositions?: { conversion: string[]; connected_human: string[]; abandoned: string[] };
  default_country_code?: string;
  default_region?: string;
  timezone: string;
  generic: { columns: Record<string, string> };
  freeswitch: { template?: string[] };
  kamailio: { caller_key: string; callee_key: string; domain_key: string; carrier_key?: string; attest_key?: string; direction_key?: string; source_key?: string; max_call_seconds: number };
  sip: { timeout_seconds: number; max_call_seconds: number; direction: 'sent' | 'received' | 'both'; date?: string };
}): ReaderOptions {
  return {
    defaultCountryCode: countryCodeOf(c),
    defaultRegion: c.default_region,
    timezone: c.timezone,
    columns: Object.keys(c.generic.columns).length ? c.generic.columns : undefined,
    template: c.freeswitch.template,
    dispositions: c.dispositions ? dispositionMap(c.dispositions) : undefined,
    kamailio: {
      callerKey: c.kamailio.caller_key,
      calleeKey: c.kamailio.callee_key,
      domainKey: c.kamailio.domain_key,
      carrierKey: c.kamailio.carrier_key,
      attestKey: c.kamailio.attest_key,
      directionKey: c.kamailio.direction_key,
      sourceKey: c.kamailio.source_key,
      maxCallSeconds: c.kamailio.max_call_seconds,
    },
    sip: { timeoutSeconds: c.sip.timeout_seconds, maxCallSeconds: c.sip.max_call_seconds, direction: c.sip.direction, date: c.sip.date },
  };
}

import client from 'prom-client';
import type { Runtime } from '../runtime.js';
import type { NumberView, Snapshot } from '../stats/snapshot.js';
import { attestationOf, kpisOf, F_CALLS, F_OUTCOME0, FIELDS, OUTCOME_INDEX, type Vector } from '../stats/vector.js';
import type { Kpis, WindowName } from '../model/types.js';
import { escapeLabel, Family, formatValue, labels } from './exposition.js';

/** What the reputation engine says about one number, as far as /metrics needs it. */
export interface NumberVerdict {
  score: number;
  subscores: Record<string, number>;
  status: string;
  action: string;
  restUntil: number | null;
  engines: Record<string, 0 | 1>;
  reportRatio?: number | null;
  carriers: Record<string, { flag: string }>;
}

export interface MetricsOptions {
  version: string;
  seriesBudget: number;
  verdicts?: (s: Snapshot) => Map<string, NumberVerdict>;
}

/** prom-client's nodejs_active_*_total are gauges with a counter suffix (promtool rejects them): leave them out. */
function dropMisnamedDefaults(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(# (HELP|TYPE) )?numrep_nodejs_active_(handles|requests|resources)_total\b/.test(l))
    .join('\n');
}

const NUMBER_WINDOWS: WindowName[] = ['1h', '24h', '7d'];
const CARRIER_WINDOWS: WindowName[] = ['24h', '7d'];
const STATUSES = ['in_progress', 'healthy', 'mixed', 'spam'];
const ACTIONS = ['keep', 'slow_down', 'rest', 'retire', 'remediate'];
const FLAGS = ['clean', 'warning', 'flagged'];
const FLAG_RANK: Record<string, number> = { flagged: 2, warning: 1, clean: 0 };
const NUMBER_FAMILY_NAMES = ['calls', 'answered', 'answer_ratio', 'cancel_ratio', 'rejection_ratio', 'block_ratio', 'voicemail_ratio', 'short_call_ratio', 'talk_seconds_avg'].map((f) => `numrep_number_${f}`);
const PAIR_FAMILY_NAMES = ['calls', 'answer_ratio', 'cancel_ratio', 'rejection_ratio', 'block_ratio'].map((f) => `numrep_number_carrier_${f}`);
const I_BLOCKED = F_OUTCOME0 + OUTCOME_INDEX.blocked;
const I_CANCELLED = F_OUTCOME0 + OUTCOME_INDEX.cancelled;
const I_REJECTED = F_OUTCOME0 + OUTCOME_INDEX.rejected;
const I_BUSY = F_OUTCOME0 + OUTCOME_INDEX.busy;

/** Cached text of one number's (or pair's) vector-only series, one '\n'-joined segment per family. */
interface Block {
  gen: number;
  pool: string;
  base: string;
  key: Float64Array;
  segs: string[];
}

function sameVectors(key: Float64Array, offset: number, vecs: (Vector | undefined)[]): boolean {
  for (let w = 0; w < vecs.length; w++) {
    const v = vecs[w];
    const o = offset + w * FIELDS;
    if (!v) {
      if (!Number.isNaN(key[o])) return false;
      continue;
    }
    for (let i = 0; i < FIELDS; i++) if (key[o + i] !== v[i]) return false;
  }
  return true;
}

/** One exposition line, as Family.add writes it; absent values write nothing (DESIGN §4). */
function seriesLine(into: string[], name: string, labels: string, value: number | null | undefined): void {
  if (value === null || value === undefined) return;
  into.push(`${name}{${labels}} ${formatValue(value)}`);
}

/**
 * /metrics: the per-number, per-carrier and pool families are rendered straight to text from
 * a snapshot (fast for 10k+ numbers); the exporter's own metrics use prom-client.
 */
export class MetricsExporter {
  readonly registry = new client.Registry();
  private readonly renderSeconds: client.Gauge;
  private readonly seriesDropped: client.Gauge;
  private readonly tracked: client.Gauge;

  constructor(private readonly rt: Runtime, private readonly opts: MetricsOptions) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'numrep_' });
    new client.Gauge({ name: 'numrep_build_info', help: 'Build information; always 1.', labelNames: ['version', 'node'], registers: [r] })
      .set({ version: opts.version, node: process.version }, 1);
    new client.Gauge({ name: 'numrep_series_budget', help: 'Configured cap on number x carrier series.', registers: [r] }).set(opts.seriesBudget);
    this.seriesDropped = new client.Gauge({ name: 'numrep_series_dropped', help: 'Number x carrier series left out by the budget at the last scrape.', registers: [r] });
    this.tracked = new client.Gauge({ name: 'numrep_tracked_numbers', help: 'Numbers with calls in the 7d window or in the inventory.', registers: [r] });
    this.renderSeconds = new client.Gauge({ name: 'numrep_metrics_render_seconds', help: 'Time to build the last /metrics body.', registers: [r] });
    const src = (name: string, help: string, value: (s: import('../store/db.js').SourceState) => number | null) =>
      new client.Gauge({
        name, help, labelNames: ['source'], registers: [r],
        collect() {
          this.reset();
          for (const s of rt.tailer.states()) {
            const v = value(s);
            if (v !== null) this.set({ source: s.path }, v);
          }
        },
      });
    src('numrep_source_bytes_behind', 'File size minus committed offset.', (s) => Math.max(0, (rt.tailer.sizeOf(s.path) ?? s.offset) - s.offset));
    src('numrep_source_newest_record_timestamp_seconds', 'Event time of the newest record read from the source.', (s) => (s.newestTs === null ? null : s.newestTs / 1000));
    src('numrep_source_last_read_timestamp_seconds', 'Wall time of the last read from the source.', (s) => (s.lastReadAt === null ? null : s.lastReadAt / 1000));
    new client.Counter({
      name: 'numrep_ingest_bytes_total', help: 'Bytes consumed per source file.', labelNames: ['source'], registers: [r],
      collect() {
        this.reset();
        for (const s of rt.tailer.states()) this.inc({ source: s.path }, s.bytesTotal);
      },
    });
    new client.Counter({
      name: 'numrep_source_rotations_total', help: 'Rotations (rename) and truncations detected per source.', labelNames: ['source', 'kind'], registers: [r],
      collect() {
        this.reset();
        for (const s of rt.tailer.states()) {
          this.inc({ source: s.path, kind: 'rename' }, s.rotations);
          this.inc({ source: s.path, kind: 'truncate' }, s.truncations);
        }
      },
    });
  }

  async render(): Promise<string> {
    const t0 = performance.now();
    const snap = this.rt.snapshotNow();
    const out: string[] = [];
    this.renderSnapshot(snap, out);
    this.renderCounters(out);
    this.tracked.set(snap.numbers.size);
    const text = out.join('\n');
    this.renderSeconds.set((performance.now() - t0) / 1000);
    return text + '\n' + dropMisnamedDefaults(await this.registry.metrics());
  }

  /**
   * Rendered text of the series that depend only on a number's window sums (or a pair's),
   * kept between scrapes and reused while those sums, the pool and the seen times are
   * unchanged; the verdict families (score, status, …) are rendered fresh every time.
   */
  private readonly numberBlocks = new Map<string, Block>();
  private readonly pairBlocks = new Map<string, Block>();
  private generation = 0;

  private numberBlock(v: NumberView, gen: number): Block {
    let b = this.numberBlocks.get(v.number);
    if (b && b.pool === v.pool && b.key[0] === (v.firstSeen ?? -1) && b.key[1] === (v.lastSeen ?? -1) && sameVectors(b.key, 2, NUMBER_WINDOWS.map((w) => v.windows[w]))) {
      b.gen = gen;
      return b;
    }
    const base = `number="${escapeLabel(v.number)}",pool="${escapeLabel(v.pool)}"`;
    const segs: string[][] = [[], [], [], [], [], [], [], [], [], [], [], []];
    const key = new Float64Array(2 + NUMBER_WINDOWS.length * FIELDS);
    key[0] = v.firstSeen ?? -1;
    key[1] = v.lastSeen ?? -1;
    NUMBER_WINDOWS.forEach((win, wi) => {
      const vec = v.windows[win];
      if (!vec) {
        key.fill(Number.NaN, 2 + wi * FIELDS, 2 + (wi + 1) * FIELDS);
        return;
      }
      key.set(vec, 2 + wi * FIELDS);
      const k = kpisOf(vec);
      const l = `${base},window="${win}"`;
      const vals = [k.calls, k.answered, k.answer_ratio, k.cancel_ratio, k.rejection_ratio, k.block_ratio, k.voicemail_ratio, k.short_call_ratio, k.avg_talk_seconds];
      for (let i = 0; i < vals.length; i++) seriesLine(segs[i], NUMBER_FAMILY_NAMES[i], l, vals[i]);
      if (k.calls > 0) {
        const a = attestationOf(vec);
        for (const level of ['A', 'B', 'C', 'none'] as const) seriesLine(segs[9], 'numrep_number_attestation_ratio', `${l},level="${level}"`, a[level] / k.calls);
      }
    });
    if (v.firstSeen !== null) seriesLine(segs[10], 'numrep_number_first_seen_timestamp_seconds', base, v.firstSeen / 1000);
    if (v.lastSeen !== null) seriesLine(segs[11], 'numrep_number_last_seen_timestamp_seconds', base, v.lastSeen / 1000);
    b = { gen, pool: v.pool, base, key, segs: segs.map((x) => x.join('\n')) };
    this.numberBlocks.set(v.number, b);
    return b;
  }

  private pairBlock(p: { number: string; pool: string; carrier: string; w: Record<WindowName, Vector> }, gen: number): Block {
    const id = `${p.number}\u0000${p.carrier}`;
    let b = this.pairBlocks.get(id);
    if (b && b.pool === p.pool && sameVectors(b.key, 0, CARRIER_WINDOWS.map((w) => p.w[w]))) {
      b.gen = gen;
      return b;
    }
    const base = `number="${escapeLabel(p.number)}",pool="${escapeLabel(p.pool)}",carrier="${escapeLabel(p.carrier)}"`;
    const segs: string[][] = [[], [], [], [], []];
    const key = new Float64Array(CARRIER_WINDOWS.length * FIELDS);
    CARRIER_WINDOWS.forEach((win, wi) => {
      key.set(p.w[win], wi * FIELDS);
      const k: Kpis = kpisOf(p.w[win]);
      if (k.calls === 0) return;
      const l = `${base},window="${win}"`;
      const vals = [k.calls, k.answer_ratio, k.cancel_ratio, k.rejection_ratio, k.block_ratio];
      for (let i = 0; i < vals.length; i++) seriesLine(segs[i], PAIR_FAMILY_NAMES[i], l, vals[i]);
    });
    b = { gen, pool: p.pool, base, key, segs: segs.map((x) => x.join('\n')) };
    this.pairBlocks.set(id, b);
    return b;
  }

  renderSnapshot(snap: Snapshot, out: string[]): void {
    const verdicts = this.opts.verdicts?.(snap);
    const fam = (name: string, help: string) => new Family(`numrep_${name}`, help, 'gauge');
    const n = {
      calls: fam('number_calls', 'Call attempts from the number in the window.'),
      answered: fam('number_answered', 'Answered calls (voicemail excluded) in the window.'),
      answer: fam('number_answer_ratio', 'Answered / calls.'),
      cancel: fam('number_cancel_ratio', 'Cancelled (SIP 487) / calls.'),
      rejection: fam('number_rejection_ratio', '(Rejected + busy) / calls.'),
      block: fam('number_block_ratio', 'Blocked (608, 603+) / calls.'),
      voicemail: fam('number_voicemail_ratio', 'Voicemail / calls.'),
      short: fam('number_short_call_ratio', 'Answered calls shorter than 10 s / answered.'),
      talk: fam('number_talk_seconds_avg', 'Mean talk seconds of answered calls.'),
      att: fam('number_attestation_ratio', 'Share of calls by STIR/SHAKEN attestation level.'),
      first: fam('number_first_seen_timestamp_seconds', 'First call seen from the number.'),
      last: fam('number_last_seen_timestamp_seconds', 'Newest call seen from the number.'),
      score: fam('number_reputation_score', 'Composite reputation score 0-100.'),
      sub: fam('number_subscore', 'Reputation sub-score 0-100 by dimension.'),
      status: fam('number_status', 'Current status of the number (1 for the current status only).'),
      action: fam('number_recommendation', 'Recommended action (1 for the current action only).'),
      rest: fam('number_rest_until_timestamp_seconds', 'End of the recommended rest period.'),
      engine: fam('number_engine_flagged', '1 when the engine\'s latest label for the number is not clean.'),
      report: fam('number_report_ratio', 'Spam reports / calls, where reports are known.'),
    };
    const nc = {
      calls: fam('number_carrier_calls', 'Calls from the number terminating on the carrier.'),
      answer: fam('number_carrier_answer_ratio', 'Answered / calls on the carrier.'),
      cancel: fam('number_carrier_cancel_ratio', 'Cancelled (487) / calls on the carrier.'),
      rejection: fam('number_carrier_rejection_ratio', '(Rejected + busy) / calls on the carrier.'),
      block: fam('number_carrier_block_ratio', 'Blocked / calls on the carrier.'),
      flag: fam('number_carrier_flag', 'Per number x carrier state (1 for the current state only).'),
    };
    const c = {
      calls: fam('carrier_calls', 'Calls terminating on the carrier across the pool.'),
      answer: fam('carrier_answer_ratio', 'Answered / calls on the carrier across the pool.'),
      cancel: fam('carrier_cancel_ratio', 'Cancelled (487) / calls on the carrier across the pool.'),
      rejection: fam('carrier_rejection_ratio', '(Rejected + busy) / calls on the carrier across the pool.'),
      block: fam('carrier_block_ratio', 'Blocked / calls on the carrier across the pool.'),
    };
    const pool = fam('pool_numbers', 'Numbers in the pool by current status.');
    const poolCounts = new Map<string, Map<string, number>>();

    // Series budget over number x carrier pairs: the worst (flagged, then highest block/cancel) first.
    const pairs: { number: string; pool: string; carrier: string; w: Record<WindowName, Vector>; flag: string; badness: number }[] = [];

    const gen = ++this.generation;
    const kpiFams = [n.calls, n.answered, n.answer, n.cancel, n.rejection, n.block, n.voicemail, n.short, n.talk, n.att, n.first, n.last];
    for (const v of snap.numbers.values()) {
      const blk = this.numberBlock(v, gen);
      for (let i = 0; i < kpiFams.length; i++) if (blk.segs[i] !== '') kpiFams[i].lines.push(blk.segs[i]);
      const base = blk.base;
      const verdict = verdicts?.get(v.number);
      if (verdict) {
        n.score.add(base, verdict.score);
        for (const [d, s] of Object.entries(verdict.subscores)) n.sub.add(`${base},dimension="${d}"`, s);
        for (const s of STATUSES) if (s === verdict.status) n.status.add(`${base},status="${s}"`, 1);
        for (const a of ACTIONS) if (a === verdict.action) n.action.add(`${base},action="${a}"`, 1);
        if (verdict.restUntil !== null) n.rest.add(base, verdict.restUntil / 1000);
        for (const [e, f] of Object.entries(verdict.engines)) n.engine.add(`${base},engine="${escapeLabel(e)}"`, f);
        if (verdict.reportRatio !== undefined) n.report.add(`${base},window="7d"`, verdict.reportRatio);
        const pc = poolCounts.get(v.pool) ?? new Map<string, number>();
        pc.set(verdict.status, (pc.get(verdict.status) ?? 0) + 1);
        poolCounts.set(v.pool, pc);
      }
      for (const [carrier, w] of v.carriers) {
        const flag = verdict?.carriers[carrier]?.flag ?? '';
        const k24 = w['24h'];
        const calls = k24[F_CALLS];
        // As kpisOf(w['24h']): block ratio × 3 + cancel ratio + rejection ratio (absent ratios count 0).
        const ratio = (x: number) => (calls > 0 ? x / calls : 0);
        const badness = (FLAG_RANK[flag] ?? 0) * 10 + ratio(k24[I_BLOCKED]) * 3 + ratio(k24[I_CANCELLED]) + ratio(k24[I_REJECTED] + k24[I_BUSY]);
        pairs.push({ number: v.number, pool: v.pool, carrier, w, flag, badness });
      }
    }
    pairs.sort((a, b) => b.badness - a.badness || a.number.localeCompare(b.number) || a.carrier.localeCompare(b.carrier));
    const budget = this.opts.seriesBudget;
    const shown = budget > 0 ? pairs.slice(0, budget) : pairs;
    this.seriesDropped.set(pairs.length - shown.length);
    const pairFams = [nc.calls, nc.answer, nc.cancel, nc.rejection, nc.block];
    for (const p of shown) {
      const blk = this.pairBlock(p, gen);
      for (let i = 0; i < pairFams.length; i++) if (blk.segs[i] !== '') pairFams[i].lines.push(blk.segs[i]);
      if (p.flag) for (const f of FLAGS) if (f === p.flag) nc.flag.add(`${blk.base},state="${f}"`, 1);
    }
    // Forget numbers and pairs that were not shown this time.
    for (const [k, b] of this.numberBlocks) if (b.gen !== gen) this.numberBlocks.delete(k);
    for (const [k, b] of this.pairBlocks) if (b.gen !== gen) this.pairBlocks.delete(k);
    for (const [carrier, w] of snap.carriers) {
      for (const win of CARRIER_WINDOWS) {
        const k = kpisOf(w[win]);
        if (k.calls === 0) continue;
        const l = labels({ carrier, window: win });
        c.calls.add(l, k.calls);
        c.answer.add(l, k.answer_ratio);
        c.cancel.add(l, k.cancel_ratio);
        c.rejection.add(l, k.rejection_ratio);
        c.block.add(l, k.block_ratio);
      }
    }
    for (const [p, counts] of poolCounts) for (const s of STATUSES) pool.add(labels({ pool: p, status: s }), counts.get(s) ?? 0);

    for (const f of [...Object.values(n), ...Object.values(nc), ...Object.values(c), pool]) f.render(out);
  }

  /** Counters kept in SQLite (they survive restarts): calls, blocks, records read. */
  renderCounters(out: string[]): void {
    const calls = new Family('numrep_calls_total', 'Calls ingested by pool, carrier and outcome.', 'counter');
    const agg = new Map<string, number>();
    if (this.rt.pools.size === 0) {
      // No inventory: every number is in the default pool, so SQLite sums over numbers.
      for (const t of this.rt.store.totalsByCarrier()) {
        const key = labels({ pool: this.rt.poolOf(''), carrier: t.carrier, outcome: t.outcome });
        agg.set(key, (agg.get(key) ?? 0) + t.count);
      }
    } else {
      for (const t of this.rt.store.totals()) {
        const key = labels({ pool: this.rt.poolOf(t.number), carrier: t.carrier, outcome: t.outcome });
        agg.set(key, (agg.get(key) ?? 0) + t.count);
      }
    }
    for (const [l, v] of agg) calls.add(l, v);
    const blocks = new Family('numrep_blocks_total', 'Blocked calls by carrier and blocking engine / redress host.', 'counter');
    for (const b of this.rt.store.blocks()) blocks.add(labels({ carrier: b.carrier, engine: b.engine }), b.count);
    const records = new Family('numrep_ingest_records_total', 'Records read, by format, result and reason.', 'counter');
    for (const r of this.rt.store.ingestCounts()) records.add(labels({ format: r.format, result: r.result, reason: r.reason }), r.count);
    calls.render(out);
    blocks.render(out);
    records.render(out);
  }
}

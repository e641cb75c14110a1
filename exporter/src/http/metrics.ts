import client from 'prom-client';
import { resolve } from 'node:path';
import { globToRegExp } from '../ingest/tailer.js';
import type { Runtime } from '../runtime.js';
import type { CarrierWindow, CarrierWindows, NumberView, Snapshot } from '../stats/snapshot.js';
import { attestationOf, kpisOf, F_CALLS, F_OUTCOME0, FIELDS, OUTCOME_INDEX, type Vector } from '../stats/vector.js';
import type { Kpis, WindowName } from '../model/types.js';
import { escapeLabel, Family, formatValue, labels } from './exposition.js';
import { type BodyChunk, joinPlain, Packed, packAll } from './gzipBody.js';
import { flatString } from '../model/flatString.js';
import { Turns } from '../stats/turns.js';
import { managementOf, numberManagementRows, renderManagement } from './management.js';
import { NUMBER_DATA_FAMILIES, NUMBER_MANAGEMENT_FAMILIES, PAIR_DATA_FAMILIES, PAIR_FLAG_FAMILIES, VERDICT_FAMILIES } from './numberFamilies.js';
import type { FatigueScope } from '../stats/fatigue.js';

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
  /** healthy | external | engagement | degrading | blacklisted (numrep_number_diagnosis). */
  diagnosis?: string;
  /**
   * False when nothing above can depend on the pool's per-carrier sums (Assessment.pooled): a change of
   * those alone then does not ask for the number again. Absent: it may depend on them.
   */
  pooled?: boolean;
}

export interface MetricsOptions {
  version: string;
  seriesBudget: number;
  /**
   * Verdicts for the numbers of a snapshot (assessSnapshot + verdictOf). /metrics asks only for
   * the numbers that need one, with the pool's carriers, so a verdict must depend on nothing but
   * the number's view, the pool's per-carrier 24h/7d sums, the number's labels and registration in
   * the Runtime, and `at` — on `at` only as assessSnapshot does (see updateVerdicts).
   */
  verdicts?: (s: Snapshot) => Map<string, NumberVerdict>;
  /** Pool and carrier events of a snapshot (numrep_carrier_event; carrier `*`: the whole pool). */
  carrierEvents?: (s: Snapshot) => Array<{ carrier: string; event: string; active: boolean }>;
  /** How far ahead a verdict is checked to still hold, so it can be reused until then (default 1 h; 0: re-assess at every new instant). */
  verdictHorizonMs?: number;
  /** How long a render may hold the event loop before it gives a turn (default DEFAULT_SLICE_MS). */
  sliceMs?: number;
  /** Per-number and per-pair families left out (config metrics.exclude; http/numberFamilies.ts EXCLUDABLE_FAMILIES). */
  exclude?: readonly string[];
  /** More families rendered from the same snapshot (numrep_number_info: http/managementMetrics.ts). */
  extraChunks?: (s: Snapshot) => Buffer[];
}

/** Numbers per call of `verdicts` (a slice between turns is at most this many assessments). */
const VERDICT_SLICE = 64;

/** prom-client's nodejs_active_*_total are gauges with a counter suffix (promtool rejects them): leave them out. */
function dropMisnamedDefaults(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(# (HELP|TYPE) )?numrep_nodejs_active_(handles|requests|resources)_total\b/.test(l))
    .join('\n');
}

const NUMBER_WINDOWS: WindowName[] = ['1h', '24h', '7d'];
const CARRIER_WINDOWS: CarrierWindow[] = ['24h', '7d'];
/** The windows a verdict reads (the evidence's 48h and 72h besides those shown): what decides whether it may be reused. */
const VERDICT_NUMBER_WINDOWS: WindowName[] = ['1h', '24h', '48h', '72h', '7d'];
const VERDICT_CARRIER_WINDOWS: CarrierWindow[] = ['24h', '48h', '72h', '7d'];
const DIAGNOSES = ['healthy', 'external', 'degrading', 'blacklisted'];
const STATUSES = ['in_progress', 'healthy', 'mixed', 'spam'];
const ACTIONS = ['keep', 'slow_down', 'rest', 'retire', 'remediate'];
const FLAGS = ['clean', 'warning', 'flagged'];
const FLAG_RANK: Record<string, number> = { flagged: 2, warning: 1, clean: 0 };
const I_BLOCKED = F_OUTCOME0 + OUTCOME_INDEX.blocked;
const I_CANCELLED = F_OUTCOME0 + OUTCOME_INDEX.cancelled;
const I_REJECTED = F_OUTCOME0 + OUTCOME_INDEX.rejected;
const I_BUSY = F_OUTCOME0 + OUTCOME_INDEX.busy;

let rowsMade = 0;

/** One item's rows (a number's, a pair's) in a Section: the block that holds their text and the item's place in it. */
class Rows {
  /** Block boundaries fall after items whose mark has its low bits zero: a hash of a creation counter, so they do not move when items come, go or move. */
  readonly mark = Math.imul((++rowsMade) ^ 0x9e3779b9, 0x85ebca6b) >>> 16;
  /** The block whose members hold these rows (valid while `built` is the Section's last build). */
  blk: Block | null = null;
  /** The item's index in `blk.items` (where its positions sit in `blk.pos`). */
  at = 0;
  /** Stamp of the Section build that last wrote these rows (-1: never, so they must be rendered). */
  built = -1;
}

/** A run of consecutive items and their text, one gzip member per family (null: no rows there). */
class Block {
  /**
   * Where each item's rows sit in each family's text: for item i and family f of F, the byte offset at
   * [2(iF + f)] and the length at [2(iF + f) + 1]. One typed array per block, not an array per item: at 10k
   * numbers the ~100k per-item arrays were ~12 MB of heap.
   */
  readonly pos: Int32Array;
  constructor(readonly items: Rows[], public packed: (Packed | null)[]) {
    this.pos = new Int32Array(2 * items.length * packed.length);
  }
}

/** A Buffer that grows as text and bytes are appended (one per family while a Section is built). */
class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, capacity));
  }
  private room(n: number): void {
    if (this.pos + n > this.buf.length) this.reserve(Math.max(this.pos + n, Math.ceil(this.buf.length * 1.5)));
  }
  /** Grow to `capacity` bytes now (one copy instead of several as it fills). */
  reserve(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  text(s: string): void {
    if (s === '') return;
    this.room(s.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  bytes(src: Buffer, from: number, to: number): void {
    this.room(to - from);
    this.pos += src.copy(this.buf, this.pos, from, to);
  }
  /** The bytes written; copied out when most of the capacity would be wasted. */
  done(): Buffer {
    return this.pos < this.buf.length * 0.8 ? Buffer.from(this.buf.subarray(0, this.pos)) : this.buf.subarray(0, this.pos);
  }
}

/** Blocks of ~2^BLOCK_BITS items (content-defined: boundaries after items whose Rows.mark ends in BLOCK_BITS zero bits), at most BLOCK_MAX. */
const BLOCK_BITS = 8;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
const BLOCK_MAX = 4 << BLOCK_BITS;

/**
 * Families whose series come item by item in one order (every number; every shown pair). Each
 * family's text is kept between scrapes in blocks of a few hundred items, one gzip member per family
 * and block (10k numbers: ~4 MB of members instead of ~80 MB of text; a scraper asking for gzip gets
 * the members as they are). A block whose items are the same, in the same order and none stale, is
 * reused as it is; another is rebuilt by copying its unchanged items' bytes out of their last block
 * (inflated for the copy, then let go) and rendering only the changed items. Boundaries depend on the
 * items (not on their positions), so one new, gone or moved item rebuilds about one block per family,
 * not the whole family.
 */
class Section<T> {
  private readonly heads: Buffer[];
  /** False for a family the config leaves out (metrics.exclude): its rows are never written. */
  private readonly shown: boolean[];
  private stamp = 0;

  constructor(families: readonly (readonly [name: string, help: string])[], excluded: ReadonlySet<string>, private readonly rowsOf: (item: T) => Rows, private readonly render: (item: T) => string[]) {
    this.heads = families.map(([name, help]) => Buffer.from(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`));
    this.shown = families.map(([name]) => !excluded.has(name));
  }

  /** True when `rows` were written by the last build, so their bytes can be reused. */
  private holds(rows: Rows): boolean {
    return this.stamp > 0 && rows.built === this.stamp && rows.blk !== null;
  }

  /**
   * `stale(item)`: its rows must be rendered again even if the last build wrote them. Gives the event loop
   * a turn between blocks when one is due (a first render of 100k numbers takes seconds).
   */
  async build(items: T[], stale: (item: T) => boolean, out: BodyChunk[], turns: Turns): Promise<void> {
    const rows = items.map(this.rowsOf);
    const blocks: Block[] = [];
    // Rebuilt blocks are compressed on zlib's threads while the next ones are built; their text lives until then.
    const packing: Promise<void>[] = [];
    const sources = new SourceTexts();
    let start = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i + 1 < rows.length && (rows[i].mark & BLOCK_MASK) !== 0 && i + 1 - start < BLOCK_MAX) continue;
      const made = this.block(items, rows, start, i + 1, stale, sources);
      blocks.push(made.block);
      if (made.texts) {
        const texts = made.texts;
        packing.push(packAll(texts.filter((t): t is Buffer => t !== null)).then((members) => {
          let k = 0;
          made.block.packed = texts.map((t) => (t === null ? null : members[k++]));
        }));
        if (packing.length >= PACKING_IN_FLIGHT) await packing.shift();
      }
      start = i + 1;
      await turns.maybe();
    }
    await Promise.all(packing);
    this.stamp++;
    for (const r of rows) r.built = this.stamp;
    for (let f = 0; f < this.heads.length; f++) {
      let any = false;
      for (const b of blocks) {
        const member = b.packed[f];
        if (!member) continue;
        if (!any) out.push(this.heads[f]);
        any = true;
        out.push(member);
      }
    }
  }

  /**
   * The block of items [from, to): the last one as it is when nothing in it changed, else a new one with its
   * text per family (`texts`, to be compressed into its members).
   */
  private block(items: T[], rows: Rows[], from: number, to: number, stale: (item: T) => boolean, sources: SourceTexts): { block: Block; texts?: (Buffer | null)[] } {
    const old = rows[from].blk;
    if (old && this.holds(rows[from]) && old.items.length === to - from) {
      let same = true;
      for (let i = from; same && i < to; i++) if (old.items[i - from] !== rows[i] || stale(items[i])) same = false;
      if (same) return { block: old };
    }
    const families = this.heads.length;
    const list = rows.slice(from, to);
    const block = new Block(list, new Array(families).fill(null));
    // Capacity: the old block's size where there is one, else grown as it fills.
    const writers = this.heads.map((_, f) => new ByteWriter(Math.ceil((old?.packed[f]?.length ?? (to - from) * 64) * 1.1)));
    // Unchanged items that sat next to each other in one old block are copied as one run.
    const runSrc: (Buffer | null)[] = new Array(families).fill(null);
    const runFrom = new Array<number>(families).fill(0);
    const runTo = new Array<number>(families).fill(0);
    const flush = (f: number) => {
      const src = runSrc[f];
      if (src && runTo[f] > runFrom[f]) writers[f].bytes(src, runFrom[f], runTo[f]);
      runSrc[f] = null;
      runFrom[f] = runTo[f] = 0;
    };
    const pos = block.pos;
    for (let i = from; i < to; i++) {
      const r = rows[i];
      const segs = stale(items[i]) || !this.holds(r) ? this.render(items[i]) : null;
      const srcBlk = r.blk;
      const srcPos = segs ? null : srcBlk!.pos;
      const src0 = 2 * r.at * families;
      const dst0 = 2 * (i - from) * families;
      for (let f = 0; f < families; f++) {
        if (!this.shown[f]) continue; // positions stay 0, 0: nothing to copy
        const w = writers[f];
        if (segs) {
          flush(f);
          const start = w.pos;
          w.text(segs[f]);
          pos[dst0 + 2 * f] = start;
          pos[dst0 + 2 * f + 1] = w.pos - start;
          continue;
        }
        const at = srcPos![src0 + 2 * f];
        const len = srcPos![src0 + 2 * f + 1];
        const dst = w.pos + (runTo[f] - runFrom[f]);
        if (len > 0) {
          const src = sources.of(srcBlk!, f);
          if (runSrc[f] === src && runTo[f] === at) runTo[f] += len;
          else {
            flush(f);
            runSrc[f] = src;
            runFrom[f] = at;
            runTo[f] = at + len;
          }
        }
        pos[dst0 + 2 * f] = dst;
        pos[dst0 + 2 * f + 1] = len;
      }
      r.blk = block;
      r.at = i - from;
    }
    const texts: (Buffer | null)[] = new Array(families).fill(null);
    for (let f = 0; f < families; f++) {
      flush(f);
      const w = writers[f];
      texts[f] = w.pos > 0 ? w.done() : null;
    }
    return { block, texts };
  }
}

/** Rebuilt blocks whose compression may be under way at once (each holds its text until it is done). */
const PACKING_IN_FLIGHT = 4;

/**
 * The text of old blocks a rebuild copies from, inflated on first use. Items of one old block sit together,
 * so only the last few blocks are kept: a rebuild of every block holds a few blocks' text, not the body's.
 */
class SourceTexts {
  private readonly kept: { blk: Block; texts: (Buffer | null)[] }[] = [];
  of(blk: Block, f: number): Buffer {
    let e = this.kept.find((k) => k.blk === blk);
    if (!e) {
      e = { blk, texts: new Array(blk.packed.length).fill(null) };
      this.kept.push(e);
      if (this.kept.length > 3) this.kept.shift();
    }
    return (e.texts[f] ??= blk.packed[f]!.text());
  }
}

/** One exposition line, as Family.add writes it, '\n'-terminated; absent values write nothing (docs/architecture.md#kpis). */
function line(name: string, labels: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return `${name}{${labels}} ${formatValue(value)}\n`;
}

function sameVector(a: Vector | undefined, b: Vector | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  for (let i = 0; i < FIELDS; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same pool, seen times and windows: what a number's own series are made of. */
function sameNumberData(a: NumberView, b: NumberView): boolean {
  if (a === b) return true;
  if (a.pool !== b.pool || a.firstSeen !== b.firstSeen || a.lastSeen !== b.lastSeen) return false;
  for (const w of VERDICT_NUMBER_WINDOWS) if (!sameVector(a.windows[w], b.windows[w])) return false;
  return true;
}

/** Same pool and per-carrier 24h/7d sums: what a number's pair series and their ranking are made of. */
function samePairData(a: NumberView, b: NumberView): boolean {
  if (a === b) return true;
  if (a.pool !== b.pool || a.carriers.size !== b.carriers.size) return false;
  for (const [c, wa] of a.carriers) {
    const wb = b.carriers.get(c);
    if (!wb) return false;
    for (const w of VERDICT_CARRIER_WINDOWS) if (!sameVector(wa[w], wb[w])) return false;
  }
  return true;
}

/** The pool's per-carrier 24h and 7d sums (the carrier baselines every verdict is measured against). */
function sameCarriers(a: Snapshot['carriers'], b: Snapshot['carriers']): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [c, wa] of a) {
    const wb = b.get(c);
    if (!wb) return false;
    for (const w of VERDICT_CARRIER_WINDOWS) if (!sameVector(wa[w], wb[w])) return false;
  }
  return true;
}

/** Same keys in the same order (the order series are written in) with the same values. */
function sameRecord(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || a[ka[i]] !== b[ka[i]]) return false;
  return true;
}

/** Equal in everything /metrics prints (rest-until aside: verdicts with one are never reused across instants). */
function sameVerdict(a: NumberVerdict, b: NumberVerdict): boolean {
  if (a.score !== b.score || a.status !== b.status || a.action !== b.action || a.restUntil !== b.restUntil || a.reportRatio !== b.reportRatio) return false;
  if (a.pooled !== b.pooled || a.diagnosis !== b.diagnosis) return false; // kept objects must say truly whether the baselines matter
  if (!sameRecord(a.subscores, b.subscores) || !sameRecord(a.engines, b.engines)) return false;
  const ca = Object.keys(a.carriers);
  if (ca.length !== Object.keys(b.carriers).length) return false;
  for (const c of ca) if (a.carriers[c].flag !== b.carriers[c]?.flag) return false;
  return true;
}

/** Equal in every figure a number's management rows print (the cap is not printed per number). */
function sameFatigue(a: FatigueScope | undefined, b: FatigueScope | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  for (const w of ['24h', '7d'] as const) {
    const x = a[w];
    const y = b[w];
    if (x.calls !== y.calls || x.consumers !== y.consumers || x.repeat_dial_ratio !== y.repeat_dial_ratio || x.consumers_over_cap !== y.consumers_over_cap || x.attempts_over_cap !== y.attempts_over_cap) return false;
  }
  return true;
}

/** A number's window series, one string per NUMBER_DATA_FAMILIES entry. */
function numberDataRows(v: NumberView, base: string): string[] {
  const segs = NUMBER_DATA_FAMILIES.map(() => '');
  for (const win of NUMBER_WINDOWS) {
    const vec = v.windows[win];
    if (!vec) continue;
    const k = kpisOf(vec);
    const l = `${base},window="${win}"`;
    const vals = [k.calls, k.answered, k.answer_ratio, k.cancel_ratio, k.rejection_ratio, k.block_ratio, k.voicemail_ratio, k.short_call_ratio, k.avg_talk_seconds];
    for (let i = 0; i < vals.length; i++) segs[i] += line(NUMBER_DATA_FAMILIES[i][0], l, vals[i]);
    if (k.calls > 0) {
      const a = attestationOf(vec);
      for (const level of ['A', 'B', 'C', 'none'] as const) segs[9] += line(NUMBER_DATA_FAMILIES[9][0], `${l},level="${level}"`, a[level] / k.calls);
    }
  }
  if (v.firstSeen !== null) segs[10] = line(NUMBER_DATA_FAMILIES[10][0], base, v.firstSeen / 1000);
  if (v.lastSeen !== null) segs[11] = line(NUMBER_DATA_FAMILIES[11][0], base, v.lastSeen / 1000);
  return segs;
}

/** A number's verdict series, one string per VERDICT_FAMILIES entry. */
function verdictRows(verdict: NumberVerdict, base: string): string[] {
  const segs = VERDICT_FAMILIES.map(() => '');
  segs[0] = line(VERDICT_FAMILIES[0][0], base, verdict.score);
  for (const [d, s] of Object.entries(verdict.subscores)) segs[1] += line(VERDICT_FAMILIES[1][0], `${base},dimension="${d}"`, s);
  for (const s of STATUSES) if (s === verdict.status) segs[2] += line(VERDICT_FAMILIES[2][0], `${base},status="${s}"`, 1);
  for (const a of ACTIONS) if (a === verdict.action) segs[3] += line(VERDICT_FAMILIES[3][0], `${base},action="${a}"`, 1);
  if (verdict.restUntil !== null) segs[4] = line(VERDICT_FAMILIES[4][0], base, verdict.restUntil / 1000);
  for (const [e, f] of Object.entries(verdict.engines)) segs[5] += line(VERDICT_FAMILIES[5][0], `${base},engine="${escapeLabel(e)}"`, f);
  if (verdict.reportRatio !== undefined) segs[6] = line(VERDICT_FAMILIES[6][0], `${base},window="7d"`, verdict.reportRatio);
  for (const d of DIAGNOSES) if (d === verdict.diagnosis) segs[7] += line(VERDICT_FAMILIES[7][0], `${base},diagnosis="${d}"`, 1);
  return segs;
}

/** A number × carrier pair's series, one string per PAIR_DATA_FAMILIES entry. */
function pairDataRows(base: string, w: CarrierWindows): string[] {
  const segs = PAIR_DATA_FAMILIES.map(() => '');
  for (const win of CARRIER_WINDOWS) {
    const k: Kpis = kpisOf(w[win]);
    if (k.calls === 0) continue;
    const l = `${base},window="${win}"`;
    const vals = [k.calls, k.answer_ratio, k.cancel_ratio, k.rejection_ratio, k.block_ratio];
    for (let i = 0; i < vals.length; i++) segs[i] += line(PAIR_DATA_FAMILIES[i][0], l, vals[i]);
  }
  return segs;
}

function pairFlagRows(base: string, flag: string): string[] {
  let seg = '';
  if (flag) for (const f of FLAGS) if (f === flag) seg += line(PAIR_FLAG_FAMILIES[0][0], `${base},state="${f}"`, 1);
  return [seg];
}

/** What /metrics keeps per number between scrapes. */
interface NumberState {
  gen: number;
  /** The view the rows and verdict were made from (snapshots are immutable, so it doubles as the key). */
  view: NumberView;
  base: string;
  data: Rows;
  verdict: NumberVerdict | undefined;
  /** The verdict holds for every `at` in [validFrom, validTo] while the inputs stay the same. */
  validFrom: number;
  validTo: number;
  labels: unknown;
  registered: number | undefined;
  verdictRows: Rows;
  /** The verdict verdictRows were made from. */
  rowsVerdict: NumberVerdict | undefined;
  /** Per carrier of the number. */
  pairs: Map<string, PairState>;
  /** Recipient fatigue and conversion rows (http/management.ts), and the fatigue figures they were made from. */
  mgmt: Rows;
  fatigue: FatigueScope | undefined;
  /** False until mgmt was first written; then true while the rows match the view and `fatigue`. */
  mgmtMade: boolean;
}

/** What /metrics keeps per number × carrier pair between scrapes. */
interface PairState {
  gen: number;
  number: string;
  carrier: string;
  pool: string;
  base: string;
  w: CarrierWindows;
  data: Rows;
  dataStale: boolean;
  flag: string;
  flagRows: Rows;
  /** The flag flagRows were made from (null: to be made again). */
  rowsFlag: string | null;
  badness: number;
  /** The ranking (generation) in which its badness was new or moved. */
  movedAt: number;
}

const collator = new Intl.Collator(); // what String#localeCompare() uses, without a lookup per call

/** Series budget rank: the worst (flagged, then highest block/cancel/rejection) first, then by number and carrier. */
function rankOrder(a: PairState, b: PairState): number {
  return b.badness - a.badness || collator.compare(a.number, b.number) || collator.compare(a.carrier, b.carrier);
}

/**
 * The rank order of this generation's pairs from the last one (`prev`, strictly ordered): the pairs whose
 * key did not move keep their order, the moved ones are sorted and merged in. That is the order a full
 * sort gives when the result is strict; any two pairs found equal (the only comparisons that could leave
 * an order open: every two neighbours in the result are compared, by the sort or by the merge) give null,
 * and so does a count that does not add up (then the caller sorts everything).
 */
function mergeRanked(prev: PairState[], moved: PairState[], total: number, gen: number): PairState[] | null {
  const kept = prev.filter((ps) => ps.gen === gen && ps.movedAt !== gen);
  if (kept.length + moved.length !== total) return null;
  let ties = 0;
  moved.sort((a, b) => {
    const c = rankOrder(a, b);
    if (c === 0) ties++;
    return c;
  });
  if (ties > 0) return null;
  const out: PairState[] = new Array(total);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < kept.length && j < moved.length) {
    const c = rankOrder(kept[i], moved[j]);
    if (c === 0) return null;
    out[k++] = c < 0 ? kept[i++] : moved[j++];
  }
  while (i < kept.length) out[k++] = kept[i++];
  while (j < moved.length) out[k++] = moved[j++];
  return out;
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
  private readonly carriersFolded: client.Gauge;

  constructor(private readonly rt: Runtime, private readonly opts: MetricsOptions) {
    const out = new Set(opts.exclude ?? []);
    this.dataSection = new Section<NumberState>(NUMBER_DATA_FAMILIES, out, (st) => st.data, (st) => numberDataRows(st.view, st.base));
    this.verdictSection = new Section<NumberState>(VERDICT_FAMILIES, out, (st) => st.verdictRows, (st) => verdictRows(st.verdict!, st.base));
    this.pairSection = new Section<PairState>(PAIR_DATA_FAMILIES, out, (ps) => ps.data, (ps) => pairDataRows(ps.base, ps.w));
    this.flagSection = new Section<PairState>(PAIR_FLAG_FAMILIES, out, (ps) => ps.flagRows, (ps) => pairFlagRows(ps.base, ps.flag));
    this.mgmtSection = new Section<NumberState>(NUMBER_MANAGEMENT_FAMILIES, out, (st) => st.mgmt, (st) => numberManagementRows(st.view, st.fatigue, st.base));
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'numrep_' });
    new client.Gauge({ name: 'numrep_build_info', help: 'Build information; always 1.', labelNames: ['version', 'node'], registers: [r] })
      .set({ version: opts.version, node: process.version }, 1);
    new client.Gauge({ name: 'numrep_series_budget', help: 'Configured cap on number x carrier series.', registers: [r] }).set(opts.seriesBudget);
    this.seriesDropped = new client.Gauge({ name: 'numrep_series_dropped', help: 'Number x carrier series left out by the budget at the last scrape.', registers: [r] });
    this.carriersFolded = new client.Gauge({
      name: 'numrep_carriers_folded',
      help: 'Carriers summed into carrier="other" because their number used more than max_carriers_per_number, over all numbers, at the last scrape.',
      registers: [r],
    });
    this.tracked = new client.Gauge({ name: 'numrep_tracked_numbers', help: 'Numbers with calls in the 7d window or in the inventory.', registers: [r] });
    this.renderSeconds = new client.Gauge({ name: 'numrep_metrics_render_seconds', help: 'Time to build the last /metrics body.', registers: [r] });
    new client.Gauge({
      name: 'numrep_fatigue_dials', help: 'Dials remembered for recipient fatigue (consumer hashes of the last 8 days; fatigue.max_dials caps them).', registers: [r],
      collect() {
        this.set(rt.dials.n);
      },
    });
    new client.Counter({
      name: 'numrep_fatigue_dials_dropped_total', help: 'Dials forgotten before their time because fatigue.max_dials was reached (fatigue figures then undercount).', registers: [r],
      collect() {
        this.reset();
        this.inc(rt.dials.dropped);
      },
    });
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
    new client.Gauge({
      name: 'numrep_source_glob_files', help: 'Files each configured source path or glob matches now (0: a typo, or the file is not there yet).', labelNames: ['glob'], registers: [r],
      collect() {
        this.reset();
        const paths = rt.tailer.paths();
        for (const g of rt.opts.globs) {
          const re = globToRegExp(resolve(g));
          this.set({ glob: g }, paths.filter((p) => re.test(p)).length);
        }
      },
    });
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

  private rendering: Promise<BodyChunk[]> | null = null;
  /** Turns the last render gave the event loop (tests). */
  lastRenderTurns = 0;

  /**
   * The whole body as Buffers, in order (what the HTTP handler writes). A render gives the event loop turns
   * (see Turns), so scrapes that arrive during one share its body instead of starting another over the same
   * state: the work per scrape stays one render however many scrapers wait.
   */
  renderBody(): Promise<BodyChunk[]> {
    if (!this.rendering) {
      this.rendering = this.renderOnce().finally(() => {
        this.rendering = null;
      });
    }
    return this.rendering;
  }

  private async renderOnce(): Promise<BodyChunk[]> {
    const t0 = performance.now();
    const turns = new Turns(this.opts.sliceMs);
    const snap = this.rt.snapshotNow();
    // The stored counters are read with the snapshot, before the render's turns: a commit during a turn would
    // otherwise be in this scrape's counters (records accepted, calls) and not in its numbers' series.
    const counters = this.counterChunks();
    const chunks: BodyChunk[] = [];
    await this.renderSnapshot(snap, chunks, turns);
    this.lastRenderTurns = turns.given;
    chunks.push(...counters);
    if (this.opts.extraChunks) chunks.push(...this.opts.extraChunks(snap));
    this.tracked.set(snap.numbers.size);
    this.renderSeconds.set((performance.now() - t0) / 1000);
    if (chunks.length === 0) chunks.push(Buffer.from('\n'));
    chunks.push(Buffer.from(dropMisnamedDefaults(await this.registry.metrics())));
    return chunks;
  }

  /** The body as one string (tests, tools). */
  async render(): Promise<string> {
    return joinPlain(await this.renderBody()).toString('utf8');
  }

  private readonly numberStates = new Map<string, NumberState>();
  private readonly dataSection: Section<NumberState>;
  private readonly verdictSection: Section<NumberState>;
  private readonly pairSection: Section<PairState>;
  private readonly flagSection: Section<PairState>;
  private readonly mgmtSection: Section<NumberState>;
  private lastCarriers: Snapshot['carriers'] | null = null;
  /** Every pair in rank order after the last ranking, when that order was strict (else null: rank afresh). */
  private ranked: PairState[] | null = null;
  /** The pairs shown at the last scrape, in order; reused while no number's inputs or verdict changed. */
  private shownPairs: PairState[] | null = null;
  private generation = 0;

  /**
   * Verdicts for the numbers whose inputs, labels, registration or pool baselines changed, or whose
   * verdict is not known to hold at `snap.at`. The clock enters a verdict only through the number's
   * age (the maturity sub-score: nondecreasing in the clock, as are the rounded sub-scores, score,
   * band and so action; status does not use it) and the rest-until date (now + rest days). So a
   * verdict without rest-until that is the same at t0 and t1 is the same at every instant between:
   * a verdict made at t0 is checked once at t + horizon and then reused until then. When only the
   * pool baselines moved (every commit moves them), a verdict that says it cannot depend on them
   * (`pooled: false`, Assessment.pooled: the number is below every min-calls gate behind which the
   * engine reads them) is kept.
   */
  private async updateVerdicts(states: NumberState[], snap: Snapshot, baselinesChanged: boolean, changed: Set<NumberState>, turns: Turns): Promise<boolean> {
    const verdicts = this.opts.verdicts;
    if (!verdicts) return false;
    const now = snap.at;
    const horizon = this.opts.verdictHorizonMs ?? 3_600_000;
    const assess: NumberState[] = [];
    const probe: NumberState[] = [];
    for (const st of states) {
      const n = st.view.number;
      const labels = this.rt.labels.get(n);
      const registered = this.rt.registered.get(n);
      const v = st.verdict;
      if (!v || (baselinesChanged && v.pooled !== false) || changed.has(st) || st.labels !== labels || st.registered !== registered || v.restUntil !== null || now < st.validFrom) assess.push(st);
      else if (now > st.validTo) (horizon > 0 ? probe : assess).push(st);
    }
    // A few dozen numbers at a time: the assessments behind the verdicts die young instead of piling up,
    // and the event loop gets its turns. Labels and registration are read before each slice is assessed,
    // so a reload during a turn is seen at the next scrape instead of hiding behind a kept verdict.
    const ask = async (list: NumberState[], at: number) => {
      const got = new Map<string, { verdict: NumberVerdict | undefined; labels: unknown; registered: number | undefined }>();
      for (let i = 0; i < list.length; i += VERDICT_SLICE) {
        const slice = list.slice(i, i + VERDICT_SLICE);
        const inputs = slice.map((st) => ({ n: st.view.number, labels: this.rt.labels.get(st.view.number), registered: this.rt.registered.get(st.view.number) }));
        const numbers = new Map(slice.map((st) => [st.view.number, st.view]));
        const made = verdicts({ at, numbers, carriers: snap.carriers });
        for (const x of inputs) got.set(x.n, { verdict: made.get(x.n), labels: x.labels, registered: x.registered });
        await turns.maybe();
      }
      return got;
    };
    if (probe.length > 0) {
      const later = await ask(probe, now + horizon);
      for (const st of probe) {
        const p = later.get(st.view.number)?.verdict;
        if (p && sameVerdict(st.verdict!, p)) st.validTo = now + horizon;
        else assess.push(st);
      }
    }
    if (assess.length === 0) return false;
    const fresh = await ask(assess, now);
    for (const st of assess) {
      const f = fresh.get(st.view.number);
      const v = f?.verdict;
      // An equal verdict keeps its object: its rows and the pair ranking stay as they are.
      if (!(v && st.verdict && sameVerdict(st.verdict, v))) st.verdict = v;
      st.validFrom = st.validTo = now;
      st.labels = f?.labels;
      st.registered = f?.registered;
    }
    return true;
  }

  private async renderSnapshot(snap: Snapshot, chunks: BodyChunk[], turns: Turns): Promise<void> {
    const gen = ++this.generation;
    // Numbers: a state per number, its window rows re-rendered only when its inputs changed.
    const states: NumberState[] = [];
    const changed = new Set<NumberState>();
    const rebased = new Set<NumberState>();
    let pairsChanged = false;
    let folded = 0;
    for (const v of snap.numbers.values()) {
      folded += v.foldedCarriers ?? 0;
      let st = this.numberStates.get(v.number);
      if (!st) {
        const base = flatString(`number="${escapeLabel(v.number)}",pool="${escapeLabel(v.pool)}"`);
        st = { gen, view: v, base, data: new Rows(), verdict: undefined, validFrom: 0, validTo: -1, labels: undefined, registered: undefined, verdictRows: new Rows(), rowsVerdict: undefined, pairs: new Map(), mgmt: new Rows(), fatigue: undefined, mgmtMade: false };
        this.numberStates.set(v.number, st);
        changed.add(st);
        pairsChanged = true;
      } else if (st.view !== v) {
        // A view kept from the last snapshot (the Runtime hands unchanged numbers' views on) is unchanged data.
        const pairsMoved = !samePairData(st.view, v);
        if (pairsMoved || !sameNumberData(st.view, v)) {
          const base = flatString(`number="${escapeLabel(v.number)}",pool="${escapeLabel(v.pool)}"`);
          if (base !== st.base) rebased.add(st);
          st.base = base;
          changed.add(st);
          if (pairsMoved) pairsChanged = true;
        }
      }
      st.view = v;
      st.gen = gen;
      states.push(st);
    }
    let removed = false;
    for (const [k, st] of this.numberStates) {
      if (st.gen !== gen) {
        this.numberStates.delete(k);
        removed = true;
      }
    }
    this.carriersFolded.set(folded);
    const baselinesChanged = this.lastCarriers === null || !sameCarriers(this.lastCarriers, snap.carriers);
    this.lastCarriers = snap.carriers;
    await this.updateVerdicts(states, snap, baselinesChanged, changed, turns);

    await this.dataSection.build(states, (st) => changed.has(st), chunks, turns);
    const withVerdict: NumberState[] = [];
    const poolCounts = new Map<string, Map<string, number>>();
    let verdictsMoved = false;
    for (const st of states) {
      const verdict = st.verdict;
      if (verdict !== st.rowsVerdict) verdictsMoved = true;
      if (!verdict) {
        st.rowsVerdict = undefined;
        continue;
      }
      withVerdict.push(st);
      const pc = poolCounts.get(st.view.pool) ?? new Map<string, number>();
      pc.set(verdict.status, (pc.get(verdict.status) ?? 0) + 1);
      poolCounts.set(st.view.pool, pc);
    }
    await this.verdictSection.build(withVerdict, (st) => st.verdict !== st.rowsVerdict || rebased.has(st), chunks, turns);
    for (const st of withVerdict) st.rowsVerdict = st.verdict;

    // Series budget over number x carrier pairs: the worst (flagged, then highest block/cancel) first.
    let shown = this.shownPairs;
    if (!shown || pairsChanged || removed || verdictsMoved) {
      const pairs: PairState[] = [];
      // Pairs whose rank key (badness) is new or moved: the others keep their places among themselves.
      const moved: PairState[] = [];
      for (const st of states) {
        if (turns.due()) await turns.turn();
        const v = st.view;
        for (const [carrier, w] of v.carriers) {
          let ps = st.pairs.get(carrier);
          const isNew = !ps;
          if (!ps) {
            const base = flatString(`number="${escapeLabel(v.number)}",pool="${escapeLabel(v.pool)}",carrier="${escapeLabel(carrier)}"`);
            ps = { gen, number: v.number, carrier, pool: v.pool, base, w, data: new Rows(), dataStale: true, flag: '', flagRows: new Rows(), rowsFlag: null, badness: 0, movedAt: -1 };
            st.pairs.set(carrier, ps);
          } else if (ps.pool !== v.pool || (ps.w !== w && (!sameVector(ps.w['24h'], w['24h']) || !sameVector(ps.w['7d'], w['7d'])))) {
            ps.pool = v.pool;
            ps.base = flatString(`number="${escapeLabel(v.number)}",pool="${escapeLabel(v.pool)}",carrier="${escapeLabel(carrier)}"`);
            ps.dataStale = true;
            ps.rowsFlag = null; // the flag rows carry the pool label too
          }
          ps.w = w;
          ps.gen = gen;
          ps.flag = st.verdict?.carriers[carrier]?.flag ?? '';
          const k24 = w['24h'];
          const calls = k24[F_CALLS];
          // As kpisOf(w['24h']): block ratio × 3 + cancel ratio + rejection ratio (absent ratios count 0).
          const ratio = (x: number) => (calls > 0 ? x / calls : 0);
          const badness = (FLAG_RANK[ps.flag] ?? 0) * 10 + ratio(k24[I_BLOCKED]) * 3 + ratio(k24[I_CANCELLED]) + ratio(k24[I_REJECTED] + k24[I_BUSY]);
          if (isNew || badness !== ps.badness) {
            ps.movedAt = gen;
            moved.push(ps);
          }
          ps.badness = badness;
          pairs.push(ps);
        }
      }
      for (const st of states) if (st.pairs.size !== st.view.carriers.size) for (const [c, ps] of st.pairs) if (ps.gen !== gen) st.pairs.delete(c);
      let ranked = this.ranked && moved.length * 8 < pairs.length ? mergeRanked(this.ranked, moved, pairs.length, gen) : null;
      let strict = ranked !== null;
      if (!ranked) {
        let ties = 0;
        pairs.sort((a, b) => {
          const c = rankOrder(a, b);
          if (c === 0) ties++;
          return c;
        });
        ranked = pairs;
        strict = ties === 0;
      }
      // Only a strict order (no two pairs equal under rankOrder) is the one a full sort gives whatever the input order.
      this.ranked = strict ? ranked : null;
      const budget = this.opts.seriesBudget;
      shown = budget > 0 ? ranked.slice(0, budget) : ranked;
      this.seriesDropped.set(ranked.length - shown.length);
      this.shownPairs = shown;
    }
    await this.pairSection.build(shown, (ps) => ps.dataStale, chunks, turns);
    await this.flagSection.build(shown, (ps) => ps.flag !== ps.rowsFlag, chunks, turns);
    for (const ps of shown) {
      ps.dataStale = false;
      ps.rowsFlag = ps.flag;
    }

    // Per carrier and per pool: rendered every time.
    const fam = (name: string, help: string) => new Family(`numrep_${name}`, help, 'gauge');
    const c = {
      calls: fam('carrier_calls', 'Calls terminating on the carrier across the pool.'),
      answer: fam('carrier_answer_ratio', 'Answered / calls on the carrier across the pool.'),
      cancel: fam('carrier_cancel_ratio', 'Cancelled (487) / calls on the carrier across the pool.'),
      rejection: fam('carrier_rejection_ratio', '(Rejected + busy) / calls on the carrier across the pool.'),
      block: fam('carrier_block_ratio', 'Blocked / calls on the carrier across the pool.'),
    };
    const pool = fam('pool_numbers', 'Numbers in the pool by current status.');
    for (const [carrier, w] of snap.carriers) {
      // Usually a few dozen carriers, but one file can name thousands (they are not folded pool-wide).
      if (turns.due()) await turns.turn();
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
    const events = fam('carrier_event', 'A pool or carrier event (carrier "*": the whole pool): 1 while the answer rate fell or 487/declines rose pool-wide on it, 24h against the 6 days before; else 0.');
    for (const e of this.opts.carrierEvents?.(snap) ?? []) events.add(labels({ carrier: e.carrier, event: e.event }), e.active ? 1 : 0);
    const out: string[] = [];
    for (const f of [...Object.values(c), pool, events]) f.render(out);
    if (out.length > 0) chunks.push(Buffer.from(out.join('\n') + '\n'));
    // Recipient fatigue and dispositions (http/management.ts), from figures the Runtime keeps (remade here in
    // slices when due, so a large dial log does not hold the event loop). The per-number rows are kept like the
    // window rows: rendered again only for a number whose view or fatigue figures changed (the figures are remade
    // at most every fatigue.refresh_seconds, most of them equal); the pool families are rendered every time.
    await this.rt.refreshFatigue(snap.at, () => turns.maybe());
    const m = managementOf(this.rt, snap.at, true);
    const mgmtStale = (st: NumberState) => !st.mgmtMade || changed.has(st) || rebased.has(st);
    for (const st of states) {
      const fz = m.fatigue.numbers.get(st.view.number);
      if (fz !== st.fatigue && !sameFatigue(fz, st.fatigue)) st.mgmtMade = false;
      st.fatigue = fz;
    }
    await this.mgmtSection.build(states, mgmtStale, chunks, turns);
    for (const st of states) st.mgmtMade = true;
    const poolOut: string[] = [];
    renderManagement(snap, m, poolOut, { numbers: false });
    if (poolOut.length > 0) chunks.push(Buffer.from(poolOut.join('\n') + '\n'));
  }

  private counters: { key: string; chunk: Buffer | null } | null = null;

  /** The counters, re-read only after a commit or an import (they change with nothing else). */
  private counterChunks(): Buffer[] {
    const key = `${this.rt.store.commits}:${this.rt.store.dataVersion()}:${this.rt.sideDataVersion}`;
    if (this.counters?.key !== key) {
      const out: string[] = [];
      this.renderCounters(out);
      this.counters = { key, chunk: out.length > 0 ? Buffer.from(out.join('\n') + '\n') : null };
    }
    return this.counters.chunk ? [this.counters.chunk] : [];
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

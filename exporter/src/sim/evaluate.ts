// Early-warning evaluation (docs/early-warning.md): replay a simulated backfill through the real
// engine — the format's reader, the carrier resolver, the store, the windows and the reputation
// assessment — hour by hour, and compare numrep's carrier flags and statuses with the ground
// truth's label onsets.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../runtime.js';
import { CarrierResolver } from '../model/carrier.js';
import { assessSnapshot } from '../reputation/evaluate.js';
import { DEFAULT_REPUTATION_CONFIG, type ReputationConfig } from '../reputation/config.js';
import { flagRank } from '../reputation/carrierFlag.js';
import { countsOf, newcombeLower, subCounts } from '../reputation/math.js';
import { kpisOf } from '../stats/vector.js';
import { CARRIER_IDS, type CarrierId, type GroundTruth } from './model.js';
import { dataFile } from './run.js';
import type { SimFormat } from './formats.js';

const HOUR = 3_600_000;
const STATUS_RANK: Record<string, number> = { in_progress: 0, healthy: 0, mixed: 1, spam: 2 };

export interface EvaluateOptions {
  /** A `numrep simulate` output directory (truth.json, trunk-map.csv, prefix-map.csv, <format>/…). */
  dir: string;
  /** Which of the written formats to replay (default: the first in truth.json). */
  format?: SimFormat;
  config?: ReputationConfig;
  /** Hours of history before the first evaluation (default 48). */
  warmupHours?: number;
  /** A warning counts for a degrading pair from this many hours before its decay onset (default 24). */
  lookbackHours?: number;
  log?: (msg: string) => void;
}

/**
 * EXPERIMENTAL, not part of the engine: a number × carrier's own change test. Refusals (487 +
 * 603/486 declines) in its last 24 h against its own prior 6 days on the same carrier; warns when
 * Newcombe's lower bound of the rise exceeds `points`. Comparing a number with itself removes the
 * spread between numbers (list quality) that forces the pool test's margin (docs/early-warning.md).
 */
export const OWN_CHANGE = { z: 1.645, points: 0.03, min24h: 20, minPrior: 40 };

/** Per evaluated hour: the engine's view of every number. */
export interface Timeline {
  hours: number[];
  /** number → per hour: status rank (−1 = not assessed, 0 healthy/in_progress, 1 mixed, 2 spam). */
  status: Map<string, Int8Array>;
  /** number → carrier → per hour: flag rank (−1 not assessed, 0 clean, 1 warning, 2 flagged). */
  flags: Map<string, Record<CarrierId, Int8Array>>;
  /** number → per hour: 0 keep, 1 any other recommendation (slow_down, rest, retire, remediate); −1 not assessed. */
  action: Map<string, Int8Array>;
  /** number → per hour: 1 when over the daily or hourly velocity cap. */
  velocity: Map<string, Int8Array>;
  /** number → carrier → per hour: the experimental own-change test (OWN_CHANGE), 1 = warning. */
  ownChange: Map<string, Record<CarrierId, Int8Array>>;
  /** On never-degrading numbers: number-hours each signal kind was raised (what false warnings are made of). */
  falseSignals: Record<string, number>;
}

export interface LeadStats {
  /** Pairs (or numbers) with a label onset inside the evaluated period. */
  n: number;
  /** Warned strictly before the label onset. */
  warnedBefore: number;
  /** Warned at least 24 h before. */
  warned24h: number;
  /** Never warned up to 72 h after the onset. */
  missed: number;
  /** Lead times in hours (onset − first warning); missed ones excluded. */
  median: number | null;
  p10: number | null;
  p90: number | null;
  leads: number[];
}

export interface FalseWarningStats {
  /** Numbers that never degrade (truth), assessed at least once. */
  numbers: number;
  /** …with any carrier warning (or flag) at any evaluated hour. */
  carrierWarned: number;
  /** …whose status was mixed or spam at any evaluated hour. */
  statusWarned: number;
  /** …with a recommendation other than keep at any evaluated hour. */
  actionWarned: number;
  /** …over the velocity cap at any evaluated hour. */
  velocityWarned: number;
  /** …with an experimental own-change warning at any evaluated hour. */
  ownChangeWarned: number;
  /** Share of their assessed number-hours with a carrier warning / status mixed or spam / an action. */
  hourlyCarrierRate: number;
  hourlyStatusRate: number;
  hourlyActionRate: number;
  hourlyVelocityRate: number;
  hourlyOwnChangeRate: number;
}

export interface EvaluationResult {
  scenario: string;
  format: string;
  seed: number;
  start: string;
  end: string;
  evaluatedHours: number;
  accepted: number;
  rejected: number;
  numbers: { total: number; neverDegrading: number; degrading: number; labelled: number };
  /** Per number × carrier: first carrier `warning` (or flag) → that carrier's label onset. */
  carrierWarning: LeadStats;
  /** Per labelled number: first warning on any carrier → its first label onset (any carrier). */
  anyCarrierWarning: LeadStats;
  /** Per labelled number: first status mixed (or spam) → first label onset. */
  statusMixed: LeadStats;
  /** Per labelled number: first recommendation other than keep → first label onset. */
  action: LeadStats;
  /** Per labelled number: first time over the velocity cap (daily or hourly) → first label onset. */
  velocity: LeadStats;
  /** EXPERIMENTAL (OWN_CHANGE, or the engine's flag): per number × carrier → that carrier's label onset. */
  ownChange: LeadStats;
  /** Per labelled number: first status spam → first label onset (negative: after the label). */
  statusSpam: LeadStats;
  falseWarnings: FalseWarningStats & { signals: Record<string, number> };
  /**
   * Issue 16's figures. An alarm is any of: a carrier warning or flag, status mixed or spam, an action other
   * than keep. Healthy = never degrading (truth).
   */
  alarms: {
    healthyNumbers: number;
    /** Healthy numbers with an alarm at any evaluated hour. */
    healthyAlarmed: number;
    /** Their assessed hours / 24. */
    healthyNumberDays: number;
    /** Alarm onsets (an alarmed hour after one that was not) on healthy numbers. */
    falseAlarms: number;
    falseAlarmsPer1000NumberDays: number;
    /** Labelled numbers (label onset in the evaluated period): any alarm ≥ 24 h before the first label. */
    degrading: number;
    warned24h: number;
    /** Median lead (h) of the first alarm before the first label; missed ones count as the worst. */
    medianLead: number | null;
  };
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Lead-time statistics. `leads` has one entry per case: hours of warning before the onset, or
 * null when never warned. p10 is the lead that 90 % of cases beat; missed cases count as the
 * worst possible lead (so p10 is null when more than 10 % were missed).
 */
export function leadStats(leads: Array<number | null>): LeadStats {
  const got = leads.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const missed = leads.length - got.length;
  const all = [...Array<number>(missed).fill(Number.NEGATIVE_INFINITY), ...got];
  const fin = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
  return {
    n: leads.length,
    warnedBefore: got.filter((x) => x > 0).length,
    warned24h: got.filter((x) => x >= 24).length,
    missed,
    median: fin(quantile(all, 0.5)),
    p10: fin(quantile(all, 0.1)),
    p90: fin(quantile(all, 0.9)),
    leads: got,
  };
}

/** Replay the backfill hour by hour through the engine. */
export async function replay(o: EvaluateOptions, truth: GroundTruth): Promise<{ timeline: Timeline; accepted: number; rejected: number; format: string }> {
  const format = (o.format ?? (Object.keys(truth.files ?? { generic: [] })[0] as SimFormat)) as SimFormat;
  const file = dataFile(o.dir, format);
  const start = Date.parse(truth.start);
  const end = Date.parse(truth.end);
  const rt = new Runtime({
    db: ':memory:',
    bucketMs: HOUR, // hourly buckets: evaluated at h − 1 ms, windows are exactly [h − W, h)
    globs: [file],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: CarrierResolver.fromFiles({ trunkMap: join(o.dir, 'trunk-map.csv'), prefixMap: join(o.dir, 'prefix-map.csv') }),
    format,
    settleMs: 0,
    oneShot: true,
    maxRecordBytes: 1 << 20,
    now: () => end + 86_400_000,
    onError: (p, err) => o.log?.(`${p}: ${err.message}`),
  });
  await rt.poll();
  rt.tailer.flushReaders();
  let accepted = 0;
  let rejected = 0;
  for (const r of rt.store.ingestCounts()) {
    if (r.result === 'accepted') accepted += r.count;
    else rejected += r.count;
  }
  const config = o.config ?? DEFAULT_REPUTATION_CONFIG;
  const hours: number[] = [];
  const first = start + (o.warmupHours ?? 48) * HOUR;
  const total = Math.max(0, Math.floor((end - first) / HOUR) + 1);
  const status = new Map<string, Int8Array>();
  const action = new Map<string, Int8Array>();
  const velocity = new Map<string, Int8Array>();
  const ownChange = new Map<string, Record<CarrierId, Int8Array>>();
  const flags = new Map<string, Record<CarrierId, Int8Array>>();
  for (const n of truth.numbers) {
    status.set(n.number, new Int8Array(total).fill(-1));
    action.set(n.number, new Int8Array(total).fill(-1));
    velocity.set(n.number, new Int8Array(total).fill(-1));
    const oc = {} as Record<CarrierId, Int8Array>;
    for (const c of CARRIER_IDS) oc[c] = new Int8Array(total).fill(-1);
    ownChange.set(n.number, oc);
    const f = {} as Record<CarrierId, Int8Array>;
    for (const c of CARRIER_IDS) f[c] = new Int8Array(total).fill(-1);
    flags.set(n.number, f);
  }
  const healthy = new Set(truth.numbers.filter((n) => !n.degrades).map((n) => n.number));
  const falseSignals: Record<string, number> = {};
  for (let i = 0; i < total; i++) {
    const t = first + i * HOUR;
    hours.push(t);
    const snap = rt.snapshotAt(t - 1);
    const as = assessSnapshot(snap, { config });
    for (const [number, a] of as) {
      const s = status.get(number);
      if (!s) continue;
      s[i] = STATUS_RANK[a.status] ?? 0;
      action.get(number)![i] = a.recommendation.action === 'keep' ? 0 : 1;
      velocity.get(number)![i] = a.velocity.overDaily || a.velocity.overHourly ? 1 : 0;
      const view = snap.numbers.get(number);
      const oc = ownChange.get(number)!;
      for (const c of CARRIER_IDS) {
        const w = view?.carriers.get(c);
        if (!w) continue;
        const d = countsOf(kpisOf(w['24h']));
        const prior = subCounts(countsOf(kpisOf(w['7d'])), d);
        let on = 0;
        if (d.calls >= OWN_CHANGE.min24h && prior.calls >= OWN_CHANGE.minPrior) {
          const lo = newcombeLower(d.cancelled + d.rejected, d.calls, prior.cancelled + prior.rejected, prior.calls, OWN_CHANGE.z);
          if (lo !== null && lo > OWN_CHANGE.points) on = 1;
        }
        oc[c][i] = Math.max(on, flagRank[a.carriers[c]?.flag ?? 'clean'] >= 2 ? 1 : 0);
      }
      if (healthy.has(number)) {
        for (const k of new Set(a.signals.filter((x) => x.met && x.effect !== 'context').map((x) => `${x.name} (${x.window})`))) falseSignals[k] = (falseSignals[k] ?? 0) + 1;
      }
      const f = flags.get(number)!;
      for (const c of CARRIER_IDS) {
        const ca = a.carriers[c];
        if (ca) f[c][i] = flagRank[ca.flag];
      }
    }
    if (o.log && i % 168 === 0) o.log(`replayed ${i}/${total} hours`);
  }
  await rt.close();
  return { timeline: { hours, status, flags, action, velocity, ownChange, falseSignals }, accepted, rejected, format };
}

/** The first evaluated hour index ≥ from with value ≥ min, or −1. */
function firstAtLeast(xs: Int8Array, hours: number[], from: number, min: number, until = Number.POSITIVE_INFINITY): number {
  for (let i = 0; i < xs.length; i++) {
    if (hours[i] < from) continue;
    if (hours[i] > until) break;
    if (xs[i] >= min) return i;
  }
  return -1;
}

function maxOver(arrays: Int8Array[]): Int8Array {
  const out = new Int8Array(arrays[0].length).fill(-1);
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] > out[i]) out[i] = a[i];
  return out;
}

/**
 * Compare a timeline with the ground truth. A degrading case's warning window opens `lookbackHours`
 * before the earlier of its decay onset and the plan's behaviour change (burst, ramp, stale list)
 * and closes 72 h after the label onset; an earlier warning is not credited.
 */
export function score(truth: GroundTruth, tl: Timeline, o: { lookbackHours?: number } = {}): Omit<EvaluationResult, 'format' | 'accepted' | 'rejected'> {
  const look = (o.lookbackHours ?? 24) * HOUR;
  const H = tl.hours;
  const firstEval = H[0] ?? Number.POSITIVE_INFINITY;
  const lastEval = H[H.length - 1] ?? Number.NEGATIVE_INFINITY;
  const inPeriod = (t: number) => t > firstEval && t <= lastEval;
  const lead = (onset: number, idx: number) => (idx < 0 ? null : (onset - H[idx]) / HOUR);

  const carrierLeads: Array<number | null> = [];
  const anyLeads: Array<number | null> = [];
  const mixedLeads: Array<number | null> = [];
  const spamLeads: Array<number | null> = [];
  const actionLeads: Array<number | null> = [];
  const velocityLeads: Array<number | null> = [];
  const ownLeads: Array<number | null> = [];
  const fw = { numbers: 0, carrier: 0, status: 0, action: 0, velocity: 0, own: 0, hours: 0, hCarrier: 0, hStatus: 0, hAction: 0, hVelocity: 0, hOwn: 0 };
  const al = { alarmed: 0, onsets: 0 };
  const alarmLeads: Array<number | null> = [];
  let degrading = 0;
  let labelled = 0;

  for (const n of truth.numbers) {
    const flags = tl.flags.get(n.number);
    const st = tl.status.get(n.number);
    const act = tl.action.get(n.number);
    const vel = tl.velocity.get(n.number);
    const own = tl.ownChange.get(n.number);
    if (!flags || !st || !act || !vel || !own) continue;
    if (n.degrades) degrading++;
    if (n.labelled) labelled++;
    const anyFlag = maxOver(CARRIER_IDS.map((c) => flags[c]));
    const anyOwn = maxOver(CARRIER_IDS.map((c) => own[c]));
    if (!n.degrades) {
      let seen = false;
      let cw = false;
      let sw = false;
      let aw = false;
      let vw = false;
      let ow = false;
      let was = false;
      let ever = false;
      for (let i = 0; i < H.length; i++) {
        if (st[i] < 0) continue;
        seen = true;
        const alarm = anyFlag[i] >= 1 || st[i] >= 1 || act[i] >= 1;
        if (alarm && !was) al.onsets++;
        ever ||= alarm;
        was = alarm;
        fw.hours++;
        if (anyFlag[i] >= 1) (cw = true), fw.hCarrier++;
        if (st[i] >= 1) (sw = true), fw.hStatus++;
        if (act[i] >= 1) (aw = true), fw.hAction++;
        if (vel[i] >= 1) (vw = true), fw.hVelocity++;
        if (anyOwn[i] >= 1) (ow = true), fw.hOwn++;
      }
      if (ever) al.alarmed++;
      if (seen) {
        fw.numbers++;
        if (cw) fw.carrier++;
        if (sw) fw.status++;
        if (aw) fw.action++;
        if (vw) fw.velocity++;
        if (ow) fw.own++;
      }
      continue;
    }
    const event = n.eventAt ? Date.parse(n.eventAt) : Number.POSITIVE_INFINITY;
    let numOnset = Number.POSITIVE_INFINITY;
    let numFrom = Number.POSITIVE_INFINITY;
    for (const c of CARRIER_IDS) {
      const tr = n.carriers[c];
      if (tr.labelOnset === null) continue;
      const onset = Date.parse(tr.labelOnset);
      const from = Math.min(tr.decayOnset === null ? onset : Date.parse(tr.decayOnset), event) - look;
      numOnset = Math.min(numOnset, onset);
      numFrom = Math.min(numFrom, from);
      if (!inPeriod(onset)) continue;
      carrierLeads.push(lead(onset, firstAtLeast(flags[c], H, from, 1, onset + 72 * HOUR)));
      ownLeads.push(lead(onset, firstAtLeast(own[c], H, from, 1, onset + 72 * HOUR)));
    }
    if (Number.isFinite(numOnset) && inPeriod(numOnset)) {
      const until = numOnset + 72 * HOUR;
      anyLeads.push(lead(numOnset, firstAtLeast(anyFlag, H, numFrom, 1, until)));
      mixedLeads.push(lead(numOnset, firstAtLeast(st, H, numFrom, 1, until)));
      spamLeads.push(lead(numOnset, firstAtLeast(st, H, numFrom, 2, until)));
      actionLeads.push(lead(numOnset, firstAtLeast(act, H, numFrom, 1, until)));
      velocityLeads.push(lead(numOnset, firstAtLeast(vel, H, numFrom, 1, until)));
      alarmLeads.push(lead(numOnset, firstAtLeast(maxOver([anyFlag, st, act]), H, numFrom, 1, until)));
    }
  }
  const rate = (x: number) => (fw.hours ? x / fw.hours : 0);
  const alarmStats = leadStats(alarmLeads);
  return {
    scenario: truth.scenario,
    seed: truth.seed,
    start: truth.start,
    end: truth.end,
    evaluatedHours: H.length,
    numbers: { total: truth.numbers.length, neverDegrading: fw.numbers, degrading, labelled },
    carrierWarning: leadStats(carrierLeads),
    anyCarrierWarning: leadStats(anyLeads),
    statusMixed: leadStats(mixedLeads),
    statusSpam: leadStats(spamLeads),
    action: leadStats(actionLeads),
    velocity: leadStats(velocityLeads),
    ownChange: leadStats(ownLeads),
    falseWarnings: {
      numbers: fw.numbers,
      carrierWarned: fw.carrier,
      statusWarned: fw.status,
      actionWarned: fw.action,
      velocityWarned: fw.velocity,
      ownChangeWarned: fw.own,
      hourlyCarrierRate: rate(fw.hCarrier),
      hourlyStatusRate: rate(fw.hStatus),
      hourlyActionRate: rate(fw.hAction),
      hourlyVelocityRate: rate(fw.hVelocity),
      hourlyOwnChangeRate: rate(fw.hOwn),
      signals: Object.fromEntries(Object.entries(tl.falseSignals).sort((a, b) => b[1] - a[1])),
    },
    alarms: {
      healthyNumbers: fw.numbers,
      healthyAlarmed: al.alarmed,
      healthyNumberDays: fw.hours / 24,
      falseAlarms: al.onsets,
      falseAlarmsPer1000NumberDays: fw.hours ? (1000 * al.onsets) / (fw.hours / 24) : 0,
      degrading: alarmStats.n,
      warned24h: alarmStats.warned24h,
      medianLead: alarmStats.median,
    },
  };
}

export async function evaluateDir(o: EvaluateOptions): Promise<EvaluationResult> {
  let truthText: string;
  try {
    truthText = readFileSync(join(o.dir, 'truth.json'), 'utf8');
  } catch {
    throw new Error(`${o.dir}: not a \`numrep simulate --out\` folder (it has no truth.json)`);
  }
  const truth = JSON.parse(truthText) as GroundTruth;
  const r = await replay(o, truth);
  return { ...score(truth, r.timeline, o), format: r.format, accepted: r.accepted, rejected: r.rejected };
}

// ---------- presentation ----------

const h = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} h`);
const share = (a: number, b: number) => (b === 0 ? '—' : `${((100 * a) / b).toFixed(0)} % (${a}/${b})`);

export function leadRow(name: string, s: LeadStats): string {
  return `| ${name} | ${s.n} | ${share(s.warnedBefore, s.n)} | ${share(s.warned24h, s.n)} | ${h(s.median)} | ${h(s.p10)} | ${s.missed} |`;
}

/** The issue-16 figures per scenario and seed (what docs/early-warning.md quotes first). */
export function alarmTable(rs: EvaluationResult[]): string[] {
  const out: string[] = [];
  out.push('| scenario | seed | healthy numbers ever alarmed | false alarms per 1,000 healthy number-days | degrading numbers warned ≥ 24 h before the label | median lead |');
  out.push('|---|---|---|---|---|---|');
  for (const r of rs) {
    const a = r.alarms;
    out.push(`| ${r.scenario} | ${r.seed} | ${share(a.healthyAlarmed, a.healthyNumbers)} | ${a.falseAlarmsPer1000NumberDays.toFixed(2)} (${a.falseAlarms} in ${a.healthyNumberDays.toFixed(0)}) | ${share(a.warned24h, a.degrading)} | ${h(a.medianLead)} |`);
  }
  return out;
}

/** Markdown tables (what docs/early-warning.md shows). */
export function resultMarkdown(rs: EvaluationResult[]): string {
  const out: string[] = [...alarmTable(rs), ''];
  out.push('| scenario | format | numbers (never degrading / degrading / labelled) | calls read | rejected |');
  out.push('|---|---|---|---|---|');
  for (const r of rs) out.push(`| ${r.scenario} | ${r.format} | ${r.numbers.total} (${r.numbers.neverDegrading} / ${r.numbers.degrading} / ${r.numbers.labelled}) | ${r.accepted} | ${r.rejected} |`);
  out.push('');
  out.push('| scenario · signal → label onset | cases | warned before label | ≥ 24 h before | median lead | p10 lead | missed |');
  out.push('|---|---|---|---|---|---|---|');
  for (const r of rs) {
    out.push(leadRow(`${r.scenario} · carrier warning (same carrier)`, r.carrierWarning));
    out.push(leadRow(`${r.scenario} · any carrier warning`, r.anyCarrierWarning));
    out.push(leadRow(`${r.scenario} · status mixed`, r.statusMixed));
    out.push(leadRow(`${r.scenario} · status spam`, r.statusSpam));
    out.push(leadRow(`${r.scenario} · action other than keep`, r.action));
    out.push(leadRow(`${r.scenario} · over the velocity cap`, r.velocity));
    out.push(leadRow(`${r.scenario} · experimental own-change test (same carrier)`, r.ownChange));
  }
  out.push('');
  out.push('| scenario | never-degrading numbers | ever a carrier warning | ever status mixed/spam | ever an action | ever over the velocity cap | ever an experimental own-change warning | carrier-warning number-hours | mixed/spam number-hours | action number-hours | own-change number-hours | main false signals (number-hours) |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rs) {
    const f = r.falseWarnings;
    const pc = (x: number) => `${(100 * x).toFixed(2)} %`;
    const top = Object.entries(f.signals).slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ') || '—';
    out.push(`| ${r.scenario} | ${f.numbers} | ${share(f.carrierWarned, f.numbers)} | ${share(f.statusWarned, f.numbers)} | ${share(f.actionWarned, f.numbers)} | ${share(f.velocityWarned, f.numbers)} | ${share(f.ownChangeWarned, f.numbers)} | ${pc(f.hourlyCarrierRate)} | ${pc(f.hourlyStatusRate)} | ${pc(f.hourlyActionRate)} | ${pc(f.hourlyOwnChangeRate)} | ${top} |`);
  }
  return out.join('\n') + '\n';
}

// The traffic model behind `numrep simulate`, `numrep evaluate` and `serve --demo`
// (docs/simulation.md explains every assumption and number here).
//
// A pool of our numbers dials consumers on three terminating carriers. Each number × carrier
// has a HIDDEN reputation r in [0, 1] (the carrier's analytics engine's opinion). Every
// simulated hour r decays under heavy velocity (calls per day over the engine's tolerance) and
// poor engagement (short calls, declines, busies over the engine's tolerance), and recovers
// towards 1 with rest. The consumer sees the engine's opinion before any block:
//
//   r ≥ decayAt (0.85)          nothing shown: the number behaves as its base mix
//   labelAt ≤ r < decayAt       growing "suspicion" s: of the would-be human answers, s change
//                               behaviour — let it ring out (487 after our CANCEL), decline
//                               (603 / 486) or pick up and hang up at once (short call)
//   r < labelAt (0.40)          LABEL ONSET: the engine labels the number; its carrier now blocks
//                               a share of calls (608 / 603+ "Network Blocked"), the rest ring
//                               with "Spam Likely" shown. The label clears when r > clearAt.
//
// The ground truth (decay onset = first hour r < decayAt, label onset = first hour r < labelAt)
// is recorded per number × carrier. Everything is a function of the seed.

import { Rng, subSeed } from './rng.js';

export type CarrierId = 'att' | 'verizon' | 'tmobile';
export type SimOutcome = 'answered' | 'voicemail' | 'cancelled' | 'no_answer' | 'busy' | 'rejected' | 'blocked' | 'failed';

export interface CarrierSpec {
  id: CarrierId;
  /** Display name (as a CDR's carrier column would say it). */
  name: string;
  /** The analytics engine that labels for this carrier. */
  engine: 'hiya' | 'tns' | 'first_orion';
  /** Share of the consumers we dial. */
  share: number;
  /** Area codes of its consumers (the prefix map; illustrative, not real LNP data). */
  npas: string[];
  /** Asterisk PJSIP endpoint / FreeSWITCH gateway name. */
  peer: string;
  /** SIP host (Kamailio dst_domain, sipp Request-URI host). */
  domain: string;
  /** Multiplier on a number's human answer propensity on this carrier. */
  answerBias: number;
  /** Calls per number per day its engine tolerates before velocity counts against the number. */
  velocityTolerance: number;
  /** Bad-engagement share (short calls + declines + busies per call, 72 h) its engine tolerates. */
  engagementTolerance: number;
  /** How it blocks once the number is labelled. */
  block: { code: 608 | 603; reason: string; reasonHeader?: string; callInfo?: string };
}

export const CARRIERS: CarrierSpec[] = [
  {
    id: 'att',
    name: 'AT&T',
    engine: 'hiya',
    share: 0.36,
    npas: ['212', '646', '404', '214'],
    peer: 'att',
    domain: 'att.sip.example.net',
    answerBias: 1.04,
    velocityTolerance: 120,
    engagementTolerance: 0.16,
    block: { code: 608, reason: 'Rejected', callInfo: '<https://redress.hiya.example/608>;purpose=jwt' },
  },
  {
    id: 'verizon',
    name: 'Verizon',
    engine: 'tns',
    share: 0.34,
    npas: ['310', '917', '732', '703'],
    peer: 'verizon',
    domain: 'vzw.sip.example.net',
    answerBias: 1.0,
    velocityTolerance: 140,
    engagementTolerance: 0.18,
    block: { code: 603, reason: 'Network Blocked', reasonHeader: 'SIP;cause=603;text="v=analytics1;url=https://redress.tns.example/603"' },
  },
  {
    id: 'tmobile',
    name: 'T-Mobile',
    engine: 'first_orion',
    share: 0.3,
    npas: ['415', '206', '305', '702'],
    peer: 'tmo',
    domain: 'tmo.sip.example.net',
    answerBias: 0.95,
    velocityTolerance: 105,
    engagementTolerance: 0.15,
    block: { code: 603, reason: 'Network Blocked', reasonHeader: 'SIP;cause=603;text="v=analytics1;url=https://redress.firstorion.example/603"' },
  },
];

export const CARRIER_IDS = CARRIERS.map((c) => c.id);

/** Reputation dynamics (per simulated hour). */
export interface ReputationParams {
  /** Below this the consumer starts to see it: decay onset. */
  decayAt: number;
  /** Below this the engine labels the number and its carrier blocks: label onset. */
  labelAt: number;
  /** A label clears when r climbs back above this. */
  clearAt: number;
  /** Loss per hour per unit of velocity excess (calls/day ÷ tolerance − 1). */
  kVelocity: number;
  /** Loss per hour per point of bad-engagement excess over tolerance. */
  kEngagement: number;
  /** Recovery per hour: kRecover × (1 − r); kRest when the number made no call in 24 h. */
  kRecover: number;
  kRest: number;
  /** Suspicion s reached just above the label threshold (0 at decayAt, linear in between). */
  suspicionAtLabel: number;
  /** Suspicion while labelled ("Spam Likely" on every call that is not blocked). */
  suspicionLabelled: number;
  /** Block share at label onset, growing by blockSlope per unit r below labelAt, up to blockMax. */
  blockAtLabel: number;
  blockSlope: number;
  blockMax: number;
  /** Calls (72 h, on the carrier) before the engine judges engagement. */
  engagementMinCalls: number;
  /**
   * The engine's engagement estimate is smoothed: (bad + k × prior) / (calls + k), so a handful
   * of unlucky calls on a quiet number does not start a decay.
   */
  engagementPriorCalls: number;
  engagementPrior: number;
}

export const DEFAULT_REPUTATION: ReputationParams = {
  decayAt: 0.85,
  labelAt: 0.4,
  clearAt: 0.65,
  kVelocity: 0.01,
  kEngagement: 0.12,
  kRecover: 0.004,
  kRest: 0.012,
  suspicionAtLabel: 0.6,
  suspicionLabelled: 0.92,
  blockAtLabel: 0.3,
  blockSlope: 2,
  blockMax: 0.85,
  engagementMinCalls: 30,
  engagementPriorCalls: 40,
  engagementPrior: 0.08,
};

export type PlanKind = 'steady' | 'burst' | 'ramp' | 'stale_list' | 'new' | 'labelled' | 'carrier_ramp';

/** What happens to one number over the run. Hours count from the scenario start. */
export interface NumberPlan {
  number: string;
  kind: PlanKind;
  /** Multiplier on the base human answer propensity (list quality). */
  quality: number;
  /** Calls per weekday in normal operation. */
  baseDaily: number;
  /** First hour it dials (new numbers). */
  startHour: number;
  /**
   * burst: from atHour dial `daily` a day; ramp: from atHour add `perDay` a day; stale_list: from atHour the list
   * turns bad (and `daily` a day, if given); carrier_ramp: from atHour, on `carrier` only, a share of would-be
   * answers growing by `perDay` a day (up to 0.6) rings out, declines or hangs up fast.
   */
  event?: { atHour: number; daily?: number; perDay?: number; carrier?: CarrierId };
  /** Operations rest the number this many hours after its first label onset (null: never). */
  restAfterLabelHours: number | null;
  /** Length of a rest. */
  restHours: number;
  /** Live mode: multiplier on the share of live calls this number places (default 1). */
  liveWeight?: number;
  /** Reputation at the start per carrier (1 when absent): the demo's already-labelled number. */
  initialRep?: Partial<Record<CarrierId, number>>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Run length in hours (backfill). */
  hours: number;
  plans: NumberPlan[];
  reputation: ReputationParams;
  /** Dial evenly around the clock instead of the business-hours curve (the demo: always fresh data). */
  flat?: boolean;
  /** Pool-wide days when everyone answers less and fewer calls are made (a holiday). */
  holidays?: Array<{ fromHour: number; toHour: number; answerFactor: number; volumeFactor: number }>;
  /** Day-to-day variation of each number's answer propensity (standard deviation of a multiplicative factor). */
  dailyNoise?: number;
}

export interface SimCall {
  /** Sequence number in the run (call ids). */
  seq: number;
  /** INVITE time, UTC ms. */
  ts: number;
  caller: string;
  called: string;
  carrier: CarrierId;
  outcome: SimOutcome;
  sipCode: number;
  reason: string;
  /** Reason header (603+). */
  reasonHeader?: string;
  /** Call-Info (608 redress). */
  callInfo?: string;
  /** INVITE → 180, ms; null when no ringing (blocked, failed fast). */
  ringMs: number | null;
  /** INVITE → 200, ms (answered and voicemail). */
  answerMs: number | null;
  /** INVITE → our CANCEL, ms (cancelled). */
  cancelMs: number | null;
  /** INVITE → final response (failures) or BYE (answered), ms. */
  endMs: number;
  talkSec: number;
  /** AMD result on answered calls. */
  amd: 'MACHINE' | 'HUMAN' | null;
  attestation: 'A' | 'B' | 'C';
}

export interface CarrierTruth {
  /** First hour the reputation fell below decayAt (ISO), or null. */
  decayOnset: string | null;
  /** First label onset (ISO), or null. */
  labelOnset: string | null;
  /** Every label episode. */
  episodes: Array<{ labelled: string; cleared: string | null }>;
  minReputation: number;
  /** Reputation at the end of each simulated day (rounded to 0.01). */
  daily: number[];
  calls: number;
}

export interface NumberTruth {
  number: string;
  kind: PlanKind;
  /** True when some carrier's reputation fell below decayAt during the run. */
  degrades: boolean;
  /** True when some carrier labelled it. */
  labelled: boolean;
  /** When the plan's behaviour change began (burst, ramp, stale list), if any. */
  eventAt: string | null;
  calls: number;
  rests: Array<{ from: string; until: string }>;
  carriers: Record<CarrierId, CarrierTruth>;
}

export interface GroundTruth {
  scenario: string;
  description: string;
  seed: number;
  start: string;
  end: string;
  /** Formats written and the trunk / prefix maps. */
  files?: Record<string, string[]>;
  reputation: ReputationParams;
  carriers: Array<Pick<CarrierSpec, 'id' | 'engine' | 'share' | 'velocityTolerance' | 'engagementTolerance'> & { block: string }>;
  numbers: NumberTruth[];
}

// ---------- time-of-day dialling ----------

/** Relative dialling weight per US Eastern hour 8..19 (lunch dip, afternoon peak). */
const CURVE_LOCAL: Record<number, number> = { 8: 0.5, 9: 0.9, 10: 1, 11: 1, 12: 0.75, 13: 0.7, 14: 0.9, 15: 1, 16: 1, 17: 0.85, 18: 0.6, 19: 0.4 };
const CURVE_SUM = Object.values(CURVE_LOCAL).reduce((s, x) => s + x, 0);
/** The simulation's local time: US Eastern standard time, UTC−5 (no DST). */
export const LOCAL_OFFSET_HOURS = -5;

/** Share of a weekday's calls placed in the hour starting at `t` (UTC ms); weekends: Sat × 0.5, Sun 0. */
export function dialShare(t: number): number {
  const local = new Date(t + LOCAL_OFFSET_HOURS * 3_600_000);
  const dow = local.getUTCDay();
  const day = dow === 0 ? 0 : dow === 6 ? 0.5 : 1;
  return (day * (CURVE_LOCAL[local.getUTCHours()] ?? 0)) / CURVE_SUM;
}

// ---------- the simulator ----------

const HOUR = 3_600_000;

interface CarrierState {
  r: number;
  labelled: boolean;
  /** Per hour of the last 72: calls and bad-engagement calls on this carrier. */
  calls: number[];
  bad: number[];
  /** Accumulators of the hour in progress. */
  hourCalls: number;
  hourBad: number;
  truth: CarrierTruth;
}

interface NumberState {
  plan: NumberPlan;
  rng: Rng;
  carriers: Record<CarrierId, CarrierState>;
  /** Calls per hour over the last 24 (velocity). */
  perHour: number[];
  hourCalls: number;
  firstLabelHour: number | null;
  restFrom: number | null;
  restUntil: number | null;
  rests: Array<{ from: number; until: number }>;
  calls: number;
  /** Today's multiplicative answer factor (scenario.dailyNoise), and the day it was drawn for. */
  noise: number;
  noiseDay: number;
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Simulator {
  readonly numbers: NumberState[];
  /** Scenario hour index of the step in progress. */
  hour = 0;
  private seq = 0;
  private readonly rep: ReputationParams;
  private readonly pickRng: Rng;

  constructor(
    readonly scenario: Scenario,
    readonly seed: number,
    /** UTC ms of scenario hour 0. */
    readonly start: number,
  ) {
    this.rep = scenario.reputation;
    this.pickRng = new Rng(subSeed(seed, 'live-pick'));
    this.numbers = scenario.plans.map((plan) => {
      const carriers = {} as Record<CarrierId, CarrierState>;
      for (const c of CARRIERS) {
        const r = plan.initialRep?.[c.id] ?? 1;
        const labelled = r < this.rep.labelAt;
        carriers[c.id] = {
          r,
          labelled,
          calls: [],
          bad: [],
          hourCalls: 0,
          hourBad: 0,
          truth: {
            decayOnset: r < this.rep.decayAt ? iso(start) : null,
            labelOnset: labelled ? iso(start) : null,
            episodes: labelled ? [{ labelled: iso(start), cleared: null }] : [],
            minReputation: r,
            daily: [],
            calls: 0,
          },
        };
      }
      return {
        plan,
        rng: new Rng(subSeed(seed, 'number', plan.number)),
        carriers,
        perHour: [],
        hourCalls: 0,
        firstLabelHour: null,
        restFrom: null,
        restUntil: null,
        rests: [],
        calls: 0,
        noise: 1,
        noiseDay: -1,
      };
    });
  }

  get now(): number {
    return this.start + this.hour * HOUR;
  }

  /** Planned calls per weekday for a number at scenario hour h (0 while resting or not started). */
  dailyRate(n: NumberState, h = this.hour): number {
    const p = n.plan;
    if (h < p.startHour) return 0;
    if (n.restFrom !== null && h >= n.restFrom && (n.restUntil === null || h < n.restUntil)) return 0;
    const e = p.event;
    if (e && h >= e.atHour) {
      if (p.kind === 'ramp') return p.baseDaily + (e.perDay ?? 0) * ((h - e.atHour) / 24);
      if (e.daily !== undefined) return e.daily;
    }
    return p.baseDaily;
  }

  private holiday(h = this.hour) {
    return this.scenario.holidays?.find((x) => h >= x.fromHour && h < x.toHour) ?? null;
  }

  /** The number's answer factor for today (1 unless the scenario has day-to-day noise). */
  private dayNoise(n: NumberState): number {
    const sd = this.scenario.dailyNoise;
    if (!sd) return 1;
    const day = Math.floor(this.hour / 24);
    if (n.noiseDay !== day) {
      n.noiseDay = day;
      n.noise = Math.max(0.4, 1 + sd * n.rng.normal());
    }
    return n.noise;
  }

  /** carrier_ramp: the share of would-be answers on the plan's carrier that turn bad now. */
  private carrierRamp(n: NumberState, carrier: CarrierId): number {
    const e = n.plan.event;
    if (n.plan.kind !== 'carrier_ramp' || !e || e.carrier !== carrier || this.hour < e.atHour) return 0;
    return Math.min(0.6, ((e.perDay ?? 0) * (this.hour - e.atHour)) / 24);
  }

  private staleList(n: NumberState, h = this.hour): boolean {
    return n.plan.kind === 'stale_list' && n.plan.event !== undefined && h >= n.plan.event.atHour;
  }

  /** Backfill: every call of the current hour (in time order), then the reputation step. */
  runHour(emit: (c: SimCall) => void): void {
    const t0 = this.now;
    const share = (this.scenario.flat ? 1 / 24 : dialShare(t0)) * (this.holiday()?.volumeFactor ?? 1);
    const calls: SimCall[] = [];
    for (const n of this.numbers) {
      const lambda = this.dailyRate(n) * share;
      const k = n.rng.poisson(lambda);
      for (let i = 0; i < k; i++) calls.push(this.makeCall(n, t0 + Math.floor(n.rng.next() * HOUR)));
    }
    calls.sort((a, b) => a.ts - b.ts || a.caller.localeCompare(b.caller));
    for (const c of calls) {
      c.seq = ++this.seq;
      emit(c);
    }
    this.endHour();
  }

  /**
   * Live: one call at `ts` from a number chosen in proportion to its planned rate (the model
   * hour is `this.hour`; the caller advances it with endHour() on its own clock). Null when no
   * number is dialling.
   */
  liveCall(ts: number): SimCall | null {
    const weights = this.numbers.map((n) => this.dailyRate(n) * (n.plan.liveWeight ?? 1));
    if (!weights.some((w) => w > 0)) return null;
    const n = this.numbers[this.pickRng.weighted(weights)];
    const c = this.makeCall(n, ts);
    c.seq = ++this.seq;
    return c;
  }

  /**
   * Close the model hour: update every number × carrier's reputation, record the truth, start
   * and end rests. `plannedVelocity` (live) uses the planned daily rate instead of the calls
   * counted in the last 24 model hours.
   */
  endHour(plannedVelocity = false): void {
    const p = this.rep;
    const h = this.hour;
    const t = this.start + (h + 1) * HOUR; // the state holds from the end of this hour
    for (const n of this.numbers) {
      n.perHour.push(n.hourCalls);
      if (n.perHour.length > 24) n.perHour.shift();
      n.hourCalls = 0;
      const last24 = n.perHour.reduce((s, x) => s + x, 0);
      const velocity = plannedVelocity ? this.dailyRate(n) : last24;
      for (const c of CARRIERS) {
        const s = n.carriers[c.id];
        s.calls.push(s.hourCalls);
        s.bad.push(s.hourBad);
        if (s.calls.length > 72) {
          s.calls.shift();
          s.bad.shift();
        }
        s.hourCalls = 0;
        s.hourBad = 0;
        const calls72 = s.calls.reduce((a, x) => a + x, 0);
        const bad72 = s.bad.reduce((a, x) => a + x, 0);
        let loss = p.kVelocity * Math.max(0, velocity / c.velocityTolerance - 1);
        if (calls72 >= p.engagementMinCalls) {
          const bad = (bad72 + p.engagementPriorCalls * p.engagementPrior) / (calls72 + p.engagementPriorCalls);
          loss += p.kEngagement * Math.max(0, bad - c.engagementTolerance);
        }
        const resting = plannedVelocity ? velocity === 0 : last24 === 0;
        const rate = resting ? p.kRest : p.kRecover;
        s.r = Math.min(1, Math.max(0, s.r - loss + rate * (1 - s.r)));
        const tr = s.truth;
        tr.minReputation = Math.min(tr.minReputation, s.r);
        if (s.r < p.decayAt && tr.decayOnset === null) tr.decayOnset = iso(t);
        if (!s.labelled && s.r < p.labelAt) {
          s.labelled = true;
          if (tr.labelOnset === null) tr.labelOnset = iso(t);
          tr.episodes.push({ labelled: iso(t), cleared: null });
          if (n.firstLabelHour === null) n.firstLabelHour = h + 1;
        } else if (s.labelled && s.r > p.clearAt) {
          s.labelled = false;
          tr.episodes[tr.episodes.length - 1].cleared = iso(t);
        }
        if ((h + 1) % 24 === 0) tr.daily.push(Math.round(s.r * 100) / 100);
      }
      // Operations rest a labelled number after a delay; it dials again when the rest ends.
      const pl = n.plan;
      if (pl.restAfterLabelHours !== null && n.firstLabelHour !== null && n.restFrom === null && h + 1 >= n.firstLabelHour + pl.restAfterLabelHours) {
        n.restFrom = h + 1;
        n.restUntil = h + 1 + pl.restHours;
        n.rests.push({ from: n.restFrom, until: n.restUntil });
      }
    }
    this.hour++;
  }

  /** One call from number n at ts on a carrier drawn by market share, its outcome from the hidden state. */
  makeCall(n: NumberState, ts: number): SimCall {
    const rng = n.rng;
    const spec = CARRIERS[rng.weighted(CARRIERS.map((c) => c.share))];
    const st = n.carriers[spec.id];
    const stale = this.staleList(n);
    const p = this.rep;
    const called = `+1${rng.pick(spec.npas)}555${String(rng.int(0, 9999)).padStart(4, '0')}`;
    const attestation: 'A' | 'B' = rng.chance(0.93) ? 'A' : 'B';

    // Suspicion shown to the consumer, and blocking once labelled.
    let s = 0;
    let block = 0;
    if (st.labelled) {
      s = p.suspicionLabelled;
      block = Math.min(p.blockMax, p.blockAtLabel + p.blockSlope * Math.max(0, p.labelAt - st.r));
    } else if (st.r < p.decayAt) {
      s = Math.min(1, (p.decayAt - st.r) / (p.decayAt - p.labelAt)) * p.suspicionAtLabel;
    }

    // Base mix of the number on this carrier (list quality; a stale list answers less, declines more).
    const human = Math.min(0.7, 0.42 * n.plan.quality * spec.answerBias * (stale ? 0.62 : 1) * (this.holiday()?.answerFactor ?? 1) * this.dayNoise(n));
    const base = {
      human,
      voicemail: 0.14,
      noAnswer: 0.2,
      busy: 0.04 + (stale ? 0.03 : 0),
      reject: 0.025 + (stale ? 0.05 : 0),
      failed: 0.02 + (stale ? 0.03 : 0),
    };
    const cancelBase = Math.max(0.02, 1 - (base.human + base.voicemail + base.noAnswer + base.busy + base.reject + base.failed));
    const shortShare = stale ? 0.32 : 0.06;

    const call: SimCall = {
      seq: 0,
      ts,
      caller: n.plan.number,
      called,
      carrier: spec.id,
      outcome: 'failed',
      sipCode: 500,
      reason: 'Server Internal Error',
      ringMs: null,
      answerMs: null,
      cancelMs: null,
      endMs: 0,
      talkSec: 0,
      amd: null,
      attestation,
    };
    const ring = Math.round(rng.uniform(900, 3500));
    n.calls++;
    n.hourCalls++;
    st.hourCalls++;
    st.truth.calls++;

    if (block > 0 && rng.chance(block)) {
      call.outcome = 'blocked';
      call.sipCode = spec.block.code;
      call.reason = spec.block.reason;
      if (spec.block.reasonHeader) call.reasonHeader = spec.block.reasonHeader;
      if (spec.block.callInfo) call.callInfo = spec.block.callInfo;
      call.endMs = Math.round(rng.uniform(150, 800));
      return call;
    }

    // Draw the base outcome, then let the suspicion change what a human does.
    const k = rng.weighted([base.human, base.voicemail, base.noAnswer, cancelBase, base.busy, base.reject, base.failed]);
    let kind: 'human' | 'short' | SimOutcome = (['human', 'voicemail', 'no_answer', 'cancelled', 'busy', 'rejected', 'failed'] as const)[k];
    const ramp = this.carrierRamp(n, spec.id);
    if (kind === 'human' && ramp > 0 && rng.chance(ramp)) {
      const x = rng.next();
      kind = x < 0.45 ? 'cancelled' : x < 0.7 ? 'rejected' : 'short';
    }
    if (kind === 'human' && s > 0 && rng.chance(s)) {
      const x = rng.next();
      kind = x < 0.55 ? 'cancelled' : x < 0.72 ? 'rejected' : x < 0.8 ? 'busy' : 'short';
    }
    if (kind === 'human' && rng.chance(shortShare)) kind = 'short';

    switch (kind) {
      case 'human':
      case 'short': {
        call.outcome = 'answered';
        call.sipCode = 200;
        call.reason = 'OK';
        call.ringMs = ring;
        call.answerMs = ring + Math.round(Math.min(26_000, rng.logNormal(8000, 0.5)));
        call.talkSec = kind === 'short' ? rng.int(1, 9) : Math.max(10, Math.round(Math.min(1800, rng.logNormal(80, 0.85))));
        call.endMs = call.answerMs + call.talkSec * 1000 + rng.int(0, 999);
        call.amd = 'HUMAN';
        if (kind === 'short' || call.talkSec < 10) st.hourBad++;
        break;
      }
      case 'voicemail':
        call.outcome = 'voicemail';
        call.sipCode = 200;
        call.reason = 'OK';
        call.ringMs = ring;
        call.answerMs = ring + Math.round(rng.uniform(18_000, 26_000));
        call.talkSec = rng.int(18, 45);
        call.endMs = call.answerMs + call.talkSec * 1000 + rng.int(0, 999);
        call.amd = 'MACHINE';
        break;
      case 'cancelled':
        // Rang out: the dialer gives up after its ring timeout and CANCELs → 487.
        call.outcome = 'cancelled';
        call.sipCode = 487;
        call.reason = 'Request Terminated';
        call.ringMs = ring;
        call.cancelMs = ring + Math.round(rng.uniform(24_000, 27_000));
        call.endMs = call.cancelMs + rng.int(20, 120);
        break;
      case 'no_answer':
        call.outcome = 'no_answer';
        call.ringMs = ring;
        if (rng.chance(0.85)) {
          call.sipCode = 480;
          call.reason = 'Temporarily Unavailable';
        } else {
          call.sipCode = 408;
          call.reason = 'Request Timeout';
        }
        call.endMs = ring + Math.round(rng.uniform(18_000, 23_000));
        break;
      case 'busy':
        call.outcome = 'busy';
        call.sipCode = 486;
        call.reason = 'Busy Here';
        call.ringMs = rng.chance(0.5) ? ring : null;
        call.endMs = (call.ringMs ?? 0) + Math.round(rng.uniform(400, 4000));
        st.hourBad++;
        break;
      case 'rejected':
        // The consumer pressed decline.
        call.outcome = 'rejected';
        call.sipCode = 603;
        call.reason = 'Decline';
        call.ringMs = ring;
        call.endMs = ring + Math.round(rng.uniform(2000, 12_000));
        st.hourBad++;
        break;
      default: {
        call.outcome = 'failed';
        if (rng.chance(0.6)) {
          call.sipCode = 404;
          call.reason = 'Not Found';
        } else {
          call.sipCode = 503;
          call.reason = 'Service Unavailable';
        }
        call.endMs = Math.round(rng.uniform(200, 900));
      }
    }
    return call;
  }

  /** Ground truth so far. */
  truth(meta: { files?: Record<string, string[]> } = {}): GroundTruth {
    const end = this.now;
    return {
      scenario: this.scenario.name,
      description: this.scenario.description,
      seed: this.seed,
      start: iso(this.start),
      end: iso(end),
      ...(meta.files ? { files: meta.files } : {}),
      reputation: this.rep,
      carriers: CARRIERS.map((c) => ({
        id: c.id,
        engine: c.engine,
        share: c.share,
        velocityTolerance: c.velocityTolerance,
        engagementTolerance: c.engagementTolerance,
        block: `${c.block.code} ${c.block.reason}`,
      })),
      numbers: this.numbers.map((n) => {
        const carriers = {} as Record<CarrierId, CarrierTruth>;
        for (const c of CARRIERS) carriers[c.id] = { ...n.carriers[c.id].truth, minReputation: Math.round(n.carriers[c.id].truth.minReputation * 1000) / 1000 };
        const all = Object.values(carriers);
        return {
          number: n.plan.number,
          kind: n.plan.kind,
          degrades: all.some((c) => c.decayOnset !== null),
          labelled: all.some((c) => c.labelOnset !== null),
          eventAt: n.plan.event ? iso(this.start + n.plan.event.atHour * HOUR) : null,
          calls: n.calls,
          rests: n.rests.map((r) => ({ from: iso(this.start + r.from * HOUR), until: iso(this.start + r.until * HOUR) })),
          carriers,
        };
      }),
    };
  }

  /** Current hidden state, for logs and the demo. */
  state(): Array<{ number: string; kind: PlanKind; rep: Record<CarrierId, number>; labelled: CarrierId[]; resting: boolean }> {
    return this.numbers.map((n) => {
      const rep = {} as Record<CarrierId, number>;
      const labelled: CarrierId[] = [];
      for (const c of CARRIERS) {
        rep[c.id] = Math.round(n.carriers[c.id].r * 100) / 100;
        if (n.carriers[c.id].labelled) labelled.push(c.id);
      }
      return { number: n.plan.number, kind: n.plan.kind, rep, labelled, resting: this.dailyRate(n) === 0 && this.hour >= n.plan.startHour };
    });
  }
}

// ---------- scenarios ----------

export function poolNumber(i: number): string {
  return `+1202555${String(100 + i).padStart(4, '0')}`;
}

export interface ScenarioOptions {
  numbers?: number;
  days?: number;
}

/**
 * Named scenarios. `pool` is the default evaluation scenario: a realistic mix where most numbers
 * stay healthy and the rest degrade for one of three reasons at a random time after a week.
 */
export function scenario(name: string, seed: number, o: ScenarioOptions = {}): Scenario {
  const rng = new Rng(subSeed(seed, 'scenario', name));
  const days = o.days ?? 30;
  const hours = days * 24;
  const count = o.numbers ?? (name === 'small' ? 12 : 60);
  const plans: NumberPlan[] = [];
  // Events start after a week of history (the engine's 7d baseline) and leave time to label before the end.
  const eventHour = () => Math.round(rng.uniform(Math.min(7 * 24, hours * 0.25), Math.max(hours * 0.3, hours - 6 * 24)));
  const steady = (i: number): NumberPlan => ({
    number: poolNumber(i),
    kind: 'steady',
    quality: rng.uniform(0.85, 1.15),
    baseDaily: Math.round(rng.uniform(30, 90)),
    startHour: 0,
    restAfterLabelHours: Math.round(rng.uniform(24, 96)),
    restHours: 21 * 24,
  });
  const mix: Record<string, Array<[PlanKind, number]>> = {
    pool: [['steady', 0.6], ['burst', 0.13], ['ramp', 0.1], ['stale_list', 0.12], ['new', 0.05]],
    velocity: [['steady', 0.6], ['burst', 0.4]],
    ramp: [['steady', 0.6], ['ramp', 0.4]],
    engagement: [['steady', 0.6], ['stale_list', 0.4]],
    healthy: [['steady', 1]],
    small: [['steady', 0.5], ['burst', 0.25], ['stale_list', 0.25]],
    carrier_ramp: [['steady', 0.6], ['carrier_ramp', 0.4]],
  };
  // Scenarios with other assumptions (docs/simulation.md): the pool's mix under different traffic.
  for (const k of ['low_volume', 'holiday', 'heterogeneous']) mix[k] = mix.pool!;
  const m = mix[name];
  if (!m) throw new Error(`unknown scenario "${name}" (known: ${Object.keys(mix).join(', ')})`);
  // Deterministic counts per kind (largest remainder), shuffled over the pool.
  const kinds: PlanKind[] = [];
  for (const [k, share] of m) for (let j = 0; j < Math.floor(share * count); j++) kinds.push(k);
  while (kinds.length < count) kinds.push(m[kinds.length % m.length][0]);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  kinds.forEach((kind, i) => {
    const p = steady(i);
    p.kind = kind;
    if (name === 'low_volume') p.baseDaily = Math.round(rng.uniform(10, 25));
    if (name === 'heterogeneous') p.quality = rng.uniform(0.5, 1.5);
    switch (kind) {
      case 'burst':
        p.event = { atHour: eventHour(), daily: Math.round(rng.uniform(170, 260)) };
        break;
      case 'ramp':
        p.event = { atHour: eventHour(), perDay: Math.round(rng.uniform(12, 25)) };
        break;
      case 'stale_list':
        p.event = { atHour: eventHour() };
        break;
      case 'carrier_ramp':
        p.event = { atHour: eventHour(), perDay: rng.uniform(0.06, 0.12), carrier: CARRIERS[rng.weighted(CARRIERS.map((c) => c.share))]!.id };
        break;
      case 'new':
        p.startHour = Math.round(rng.uniform(hours * 0.3, hours * 0.7));
        p.baseDaily = Math.round(rng.uniform(30, 60));
        break;
      default:
        break;
    }
    plans.push(p);
  });
  const descriptions: Record<string, string> = {
    pool: 'mixed pool: 60 % steady, 13 % velocity bursts, 10 % slow ramps, 12 % stale lists, 5 % new numbers',
    velocity: '60 % steady, 40 % jump to 170–260 calls/day at a random time',
    ramp: '60 % steady, 40 % add 12–25 calls/day every day from a random time',
    engagement: '60 % steady, 40 % switch to a stale list (fewer answers, more short calls and declines)',
    healthy: 'every number steady: only false warnings are possible',
    small: 'test scenario: 12 numbers, half steady, a quarter bursting, a quarter on stale lists',
    low_volume: "the pool's mix at 10–25 calls a day per number",
    holiday: "the pool's mix with one pool-wide holiday (a weekday mid-run: answers × 0.55, calls × 0.7)",
    carrier_ramp: '60 % steady, 40 % whose consumers on ONE carrier slowly ring out, decline and hang up fast (6–12 % more of the would-be answers a day)',
    heterogeneous: "the pool's mix with list quality 0.5–1.5 across numbers and ±15 % day-to-day answer variation",
  };
  const sc: Scenario = { name, description: descriptions[name]!, hours, plans, reputation: { ...DEFAULT_REPUTATION } };
  if (name === 'holiday') {
    // A weekday near the middle of the run (scenarios start on a Monday), local midnight to midnight (UTC−5).
    let d = Math.floor(days / 2);
    while (d % 7 >= 5) d++;
    sc.holidays = [{ fromHour: d * 24 + 5, toHour: d * 24 + 29, answerFactor: 0.55, volumeFactor: 0.7 }];
  }
  if (name === 'heterogeneous') sc.dailyNoise = 0.15;
  return sc;
}

export const SCENARIOS = ['pool', 'velocity', 'ramp', 'engagement', 'healthy', 'small', 'low_volume', 'holiday', 'carrier_ramp', 'heterogeneous'];

/**
 * `serve --demo`: ten numbers, seven days of history dialled around the clock, then a live part
 * in which +12025550106 moves to a stale list at 300 calls a day and decays on the model clock.
 *   0101–0105 steady · 0106 healthy, then the live change (healthy → mixed → spam)
 *   0107 labelled by AT&T and Verizon from the start (blocked: spam) · 0108 new (in progress)
 *   0109 dialling 160 a day for the last two days (over the velocity cap) · 0110 on a stale list for the last day and a half
 */
export function demoScenario(): Scenario {
  const days = 7;
  const hours = days * 24;
  const base = (i: number, kind: PlanKind, daily: number): NumberPlan => ({
    number: `+1202555${String(101 + i).padStart(4, '0')}`,
    kind,
    quality: 1,
    baseDaily: daily,
    startHour: 0,
    restAfterLabelHours: null,
    restHours: 0,
  });
  // Live calls go mostly to the story number: the others place a trickle, so their windows stay
  // readable (the live part compresses the hidden reputation's clock, not the call rate).
  const trickle = (p: NumberPlan, w: number): NumberPlan => ({ ...p, liveWeight: w });
  const plans: NumberPlan[] = [
    trickle(base(0, 'steady', 70), 0.05),
    trickle(base(1, 'steady', 75), 0.05),
    trickle(base(2, 'steady', 85), 0.05),
    trickle(base(3, 'steady', 70), 0.05),
    trickle(base(4, 'steady', 60), 0.05),
    { ...base(5, 'stale_list', 80), event: { atHour: hours, daily: 300 } },
    trickle({ ...base(6, 'labelled', 90), initialRep: { att: 0.3, verizon: 0.33, tmobile: 0.8 } }, 0.3),
    trickle({ ...base(7, 'new', 20), startHour: hours - 14 }, 0.2),
    trickle({ ...base(8, 'burst', 70), event: { atHour: hours - 48, daily: 160 } }, 0.3),
    trickle({ ...base(9, 'stale_list', 75), event: { atHour: hours - 36 } }, 0.3),
  ];
  return { name: 'demo', description: 'serve --demo: ten numbers, one decaying live', hours, plans, reputation: { ...DEFAULT_REPUTATION }, flat: true };
}

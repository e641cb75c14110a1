// Glue between the windows and the pure engine: a snapshot of every number → one Assessment each.

import { OTHER_CARRIER, type Snapshot, type NumberView } from '../stats/snapshot.js';
import { dispositionWindows, kpisOf } from '../stats/vector.js';
import type { Kpis } from '../model/types.js';
import { assessNumber, assessmentJson, type Assessment, type EngineLabel } from './assess.js';
import { carrierBaselines, type Baselines } from './carrierFlag.js';
import { carrierEvents, type CarrierEvent } from './events.js';
import type { WindowName } from '../model/types.js';
import { DEFAULT_REPUTATION_CONFIG, type ReputationConfig } from './config.js';
import type { NumberVerdict } from '../http/metrics.js';
import type { Enrich, NumberJson } from '../http/json.js';

export interface EvaluateOptions {
  config?: ReputationConfig;
  /** Latest engine labels per number (engine → label). */
  labels?: Map<string, Partial<Record<string, EngineLabel & { checked_at?: string | number | null }>>>;
  /** Inventory registration time per number, standing in for first seen when earlier. */
  registered?: Map<string, number>;
}

/** The windows the engine reads per carrier (docs/scoring.md §6.3: 48h and 72h feed the evidence only). */
const ENGINE_WINDOWS: WindowName[] = ['24h', '48h', '72h', '7d'];

function windowKpis(w: Partial<Record<WindowName, import('../stats/vector.js').Vector>>): Partial<Record<WindowName, Kpis>> {
  const out: Partial<Record<WindowName, Kpis>> = {};
  for (const name of ENGINE_WINDOWS) {
    // Read once: a snapshot's window is a getter that makes a new view each time (stats/snapshot.ts SlabWindows).
    const v = w[name];
    if (v) out[name] = kpisOf(v);
  }
  return out;
}

function carrierKpis(v: NumberView): Record<string, Partial<Record<WindowName, Kpis>>> {
  const out: Record<string, Partial<Record<WindowName, Kpis>>> = {};
  for (const [c, w] of v.carriers) out[c] = windowKpis(w);
  return out;
}

/**
 * The pool baselines of a snapshot's per-carrier sums, made once per sums object: /metrics asks for
 * verdicts a slice of numbers at a time with the same sums, and re-deriving them per slice costs
 * O(slices × pool carriers).
 */
const baselinesMade = new WeakMap<Snapshot['carriers'], Baselines>();
export function snapshotBaselines(carriers: Snapshot['carriers']): Baselines {
  let b = baselinesMade.get(carriers);
  if (!b) {
    const pool: Record<string, Partial<Record<WindowName, Kpis>>> = {};
    for (const [c, w] of carriers) pool[c] = windowKpis(w);
    b = carrierBaselines(pool);
    baselinesMade.set(carriers, b);
  }
  return b;
}

/** The pool and carrier events of a snapshot (made once per sums object, as the baselines). */
const eventsMade = new WeakMap<Snapshot['carriers'], CarrierEvent[]>();
export function snapshotEvents(carriers: Snapshot['carriers'], config: ReputationConfig = DEFAULT_REPUTATION_CONFIG): CarrierEvent[] {
  let e = eventsMade.get(carriers);
  if (!e) {
    e = carrierEvents(snapshotBaselines(carriers), config);
    eventsMade.set(carriers, e);
  }
  return e;
}

/** One number of a snapshot, assessed as assessSnapshot does (O(the number's carriers) once the baselines are made). */
export function assessView(v: NumberView, snap: Pick<Snapshot, 'at' | 'carriers'>, o: EvaluateOptions = {}): Assessment {
  const reg = o.registered?.get(v.number);
  const firstSeen = reg !== undefined && (v.firstSeen === null || reg < v.firstSeen) ? reg : v.firstSeen;
  const w48 = v.windows['48h'];
  const w72 = v.windows['72h'];
  return assessNumber(
    {
      number: v.number,
      windows: {
        '1h': kpisOf(v.windows['1h']),
        '24h': kpisOf(v.windows['24h']),
        '48h': w48 ? kpisOf(w48) : null,
        '72h': w72 ? kpisOf(w72) : null,
        '7d': kpisOf(v.windows['7d']),
      },
      carriers: carrierKpis(v),
      foldedCarrier: v.foldedCarriers ? OTHER_CARRIER : null,
      firstSeen,
      lastSeen: v.lastSeen,
      engines: o.labels?.get(v.number),
      dispositions: dispositionWindows(v.windows),
    },
    {
      now: snap.at,
      config: o.config ?? DEFAULT_REPUTATION_CONFIG,
      baselines: snapshotBaselines(snap.carriers),
      events: snapshotEvents(snap.carriers, o.config ?? DEFAULT_REPUTATION_CONFIG),
    },
  );
}

export function assessSnapshot(snap: Snapshot, o: EvaluateOptions = {}): Map<string, Assessment> {
  const out = new Map<string, Assessment>();
  for (const v of snap.numbers.values()) out.set(v.number, assessView(v, snap, o));
  return out;
}

export function verdictOf(a: Assessment): NumberVerdict {
  const carriers: Record<string, { flag: string }> = {};
  for (const [c, v] of Object.entries(a.carriers)) carriers[c] = { flag: v.flag };
  return {
    score: a.score,
    subscores: a.subscores,
    status: a.status,
    action: a.recommendation.action,
    restUntil: a.recommendation.action === 'rest' ? a.recommendation.until : null,
    engines: a.engineFlagged,
    reportRatio: a.reportRatio,
    carriers,
    diagnosis: a.diagnosis,
    pooled: a.pooled,
  };
}

/** Fill the reputation fields of a docs/architecture.md#json number entry. */
export function enrichWith(assessments: Map<string, Assessment>, labels?: EvaluateOptions['labels']): Enrich {
  return enrichFrom((v) => assessments.get(v.number), labels);
}

/**
 * Fill the reputation fields, assessing each number only when its entry is made: a request for one
 * number assesses that number, not the whole snapshot.
 */
export function enrichByAssessing(snap: Pick<Snapshot, 'at' | 'carriers'>, o: EvaluateOptions = {}): Enrich {
  return enrichFrom((v) => assessView(v, snap, o), o.labels);
}

function enrichFrom(assessmentOf: (v: NumberView) => Assessment | undefined, labels?: EvaluateOptions['labels']): Enrich {
  return (v: NumberView, json: NumberJson) => {
    const a = assessmentOf(v);
    if (!a) return;
    const r = assessmentJson(a);
    json.status = r.status;
    json.score = r.score;
    json.subscores = r.subscores;
    json.ratings = r.ratings;
    json.recommendation = r.recommendation;
    for (const [c, f] of Object.entries(r.carrier_flags)) {
      json.carriers[c] = { flag: f.flag, reason: f.reason, ...json.carriers[c] };
    }
    json.diagnosis = r.diagnosis;
    json.signals = r.signals;
    const l = labels?.get(v.number);
    if (l) {
      json.engines = {};
      for (const [e, x] of Object.entries(l)) {
        if (!x) continue;
        const at = x.checked_at;
        json.engines[e] = { label: x.label, checked_at: at === null || at === undefined ? '' : typeof at === 'number' ? new Date(at).toISOString() : at };
      }
    }
  };
}

import { DataFrame } from '@grafana/data';
import {
  ACTIONS,
  Action,
  CARRIER_FLAGS,
  CarrierFlag,
  DIMENSIONS,
  Dimension,
  NumberRow,
  Registration,
  REGISTRATIONS,
  StatusOrUnknown,
  TransformResult,
} from '../types';
import { EXPECTED, METRIC, MetricKey } from './metrics';
import { isStatus, ratingFor } from './ratings';
import { deriveReason } from './reason';
import { recommendationTooltip } from './fatigue';
import { isDiagnosis } from './diagnosis';
import { framesToSamples, mentionsNumrep, Sample } from './samples';

interface OneHot {
  value: string;
  time: number;
  extra?: Record<string, string>;
}

interface Builder {
  number: string;
  pool: string;
  status?: OneHot;
  score?: { v: number | null; t: number };
  subscores: Partial<Record<Dimension, { v: number | null; t: number }>>;
  carriers: Map<string, OneHot>;
  recommendation?: OneHot;
  restUntil?: number | null;
  calls?: { v: number | null; rank: number };
  answer?: { last: number | null; history: Array<number | null>; rank: number };
  engines: Map<string, { v: number; t: number }>;
  /** Recipient fatigue: the 24h series only (the 7d ones count yesterday's re-dials too). */
  fatigue: Partial<Record<'consumersOverCap' | 'attemptsOverCap' | 'repeatDialRatio', number | null>>;
  info?: { country: string | null; area: string | null; registration: Registration | null; t: number };
  diagnosis?: OneHot;
}

/** Windows in order of preference for the "24h" columns: the 24h window, a series without a window label, then the rest. */
function windowRank(w: string | undefined): number {
  if (w === '24h') {
    return 0;
  }
  if (w === undefined) {
    return 1;
  }
  if (w === '1h') {
    return 2;
  }
  return 3;
}

const t = (s: Sample) => s.lastTime ?? 0;

/** For one-hot families (value 1 for the current state only), keep the newest series whose value is 1. */
function pickOneHot(prev: OneHot | undefined, s: Sample, value: string, extra?: Record<string, string>): OneHot | undefined {
  if (s.last === null || s.last < 0.5) {
    return prev;
  }
  if (!prev || t(s) >= prev.time) {
    return { value, time: t(s), extra };
  }
  return prev;
}

function newer<T extends { t: number }>(prev: T | undefined, next: T): T {
  return !prev || next.t >= prev.t ? next : prev;
}

/** Prometheus frames (instant/table or range) → one row per number. Missing families degrade to empty cells. */
export function transformFrames(frames: DataFrame[], exprByRefId: Record<string, string> = {}): TransformResult {
  const samples = framesToSamples(frames, exprByRefId);
  const seen = new Set<MetricKey>();
  const byNumber = new Map<string, Builder>();

  for (const s of samples) {
    const number = s.labels.number;
    if (!number) {
      continue;
    }
    seen.add(s.metric);
    let b = byNumber.get(number);
    if (!b) {
      b = { number, pool: '', subscores: {}, carriers: new Map(), engines: new Map(), fatigue: {} };
      byNumber.set(number, b);
    }
    if (!b.pool && s.labels.pool) {
      b.pool = s.labels.pool;
    }
    switch (s.metric) {
      case 'status': {
        const st = s.labels.status;
        if (st && isStatus(st)) {
          b.status = pickOneHot(b.status, s, st);
        }
        break;
      }
      case 'score':
        b.score = newer(b.score, { v: s.last, t: t(s) });
        break;
      case 'subscore': {
        const d = s.labels.dimension as Dimension;
        if ((DIMENSIONS as readonly string[]).includes(d)) {
          b.subscores[d] = newer(b.subscores[d], { v: s.last, t: t(s) });
        }
        break;
      }
      case 'carrierFlag': {
        const c = s.labels.carrier;
        const st = s.labels.state;
        if (c && (CARRIER_FLAGS as readonly string[]).includes(st)) {
          const picked = pickOneHot(b.carriers.get(c), s, st);
          if (picked) {
            b.carriers.set(c, picked);
          }
        }
        break;
      }
      case 'recommendation': {
        const a = s.labels.action;
        if ((ACTIONS as readonly string[]).includes(a)) {
          b.recommendation = pickOneHot(b.recommendation, s, a, s.labels.reason ? { reason: s.labels.reason } : undefined);
        }
        break;
      }
      case 'restUntil':
        b.restUntil = s.last;
        break;
      case 'calls': {
        const rank = windowRank(s.labels.window);
        if (!b.calls || rank < b.calls.rank) {
          b.calls = { v: s.last, rank };
        }
        break;
      }
      case 'answerRatio': {
        const rank = windowRank(s.labels.window);
        if (!b.answer || rank < b.answer.rank) {
          b.answer = { last: s.last, history: s.history, rank };
        }
        break;
      }
      case 'consumersOverCap':
      case 'attemptsOverCap':
      case 'repeatDialRatio':
        if (s.labels.window === '24h') {
          b.fatigue[s.metric] = s.last;
        }
        break;
      case 'engineFlagged': {
        const e = s.labels.engine;
        if (e && s.last !== null) {
          const prev = b.engines.get(e);
          if (!prev || t(s) >= prev.t) {
            b.engines.set(e, { v: s.last, t: t(s) });
          }
        }
        break;
      }
      case 'diagnosis': {
        const d = s.labels.diagnosis;
        if (isDiagnosis(d)) {
          b.diagnosis = pickOneHot(b.diagnosis, s, d);
        }
        break;
      }
      case 'info': {
        // An info series: its labels are the data. Empty label values (no area for the prefix) are absent in PromQL.
        const reg = s.labels.registration;
        const next = {
          country: s.labels.country || null,
          area: s.labels.area || null,
          registration: (REGISTRATIONS as readonly string[]).includes(reg) ? (reg as Registration) : null,
          t: t(s),
        };
        b.info = newer(b.info, next);
        break;
      }
    }
  }

  const carrierSet = new Set<string>();
  const rows: NumberRow[] = [];
  for (const b of byNumber.values()) {
    const subscores = {} as Record<Dimension, number | null>;
    const ratings = {} as NumberRow['ratings'];
    for (const d of DIMENSIONS) {
      const v = b.subscores[d]?.v ?? null;
      subscores[d] = v;
      ratings[d] = ratingFor(v);
    }
    const carriers: Record<string, CarrierFlag> = {};
    for (const [c, oh] of b.carriers) {
      carriers[c] = oh.value as CarrierFlag;
      carrierSet.add(c);
    }
    const enginesFlagged = [...b.engines].filter(([, e]) => e.v >= 0.5).map(([name]) => name).sort();
    const score = b.score?.v ?? null;
    const answerRatio24h = b.answer?.last ?? null;
    const calls24h = b.calls?.v ?? null;
    const fatigue24h =
      b.fatigue.consumersOverCap !== undefined
        ? { consumersOverCap: b.fatigue.consumersOverCap, attemptsOverCap: b.fatigue.attemptsOverCap ?? null, repeatDialRatio: b.fatigue.repeatDialRatio ?? null }
        : null;
    const diagnosisValue = b.diagnosis?.value;
    const diagnosis = isDiagnosis(diagnosisValue) ? diagnosisValue : null;
    let recommendation: NumberRow['recommendation'] = null;
    if (b.recommendation) {
      const action = b.recommendation.value as Action;
      const until = action === 'rest' && b.restUntil ? b.restUntil * 1000 : null;
      const labelled = b.recommendation.extra?.reason;
      const reason =
        labelled ??
        deriveReason({
          action,
          score,
          answerRatio24h,
          calls24h,
          until,
          enginesFlagged,
          flaggedCarriers: Object.keys(carriers).filter((c) => carriers[c] === 'flagged').sort(),
          warningCarriers: Object.keys(carriers).filter((c) => carriers[c] === 'warning').sort(),
        });
      recommendation = { action, until, reasonFromLabel: !!labelled, reason, tooltip: recommendationTooltip(reason, fatigue24h, diagnosis) };
    }
    rows.push({
      number: b.number,
      pool: b.pool,
      status: (b.status?.value as StatusOrUnknown | undefined) ?? 'unknown',
      score,
      subscores,
      ratings,
      carriers,
      recommendation,
      calls24h,
      answerRatio24h,
      answerHistory: b.answer?.history ?? [],
      enginesFlagged,
      fatigue24h,
      country: b.info?.country ?? null,
      area: b.info?.area ?? null,
      registration: b.info?.registration ?? null,
      diagnosis,
    });
  }
  rows.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));

  const found = rows.length > 0 || mentionsNumrep(frames);
  const missing = found ? EXPECTED.filter((k) => !seen.has(k)).map((k) => METRIC[k]) : [];
  return { rows, carriers: [...carrierSet].sort(), found, missing };
}

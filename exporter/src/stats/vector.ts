import { OUTCOMES, type Attestation, type CallRecord, type Disposition, type Kpis, type Outcome } from '../model/types.js';

/**
 * A call tally packed in a Float64Array so windows can add and subtract whole buckets
 * without allocating. Layout: calls, the 8 outcomes (docs/architecture.md#outcomes order), short calls,
 * talk seconds of answered calls, attestation A, B, C, none, then the dialer's dispositions where the
 * record had one (model/disposition.ts): connected to a person (conversions included), conversions, abandoned.
 */
export const F_CALLS = 0;
export const F_OUTCOME0 = 1;
export const F_SHORT = 9;
export const F_TALK = 10;
export const F_ATT0 = 11;
export const F_HUMAN = 15;
export const F_CONVERSION = 16;
export const F_ABANDONED = 17;
export const FIELDS = 18;

export const ATTESTATION_INDEX: Record<Attestation, number> = { A: 0, B: 1, C: 2, none: 3 };
export const OUTCOME_INDEX = Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as Record<Outcome, number>;

/** Column names used by the SQLite buckets table, in vector order. */
export const VECTOR_COLUMNS = [
  'calls',
  ...OUTCOMES,
  'short_calls',
  'talk_sec',
  'att_a',
  'att_b',
  'att_c',
  'att_none',
  'human',
  'conversions',
  'abandoned',
] as const;

export type Vector = Float64Array;

export function emptyVector(): Vector {
  return new Float64Array(FIELDS);
}

export interface TallyOptions {
  /** Answered calls with talk below this many seconds are short (docs/architecture.md#kpis: 10). */
  shortCallSeconds: number;
}

export const DEFAULT_TALLY: TallyOptions = { shortCallSeconds: 10 };

export function addRecord(v: Vector, r: Pick<CallRecord, 'outcome' | 'talkSec' | 'attestation' | 'disposition'>, opts = DEFAULT_TALLY): void {
  addRecordAt(v, 0, r, opts);
}

/** addRecord into the vector at v[o…o + FIELDS) (a row of a slab). */
export function addRecordAt(v: Float64Array, o: number, r: Pick<CallRecord, 'outcome' | 'talkSec' | 'attestation' | 'disposition'>, opts = DEFAULT_TALLY): void {
  v[o + F_CALLS] += 1;
  v[o + F_OUTCOME0 + OUTCOME_INDEX[r.outcome]] += 1;
  if (r.outcome === 'answered') {
    v[o + F_TALK] += r.talkSec;
    if (r.talkSec < opts.shortCallSeconds) v[o + F_SHORT] += 1;
  }
  v[o + F_ATT0 + ATTESTATION_INDEX[r.attestation]] += 1;
  if (r.disposition !== undefined) addDisposition(v, o, DISPOSITION_CODE[r.disposition]);
}

/** A disposition as two bits (the call log's code, bits 6–7): 0 none. */
export const DISPOSITION_CODE: Record<Disposition, number> = { connected_human: 1, conversion: 2, abandoned: 3 };

/** Count a disposition code into v[o…]: a conversion is a person reached too. */
export function addDisposition(v: Float64Array, o: number, code: number): void {
  if (code === 0) return;
  if (code === 3) v[o + F_ABANDONED] += 1;
  else {
    v[o + F_HUMAN] += 1;
    if (code === 2) v[o + F_CONVERSION] += 1;
  }
}

/** The dialer's dispositions in a vector (docs/metrics.md#business-outcome); null when it held none. */
export interface DispositionFigures {
  connected_human: number;
  conversions: number;
  abandoned: number;
  /** conversions / connected_human (null over none). */
  conversion_ratio: number | null;
  /** abandoned / (connected_human + abandoned): the share the 3 % rule limits (null over none). */
  abandoned_ratio: number | null;
}

/** Dispositions per window (24h, 7d), or undefined when the vectors hold none (the records carried no dialer result). */
export type DispositionWindows = Partial<Record<'24h' | '7d', DispositionFigures>>;

export function dispositionWindows(w: Partial<Record<string, ArrayLike<number>>>): DispositionWindows | undefined {
  const out: DispositionWindows = {};
  let any = false;
  for (const name of ['24h', '7d'] as const) {
    const v = w[name];
    const d = v ? dispositionsOf(v) : null;
    if (d) {
      out[name] = d;
      any = true;
    }
  }
  return any ? out : undefined;
}

export function dispositionsOf(v: ArrayLike<number>): DispositionFigures | null {
  const human = v[F_HUMAN];
  const conv = v[F_CONVERSION];
  const ab = v[F_ABANDONED];
  if (human + ab === 0) return null;
  return {
    connected_human: human,
    conversions: conv,
    abandoned: ab,
    conversion_ratio: human > 0 ? conv / human : null,
    abandoned_ratio: ab / (human + ab),
  };
}

export function addInto(target: Vector, source: ArrayLike<number>, sign = 1): void {
  for (let i = 0; i < FIELDS; i++) target[i] += sign * source[i];
}

/** target += source[offset…offset + FIELDS): a row of a packed array of vectors. */
export function addAt(target: Vector, source: Float64Array, offset: number): void {
  for (let i = 0; i < FIELDS; i++) target[i] += source[offset + i];
}

export function outcomeCount(v: Vector, o: Outcome): number {
  return v[F_OUTCOME0 + OUTCOME_INDEX[o]];
}

function ratio(n: number, d: number): number | null {
  return d > 0 ? n / d : null;
}

/** docs/architecture.md#kpis. Ratios over zero calls (or zero answered, for talk figures) are null. */
export function kpisOf(v: Vector): Kpis {
  // Hot (every number × window × carrier on every scrape): plain reads and one object literal.
  const calls = v[F_CALLS];
  const answered = v[I_ANSWERED];
  return {
    calls,
    answered,
    answer_ratio: ratio(answered, calls),
    cancel_ratio: ratio(v[I_CANCELLED], calls),
    rejection_ratio: ratio(v[I_REJECTED] + v[I_BUSY], calls),
    block_ratio: ratio(v[I_BLOCKED], calls),
    voicemail_ratio: ratio(v[I_VOICEMAIL], calls),
    short_call_ratio: ratio(v[F_SHORT], answered),
    avg_talk_seconds: ratio(v[F_TALK], answered),
    outcomes: {
      answered: v[I_ANSWERED],
      voicemail: v[I_VOICEMAIL],
      cancelled: v[I_CANCELLED],
      no_answer: v[I_NO_ANSWER],
      busy: v[I_BUSY],
      rejected: v[I_REJECTED],
      blocked: v[I_BLOCKED],
      failed: v[I_FAILED],
    },
  };
}

const I_ANSWERED = F_OUTCOME0 + OUTCOME_INDEX.answered;
const I_VOICEMAIL = F_OUTCOME0 + OUTCOME_INDEX.voicemail;
const I_CANCELLED = F_OUTCOME0 + OUTCOME_INDEX.cancelled;
const I_NO_ANSWER = F_OUTCOME0 + OUTCOME_INDEX.no_answer;
const I_BUSY = F_OUTCOME0 + OUTCOME_INDEX.busy;
const I_REJECTED = F_OUTCOME0 + OUTCOME_INDEX.rejected;
const I_BLOCKED = F_OUTCOME0 + OUTCOME_INDEX.blocked;
const I_FAILED = F_OUTCOME0 + OUTCOME_INDEX.failed;

export function attestationOf(v: Vector): Record<Attestation, number> {
  return { A: v[F_ATT0], B: v[F_ATT0 + 1], C: v[F_ATT0 + 2], none: v[F_ATT0 + 3] };
}

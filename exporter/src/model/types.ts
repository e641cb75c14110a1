// The shared vocabulary of the exporter (docs/architecture.md: a call and its outcome, KPIs). Readers produce CallRecords;
// windows turn them into Kpis; reputation turns Kpis into scores and actions.

export const OUTCOMES = [
  'answered',
  'voicemail',
  'cancelled',
  'no_answer',
  'busy',
  'rejected',
  'blocked',
  'failed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ATTESTATIONS = ['A', 'B', 'C', 'none'] as const;

/** What the dialer says became of the call, where its records say (model/disposition.ts). */
export const DISPOSITIONS = ['connected_human', 'conversion', 'abandoned'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];
export type Attestation = (typeof ATTESTATIONS)[number];

export interface CallRecord {
  /** Call start, UTC epoch milliseconds (event time). */
  ts: number;
  /** Our number, E.164. */
  caller: string;
  /** The consumer, E.164. Used for carrier lookup and distinct counts only; never exported. */
  called: string;
  /** Terminating carrier, lower-case id, or 'unknown'. */
  carrier: string;
  outcome: Outcome;
  sipCode?: number;
  q850?: string;
  ringMs?: number;
  /** Talk (billed) seconds; 0 when not answered. */
  talkSec: number;
  attestation: Attestation;
  /** Format id of the reader that produced it, e.g. 'asterisk'. */
  source: string;
  /** Blocking engine / redress host when a block names one (bounded label values). */
  blockEngine?: string;
  /** The dialer's disposition, when the record carries one that maps (conversion implies a person reached). */
  disposition?: Disposition;
}

/** What a row says about its own direction (a direction column, FreeSWITCH call_direction, a SIP log's sent INVITEs). */
export type Direction = 'inbound' | 'outbound' | 'internal';

/**
 * A row as a reader sees it, before classification (classify/) and carrier resolution: one leg,
 * one CDR row or one SIP dialog. `caller` and `called` are E.164 when the field held a number,
 * '' when it did not; the field as written is then kept in `callerText` / `calledText` (an
 * extension, `s`, `anonymous`, …) for the classification rules and the caller map, and never
 * leaves the process.
 */
export interface RawCall extends Omit<CallRecord, 'carrier'> {
  carrier?: string;
  /** Gateway / host / domain / channel the call left on, matched against the trunk map. */
  trunk?: string;
  /** The channel / gateway the call came in on (Asterisk `channel`), for the trunk-map inbound rule. */
  inTrunk?: string;
  /** The channel the call was bridged to (Asterisk `dstchannel`), for the channel rules (a phone there: it came in). */
  outChannel?: string;
  /** Caller or called field as written, when it is not a number (set only then). */
  callerText?: string;
  calledText?: string;
  /** How the reader names the caller and called fields, for error details ("Column src (caller)"). */
  fields?: { caller: string; called: string };
  /** The direction the row states itself. */
  direction?: Direction;
  /** Dialplan context (Asterisk dcontext, FreeSWITCH context): switch conventions name inbound contexts. */
  context?: string;
  /**
   * Ids shared by the rows of one attempt (Asterisk linkedid / uniqueid / a Local channel's base, FreeSWITCH
   * uuid and bleg_uuid, a SIP Call-ID, a generic call_id), each as the fast hash of its kind and text
   * (classify/callKeys.ts pushKey): flat pairs of 32-bit halves. No id text is kept per row.
   */
  keys?: number[];
}

export type OutcomeCounts = Record<Outcome, number>;

/** The KPIs of docs/architecture.md#kpis (the JSON's KPIS). Ratios over zero calls are null, never 0. */
export interface Kpis {
  calls: number;
  answered: number;
  answer_ratio: number | null;
  cancel_ratio: number | null;
  rejection_ratio: number | null;
  block_ratio: number | null;
  voicemail_ratio: number | null;
  short_call_ratio: number | null;
  avg_talk_seconds: number | null;
  outcomes: OutcomeCounts;
}

/** Additive counters for one number × carrier × hour (or any aggregate of them). */
export interface Tally {
  calls: number;
  outcomes: OutcomeCounts;
  /** Answered calls with talk < short-call threshold (10 s). */
  shortCalls: number;
  /** Sum of talk seconds over answered calls. */
  talkSec: number;
  attestation: Record<Attestation, number>;
}

/** 48h and 72h feed the early-warning evidence only (reputation/evidence.ts); /metrics and the JSON show 1h, 24h, 7d. */
export type WindowName = '1h' | '24h' | '48h' | '72h' | '7d';
export const WINDOWS: Record<WindowName, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '48h': 2 * 86_400_000,
  '72h': 3 * 86_400_000,
  '7d': 7 * 86_400_000,
};

// Helpers shared by the format readers.

import type { LineResult, ReaderOptions, Rejection } from '../reader.js';
import type { Attestation, Outcome, RawCall } from '../../model/types.js';
import { connected } from '../../model/outcome.js';
import { PhoneNormalizer, isPlainE164Bytes, numberPlan, plainNanpE164 } from '../../model/phone.js';
import { BytesMemo, ascii } from '../bytes.js';
import { WallClock } from './time.js';

/**
 * The bounded set of rejection reasons (a metric label). Details are human sentences that
 * name the column and never contain the called number.
 */
export const REJECT_REASONS = [
  'wrong_column_count',
  'unterminated_quote',
  'bad_timestamp',
  'invalid_number',
  'unknown_disposition',
  'missing_field',
  'bad_value',
  'no_header',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export function reject(reason: RejectReason, detail: string): LineResult {
  return { kind: 'reject', rejection: { reason, detail } satisfies Rejection };
}

export const SKIP: LineResult = { kind: 'skip' };

export function one(r: RawCall): LineResult {
  return { kind: 'records', records: [r] };
}

export const DEFAULT_READER_OPTIONS: ReaderOptions = {
  defaultCountryCode: '1',
  timezone: 'UTC',
};

export function withDefaults(o?: Partial<ReaderOptions>): ReaderOptions {
  return { ...DEFAULT_READER_OPTIONS, ...(o ?? {}) } as ReaderOptions;
}

/** Per-reader context: phone normalisers (caller cached), wall clock. */
export class ReaderKit {
  readonly callers: PhoneNormalizer;
  readonly called: PhoneNormalizer;
  readonly clock: WallClock;
  /** National numbers are NANP ones (calling code 1): 10 digits, or 1 + 10, read from bytes without the normaliser. */
  readonly nanp: boolean;
  constructor(readonly options: ReaderOptions) {
    const plan = numberPlan(options.defaultCountryCode, options.defaultRegion);
    this.nanp = plan.callingCode === '1';
    // A dialer presents thousands of DIDs (in two or three written shapes each): a memo that holds them all.
    this.callers = new PhoneNormalizer(plan, CALLER_MEMO_ENTRIES);
    // Dialers call the same consumers again; the NANP shapes skip the memo (phone.ts).
    this.called = new PhoneNormalizer(plan, 65_536);
    this.clock = new WallClock(options.timezone || 'UTC');
  }

  /**
   * A caller or called field into the row: E.164 when it is a number, else '' with the text kept for the
   * classification stage (an extension, `s`, anonymous, or something that is no number at all).
   */
  caller(rec: { caller: string; callerText?: string }, text: string): void {
    const plain = plainNanpE164(text, this.nanp);
    if (plain !== null) {
      rec.caller = plain;
      return;
    }
    const r = this.callers.normalize(text);
    if (r.ok) rec.caller = r.e164;
    else {
      rec.caller = '';
      rec.callerText = text;
    }
  }

  calledInto(rec: { called: string; calledText?: string }, text: string): void {
    const plain = plainNanpE164(text, this.nanp);
    if (plain !== null) {
      rec.called = plain;
      return;
    }
    const r = this.called.normalize(text);
    if (r.ok) rec.called = r.e164;
    else {
      rec.called = '';
      rec.calledText = text;
    }
  }
}

/** A caller number read from bytes through the reader's memo: its E.164, or null when the string path must judge it. */
export function callerFromBytes(kit: ReaderKit, memo: BytesMemo<string | null>, buf: Buffer, s: number, e: number): string | null {
  let caller = memo.get(buf, s, e);
  if (caller === undefined) {
    const r = kit.callers.normalize(ascii(buf, s, e));
    caller = r.ok ? r.e164 : null;
    memo.set(buf, s, e, caller);
  }
  return caller;
}

/**
 * Distinct callers a reader's byte memo holds before it starts again: a dialer presents thousands of DIDs, in
 * two or three written shapes each, interleaved (a smaller memo is cleared over and over and every caller is
 * normalised again). ~2 MB a reader.
 */
export const CALLER_MEMO_ENTRIES = 65_536;

/** The byte memo of a reader's callers (bytes → E.164, or null when the string path must judge them). */
export function callerMemo(): BytesMemo<string | null> {
  return new BytesMemo<string | null>(CALLER_MEMO_ENTRIES, CALLER_MEMO_ENTRIES * 16);
}

/**
 * A called number read from bytes: its E.164 (a plain +E.164 is taken as it is), or null when it is not valid.
 * In the NANP plan a national number (10 digits, or 1 + 10) is read as normalizePhone reads it (area code and
 * exchange 2–9) without the normaliser and its memo: dialled numbers rarely repeat within a memo's reach.
 */
export function calledFromBytes(kit: ReaderKit, buf: Buffer, s: number, e: number): string | null {
  if (isPlainE164Bytes(buf, s, e)) return ascii(buf, s, e);
  if (kit.nanp) {
    const n = nanpNationalStart(buf, s, e);
    if (n >= 0) return '+1' + ascii(buf, n, e);
  }
  const r = kit.called.normalize(ascii(buf, s, e));
  return r.ok ? r.e164 : null;
}

/** Where the 10 national digits of buf[s, e) start when it is a valid NANP number written `NXXNXXXXXX` or `1NXXNXXXXXX`, else -1. */
export function nanpNationalStart(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len !== 10 && len !== 11) return -1;
  for (let i = s; i < e; i++) if (buf[i] < 48 || buf[i] > 57) return -1;
  const n = len === 11 ? s + 1 : s;
  if (len === 11 && buf[s] !== 49) return -1;
  return buf[n] >= 50 && buf[n + 3] >= 50 ? n : -1;
}

/** A CDR's call record: billed seconds are talk time only when the call was picked up. */
export function callRecord(ts: number, caller: string, called: string, outcome: Outcome, billsec: number, attestation: Attestation, source: string): RawCall {
  return { ts, caller, called, outcome, talkSec: connected(outcome) ? billsec : 0, attestation, source };
}

/** Non-negative integer seconds, or null. Accepts "82", "82.0", " 82 ". */
export function parseSeconds(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const v = Number(t);
  if (!Number.isFinite(v) || v < 0) return null;
  return Math.round(v);
}

/** A STIR/SHAKEN attestation level from a field value: A/B/C (any case, "attest=A" ok), else 'none'. */
export function parseAttestation(v: string | undefined): Attestation {
  if (!v) return 'none';
  const t = v.trim().toUpperCase();
  if (t === 'A' || t === 'B' || t === 'C') return t;
  const m = /ATTEST\w*[=:"\s]+([ABC])\b/.exec(t);
  return m ? (m[1] as Attestation) : 'none';
}

/** Strip an optional ${…} wrapper from a template variable name. */
export function varName(v: string): string {
  const t = v.trim();
  const m = /^\$\{([^}]+)\}$/.exec(t);
  return m ? m[1].trim() : t;
}

/** An integer SIP status code 100–699 from text, or undefined. */
export function parseSipCode(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (!/^[1-6][0-9]{2}$/.test(t)) return undefined;
  return +t;
}

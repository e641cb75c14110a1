// Outcome mapping, exactly docs/architecture.md#outcomes:
//
// | outcome   | SIP                                   | FreeSWITCH hangup_cause                  | Asterisk disposition |
// | answered  | 200 (talk >= 0)                       | NORMAL_CLEARING with billsec > 0          | ANSWERED             |
// | voicemail | 200 + machine detected (AMD field)    | AMD vars                                  | AMD vars             |
// | cancelled | 487                                   | ORIGINATOR_CANCEL                         | —                    |
// | no_answer | 480, 408                              | NO_ANSWER, NO_USER_RESPONSE               | NO ANSWER            |
// | busy      | 486, 600                              | USER_BUSY                                 | BUSY                 |
// | rejected  | 603 (plain), 607, 403                 | CALL_REJECTED                             | —                    |
// | blocked   | 608, 603 "Network Blocked" / Reason text v=analytics… (603+) | —                  | —                    |
// | failed    | 404, 5xx, other                       | UNALLOCATED_NUMBER, NORMAL_TEMPORARY_FAILURE, … | FAILED, CONGESTION |

import type { Outcome } from './types.js';

export interface SipDetail {
  /** Reason phrase of the final response, e.g. "Network Blocked". */
  reasonPhrase?: string;
  /** Text of a Reason header (or its text= parameter), e.g. `v=analytics1;url=https://…`. */
  reasonText?: string;
  /** Value of an answering-machine-detection field (any AMD variable). */
  amd?: string;
}

export interface OutcomeResult {
  outcome: Outcome;
  /** Engine / redress host named by a block (603+ url=, 608 Call-Info), lower-case. */
  blockEngine?: string;
}

const MACHINE_VALUES = new Set(['machine', 'voicemail', 'vm', 'answering_machine', 'am', 'fax', 'true', 'yes', '1', 'detected', 'beep']);

/**
 * Does an AMD value say "machine"? Accepts Asterisk AMD() `AMDSTATUS` (MACHINE), mod_amd
 * `amd_result` (MACHINE), mod_avmd `avmd_detect` (TRUE), generic yes/true/1/voicemail, and a
 * `AMDSTATUS=MACHINE` style token anywhere in a free-text field such as an Asterisk userfield.
 * HUMAN, NOTSURE, HANGUP, false, empty: not a machine.
 */
export function isMachine(amd: string | undefined): boolean {
  if (!amd) return false;
  const v = amd.trim().toLowerCase();
  if (v === '') return false;
  if (MACHINE_VALUES.has(v)) return true;
  // Free text, e.g. userfield "AMDSTATUS=MACHINE;AMDCAUSE=LONGGREETING-1500-1500".
  // Twilio answered_by: machine_start, machine_end_beep, machine_end_silence, machine_end_other.
  return /(^|[^a-z])amd[a-z_]*=(machine|voicemail|fax)\b/.test(v) || /^machine(\b|_)/.test(v);
}

/** Pull an engine/redress host from a 603+ Reason text or a Call-Info URI. */
export function blockEngineFrom(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /url=\s*"?(?:[a-z][a-z0-9+.-]*:\/\/)?([a-z0-9.-]+)/i.exec(text) ?? /<?(?:https?|sip):\/\/?([a-z0-9.-]+)/i.exec(text);
  return m ? m[1].toLowerCase() : undefined;
}

function isNetworkBlock(d: SipDetail | undefined): boolean {
  if (!d) return false;
  if (d.reasonPhrase && /network\s*blocked/i.test(d.reasonPhrase)) return true;
  if (d.reasonText && /(^|[";\s])v=analytics/i.test(d.reasonText)) return true;
  if (d.reasonText && /network\s*blocked/i.test(d.reasonText)) return true;
  return false;
}

/** Outcome of a call from its final SIP response code. */
export function outcomeFromSip(code: number, detail?: SipDetail): OutcomeResult {
  switch (code) {
    case 200:
      return { outcome: isMachine(detail?.amd) ? 'voicemail' : 'answered' };
    case 487:
      return { outcome: 'cancelled' };
    case 480:
    case 408:
      return { outcome: 'no_answer' };
    case 486:
    case 600:
      return { outcome: 'busy' };
    case 603:
      if (isNetworkBlock(detail)) return { outcome: 'blocked', blockEngine: blockEngineFrom(detail?.reasonText) };
      return { outcome: 'rejected' };
    case 607:
    case 403:
      return { outcome: 'rejected' };
    case 608:
      return { outcome: 'blocked', blockEngine: blockEngineFrom(detail?.reasonText) };
    default:
      return { outcome: 'failed' };
  }
}

export interface FreeswitchDetail {
  billsec: number;
  /** answer_stamp / answer_epoch present. */
  answered?: boolean;
  /** ${sip_term_status}: the final SIP code of the leg, when the template has it. */
  sipTermStatus?: number;
  /** ${sip_hangup_disposition}: send_cancel, recv_cancel, send_bye, recv_bye, send_refuse, recv_refuse. */
  sipHangupDisposition?: string;
  /** Reason phrase / Reason header text when the template has one (603+). */
  reasonPhrase?: string;
  reasonText?: string;
  amd?: string;
}

const Q850_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Outcome of a FreeSWITCH leg. Order: a final `sip_term_status` (the SIP code, the most
 * precise signal) → `sip_hangup_disposition=send_cancel` (we cancelled: the 487 case) →
 * hangup_cause. NORMAL_CLEARING is answered when billsec > 0 or the leg was answered
 * (talk 0 allowed, like SIP 200), otherwise failed; a cause outside the table with
 * billsec > 0 is answered too (billsec only runs after answer). Returns null for an empty or
 * malformed cause (the caller rejects with `unknown_disposition`).
 */
export function outcomeFromHangupCause(cause: string, d: FreeswitchDetail): OutcomeResult | null {
  const sip = d.sipTermStatus;
  if (sip !== undefined && sip >= 200 && sip <= 699) {
    return outcomeFromSip(sip, { reasonPhrase: d.reasonPhrase, reasonText: d.reasonText, amd: d.amd });
  }
  const disp = d.sipHangupDisposition?.toLowerCase();
  if (disp === 'send_cancel') return { outcome: 'cancelled' };
  const c = cause.trim().toUpperCase();
  switch (c) {
    case 'NORMAL_CLEARING':
      if (d.billsec > 0 || d.answered) return { outcome: isMachine(d.amd) ? 'voicemail' : 'answered' };
      return { outcome: 'failed' };
    case 'ORIGINATOR_CANCEL':
      return { outcome: 'cancelled' };
    case 'NO_ANSWER':
    case 'NO_USER_RESPONSE':
      return { outcome: 'no_answer' };
    case 'USER_BUSY':
      return { outcome: 'busy' };
    case 'CALL_REJECTED':
      return { outcome: 'rejected' };
    case 'UNALLOCATED_NUMBER':
    case 'NORMAL_TEMPORARY_FAILURE':
      return { outcome: 'failed' };
    default:
      if (!Q850_NAME.test(c)) return null;
      // billsec only runs after answer: a call with billsec > 0 that ended some other way
      // (ALLOTTED_TIMEOUT, MEDIA_TIMEOUT, MANAGER_REQUEST, a transfer…) was answered.
      if (d.billsec > 0) return { outcome: isMachine(d.amd) ? 'voicemail' : 'answered' };
      return { outcome: 'failed' };
  }
}

/** Picked up, by a person or a machine: the outcomes whose billed seconds are talk time. */
export function connected(outcome: Outcome): boolean {
  return outcome === 'answered' || outcome === 'voicemail';
}

/** Asterisk cdr disposition (+ AMD). Returns null for a value Asterisk does not write. */
export function outcomeFromAsterisk(disposition: string, amd?: string): OutcomeResult | null {
  switch (disposition.trim().toUpperCase()) {
    case 'ANSWERED':
      return { outcome: isMachine(amd) ? 'voicemail' : 'answered' };
    case 'NO ANSWER':
    case 'NOANSWER':
      return { outcome: 'no_answer' };
    case 'BUSY':
      return { outcome: 'busy' };
    case 'FAILED':
    case 'CONGESTION':
      return { outcome: 'failed' };
    default:
      return null;
  }
}

const OUTCOME_NAMES = new Set<string>(['answered', 'voicemail', 'cancelled', 'no_answer', 'busy', 'rejected', 'blocked', 'failed']);

/** Final call states of CPaaS exports (Twilio, Vonage, Plivo) and other spellings, as outcomes. */
const DISPOSITION_ALIASES: Record<string, string> = {
  canceled: 'cancelled',
  noanswer: 'no_answer',
  completed: 'answered',
  timeout: 'no_answer',
  unanswered: 'no_answer',
  machine: 'voicemail',
  declined: 'rejected',
};

/**
 * A free-form disposition (generic CSV): an outcome name (answered, no_answer, …; also
 * `canceled`, `no answer`), an Asterisk disposition, or a FreeSWITCH hangup cause.
 */
export function outcomeFromDisposition(value: string, billsec: number, amd?: string): OutcomeResult | null {
  const v = value.trim();
  const lower = v.toLowerCase().replace(/[\s-]+/g, '_');
  const norm = DISPOSITION_ALIASES[lower] ?? lower;
  if (OUTCOME_NAMES.has(norm)) {
    if (norm === 'answered' && isMachine(amd)) return { outcome: 'voicemail' };
    return { outcome: norm as Outcome };
  }
  const ast = outcomeFromAsterisk(v, amd);
  if (ast) return ast;
  // A Q.850 cause name: upper case as switches write it, or any case with an underscore (Telnyx writes
  // normal_clearing). A lower-case word without one (Twilio's ringing, queued) is no final outcome.
  if (/^[A-Z][A-Z0-9_]*$/.test(v) || /^[a-z][a-z0-9]*_[a-z0-9_]+$/i.test(v)) return outcomeFromHangupCause(v.toUpperCase(), { billsec, amd });
  return null;
}

// The dialer's disposition (the business outcome of a call, docs/metrics.md#business-outcome): what an agent or
// the dialer wrote down after the call — a sale, a promise to pay, not interested, dropped before an agent took
// it — mapped to the three categories numrep counts. Values that say nothing about a person reached (answering
// machine, no answer, busy) map to none: those calls are simply not counted here.

import { DISPOSITIONS, type Disposition } from './types.js';

/** The abandoned share of a campaign's live answers the FTC's Telemarketing Sales Rule allows (16 CFR 310.4(b)(4)). */
export const DEFAULT_ABANDONED_LIMIT = 0.03;

/** Built-in values, compared case-insensitively with spaces, '-' and '.' read as '_'. */
export const DISPOSITION_VALUES: Record<Disposition, readonly string[]> = {
  conversion: ['conversion', 'converted', 'sale', 'sold', 'success', 'won', 'payment', 'paid', 'promise_to_pay', 'ptp', 'appointment', 'appointment_set', 'appt', 'booked', 'lead', 'qualified'],
  connected_human: [
    'connected_human', 'human', 'connected', 'contact', 'contacted', 'live', 'live_person', 'agent', 'talked', 'callback', 'call_back', 'cb',
    'not_interested', 'ni', 'dnc', 'do_not_call', 'refused', 'declined', 'wrong_number', 'wn', 'hung_up', 'no_sale', 'ns',
  ],
  abandoned: ['abandoned', 'abandon', 'aband', 'drop', 'dropped', 'dropped_call', 'ab', 'safe_harbor', 'safe_harbour'],
};

/** Bare words a dialplan's AMD writes into the userfield (AMDSTATUS): machine detection, not a dialer's result. */
const AMD_WORDS = new Set(['human', 'machine', 'notsure', 'hangup']);

/** Keys of a userfield or variable that hold a disposition (`RESULT=SALE`, `dispo:NI`). */
const DISPOSITION_KEYS = new Set(['result', 'dialer_result', 'call_result', 'dispo', 'disposition', 'dialer_disposition', 'lead_status', 'outcome']);

export type DispositionMap = Map<string, Disposition>;

function valueKey(v: string): string {
  return v.trim().toLowerCase().replace(/[\s.\-]+/g, '_');
}

/**
 * The value → category map: the built-in values, then config `dispositions` (category → extra values), which win
 * over a built-in one with the same spelling.
 */
export function dispositionMap(extra?: Partial<Record<Disposition, string[]>>): DispositionMap {
  const m: DispositionMap = new Map();
  for (const [d, values] of Object.entries(DISPOSITION_VALUES) as [Disposition, readonly string[]][]) for (const v of values) m.set(v, d);
  for (const d of DISPOSITIONS) for (const v of extra?.[d] ?? []) m.set(valueKey(v), d);
  return m;
}

export const DEFAULT_DISPOSITIONS = dispositionMap();

/** A disposition column's value (generic `result`): its category, or undefined when it maps to none. */
export function dispositionOf(text: string | undefined, map: DispositionMap = DEFAULT_DISPOSITIONS): Disposition | undefined {
  if (text === undefined || text === '') return undefined;
  return map.get(valueKey(text));
}

/**
 * A free-text field (an Asterisk userfield, a FreeSWITCH variable): a `RESULT=SALE` / `dispo:NI` pair among
 * others separated by `;`, `,`, `|` or `&`, or the whole field as a bare value — except the AMD words (HUMAN,
 * MACHINE, NOTSURE, HANGUP), which a dialplan writes there for machine detection. Other pairs (AMDSTATUS=…) are
 * left alone.
 */
export function dispositionInText(text: string | undefined, map: DispositionMap = DEFAULT_DISPOSITIONS): Disposition | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '') return undefined;
  if (!/[=:]/.test(t)) return AMD_WORDS.has(t.toLowerCase()) ? undefined : dispositionOf(t, map);
  for (const part of t.split(/[;,|&]+/)) {
    const i = part.search(/[=:]/);
    if (i <= 0) continue;
    if (DISPOSITION_KEYS.has(part.slice(0, i).trim().toLowerCase())) return dispositionOf(part.slice(i + 1), map);
  }
  return undefined;
}

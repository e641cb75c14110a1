// Phone numbers to E.164, and what a CDR party field holds when it is not a number.
//
// Numbers are parsed by libphonenumber-js (the maintained port of Google's libphonenumber,
// "min" metadata): national numbers of any country by the default calling code or region
// (`788888484` with 998 → +998788888484), national trunk prefixes (0, Russia's 8),
// international prefixes (00, 011, 810), punctuation, and the decorations CDRs and SIP
// wrap numbers in:
//   +12025550101 · (202) 555-0101 · 011 44 20 7946 0018 · 8 912 345-67-89 (RU)
//   sip:+12025550101@host;user=phone · tel:+1-202-555-0101;ext=1 · "Acme" <sip:+12025550101@host>
// A number is accepted when its length is possible in its country (libphonenumber's
// isPossible), not only when it lies in a range known to be assigned today: a DID from a
// newly opened range must never be lost. NANP numbers (+1) must also have an area code and
// an exchange starting 2–9, the plan's own rule.
//
// A field that is not a number is one of (never an error for the CDR by itself — the
// classification stage decides what the row is):
//   extension   1–6 digits, or a feature code (*97, #21): an internal phone or short code
//   service     a dialplan extension or user name: s, h, i, t, hangup, voicemail, alice
//   anonymous   empty, anonymous, restricted, private, unknown, unavailable, withheld
//   invalid     anything else (too long, letters among digits, an impossible number)
// `why` says what was wrong without echoing the digits.

import { parsePhoneNumberFromString, getCountryCallingCode, isSupportedCountry, type CountryCode } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';

export type PartyKind = 'number' | 'extension' | 'service' | 'anonymous' | 'invalid';
export type NotANumber = Exclude<PartyKind, 'number'>;
export type PhoneResult = { ok: true; e164: string } | { ok: false; kind: NotANumber; why: string };

/** How national numbers are read: a country calling code (digits) and, optionally, the ISO 3166 region it came from. */
export interface NumberPlan {
  callingCode: string;
  region?: string;
}

const CALLING_CODES = (metadata as unknown as { country_calling_codes: Record<string, string[]> }).country_calling_codes;

/** The region national numbers are read in: the given one, else the main region of the calling code (1 → US, 44 → GB). */
function regionOf(p: NumberPlan): CountryCode | undefined {
  return (p.region ?? CALLING_CODES[p.callingCode]?.[0]) as CountryCode | undefined;
}

/**
 * The plan for a default calling code and/or region. Throws with a message naming the setting
 * when the code is not a country calling code, the region is unknown, or the two disagree.
 */
export function numberPlan(callingCode?: string, region?: string): NumberPlan {
  let cc = callingCode?.trim().replace(/^\+/, '');
  if (region !== undefined && region.trim() !== '') {
    const r = region.trim().toUpperCase();
    if (!isSupportedCountry(r as CountryCode, metadata)) throw new Error(`default_region "${region}" is not an ISO 3166 region code libphonenumber knows (e.g. US, GB, UZ)`);
    const rc = getCountryCallingCode(r as CountryCode, metadata);
    if (cc !== undefined && cc !== '' && cc !== rc) throw new Error(`default_region ${r} has calling code ${rc}, not default_country_code ${cc}`);
    return { callingCode: rc, region: r };
  }
  if (cc === undefined || cc === '') cc = '1';
  if (!/^[1-9][0-9]{0,2}$/.test(cc) || !(cc in CALLING_CODES)) {
    throw new Error(`default_country_code "${callingCode}" is not a country calling code (1–3 digits, e.g. 1, 44, 998)`);
  }
  return { callingCode: cc };
}

const ANONYMOUS = new Set(['', 'anonymous', 'restricted', 'private', 'unknown', 'unavailable', 'withheld', 'blocked', 'unknown caller', 'no caller id', 'null', 'none', '<unknown>']);
const PUNCT = /[\s\-.()/]/g;

/** Normalise to E.164 or return null. */
export function toE164(input: string, plan: string | NumberPlan = '1'): string | null {
  const r = normalizePhone(input, plan);
  return r.ok ? r.e164 : null;
}

/** The user part of a party field: display name, scheme, host and parameters removed. */
export function partyText(input: string): string {
  let s = input.trim();
  const lt = s.lastIndexOf('<');
  if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    s = s.slice(lt + 1, gt < 0 ? s.length : gt).trim();
  }
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const scheme = s.slice(0, colon).toLowerCase();
    if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') s = s.slice(colon + 1);
  }
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  return s.trim();
}

/** Normalise to E.164; on failure `kind` says what the field holds and `why` what was wrong (without the number). */
export function normalizePhone(input: string, plan: string | NumberPlan = '1'): PhoneResult {
  const p = typeof plan === 'string' ? { callingCode: plan.replace(/^\+/, '') } : plan;
  if (isPlainE164(input)) return checkDigits(input.slice(1), true, p);
  // Digits alone, too long for an extension (the bulk of national numbers): nothing below would change them.
  if (input.length > 6 && isDigits(input)) return checkDigits(input, false, p);
  const s = partyText(input);
  const lower = s.toLowerCase();
  if (ANONYMOUS.has(lower)) return { ok: false, kind: 'anonymous', why: 'is withheld or empty (no caller ID)' };
  if (/^[*#][0-9*#]{1,12}$/.test(s) || /^[0-9]{1,6}#?$/.test(s)) return { ok: false, kind: 'extension', why: 'is an extension or short code, not an E.164 number' };
  // A dialplan name or user (s, h, voicemail, alice), or a FreeSWITCH originate to an application (`&park()`).
  if (/^[a-z][a-z0-9_.+-]{0,39}$/i.test(s) || s.startsWith('&')) return { ok: false, kind: 'service', why: 'is a dialplan extension or user name, not a phone number' };

  const compact = s.replace(PUNCT, '');
  const plus = compact.startsWith('+');
  const digits = plus ? compact.slice(1) : compact;
  if (digits === '' || !/^[0-9]+$/.test(digits)) return { ok: false, kind: 'invalid', why: 'is not a phone number (contains letters or symbols)' };
  return checkDigits(digits, plus, p);
}

/** Digits (after '+' when international) to a checked E.164. */
function checkDigits(digits: string, international: boolean, p: NumberPlan): PhoneResult {
  if (digits.length > 17) return { ok: false, kind: 'invalid', why: 'has more than 15 digits' };
  // The NANP shapes, the bulk of the traffic, without libphonenumber (agreement pinned by test/readers/phone.test.ts).
  if (international) {
    if (digits.charCodeAt(0) === 49 /* 1 */) return nanp(digits.slice(1));
  } else if (p.callingCode === '1') {
    if (digits.length === 10) return nanp(digits);
    if (digits.length === 11 && digits.charCodeAt(0) === 49) return nanp(digits.slice(1));
  }
  const region = regionOf(p);
  const n = international
    ? parsePhoneNumberFromString('+' + digits, metadata)
    : region !== undefined
      ? parsePhoneNumberFromString(digits, region, metadata)
      : parsePhoneNumberFromString(digits, { defaultCallingCode: p.callingCode }, metadata);
  if ((n === undefined || !n.isPossible()) && !international && digits.startsWith('00') && digits.length > 4) {
    // `00` is the international prefix of most of the world, written even where the region's own is another (011 in the NANP).
    return checkDigits(digits.slice(2), true, p);
  }
  if (n === undefined || !n.isPossible()) {
    if (!international && digits.length < 7) return { ok: false, kind: 'extension', why: 'is an extension or short code, not an E.164 number' };
    return { ok: false, kind: 'invalid', why: international ? 'is not a possible number for its country code' : `is not a possible number in country code ${p.callingCode}` };
  }
  if (n.countryCallingCode === '1') return nanp(n.nationalNumber);
  const e164 = n.number;
  if (e164.length > 16) return { ok: false, kind: 'invalid', why: 'has more than 15 digits' };
  return { ok: true, e164 };
}

/** A NANP national number (10 digits, area code and exchange 2–9). */
function nanp(national: string): PhoneResult {
  if (national.length !== 10 || !/^[0-9]{10}$/.test(national)) return { ok: false, kind: 'invalid', why: 'is not a valid NANP number (needs 10 digits after +1)' };
  if (national.charCodeAt(0) < 50 || national.charCodeAt(3) < 50) {
    return { ok: false, kind: 'invalid', why: 'is not a valid NANP number (area code or exchange starts with 0 or 1)' };
  }
  return { ok: true, e164: '+1' + national };
}

/** Digits only. */
function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** '+' followed by digits only. */
function isPlainE164(s: string): boolean {
  if (s.length < 2 || s.charCodeAt(0) !== 43) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The E.164 normalizePhone gives a plain NANP number — `+1NXXNXXXXXX`, or with `nanpPlan` (calling code 1)
 * `NXXNXXXXXX` or `1NXXNXXXXXX` — without its memo; null for every other shape (those take normalizePhone). The
 * string readers' fast path: dialled numbers rarely repeat within a memo's reach, and each miss cost a lookup, an
 * insert and, every 65,536 of them, clearing the memo (~10 % of a Kamailio log's CPU).
 */
export function plainNanpE164(text: string, nanpPlan: boolean): string | null {
  const len = text.length;
  let n: number; // where the 10 national digits start
  if (len === 12 && text.charCodeAt(0) === 43 && text.charCodeAt(1) === 49) n = 2;
  else if (!nanpPlan) return null;
  else if (len === 10) n = 0;
  else if (len === 11 && text.charCodeAt(0) === 49) n = 1;
  else return null;
  for (let i = n; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  if (text.charCodeAt(n) < 50 || text.charCodeAt(n + 3) < 50) return null;
  return n === 2 ? text : n === 1 ? '+' + text : '+1' + text;
}

/**
 * True when buf[s, e) is a `+1` NANP number that normalizePhone returns as those very bytes (the
 * readers' byte fast path for called numbers; other shapes take the string path and its memo).
 */
export function isPlainE164Bytes(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s !== 12 || buf[s] !== 43 || buf[s + 1] !== 49) return false;
  for (let i = s + 2; i < e; i++) if (buf[i] < 48 || buf[i] > 57) return false;
  return buf[s + 2] >= 50 && buf[s + 5] >= 50;
}

/**
 * A memo for hot paths: CDR files repeat the same caller numbers on every line, and dialers
 * call the same consumers again. Bounded: cleared when it reaches `max` entries.
 */
export class PhoneNormalizer {
  private cache = new Map<string, PhoneResult>();
  readonly plan: NumberPlan;
  constructor(plan: string | NumberPlan = '1', private readonly max = 4096) {
    this.plan = typeof plan === 'string' ? { callingCode: plan.replace(/^\+/, '') } : plan;
  }
  /** The calling code national numbers get (kept for callers that only need the code). */
  get defaultCountryCode(): string {
    return this.plan.callingCode;
  }
  normalize(input: string): PhoneResult {
    if (this.max === 0) return normalizePhone(input, this.plan);
    let r = this.cache.get(input);
    if (r === undefined) {
      r = normalizePhone(input, this.plan);
      if (this.cache.size >= this.max) this.cache.clear();
      this.cache.set(input, r);
    }
    return r;
  }
}

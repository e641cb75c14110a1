// Phone numbers to E.164 (+ and 7–15 digits, first digit 1–9).
//
// Accepted input shapes (after trimming):
//   +12025550101            E.164 already
//   (202) 555-0101          national, punctuation stripped: ' ', '-', '.', '(', ')', '/'
//   2025550101              10-digit NANP (default country code 1)  -> +12025550101
//   12025550101             11-digit NANP with the leading 1          -> +12025550101
//   011 44 20 7946 0018     NANP international prefix 011             -> +442079460018
//   0044 20 7946 0018       international prefix 00                   -> +442079460018
//   sip:+12025550101@host;user=phone, sips:…, tel:+1-202-555-0101;ext=1
//   "Acme" <sip:+12025550101@host>  (a display name with the URI in <>)
//
// With a default country code other than 1: a leading single 0 is the national trunk
// prefix (0 20 7946 0018 with cc 44 -> +442079460018); digits without a 0 and 8+ long are
// taken as already carrying a country code (common in CDRs that drop the '+').
//
// Rejected (reason `invalid_number`): empty, anonymous/restricted/unknown or any letters,
// extensions and short codes (fewer than 7 digits, e.g. `8001`: an internal extension is
// not a number a carrier can score), NANP numbers whose area code or exchange starts with
// 0 or 1, and anything longer than 15 digits. Numbers with +1 must have exactly 11 digits.

export type PhoneResult = { ok: true; e164: string } | { ok: false; why: string };

const PUNCT = new Set([' ', '-', '.', '(', ')', '/', '\t']);

/** Normalise to E.164 or return null. */
export function toE164(input: string, defaultCountryCode = '1'): string | null {
  const r = normalizePhone(input, defaultCountryCode);
  return r.ok ? r.e164 : null;
}

/** Normalise to E.164; on failure `why` says what was wrong (without echoing the number). */
export function normalizePhone(input: string, defaultCountryCode = '1'): PhoneResult {
  if (isPlainE164(input)) return checkE164(input.slice(1));
  let s = input.trim();
  if (s === '') return { ok: false, why: 'is empty' };
  // Display name form: "Name" <uri>
  const lt = s.lastIndexOf('<');
  if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    s = s.slice(lt + 1, gt < 0 ? s.length : gt).trim();
  }
  // Scheme.
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const scheme = s.slice(0, colon).toLowerCase();
    if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') s = s.slice(colon + 1);
  }
  // Host and parameters.
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);

  let plus = false;
  let digits = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += ch;
    else if (ch === '+' && digits === '' && !plus) plus = true;
    else if (PUNCT.has(ch)) continue;
    else return { ok: false, why: 'is not a phone number (contains letters or symbols)' };
  }
  if (digits === '') return { ok: false, why: 'has no digits' };

  let e: string;
  const cc = defaultCountryCode;
  if (plus) e = digits;
  else if (digits.startsWith('011') && cc === '1') e = digits.slice(3);
  else if (digits.startsWith('00')) e = digits.slice(2);
  else if (cc === '1') {
    if (digits.length === 10) e = '1' + digits;
    else if (digits.length === 11 && digits[0] === '1') e = digits;
    else if (digits.length < 7) return { ok: false, why: 'is an extension or short code, not an E.164 number' };
    else return { ok: false, why: 'is not a 10-digit NANP number' };
  } else if (digits[0] === '0') e = cc + digits.slice(1);
  else if (digits.length >= 8) e = digits;
  else if (digits.length < 7) return { ok: false, why: 'is an extension or short code, not an E.164 number' };
  else e = cc + digits;

  return checkE164(e);
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

/** Validate E.164 digits (without '+'). */
function checkE164(e: string): PhoneResult {
  if (e.length < 7) return { ok: false, why: 'is an extension or short code, not an E.164 number' };
  if (e.length > 15) return { ok: false, why: 'has more than 15 digits' };
  if (e[0] === '0') return { ok: false, why: 'has no valid country code' };
  if (e[0] === '1') {
    if (e.length !== 11) return { ok: false, why: 'is not a valid NANP number (needs 10 digits after +1)' };
    const npa = e.charCodeAt(1);
    const nxx = e.charCodeAt(4);
    if (npa < 50 || nxx < 50) return { ok: false, why: 'is not a valid NANP number (area code or exchange starts with 0 or 1)' };
  }
  return { ok: true, e164: '+' + e };
}

/**
 * True when buf[s, e) is `+` and digits that checkE164 accepts, i.e. normalizePhone returns those very
 * bytes as the E.164 text (the readers' byte fast path; the rules are checkE164's, on bytes).
 */
export function isPlainE164Bytes(buf: Uint8Array, s: number, e: number): boolean {
  const len = e - s - 1; // digits
  if (len < 7 || len > 15 || buf[s] !== 43) return false;
  for (let i = s + 1; i < e; i++) if (buf[i] < 48 || buf[i] > 57) return false;
  const first = buf[s + 1];
  if (first === 48) return false;
  if (first === 49) return len === 11 && buf[s + 2] >= 50 && buf[s + 5] >= 50;
  return true;
}

/**
 * A tiny memo for hot paths: CDR files repeat the same caller numbers on every line.
 * Bounded: cleared when it reaches `max` entries; `max` 0 disables the memo (for called
 * numbers, which rarely repeat).
 */
export class PhoneNormalizer {
  private cache = new Map<string, PhoneResult>();
  constructor(
    readonly defaultCountryCode = '1',
    private readonly max = 4096,
  ) {}
  normalize(input: string): PhoneResult {
    if (this.max === 0) return normalizePhone(input, this.defaultCountryCode);
    let r = this.cache.get(input);
    if (r === undefined) {
      r = normalizePhone(input, this.defaultCountryCode);
      if (this.cache.size >= this.max) this.cache.clear();
      this.cache.set(input, r);
    }
    return r;
  }
}

/**
 * What a rejected record keeps of its line (quarantine table, quarantine.jsonl, `report --quarantine`).
 *
 * The line of a rejected CDR holds the called (consumer) number, and that must not sit in clear in a file
 * that outlives the call. The rule: every digit sequence with 7 or more digits, written together or with
 * visual separators between them (`+1 (312) 555-0123`, `tel:+1-312-555-0123`, `312.555.0123`), becomes
 * `<digits:N>`. That masks every phone number, ours and theirs, and also long ids and Unix times; dates
 * (`2026-11-20 14:09:25`, `2026-11-20T14:09:25Z`) and IPv4 addresses are left as they are, so the reason a
 * line was rejected stays readable. Nothing is hashed: there is no key to lose and nothing to reverse.
 * Then the text is cut to a maximum length.
 */
export const MASK_MIN_DIGITS = 7;

// Dates and IPv4 addresses first (kept), then digit sequences with single separators between digits.
const SEQUENCE = /(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?![\d])|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]))|\d(?:\)?[ .\-/]?\(?\d)*/g;

export function maskDigits(text: string): string {
  return text.replace(SEQUENCE, (m, kept: string | undefined) => {
    if (kept !== undefined) return m;
    let digits = 0;
    for (let i = 0; i < m.length; i++) if (m.charCodeAt(i) >= 48 && m.charCodeAt(i) <= 57) digits++;
    return digits >= MASK_MIN_DIGITS ? `<digits:${digits}>` : m;
  });
}

export interface QuarantineLimits {
  /** Characters of the line kept (`quarantine.max_raw_chars`). */
  maxRawChars: number;
  /** Characters of the reason's detail kept (it may quote the input, e.g. a 100,000-character CSV header name). */
  maxDetailChars: number;
  /** Rejected lines kept per transaction of read steps, i.e. per Batch (`quarantine.max_per_step`); the others are counted only. */
  maxPerStep: number;
}

export const DEFAULT_QUARANTINE_LIMITS: QuarantineLimits = { maxRawChars: 2048, maxDetailChars: 512, maxPerStep: Number.POSITIVE_INFINITY };

/** `text` masked, then cut to `max` characters with a note of how much was cut. */
export function keptText(text: string, max: number): string {
  const masked = maskDigits(text);
  if (masked.length <= max) return masked;
  let end = max;
  // Never end between the two halves of a surrogate pair.
  if (end > 0 && masked.charCodeAt(end - 1) >= 0xd800 && masked.charCodeAt(end - 1) <= 0xdbff) end--;
  return `${masked.slice(0, end)}…[${(masked.length - end).toLocaleString('en-US')} more characters cut]`;
}

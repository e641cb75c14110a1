// Byte-level helpers for the readers' fast paths (Reader.parseBytes).
//
// A fast path reads the fields it needs straight from the file buffer: no decoded chunk, no
// string per line, no string per field. It only ever handles the plain case — ASCII without
// NUL (so a byte is a character and latin1 decoding is exact), well-formed quoting — and says
// "fall back" for everything else, so the string path (parseLine) stays the single place where
// odd input is judged and error messages are made.

import { isAscii } from 'node:buffer';

/** True when buf[0, len) is ASCII without NUL: every line in it may skip the per-byte checks. */
export function isCleanAscii(buf: Buffer, len: number): boolean {
  const b = buf.subarray(0, len);
  return isAscii(b) && b.indexOf(0) < 0;
}

/** Where the fields of one CSV line lie in the buffer (content only, without the quotes). */
export class CsvFields {
  static readonly MAX = 64;
  readonly start = new Int32Array(CsvFields.MAX);
  readonly end = new Int32Array(CsvFields.MAX);
  /** 1 when a quoted field contains `""`: its bytes are not its value, so a fast path must not read it as one. */
  readonly escaped = new Uint8Array(CsvFields.MAX);
  count = 0;

  /**
   * Split `buf[s, e)` at `delimiter` the way ingest/csv.ts splitCsvLine does. False — fall back to the
   * string path — for a non-ASCII or NUL byte (unless `clean`: the caller has checked the whole
   * buffer), an unterminated quote, text after a closing quote, or more than MAX fields.
   */
  scan(buf: Uint8Array, s: number, e: number, clean: boolean, delimiter = 44): boolean {
    const start = this.start;
    const end = this.end;
    const escaped = this.escaped;
    let n = 0;
    let i = s;
    for (;;) {
      if (n === CsvFields.MAX) return false;
      if (i < e && buf[i] === 34) {
        let j = i + 1;
        let esc = 0;
        for (;;) {
          if (j >= e) return false; // unterminated quote
          const c = buf[j];
          if (c === 34) {
            if (j + 1 < e && buf[j + 1] === 34) {
              esc = 1;
              j += 2;
              continue;
            }
            break;
          }
          if (!clean && (c > 127 || c === 0)) return false;
          j++;
        }
        start[n] = i + 1;
        end[n] = j;
        escaped[n] = esc;
        n++;
        i = j + 1;
        if (i === e) break;
        if (buf[i] !== delimiter) return false; // text after the closing quote
        i++;
      } else {
        let j = i;
        while (j < e) {
          const c = buf[j];
          if (c === delimiter) break;
          if (!clean && (c > 127 || c === 0)) return false;
          j++;
        }
        start[n] = i;
        end[n] = j;
        escaped[n] = 0;
        n++;
        if (j === e) break;
        i = j + 1;
      }
      if (i === e) {
        // A delimiter ends the line: one more, empty field.
        if (n === CsvFields.MAX) return false;
        start[n] = e;
        end[n] = e;
        escaped[n] = 0;
        n++;
        break;
      }
    }
    this.count = n;
    return true;
  }
}

/** The value of a run of 1–9 ASCII digits, or -1 (empty, anything else, too long). */
export function digitsValue(buf: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 9) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** An optional whole-seconds field: null when empty, else its value, or -1 when it is not plain digits. */
export function optionalDigits(buf: Uint8Array, s: number, e: number): number | null {
  return e === s ? null : digitsValue(buf, s, e);
}

/** True when buf[s, e) holds exactly the ASCII text `text`. */
export function bytesEqual(buf: Uint8Array, s: number, e: number, text: string): boolean {
  if (e - s !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[s + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** First index in [s, e) that is not ASCII white space (what String.prototype.trim drops), from the left. */
export function skipSpace(buf: Uint8Array, s: number, e: number): number {
  while (s < e && isSpace(buf[s])) s++;
  return s;
}

/** End of buf[s, e) without trailing ASCII white space. */
export function trimEnd(buf: Uint8Array, s: number, e: number): number {
  while (e > s && isSpace(buf[e - 1])) e--;
  return e;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

type Latin1 = { latin1Slice(start: number, end: number): string };

/** ASCII bytes → string (the caller has checked they are ASCII, so latin1 is exact and the cheapest decode). */
export function ascii(buf: Buffer, s: number, e: number): string {
  return (buf as unknown as Latin1).latin1Slice(s, e);
}

/**
 * A small memo from byte strings to values, so a repeated field (a caller number, a trunk) costs a
 * hash and a compare instead of a string: open addressing over FNV-1a, keys copied into an arena.
 * Bounded: cleared when full.
 */
export class BytesMemo<V> {
  private readonly slots: Int32Array; // entry index + 1, 0 = empty
  private readonly hashes: Int32Array;
  private readonly keyStart: Int32Array;
  private readonly keyLen: Int32Array;
  private readonly values: V[] = [];
  private arena: Uint8Array;
  private used = 0;
  private size = 0;

  constructor(private readonly capacity = 4096, arenaBytes = 256 * 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots <<= 1;
    this.slots = new Int32Array(slots);
    this.hashes = new Int32Array(capacity);
    this.keyStart = new Int32Array(capacity);
    this.keyLen = new Int32Array(capacity);
    this.arena = new Uint8Array(arenaBytes);
  }

  /** The value stored for buf[s, e), or undefined. */
  get(buf: Uint8Array, s: number, e: number): V | undefined {
    const h = hashBytes(buf, s, e);
    const mask = this.slots.length - 1;
    const len = e - s;
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const slot = this.slots[p];
      if (slot === 0) return undefined;
      const k = slot - 1;
      if (this.hashes[k] === h && this.keyLen[k] === len && this.sameKey(k, buf, s, len)) return this.values[k];
    }
  }

  set(buf: Uint8Array, s: number, e: number, value: V): void {
    const len = e - s;
    if (this.size === this.capacity || this.used + len > this.arena.length) {
      if (len > this.arena.length) return; // never worth keeping
      this.clear();
    }
    const h = hashBytes(buf, s, e);
    const mask = this.slots.length - 1;
    let p = h & mask;
    while (this.slots[p] !== 0) p = (p + 1) & mask;
    const k = this.size++;
    this.slots[p] = k + 1;
    this.hashes[k] = h;
    this.keyStart[k] = this.used;
    this.keyLen[k] = len;
    this.arena.set(buf.subarray(s, e), this.used);
    this.used += len;
    this.values[k] = value;
  }

  clear(): void {
    this.slots.fill(0);
    this.values.length = 0;
    this.used = 0;
    this.size = 0;
  }

  private sameKey(k: number, buf: Uint8Array, s: number, len: number): boolean {
    const a = this.arena;
    const o = this.keyStart[k];
    for (let i = 0; i < len; i++) if (a[o + i] !== buf[s + i]) return false;
    return true;
  }
}

function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h | 0; // int32, as the hashes array stores it (the empty key would otherwise never match)
}

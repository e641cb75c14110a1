// Timestamps for the readers.
//
// Asterisk and FreeSWITCH write local wall time without an offset ("2026-11-20 09:15:02").
// `WallClock` turns such a time into UTC epoch ms for an IANA zone using Intl only,
// DST-correct:
//   - an ordinary time maps to its one instant;
//   - a time in the autumn overlap (it happens twice) maps to the FIRST occurrence
//     (the earlier instant, still on summer time);
//   - a time in the spring gap (it never happened) is moved forward by the gap length, as
//     clocks do ("02:30" on a 02:00→03:00 day is 03:30 summer time).
// Zone offsets are memoised per 15 minutes of UTC, so the hot path is a Map lookup.

// Also `YYYY/M/D H:MM` as spreadsheets re-save it, and a trailing ` UTC` / ` GMT` (exports that say so).
const WALL = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;

export interface WallParts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
  /** Explicit offset in minutes when the text carries one (Z, +02:00). */
  offsetMin?: number;
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const d2 = (t: string, i: number): number => {
  const a = t.charCodeAt(i) - 48;
  const b = t.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/** Parse `YYYY-MM-DD[ T]HH:MM[:SS[.frac]][Z|UTC|±HH:MM]` (also `/` and unpadded fields); null when malformed or out of range. */
export function parseWall(text: string): WallParts | null {
  // Fast path: exactly "YYYY-MM-DD HH:MM:SS" (Asterisk, FreeSWITCH stamps).
  if (text.length === 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(10) === 32 && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
    const c = d2(text, 0);
    const yy = d2(text, 2);
    const mo = d2(text, 5);
    const d = d2(text, 8);
    const h = d2(text, 11);
    const mi = d2(text, 14);
    const s = d2(text, 17);
    if (c < 0 || yy < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return null;
    const y = c * 100 + yy;
    if (d > 28 && d > daysInMonth(y, mo)) return null;
    return { y, mo, d, h, mi, s: s === 60 ? 59 : s, ms: 0 };
  }
  const m = WALL.exec(text.trim());
  if (!m) return null;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const s = m[6] === undefined ? 0 : +m[6];
  const ms = m[7] === undefined ? 0 : Math.floor(+('0.' + m[7]) * 1000);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return null;
  const p: WallParts = { y, mo, d, h, mi, s: s === 60 ? 59 : s, ms };
  if (m[8] !== undefined) {
    if (/^(Z|UTC|GMT)$/i.test(m[8])) p.offsetMin = 0;
    else {
      const sign = m[8][0] === '-' ? -1 : 1;
      const digits = m[8].slice(1).replace(':', '');
      const oh = +digits.slice(0, 2);
      const om = +digits.slice(2);
      if (oh > 23 || om > 59) return null;
      p.offsetMin = sign * (oh * 60 + om);
    }
  }
  return p;
}

const SLOT = 15 * 60_000;

/** Wall time in one zone → UTC ms. Throws on an unknown zone at construction. */
export class WallClock {
  readonly zone: string;
  private readonly utc: boolean;
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly offsets = new Map<number, number>();
  /** Wall-clock hour → its offset, for hours with no transition near them. */
  private readonly wallHours = new Map<number, number>();

  constructor(zone = 'UTC') {
    this.zone = zone;
    this.utc = /^(utc|gmt|etc\/utc|etc\/gmt|z)$/i.test(zone);
    if (this.utc) {
      this.fmt = null;
      return;
    }
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new Error(`unknown time zone "${zone}" (use an IANA name such as America/New_York, or UTC)`);
    }
  }

  /** Offset (ms, local − UTC) in force at a UTC instant. */
  offsetAt(utcMs: number): number {
    if (this.fmt === null) return 0;
    const slot = Math.floor(utcMs / SLOT);
    let off = this.offsets.get(slot);
    if (off === undefined) {
      const t = slot * SLOT;
      let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
      for (const p of this.fmt.formatToParts(new Date(t))) {
        switch (p.type) {
          case 'year': y = +p.value; break;
          case 'month': mo = +p.value; break;
          case 'day': d = +p.value; break;
          case 'hour': h = +p.value; break;
          case 'minute': mi = +p.value; break;
          case 'second': s = +p.value; break;
        }
      }
      off = Date.UTC(y, mo - 1, d, h, mi, s) - t;
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(slot, off);
    }
    return off;
  }

  /** UTC ms for wall-clock parts in this zone (explicit offsets win). */
  toUtc(p: WallParts): number {
    const wall = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms);
    if (p.offsetMin !== undefined) return wall - p.offsetMin * 60_000;
    if (this.fmt === null) return wall;
    const hour = Math.floor(wall / 3_600_000);
    const known = this.wallHours.get(hour);
    if (known !== undefined) return wall - known;
    {
      const h0 = hour * 3_600_000;
      const before = this.offsetAt(h0 - 86_400_000);
      if (before === this.offsetAt(h0 + 3_600_000 + 86_400_000)) {
        // No transition within a day of this wall hour (offsets are within ±14 h): one offset for all of it.
        if (this.wallHours.size > 100_000) this.wallHours.clear();
        this.wallHours.set(hour, before);
        return wall - before;
      }
    }
    // Candidates: the offset before and after any transition near this wall time.
    const o1 = this.offsetAt(wall - 86_400_000);
    const o2 = this.offsetAt(wall + 86_400_000);
    const a = wall - o1;
    const b = wall - o2;
    const okA = this.offsetAt(a) === o1;
    const okB = this.offsetAt(b) === o2;
    if (okA && okB) return Math.min(a, b); // overlap (or no transition): the first occurrence
    if (okA) return a;
    if (okB) return b;
    // Gap: the wall time never happened; move forward by the gap (use the earlier offset).
    return a;
  }

  /** Parse and convert; null when malformed. */
  parse(text: string): number | null {
    const p = parseWall(text);
    return p === null ? null : this.toUtc(p);
  }

  /** UTC ms of each wall-clock hour seen by parseBytes, NaN for an hour it leaves to parse(). */
  private readonly hourStarts = new Map<number, number>();

  /**
   * `YYYY-MM-DD HH:MM:SS` in buf[s, s + 19) → exactly what parse() gives for that text, or NaN when the
   * bytes are not that shape or out of range, or the hour holds a zone transition that does not move
   * its whole hour alike: the caller then falls back to parse(). The hour's start is converted once.
   */
  parseBytes(buf: Uint8Array, s: number): number {
    if (buf[s + 4] !== 45 || buf[s + 7] !== 45 || buf[s + 10] !== 32 || buf[s + 13] !== 58 || buf[s + 16] !== 58) return NaN;
    const century = b2(buf, s);
    const yy = b2(buf, s + 2);
    const mo = b2(buf, s + 5);
    const d = b2(buf, s + 8);
    const h = b2(buf, s + 11);
    const mi = b2(buf, s + 14);
    const sec = b2(buf, s + 17);
    if (century < 0 || yy < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return NaN;
    const y = century * 100 + yy;
    const key = ((y * 100 + mo) * 100 + d) * 100 + h;
    let start = this.hourStarts.get(key);
    if (start === undefined) {
      let head = '';
      for (let i = 0; i < 13; i++) head += String.fromCharCode(buf[s + i]);
      const first = this.parse(`${head}:00:00`);
      const last = this.parse(`${head}:59:59`);
      start = first !== null && last === first + 3_599_000 ? first : NaN;
      if (this.hourStarts.size > 100_000) this.hourStarts.clear();
      this.hourStarts.set(key, start);
    }
    return start + mi * 60_000 + (sec === 60 ? 59 : sec) * 1000;
  }
}

/** Two ASCII digits → 0…99, or -1. */
function b2(buf: Uint8Array, i: number): number {
  const a = buf[i] - 48;
  const b = buf[i + 1] - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Epoch seconds / milliseconds / microseconds by magnitude (FreeSWITCH *_epoch, *_uepoch,
 * generic CSV). Null for non-numeric or non-positive values.
 */
export function parseEpoch(text: string): number | null {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const v = +t;
  if (!(v > 0)) return null;
  if (v < 1e11) return Math.round(v * 1000); // seconds (until year 5138)
  if (v < 1e14) return Math.round(v); // milliseconds
  return Math.round(v / 1000); // microseconds
}

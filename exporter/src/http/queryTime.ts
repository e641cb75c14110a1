// `from` / `to` of /api/v1/numbers/:number/history, parsed strictly: a wrong value is a 400 with the reason,
// never a guess (Date.parse takes "1,2" or "-1" for dates in 2001).

/** Unix seconds: up to 10 digits (until 2286), optionally with a fraction. */
const UNIX_SECONDS = /^\d{1,10}(\.\d+)?$/;
/** ISO 8601 date-time with seconds optional, a fraction optional, and a zone required (Z or ±hh:mm). */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

const EXPECTED = 'expected ISO 8601 with Z or an offset (2026-11-20T08:00:00Z) or Unix seconds (1795163400)';

const daysIn = (year: number, month: number) =>
  month === 2 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** Milliseconds since the epoch, or the reason the value is not a time. `undefined` or '' is `dflt`. */
export function parseQueryTime(name: string, value: unknown, dflt: number): number | string {
  if (value === undefined || value === '') return dflt;
  // ?from=1&from=2 and ?from[]=1 arrive as arrays, ?from[a]=1 as an object
  if (typeof value !== 'string') return `${name}: give one value, ${EXPECTED}`;
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (UNIX_SECONDS.test(value)) return Math.round(Number(value) * 1000);
  const m = ISO_8601.exec(value);
  if (!m) return `${name} ${shown}: ${EXPECTED}`;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone, sign, zh, zm] = m;
  const year = Number(y);
  const month = Number(mo);
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysIn(year, month) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return `${name} ${shown}: no such date or time`;
  }
  if (sign && (Number(zh) > 23 || Number(zm) > 59)) return `${name} ${shown}: no such offset`;
  const ms = frac ? frac.slice(0, 4).padEnd(4, '0') : '.000'; // milliseconds are what a Date keeps
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone.toUpperCase()}`);
}

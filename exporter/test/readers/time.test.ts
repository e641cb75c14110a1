import { describe, expect, it } from 'vitest';
import { parseEpoch, parseWall, WallClock } from '../../src/ingest/formats/time.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('WallClock', () => {
  it('UTC is identity', () => {
    expect(iso(new WallClock('UTC').parse('2026-11-20 09:15:02'))).toBe('2026-11-20T09:15:02.000Z');
  });
  const ny = new WallClock('America/New_York');
  it.each([
    ['2026-07-04 12:00:00', '2026-07-04T16:00:00.000Z'], // EDT
    ['2026-11-20 09:15:02', '2026-11-20T14:15:02.000Z'], // EST
    ['2026-11-01 00:59:59', '2026-11-01T04:59:59.000Z'],
    ['2026-11-01 01:30:00', '2026-11-01T05:30:00.000Z'], // overlap: first occurrence (EDT)
    ['2026-11-01 02:00:00', '2026-11-01T07:00:00.000Z'],
    ['2026-03-08 01:59:59', '2026-03-08T06:59:59.000Z'],
    ['2026-03-08 02:30:00', '2026-03-08T07:30:00.000Z'], // gap: moved forward (03:30 EDT)
    ['2026-03-08 03:00:00', '2026-03-08T07:00:00.000Z'],
    ['2026-11-20T09:15:02.250', '2026-11-20T14:15:02.250Z'],
    ['2026-11-20T09:15:02Z', '2026-11-20T09:15:02.000Z'], // explicit offsets win
    ['2026-11-20T09:15:02+01:00', '2026-11-20T08:15:02.000Z'],
  ])('New York %s → %s', (wall, want) => expect(iso(ny.parse(wall))).toBe(want));
  it('handles southern-hemisphere and half-hour zones', () => {
    expect(iso(new WallClock('Australia/Sydney').parse('2026-01-15 10:00:00'))).toBe('2026-01-14T23:00:00.000Z');
    expect(iso(new WallClock('Asia/Kolkata').parse('2026-01-15 10:00:00'))).toBe('2026-01-15T04:30:00.000Z');
    expect(iso(new WallClock('Europe/London').parse('2026-10-25 01:30:00'))).toBe('2026-10-25T00:30:00.000Z');
  });
  it('rejects bad dates', () => {
    for (const t of ['2026-13-01 00:00:00', '2026-02-30 00:00:00', '2026-11-20 24:00:00', '20/11/2026 09:15', 'yesterday', '']) {
      expect(ny.parse(t)).toBeNull();
    }
    expect(parseWall('2026-02-29 00:00:00')).toBeNull();
    expect(parseWall('2028-02-29 00:00:00')).not.toBeNull();
  });
  it('refuses an unknown zone', () => expect(() => new WallClock('Mars/Olympus')).toThrow(/unknown time zone/));
});

describe('parseEpoch', () => {
  it.each([
    ['1795166100', '2026-11-20T09:15:00.000Z'],
    ['1795166100.5', '2026-11-20T09:15:00.500Z'],
    ['1795166100250', '2026-11-20T09:15:00.250Z'],
    ['1795166100250000', '2026-11-20T09:15:00.250Z'],
  ])('%s', (v, want) => expect(iso(parseEpoch(v))).toBe(want));
  it.each(['0', '', 'x', '-5'])('rejects %s', (v) => expect(parseEpoch(v)).toBeNull());
});

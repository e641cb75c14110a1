import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { HistoryRecorder } from '../../src/reputation/history.js';
import type { Assessment } from '../../src/reputation/assess.js';
import { safeCell, reportCsv, CSV_COLUMNS } from '../../src/http/csv.js';
import { join } from 'node:path';
import { tmp } from './helpers.js';

function a(status: string, score: number, action = 'keep'): Assessment {
  return {
    status,
    score,
    subscores: { maturity: 70, connection: 80, engagement: 90, sentiment: 85 },
    recommendation: { action, reason: `because ${status}`, until: null },
  } as unknown as Assessment;
}

const T = Date.UTC(2026, 10, 20, 12);

describe('history', () => {
  it('writes a row per change and at least hourly, marks status changes, and resumes after restart', () => {
    const db = join(tmp(), 'h.db');
    let store = new Store(db, { bucketMs: 60_000 });
    let h = new HistoryRecorder(store);
    const n = '+12025550101';
    expect(h.record(new Map([[n, a('healthy', 85)]]), T)).toHaveLength(1);
    expect(h.record(new Map([[n, a('healthy', 85)]]), T + 60_000)).toHaveLength(0); // nothing changed
    expect(h.record(new Map([[n, a('healthy', 83)]]), T + 120_000)).toHaveLength(1); // score moved
    const change = h.record(new Map([[n, a('mixed', 70, 'slow_down')]]), T + 180_000);
    expect(change[0]).toMatchObject({ status: 'mixed', event: 'status_change' });
    expect(h.record(new Map([[n, a('mixed', 70, 'slow_down')]]), T + 180_000 + 3_600_000)[0].event).toBeNull(); // hourly
    store.close();
    store = new Store(db, { bucketMs: 60_000 });
    h = new HistoryRecorder(store);
    expect(h.record(new Map([[n, a('mixed', 70, 'slow_down')]]), T + 180_000 + 3_660_000)).toHaveLength(0);
    const rows = store.history(n, T, T + 10 * 3_600_000);
    expect(rows.map((r) => r.status)).toEqual(['healthy', 'healthy', 'mixed', 'mixed']);
    expect(rows[2].subscores.connection).toBe(80);
    store.close();
  });
});

describe('CSV export', () => {
  it('neutralises spreadsheet formulas but keeps numbers', () => {
    expect(safeCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(safeCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(safeCell('+12025550101')).toBe('+12025550101');
    expect(safeCell(-0.25)).toBe('-0.25');
    expect(safeCell('-cmd|x')).toBe("'-cmd|x");
    expect(safeCell(null)).toBe('');
  });

  it('has one row per number with the JSON fields flattened', () => {
    const csv = reportCsv({
      evaluated_at: '2026-11-20T12:00:00Z',
      carriers: [],
      numbers: [
        {
          number: '+12025550101', pool: '=evil()', status: 'healthy', score: 87,
          subscores: { maturity: 70, connection: 95, engagement: 90, sentiment: 92 },
          ratings: { maturity: 'normal', connection: 'good', engagement: 'good', sentiment: 'good' },
          recommendation: { action: 'keep', reason: 'fine, really', until: null },
          windows: {
            '24h': { calls: 10, answered: 5, answer_ratio: 0.5, cancel_ratio: 0.1, rejection_ratio: 0, block_ratio: 0, voicemail_ratio: 0, short_call_ratio: null, avg_talk_seconds: 30, outcomes: { answered: 5, voicemail: 0, cancelled: 1, no_answer: 4, busy: 0, rejected: 0, blocked: 0, failed: 0 } },
            '7d': { calls: 10, answered: 5, answer_ratio: 0.5, cancel_ratio: 0.1, rejection_ratio: 0, block_ratio: 0, voicemail_ratio: 0, short_call_ratio: null, avg_talk_seconds: 30, outcomes: { answered: 5, voicemail: 0, cancelled: 1, no_answer: 4, busy: 0, rejected: 0, blocked: 0, failed: 0 } },
          },
          carriers: { att: { flag: 'clean' } },
          attestation: { A: 10, B: 0, C: 0, none: 0 },
          first_seen: '2026-11-19T00:00:00Z', last_seen: '2026-11-20T11:00:00Z',
        },
      ],
    });
    const [head, row] = csv.trim().split('\n');
    expect(head.split(',')).toEqual(CSV_COLUMNS);
    expect(row).toContain("'=evil()");
    expect(row).toContain('"fine, really"');
    expect(row).toContain('att:clean');
  });
});

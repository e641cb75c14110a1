import { describe, expect, it } from 'vitest';
import { ratingFor, scoreBand } from '../../src/data/ratings';
import { countByStatus, filterRows, sortRows, viewRows } from '../../src/data/view';
import { csvCell, csvFileName, rowsToCsv } from '../../src/data/csv';
import { buildLink, isSafeLink } from '../../src/data/link';
import { deriveReason } from '../../src/data/reason';
import { NumberRow } from '../../src/types';

function row(p: Partial<NumberRow> & { number: string }): NumberRow {
  return {
    pool: 'sales',
    status: 'healthy',
    score: null,
    subscores: { connection: null, engagement: null, sentiment: null, maturity: null },
    ratings: { connection: null, engagement: null, sentiment: null, maturity: null },
    carriers: {},
    recommendation: null,
    calls24h: null,
    answerRatio24h: null,
    answerHistory: [],
    enginesFlagged: [],
    country: null,
    area: null,
    registration: null,
    ...p,
  };
}

describe('ratings and bands', () => {
  it('rates sub-scores at the DESIGN §5 boundaries', () => {
    expect([100, 80, 79.9, 60, 59, 40, 39.99, 0].map(ratingFor)).toEqual([
      'good', 'good', 'normal', 'normal', 'poor', 'poor', 'very_poor', 'very_poor',
    ]);
    expect(ratingFor(null)).toBeNull();
    expect(ratingFor(NaN)).toBeNull();
  });
  it('bands scores with the configured thresholds', () => {
    const b = { excellent: 80, critical: 50 };
    expect([80, 79, 50, 49].map((s) => scoreBand(s, b))).toEqual(['excellent', 'degraded', 'degraded', 'critical']);
    expect(scoreBand(75, { excellent: 70, critical: 40 })).toBe('excellent');
  });
});

describe('filter, search, sort, counts', () => {
  const rows = [
    row({ number: '+12025550101', status: 'healthy', score: 90, calls24h: 10, pool: 'sales' }),
    row({ number: '+12025550102', status: 'spam', score: 20, calls24h: 300, pool: 'collections' }),
    row({ number: '+13125550103', status: 'mixed', score: 55, calls24h: null, pool: 'sales' }),
    row({ number: '+13125550104', status: 'in_progress', score: null, calls24h: 2, pool: 'reminders' }),
  ];

  it('counts by status', () => {
    expect(countByStatus(rows)).toEqual({ all: 4, healthy: 1, mixed: 1, spam: 1, in_progress: 1, unknown: 0 });
  });

  it('filters by any of the selected statuses; none selected means all', () => {
    expect(filterRows(rows, { statuses: new Set(), search: '' })).toHaveLength(4);
    expect(filterRows(rows, { statuses: new Set(['spam', 'mixed'] as const), search: '' }).map((r) => r.status)).toEqual(['spam', 'mixed']);
  });

  it('searches numbers ignoring formatting, and pools', () => {
    expect(filterRows(rows, { statuses: new Set(), search: '(312) 555-0103' }).map((r) => r.number)).toEqual(['+13125550103']);
    expect(filterRows(rows, { statuses: new Set(), search: '0104' })).toHaveLength(1);
    expect(filterRows(rows, { statuses: new Set(), search: 'remind' })).toHaveLength(1);
    expect(filterRows(rows, { statuses: new Set(), search: '999' })).toHaveLength(0);
  });

  it('sorts with nulls last in both directions', () => {
    expect(sortRows(rows, { key: 'score', dir: 'asc' }).map((r) => r.score)).toEqual([20, 55, 90, null]);
    expect(sortRows(rows, { key: 'score', dir: 'desc' }).map((r) => r.score)).toEqual([90, 55, 20, null]);
    expect(sortRows(rows, { key: 'calls24h', dir: 'desc' }).map((r) => r.calls24h)).toEqual([300, 10, 2, null]);
    expect(sortRows(rows, { key: 'status', dir: 'asc' }).map((r) => r.status)).toEqual(['spam', 'mixed', 'in_progress', 'healthy']);
    expect(sortRows(rows, { key: 'number', dir: 'desc' })[0].number).toBe('+13125550104');
  });

  it('does not mutate its input', () => {
    const before = rows.map((r) => r.number);
    viewRows(rows, { statuses: new Set(['healthy']), search: '', sort: { key: 'score', dir: 'asc' } });
    expect(rows.map((r) => r.number)).toEqual(before);
  });
});

describe('CSV export', () => {
  it('neutralises formula injection and quotes what needs quoting', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+12025550101')).toBe("'+12025550101");
    expect(csvCell('-1+1')).toBe("'-1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(' padded')).toBe('" padded"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(null)).toBe('');
    expect(csvCell(NaN)).toBe('');
  });

  it('writes the rows shown with the carriers shown', () => {
    const csv = rowsToCsv(
      [
        row({
          number: '+12025550101',
          score: 87.04,
          calls24h: 40,
          answerRatio24h: 0.456789,
          carriers: { att: 'clean', tmobile: 'flagged' },
          ratings: { connection: 'good', engagement: 'normal', sentiment: 'poor', maturity: 'very_poor' },
          recommendation: { action: 'rest', reason: '=cmd|"/c calc"!A0, rest', reasonFromLabel: true, until: null },
        }),
      ],
      ['att', 'verizon', 'tmobile']
    );
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'number,pool,status,score,connection_rating,engagement_rating,sentiment_rating,maturity_rating,carrier_att,carrier_verizon,carrier_tmobile,calls_24h,answer_ratio_24h,recommendation,reason,diagnosis,country,area,registration'
    );
    expect(lines[1]).toBe(`'+12025550101,sales,healthy,87,good,normal,poor,very_poor,clean,,flagged,40,0.4568,rest,"'=cmd|""/c calc""!A0, rest",,,,`);
    expect(lines[2]).toBe('');
  });

  it('names the file with a timestamp', () => {
    expect(csvFileName(new Date(Date.UTC(2026, 10, 25, 9, 5, 7)))).toBe('numrep-numbers-2026-11-25-09-05-07.csv');
  });
});

describe('row links', () => {
  const r = row({ number: '+12025550101', pool: 'sales & co' });
  it('fills and encodes the row variables', () => {
    expect(buildLink('/d/numrep-number-detail/number-detail?var-number=${number}', r)).toBe(
      '/d/numrep-number-detail/number-detail?var-number=%2B12025550101'
    );
    expect(buildLink('/x?p=${pool}&s=${status}', r)).toBe('/x?p=sales%20%26%20co&s=healthy');
  });
  it('passes the result through replaceVariables with the row as scoped vars', () => {
    const seen: unknown[] = [];
    const out = buildLink('/x?n=${number}&from=${__from}', r, (v, scoped) => {
      seen.push(scoped);
      return v.replace('${__from}', '123');
    });
    expect(out).toBe('/x?n=%2B12025550101&from=123');
    expect(seen[0]).toMatchObject({ number: { text: '+12025550101', value: '+12025550101' } });
  });
  it('follows only relative and http(s) links', () => {
    expect(isSafeLink('/d/x')).toBe(true);
    expect(isSafeLink('https://example.org/x')).toBe(true);
    expect(isSafeLink('javascript:alert(1)')).toBe(false);
    expect(isSafeLink('//evil.example')).toBe(false);
    expect(isSafeLink('data:text/html,hi')).toBe(false);
  });
});

describe('derived reasons', () => {
  const base = { score: 42, answerRatio24h: 0.183, calls24h: 250, until: null, enginesFlagged: [], flaggedCarriers: [], warningCarriers: [] };
  it('names the figures behind each action', () => {
    expect(deriveReason({ ...base, action: 'keep' })).toBe('Healthy signal, keep dialling — score 42, answer ratio 18% (24h)');
    expect(deriveReason({ ...base, action: 'slow_down' })).toContain('250 calls in 24h');
    expect(deriveReason({ ...base, action: 'rest', warningCarriers: ['att'] })).toContain('warning on att');
    expect(deriveReason({ ...base, action: 'retire', flaggedCarriers: ['tmobile', 'verizon'] })).toContain('flagged by tmobile, verizon');
    expect(deriveReason({ ...base, action: 'remediate', enginesFlagged: ['hiya'] })).toContain('Labelled by hiya');
    expect(deriveReason({ ...base, score: null, answerRatio24h: null, action: 'retire' })).toBe(
      'Rotate out of the pool: reputation beyond recovery'
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  detectCsvKind,
  formatIssue,
  latestLabels,
  normaliseEngine,
  normaliseLabel,
  parseInventoryCsv,
  parseLabelsCsv,
  parseReputationCsv,
  parseTimestamp,
  splitCsvRow,
} from '../../src/reputation/labels.js';
import { assessNumber } from '../../src/reputation/assess.js';
import { kpis, NOW } from './helpers.js';

describe('engine and label normalisation', () => {
  it('engines: hiya, first_orion, tns, other', () => {
    expect(['Hiya', 'HIYA', ' hiya ', 'Hiya Inc.'].map(normaliseEngine)).toEqual(['hiya', 'hiya', 'hiya', 'hiya']);
    expect(['First Orion', 'FirstOrion', 'first_orion', 'first-orion', 'FIRST ORION'].map(normaliseEngine)).toEqual(Array(5).fill('first_orion'));
    expect(['TNS', 'tns', 'Transaction Network Services', 'TNS Call Guardian'].map(normaliseEngine)).toEqual(Array(4).fill('tns'));
    expect(['Nomorobo', 'YouMail', 'other'].map(normaliseEngine)).toEqual(['other', 'other', 'other']);
    expect(normaliseEngine('  ')).toBeNull();
  });
  it('labels: clean, spam, scam, fraud, telemarketer, nuisance, political, unknown, …', () => {
    expect(normaliseLabel('Clean')).toBe('clean');
    expect(normaliseLabel('OK')).toBe('clean');
    expect(normaliseLabel('Spam Likely')).toBe('spam');
    expect(normaliseLabel('Likely Spam')).toBe('spam');
    expect(normaliseLabel('Scam Likely')).toBe('scam');
    expect(normaliseLabel('Potential Fraud')).toBe('fraud');
    expect(normaliseLabel('Telemarketing')).toBe('telemarketer');
    expect(normaliseLabel('Nuisance Likely')).toBe('nuisance');
    expect(normaliseLabel('Political Call')).toBe('political');
    expect(normaliseLabel('Debt Collector')).toBe('debt_collector');
    expect(normaliseLabel('')).toBe('unknown');
    expect(normaliseLabel('N/A')).toBe('unknown');
    expect(normaliseLabel('Charity Call')).toBe('charity_call');
  });
  it('timestamps: ISO date, date-time with or without zone, Unix s and ms', () => {
    expect(parseTimestamp('2026-11-20')).toBe(Date.parse('2026-11-20T00:00:00Z'));
    expect(parseTimestamp('2026-11-20T08:30:00Z')).toBe(Date.parse('2026-11-20T08:30:00Z'));
    expect(parseTimestamp('2026-11-20 08:30')).toBe(Date.parse('2026-11-20T08:30:00Z'));
    expect(parseTimestamp('2026-11-20T08:30:00-0500')).toBe(Date.parse('2026-11-20T13:30:00Z'));
    expect(parseTimestamp('1795163400')).toBe(1795163400000);
    expect(parseTimestamp('1795163400000')).toBe(1795163400000);
    expect(parseTimestamp('2026-02-31')).toBeNull();
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
  });
  it('splits quoted CSV', () => {
    expect(splitCsvRow('a,"b,c","d ""e"""')).toEqual(['a', 'b,c', 'd "e"']);
    expect(splitCsvRow('"open')).toBeNull();
  });
});

describe('labels CSV', () => {
  const text = [
    'number,engine,label,checked_at,reports',
    '+12025550101,Hiya,Spam Likely,2026-11-20T08:00:00Z,12',
    '(202) 555-0101,First Orion,clean,2026-11-19,',
    '2025550102,TNS,Telemarketing,1795163400',
    '',
    '# a comment',
    '2025550103,hiya,clean,not-a-date,',
    '8001,hiya,spam,2026-11-20,',
    '2025550104,,spam,2026-11-20,',
    '2025550105,hiya,spam,2026-11-20,many',
    '2025550106,"hiya,spam,2026-11-20',
  ].join('\r\n');

  it('parses rows to E.164 with normalised engine and label', () => {
    const r = parseLabelsCsv(text, { file: 'labels.csv' });
    expect(r.kind).toBe('labels');
    expect(r.rows).toEqual([
      { number: '+12025550101', engine: 'hiya', label: 'spam', checked_at: '2026-11-20T08:00:00Z', checkedAtMs: Date.parse('2026-11-20T08:00:00Z'), reports: 12, line: 2 },
      { number: '+12025550101', engine: 'first_orion', label: 'clean', checked_at: '2026-11-19T00:00:00Z', checkedAtMs: Date.parse('2026-11-19'), reports: null, line: 3 },
      { number: '+12025550102', engine: 'tns', label: 'telemarketer', checked_at: '2026-11-20T08:30:00Z', checkedAtMs: 1795163400000, reports: null, line: 4 },
    ]);
  });

  it('reports each bad line with file, line and reason', () => {
    const r = parseLabelsCsv(text, { file: 'labels.csv' });
    expect(r.errors.map(formatIssue)).toEqual([
      'labels.csv:7: checked_at "not-a-date" is not an ISO 8601 date/time or Unix time',
      expect.stringMatching(/^labels\.csv:8: number /),
      'labels.csv:9: engine is empty (expected one of hiya, first_orion, tns, other)',
      'labels.csv:10: reports "many" is not a whole number ≥ 0',
      'labels.csv:11: unterminated quoted field',
    ]);
  });

  it('rejects a file whose header is not a labels header', () => {
    const r = parseLabelsCsv('number,pool\n+12025550101,a\n', { file: 'x.csv' });
    expect(r.rows).toEqual([]);
    expect(r.errors.map(formatIssue)).toEqual([
      'x.csv:1: not a labels file: header lacks engine, label, checked_at (expected number,engine,label,checked_at[,reports])',
    ]);
    expect(parseLabelsCsv('', { file: 'e.csv' }).errors[0]!.reason).toBe('empty file: expected a header line');
  });

  it('keeps the latest snapshot per number and engine, in the shape assessNumber takes', () => {
    const rows = parseLabelsCsv(
      [
        'checked_at,engine,number,label', // column order does not matter
        '2026-11-18,hiya,+12025550101,spam',
        '2026-11-21,hiya,+12025550101,clean',
        '2026-11-20,first_orion,+12025550101,scam',
      ].join('\n'),
    ).rows;
    const latest = latestLabels(rows);
    expect(latest.get('+12025550101')).toEqual({
      hiya: { label: 'clean', checked_at: '2026-11-21T00:00:00Z', reports: null },
      first_orion: { label: 'scam', checked_at: '2026-11-20T00:00:00Z', reports: null },
    });
    const a = assessNumber(
      { windows: { '24h': kpis({ answered: 30 }), '7d': kpis({ answered: 200 }) }, engines: latest.get('+12025550101') },
      { now: NOW },
    );
    expect(a.engineFlagged).toEqual({ hiya: 0, first_orion: 1 });
    expect(a.recommendation).toMatchObject({ action: 'remediate', engine: 'first_orion' });
  });

  it('feeds reports into the report ratio', () => {
    const latest = latestLabels(parseLabelsCsv('number,engine,label,checked_at,reports\n+12025550101,hiya,clean,2026-11-20,6\n').rows);
    const a = assessNumber({ windows: { '24h': kpis({ answered: 30 }), '7d': kpis({ answered: 200, no_answer: 100 }) }, engines: latest.get('+12025550101') }, { now: NOW });
    expect(a.reportRatio).toBeCloseTo(0.02, 12);
  });
});

describe('inventory CSV', () => {
  it('parses number, pool, campaign, registered', () => {
    const r = parseInventoryCsv(
      [
        'number,pool,campaign,registered',
        '+12025550101,collections,q4,yes',
        '2025550102,,,',
        '2025550103,reminders,flu,2026-10-01',
        '2025550104,reminders,flu,false',
        '+12025550101,other,,yes',
        '2025550105,reminders,,maybe',
        'abc,reminders,,',
      ].join('\n'),
      { file: 'inv.csv' },
    );
    expect(r.rows).toEqual([
      { number: '+12025550101', pool: 'collections', campaign: 'q4', registered: true, registeredAt: null, line: 2 },
      { number: '+12025550102', pool: 'default', campaign: null, registered: null, registeredAt: null, line: 3 },
      { number: '+12025550103', pool: 'reminders', campaign: 'flu', registered: true, registeredAt: Date.parse('2026-10-01'), line: 4 },
      { number: '+12025550104', pool: 'reminders', campaign: 'flu', registered: false, registeredAt: null, line: 5 },
    ]);
    expect(r.errors.map(formatIssue)).toEqual([
      'inv.csv:6: duplicate number (first listed on line 2)',
      'inv.csv:7: registered "maybe" is not yes/no/true/false or a date',
      expect.stringMatching(/^inv\.csv:8: number /),
    ]);
  });
});

describe('detection by header', () => {
  it('tells labels from inventory from anything else', () => {
    expect(detectCsvKind('number,engine,label,checked_at')).toBe('labels');
    expect(detectCsvKind('\uFEFFNumber,Engine,Label,Checked At,Reports')).toBe('labels');
    expect(detectCsvKind('number,pool,campaign,registered')).toBe('inventory');
    expect(detectCsvKind('number,pool')).toBe('inventory');
    expect(detectCsvKind('"accountcode","src","dst"')).toBeNull();
    expect(detectCsvKind('caller,called,ts')).toBeNull();
  });
  it('parseReputationCsv dispatches on the header', () => {
    expect(parseReputationCsv('number,engine,label,checked_at\n+12025550101,hiya,spam,2026-11-20\n').kind).toBe('labels');
    expect(parseReputationCsv('number,pool\n+12025550101,a\n').kind).toBe('inventory');
    const none = parseReputationCsv('a,b\n1,2\n', { file: 'z.csv' });
    expect(none.kind).toBeNull();
    expect(none.errors.map(formatIssue)).toEqual([
      'z.csv:1: header is neither number,engine,label,checked_at nor number,pool,campaign,registered',
    ]);
  });
});

describe('labels CSV: values that would pin or bend the latest label', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  const rows = [
    'number,engine,label,checked_at,reports',
    '+12025550101,hiya,spam,9999-12-01T00:00:00Z,',
    '+12025550102,hiya,spam,2026-11-21T11:00:00Z,', // 23 h ahead: clocks differ, accepted
    '+12025550103,hiya,spam,2026-11-21T12:00:01Z,', // a day and a second ahead
    '+12025550104,hiya,spam,2026-11-20T08:00:00Z,-5',
  ].join('\n');

  it('refuses a checked_at more than a day after the clock, and negative reports, as row errors with file:line', () => {
    const r = parseLabelsCsv(rows, { file: 'l.csv', now });
    expect(r.rows.map((x) => x.number)).toEqual(['+12025550102']);
    expect(r.errors.map(formatIssue)).toEqual([
      'l.csv:2: checked_at 9999-12-01T00:00:00Z is more than 1 day in the future',
      'l.csv:4: checked_at 2026-11-21T12:00:01Z is more than 1 day in the future',
      'l.csv:5: reports "-5" is not a whole number ≥ 0',
    ]);
  });

  it('the same through parseReputationCsv (inbox and upload path)', () => {
    const r = parseReputationCsv(rows, { file: 'l.csv', now });
    expect(r.errors).toHaveLength(3);
  });
});

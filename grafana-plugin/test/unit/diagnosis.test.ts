import { describe, expect, it } from 'vitest';
import { FieldType, toDataFrame } from '@grafana/data';
import { diagnosisNote } from '../../src/data/diagnosis';
import { recommendationTooltip } from '../../src/data/fatigue';
import { transformFrames } from '../../src/data/transform';
import { rowsToCsv } from '../../src/data/csv';

const NOW = Date.UTC(2026, 11, 6, 12);

function instant(name: string | undefined, labels: Record<string, string>, value: number, time = NOW) {
  return toDataFrame({
    fields: [
      { name: 'Time', type: FieldType.time, values: [time] },
      { name: 'Value', type: FieldType.number, values: [value], labels: name ? { __name__: name, ...labels } : labels },
    ],
  });
}

describe('the diagnosis in the panel (numrep_number_diagnosis)', () => {
  const a = { number: '+12025550101', pool: 'sales' };
  const b = { number: '+12025550102', pool: 'sales' };
  const c = { number: '+12025550103', pool: 'sales' };
  const frames = [
    instant('numrep_number_recommendation', { ...a, action: 'keep' }, 1),
    instant('numrep_number_diagnosis', { ...a, diagnosis: 'external' }, 1),
    instant('numrep_number_recommendation', { ...b, action: 'keep' }, 1),
    instant('numrep_number_diagnosis', { ...b, diagnosis: 'healthy' }, 1),
    // A stale series for the number's previous diagnosis, and an unknown value from a newer exporter: ignored.
    instant('numrep_number_recommendation', { ...c, action: 'rest' }, 1),
    instant('numrep_number_diagnosis', { ...c, diagnosis: 'healthy' }, 1, NOW - 60_000),
    instant('numrep_number_diagnosis', { ...c, diagnosis: 'degrading' }, 1),
    instant('numrep_number_diagnosis', { ...c, diagnosis: 'haunted' }, 1),
  ];
  const { rows, missing } = transformFrames(frames);
  const by = (n: string) => rows.find((r) => r.number === n)!;

  it('reaches the row: the newest series whose value is 1, known values only', () => {
    expect(by(a.number).diagnosis).toBe('external');
    expect(by(b.number).diagnosis).toBe('healthy');
    expect(by(c.number).diagnosis).toBe('degrading');
  });

  it('the recommendation tooltip says it unless the number is healthy', () => {
    expect(by(a.number).recommendation!.tooltip).toMatch(/\. Diagnosis: external \(the pool or a carrier moved, not this number\)$/);
    expect(by(b.number).recommendation!.tooltip).not.toMatch(/Diagnosis/);
    expect(by(c.number).recommendation!.tooltip).toMatch(/Diagnosis: degrading/);
  });

  it('is optional: absent series leave it null and are not reported missing', () => {
    const { rows: r, missing: m } = transformFrames([instant('numrep_number_recommendation', { ...a, action: 'keep' }, 1)]);
    expect(r[0].diagnosis).toBeNull();
    expect(r[0].recommendation!.tooltip).not.toMatch(/Diagnosis/);
    expect(m).not.toContain('numrep_number_diagnosis');
    expect(missing).not.toContain('numrep_number_diagnosis');
  });

  it('recognised by its label when a query hides __name__', () => {
    const { rows: r } = transformFrames([instant(undefined, { ...a, diagnosis: 'engagement' }, 1)]);
    expect(r[0].diagnosis).toBe('engagement');
  });

  it('tooltip order: reason, fatigue note, diagnosis', () => {
    const f = { consumersOverCap: 2, attemptsOverCap: 3, repeatDialRatio: 0.5 };
    expect(recommendationTooltip('Keep dialling', f, 'engagement')).toBe(
      'Keep dialling. Recipient fatigue: 2 consumers called more than the daily cap in 24h, 3 calls over it, 50% repeat dials. ' +
        'Diagnosis: engagement (answers stable, conversions fell: the list or the script, not the number)'
    );
    expect(diagnosisNote('blacklisted')).toBe('Diagnosis: blacklisted (blocked or labelled)');
    expect(diagnosisNote(null)).toBeNull();
  });

  it('the CSV export writes it after the reason', () => {
    const csv = rowsToCsv([by(a.number)], []).split('\r\n');
    // Counted from the end: the reason before it may hold quoted commas.
    expect(csv[0].split(',').slice(-5)).toEqual(['reason', 'diagnosis', 'country', 'area', 'registration']);
    expect(csv[1].split(',').slice(-4)).toEqual(['external', '', '', '']);
  });
});

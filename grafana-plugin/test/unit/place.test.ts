import { describe, expect, it } from 'vitest';
import { FieldType, toDataFrame } from '@grafana/data';
import { transformFrames } from '../../src/data/transform';
import { rowsToCsv } from '../../src/data/csv';
import { placeText, registrationText } from '../../src/data/place';

const NOW = Date.UTC(2026, 11, 6, 9);

function instant(name: string | undefined, labels: Record<string, string>, value: number) {
  return toDataFrame({
    fields: [
      { name: 'Time', type: FieldType.time, values: [NOW] },
      { name: 'Value', type: FieldType.number, values: [value], labels: name ? { __name__: name, ...labels } : labels },
    ],
  });
}

describe('where a number lives and its registration (numrep_number_info)', () => {
  const frames = [
    instant('numrep_number_reputation_score', { number: '+12125550101', pool: 'sales' }, 71),
    instant('numrep_number_info', { number: '+12125550101', pool: 'sales', country: 'US', area: 'New York, NY', registration: 'registered' }, 1),
    instant('numrep_number_reputation_score', { number: '+998901234567', pool: 'uz' }, 55),
    // No area for a mobile range: Prometheus drops the empty label.
    instant('numrep_number_info', { number: '+998901234567', pool: 'uz', country: 'UZ', registration: 'not_registered' }, 1),
    instant('numrep_number_reputation_score', { number: '+12125550102', pool: 'sales' }, 90),
  ];
  const { rows } = transformFrames(frames);
  const by = (n: string) => rows.find((r) => r.number === n)!;

  it('reads country, area and registration from the info series labels', () => {
    expect(by('+12125550101')).toMatchObject({ country: 'US', area: 'New York, NY', registration: 'registered' });
    expect(by('+998901234567')).toMatchObject({ country: 'UZ', area: null, registration: 'not_registered' });
    expect(by('+12125550102')).toMatchObject({ country: null, area: null, registration: null });
  });

  it('recognises the info series by its labels when a query hides __name__', () => {
    const { rows: r } = transformFrames([instant(undefined, { number: '+12125550101', pool: 'sales', country: 'US', area: 'New York, NY', registration: 'unknown' }, 1)]);
    expect(r[0]).toMatchObject({ area: 'New York, NY', registration: 'unknown' });
  });

  it('says it as the panel shows it and as the CSV export writes it', () => {
    expect(placeText(by('+12125550101'))).toBe('New York, NY · US');
    expect(placeText(by('+998901234567'))).toBe('UZ');
    expect(placeText(by('+12125550102'))).toBe('—');
    expect(registrationText('not_registered')).toBe('Not registered');
    expect(registrationText(null)).toBe('—');
    const csv = rowsToCsv([by('+12125550101')], []).split('\r\n');
    expect(csv[0].split(',').slice(-3)).toEqual(['country', 'area', 'registration']);
    expect(csv[1].endsWith(',US,"New York, NY",registered')).toBe(true);
  });
});

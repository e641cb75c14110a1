import { describe, expect, it } from 'vitest';
import { FieldType, toDataFrame } from '@grafana/data';
import { fatigueNote, recommendationTooltip } from '../../src/data/fatigue';
import { transformFrames } from '../../src/data/transform';

const NOW = Date.UTC(2026, 10, 25, 12);

function instant(name: string, labels: Record<string, string>, value: number) {
  return toDataFrame({
    fields: [
      { name: 'Time', type: FieldType.time, values: [NOW] },
      { name: 'Value', type: FieldType.number, values: [value], labels: { __name__: name, ...labels } },
    ],
  });
}

describe('recipient fatigue in the panel', () => {
  it('fatigueNote: says how many consumers are over the cap, nothing when none or absent', () => {
    expect(fatigueNote({ consumersOverCap: 4, attemptsOverCap: 8, repeatDialRatio: 0.8 })).toBe(
      'Recipient fatigue: 4 consumers called more than the daily cap in 24h, 8 calls over it, 80% repeat dials'
    );
    expect(fatigueNote({ consumersOverCap: 1, attemptsOverCap: null, repeatDialRatio: null })).toBe(
      'Recipient fatigue: 1 consumer called more than the daily cap in 24h'
    );
    expect(fatigueNote({ consumersOverCap: 0, attemptsOverCap: 0, repeatDialRatio: 0.1 })).toBeNull();
    expect(fatigueNote(null)).toBeNull();
  });

  it('the tooltip adds the note unless the exporter reason already names it', () => {
    const f = { consumersOverCap: 2, attemptsOverCap: 3, repeatDialRatio: 0.5 };
    expect(recommendationTooltip('Healthy signal, keep dialling', f)).toBe(
      'Healthy signal, keep dialling. Recipient fatigue: 2 consumers called more than the daily cap in 24h, 3 calls over it, 50% repeat dials'
    );
    const named = 'score 80; 2 consumers called more than 3 times in 24h (3 calls over the cap): recipient fatigue, dial them less';
    expect(recommendationTooltip(named, f)).toBe(named);
    expect(recommendationTooltip('Rest the number', null)).toBe('Rest the number');
  });

  it('transformFrames: the 24h fatigue series reach the row and its recommendation tooltip; the 7d ones do not', () => {
    const n = { number: '+12025550101', pool: 'collections' };
    const frames = [
      instant('numrep_number_recommendation', { ...n, action: 'keep' }, 1),
      instant('numrep_number_reputation_score', n, 88),
      instant('numrep_number_consumers_over_cap', { ...n, window: '24h' }, 4),
      instant('numrep_number_attempts_over_cap', { ...n, window: '24h' }, 8),
      instant('numrep_number_repeat_dial_ratio', { ...n, window: '24h' }, 0.8),
      instant('numrep_number_consumers_over_cap', { ...n, window: '7d' }, 9),
      instant('numrep_number_recommendation', { number: '+12025550102', pool: 'collections', action: 'keep' }, 1),
    ];
    const { rows } = transformFrames(frames);
    const over = rows.find((r) => r.number === '+12025550101')!;
    expect(over.fatigue24h).toEqual({ consumersOverCap: 4, attemptsOverCap: 8, repeatDialRatio: 0.8 });
    expect(over.recommendation!.tooltip).toMatch(/^Healthy signal, keep dialling — score 88\. Recipient fatigue: 4 consumers called more than the daily cap in 24h, 8 calls over it, 80% repeat dials$/);
    const calm = rows.find((r) => r.number === '+12025550102')!;
    expect(calm.fatigue24h).toBeNull();
    expect(calm.recommendation!.tooltip).toBe(calm.recommendation!.reason);
  });
});

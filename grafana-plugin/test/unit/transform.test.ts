import { describe, expect, it } from 'vitest';
import { createDataFrame, FieldType, toDataFrame } from '@grafana/data';
import { transformFrames } from '../../src/data/transform';
import { framesToSamples } from '../../src/data/samples';
import { poolFrames, REST_UNTIL_S } from '../fixtures/prometheus';

const NOW = Date.UTC(2026, 10, 25, 12);

function series(name: string | undefined, labels: Record<string, string>, values: Array<number | null>, times?: number[]) {
  const t = times ?? values.map((_, i) => NOW - (values.length - 1 - i) * 60_000);
  return toDataFrame({
    fields: [
      { name: 'Time', type: FieldType.time, values: t },
      { name: 'Value', type: FieldType.number, values, labels: name ? { __name__: name, ...labels } : labels },
    ],
  });
}

describe('transformFrames: table format (instant queries)', () => {
  const { pool, frames } = poolFrames({ count: 40, mode: 'table' });
  const result = transformFrames(frames);

  it('gives one row per number with every column filled', () => {
    expect(result.found).toBe(true);
    expect(result.rows).toHaveLength(40);
    expect(result.missing).toEqual([]);
    expect(result.carriers).toEqual(['att', 'tmobile', 'verizon']);
    for (const n of pool) {
      const row = result.rows.find((r) => r.number === n.number)!;
      expect(row.pool).toBe(n.pool);
      expect(row.status).toBe(n.status);
      expect(row.score).toBe(n.score);
      expect(row.subscores.connection).toBe(n.subs.connection);
      expect(row.carriers).toEqual(n.flags);
      expect(row.recommendation?.action).toBe(n.action);
      expect(row.calls24h).toBe(n.calls); // 24h window preferred over 7d
      expect(row.answerHistory).toEqual(n.answer);
      expect(row.answerRatio24h).toBe(n.answer[n.answer.length - 1]);
      expect(row.enginesFlagged).toEqual(n.engine ? [n.engine] : []);
    }
  });

  it('rates the sub-scores with the DESIGN §5 bands', () => {
    const row = result.rows[0];
    const n = pool.find((p) => p.number === row.number)!;
    const expected = (v: number) => (v >= 80 ? 'good' : v >= 60 ? 'normal' : v >= 40 ? 'poor' : 'very_poor');
    expect(row.ratings.connection).toBe(expected(n.subs.connection));
    expect(row.ratings.maturity).toBe(expected(n.subs.maturity));
  });

  it('derives a reason from action and figures, with the rest end time', () => {
    const rest = result.rows.find((r) => r.recommendation?.action === 'rest')!;
    expect(rest.recommendation!.reasonFromLabel).toBe(false);
    expect(rest.recommendation!.until).toBe(REST_UNTIL_S * 1000);
    expect(rest.recommendation!.reason).toContain('until 2026-11-26 09:00 UTC');
    expect(rest.recommendation!.reason).toMatch(/score \d+/);
    const rem = result.rows.find((r) => r.recommendation?.action === 'remediate');
    if (rem) {
      expect(rem.recommendation!.reason).toContain(`Labelled by ${rem.enginesFlagged[0]}`);
    }
  });
});

describe('transformFrames: time-series format', () => {
  it('gives the same rows as the table format', () => {
    const a = transformFrames(poolFrames({ count: 25, mode: 'table' }).frames);
    const b = transformFrames(poolFrames({ count: 25, mode: 'series' }).frames);
    expect(b.rows).toEqual(a.rows);
  });

  it('takes the reason label when the exporter provides one', () => {
    const { frames } = poolFrames({ count: 6, mode: 'series', reasonEvery: 2 });
    const rows = transformFrames(frames).rows;
    const labelled = rows.filter((r) => r.recommendation?.reasonFromLabel);
    expect(labelled).toHaveLength(3);
    expect(labelled[0].recommendation!.reason).toMatch(/^Exporter says:/);
  });
});

describe('transformFrames: range queries and one-hot series', () => {
  it('picks the state whose series is 1 at the newest time, ignoring stale ones', () => {
    const id = { number: '+12025550101', pool: 'sales' };
    const t = [NOW - 120_000, NOW - 60_000, NOW];
    const frames = [
      // healthy was current, went stale (no more points) after the first sample
      series('numrep_number_status', { ...id, status: 'healthy' }, [1, null, null], t),
      series('numrep_number_status', { ...id, status: 'mixed' }, [null, 1, 1], t),
      series('numrep_number_status', { ...id, status: 'spam' }, [0, 0, 0], t),
      series('numrep_number_reputation_score', id, [88, 71, 64], t),
      series('numrep_number_answer_ratio', { ...id, window: '24h' }, [0.5, null, 0.3], t),
      series('numrep_number_answer_ratio', { ...id, window: '7d' }, [0.45, 0.44, 0.43], t),
    ];
    const [row] = transformFrames(frames).rows;
    expect(row.status).toBe('mixed');
    expect(row.score).toBe(64);
    expect(row.answerHistory).toEqual([0.5, null, 0.3]);
    expect(row.answerRatio24h).toBe(0.3);
  });

  it('reads the metric name from the field name, displayNameFromDS or the frame name', () => {
    const id = { number: '+1', pool: 'p' };
    const frames = [
      toDataFrame({
        fields: [
          { name: 'Time', type: FieldType.time, values: [NOW] },
          { name: 'numrep_number_reputation_score', type: FieldType.number, values: [55], labels: id },
        ],
      }),
      toDataFrame({
        fields: [
          { name: 'Time', type: FieldType.time, values: [NOW] },
          { name: 'Value', type: FieldType.number, values: [12], labels: { ...id, window: '24h' }, config: { displayNameFromDS: 'numrep_number_calls' } },
        ],
      }),
      toDataFrame({
        name: 'numrep_number_answer_ratio',
        fields: [
          { name: 'Time', type: FieldType.time, values: [NOW] },
          { name: 'Value', type: FieldType.number, values: [0.41], labels: { ...id, window: '24h' } },
        ],
      }),
    ];
    frames.push(
      toDataFrame({
        fields: [
          { name: 'Time', type: FieldType.time, values: [NOW] },
          {
            name: 'Value',
            type: FieldType.number,
            values: [71],
            labels: { ...id, dimension: 'maturity' },
            config: { displayNameFromDS: 'numrep_number_subscore{dimension="maturity", number="+1", pool="p"}' },
          },
        ],
      })
    );
    const [row] = transformFrames(frames).rows;
    expect(row).toMatchObject({ score: 55, calls24h: 12, answerRatio24h: 0.41, answerHistory: [0.41] });
    expect(row.subscores.maturity).toBe(71);
  });

  it('infers one-hot families from their labels when an aggregation dropped __name__', () => {
    const id = { number: '+1', pool: 'p' };
    const frames = [
      series(undefined, { ...id, status: 'spam' }, [1]),
      series(undefined, { ...id, action: 'retire' }, [1]),
      series(undefined, { ...id, dimension: 'sentiment' }, [35]),
      series(undefined, { ...id, carrier: 'att', state: 'flagged' }, [1]),
    ];
    const [row] = transformFrames(frames).rows;
    expect(row.status).toBe('spam');
    expect(row.recommendation?.action).toBe('retire');
    expect(row.recommendation?.reason).toContain('flagged by att');
    expect(row.ratings.sentiment).toBe('very_poor');
    expect(row.carriers).toEqual({ att: 'flagged' });
  });
});

describe('transformFrames: degradation', () => {
  it('renders rows with empty cells when families are missing, and names them', () => {
    const { frames } = poolFrames({
      count: 5,
      omit: ['numrep_number_subscore', 'numrep_number_carrier_flag', 'numrep_number_answer_ratio', 'numrep_number_recommendation'],
    });
    const r = transformFrames(frames);
    expect(r.rows).toHaveLength(5);
    expect(r.rows[0].ratings).toEqual({ connection: null, engagement: null, sentiment: null, maturity: null });
    expect(r.rows[0].carriers).toEqual({});
    expect(r.rows[0].answerHistory).toEqual([]);
    expect(r.rows[0].answerRatio24h).toBeNull();
    expect(r.rows[0].recommendation).toBeNull();
    expect(r.carriers).toEqual([]);
    expect(r.missing).toEqual([
      'numrep_number_subscore',
      'numrep_number_recommendation',
      'numrep_number_carrier_flag',
      'numrep_number_answer_ratio',
    ]);
  });

  it('shows unknown status when the status series is missing', () => {
    const r = transformFrames(poolFrames({ count: 3, omit: ['numrep_number_status'] }).frames);
    expect(r.rows.map((x) => x.status)).toEqual(['unknown', 'unknown', 'unknown']);
  });

  it('reports nothing found for frames of other metrics', () => {
    const r = transformFrames([
      series('node_load1', { instance: 'a' }, [1]),
      createDataFrame({ fields: [{ name: 'Value', type: FieldType.number, values: [1] }] }),
    ]);
    expect(r).toEqual({ rows: [], carriers: [], found: false, missing: [] });
  });

  it('treats an empty frame list and null/NaN values without throwing', () => {
    expect(transformFrames([]).found).toBe(false);
    const r = transformFrames([series('numrep_number_reputation_score', { number: '+1', pool: 'p' }, [NaN, null])]);
    expect(r.rows[0].score).toBeNull();
  });

  it('ignores series without a number label', () => {
    const r = transformFrames([series('numrep_number_reputation_score', { pool: 'p' }, [50])]);
    expect(r.rows).toEqual([]);
    expect(r.found).toBe(true);
  });
});

describe('naming series by their query', () => {
  it("uses the query's expression when an aggregation dropped __name__ and no label tells the family", () => {
    const id = { number: '+1', pool: 'p' };
    const score = series(undefined, id, [61]);
    score.refId = 'S';
    const calls = series(undefined, { ...id, window: '24h' }, [33]);
    calls.refId = 'C';
    const ambiguous = series(undefined, id, [0.5]);
    ambiguous.refId = 'X';
    const r = transformFrames([score, calls, ambiguous], {
      S: 'max by (number, pool) (numrep_number_reputation_score{pool=~"$pool"})',
      C: 'sum by (number, pool, window) (numrep_number_calls{window="24h"})',
      X: 'numrep_number_answer_ratio / numrep_number_cancel_ratio',
    });
    expect(r.rows[0]).toMatchObject({ score: 61, calls24h: 33, answerRatio24h: null });
  });
});

describe('framesToSamples', () => {
  it('reads each numeric column of a table frame as a series per row', () => {
    const frame = createDataFrame({
      fields: [
        { name: 'Time', type: FieldType.time, values: [NOW, NOW] },
        { name: 'number', type: FieldType.string, values: ['+1', '+2'] },
        { name: 'pool', type: FieldType.string, values: ['a', 'b'] },
        { name: 'Value', type: FieldType.number, values: [70, 20], config: { displayNameFromDS: 'numrep_number_reputation_score' } },
      ],
    });
    const s = framesToSamples([frame]);
    expect(s).toEqual([
      { metric: 'score', labels: { number: '+1', pool: 'a' }, last: 70, lastTime: NOW, history: [70] },
      { metric: 'score', labels: { number: '+2', pool: 'b' }, last: 20, lastTime: NOW, history: [20] },
    ]);
  });
});

// The progress lines of a long read: when they come, and what they say.
import { describe, expect, it } from 'vitest';
import { ReadProgress, durationText } from '../../src/ingest/progress.js';

const MB = 1_048_576;

describe('ReadProgress', () => {
  it('reports a big backlog every 10 s with percent, rows/s, MB/s and ETA, then once at its end', () => {
    const p = new ReadProgress({ minBytes: 64 * MB, everyMs: 10_000 });
    const size = 400 * MB;
    // First step committed at t=0 (offset 4 MiB): the read is measured from here.
    expect(p.commit('/in/m.csv', 14_000, 4 * MB, size, 0)).toBeNull();
    // 4 MiB and 14,000 rows a second: nothing until 10 s have passed.
    let line: string | null = null;
    for (let t = 1; t <= 9; t++) expect(p.commit('/in/m.csv', 14_000, (4 + 4 * t) * MB, size, t * 1000)).toBeNull();
    line = p.commit('/in/m.csv', 14_000, 44 * MB, size, 10_000);
    // 40 MB in 10 s, 356 MB left: ~89 s.
    expect(line).toBe('source /in/m.csv: reading, 10 % (40 of 396 MB), 14,000 rows/s, 4 MB/s, ETA 1 min 29 s (numrep_source_bytes_behind)');
    expect(p.commit('/in/m.csv', 14_000, 48 * MB, size, 11_000)).toBeNull();
    const end = p.commit('/in/m.csv', 14_000, size, size, 12_000);
    expect(end).toBe('source /in/m.csv: read to its end: 396 MB, 168,000 rows in 12 s (14,000 rows/s, 33 MB/s)');
    // Read to its end: a later append to the same file is a tailed line, not a backlog.
    expect(p.commit('/in/m.csv', 1, size + 300, size + 300, 13_000)).toBeNull();
  });

  it('says nothing for a file with less than minBytes to read', () => {
    const p = new ReadProgress({ minBytes: 64 * MB, everyMs: 10_000 });
    for (let t = 0; t < 100; t++) expect(p.commit('/var/log/Master.csv', 10, t * 1000, 63 * MB + t * 1000, t * 60_000)).toBeNull();
  });

  it('durationText', () => {
    expect(durationText(42.4)).toBe('42 s');
    expect(durationText(185)).toBe('3 min 05 s');
    expect(durationText(3720)).toBe('1 h 02 min');
    expect(durationText(NaN)).toBe('?');
  });
});

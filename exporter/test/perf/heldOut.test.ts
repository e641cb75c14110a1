import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runReport } from '../../src/cli/report.js';
import { DEFAULT_ASTERISK_MIX, HELD_OUT_ASTERISK, generateReal } from '../../src/bench/genReal.js';
import { tmp } from '../core/helpers.js';

// Issue 19's held-out dialer-shaped Asterisk file (bench/genReal.ts): `report` must count every outbound call the
// generator wrote — the bench prints the same check at 1M rows; here a small file keeps it in the suite.

const TRUNK_MAP = new URL('../../../examples/trunk-map.csv', import.meta.url).pathname;

async function counted(file: string): Promise<number> {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const { json } = await runReport([file], { format: 'asterisk', trunkMap: TRUNK_MAP, timezone: 'UTC' });
    let calls = 0;
    for (const n of json.numbers) calls += n.windows['7d'].calls;
    return calls;
  } finally {
    process.stderr.write = write;
  }
}

describe('the held-out dialer-shaped Asterisk file', () => {
  it('is another shape than the bench’s real-shaped file', () => {
    expect(HELD_OUT_ASTERISK.mix).not.toEqual(DEFAULT_ASTERISK_MIX);
    expect(HELD_OUT_ASTERISK.numbers).not.toBe(5000);
  });

  it('report counts every outbound call it holds', async () => {
    const file = join(tmp('numrep-heldout-'), 'Master.csv');
    const end = Date.parse('2026-12-06T12:00:00Z');
    const g = generateReal('asterisk', file, { ...HELD_OUT_ASTERISK, trunks: [...HELD_OUT_ASTERISK.trunks], rows: 20_000, endMs: end, spanMs: 6 * 86_400_000 });
    expect(g.calls).toBeGreaterThan(15_000);
    expect(await counted(file)).toBe(g.calls);
  }, 60_000);
});

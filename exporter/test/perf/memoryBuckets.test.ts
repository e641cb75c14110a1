import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { generate } from '../../src/bench/gen.js';
import { tmp } from '../core/helpers.js';

// report keeps its 1-second buckets in process memory (store/db.ts MemoryBuckets, batches as
// call logs); the windows, totals and pruning must read exactly as from SQLite.

const TRUNK_MAP = join(__dirname, '..', '..', '..', 'examples', 'trunk-map.csv');
const END = Date.UTC(2026, 10, 20, 12, 0);

describe('in-memory buckets (report) equal SQLite buckets', () => {
  it('same windows at several instants, same totals, same pruning', async () => {
    const dir = tmp('numrep-mem-');
    const files = [
      generate('asterisk', join(dir, 'Master.csv'), { rows: 4000, numbers: 30, endMs: END, spanMs: 9 * 86_400_000, seed: 4 }).path,
      generate('freeswitch', join(dir, 'fs.csv'), { rows: 2000, numbers: 30, endMs: END, spanMs: 2 * 86_400_000, seed: 5 }).path,
    ];
    const make = (db: string) =>
      new Runtime({
        db,
        bucketMs: 1000,
        globs: files,
        readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
        resolver: CarrierResolver.fromFiles({ trunkMap: TRUNK_MAP }),
        settleMs: 0,
        oneShot: true,
        chunkBytes: 64 * 1024, // many batches
        maxRecordBytes: 65_536,
        now: () => END,
      });
    const mem = make(':memory:');
    const disk = make(join(dir, 'numrep.db'));
    expect(mem.store.memoryBuckets).toBe(true);
    expect(disk.store.memoryBuckets).toBe(false);
    await mem.poll();
    await disk.poll();
    for (const at of [END, END - 3_600_000 - 500, END - 2 * 86_400_000 + 1234]) {
      const a = mem.snapshotAt(at);
      const b = disk.snapshotAt(at);
      expect([...a.numbers.keys()].sort()).toEqual([...b.numbers.keys()].sort());
      for (const [n, v] of a.numbers) {
        const u = b.numbers.get(n)!;
        for (const w of ['1h', '24h', '7d'] as const) expect([...v.windows[w]]).toEqual([...u.windows[w]]);
        // Per carrier, 1h is not kept (stats/snapshot.ts CarrierWindow).
        for (const [c, cw] of v.carriers) for (const w of ['24h', '7d'] as const) expect([...cw[w]]).toEqual([...u.carriers.get(c)![w]]);
      }
    }
    expect(mem.store.totals()).toEqual(disk.store.totals());
    expect(mem.store.totalsByCarrier().sort((x, y) => (x.carrier + x.outcome).localeCompare(y.carrier + y.outcome)))
      .toEqual(disk.store.totalsByCarrier().sort((x, y) => (x.carrier + x.outcome).localeCompare(y.carrier + y.outcome)));
    expect(mem.store.newestBucket()).toBe(disk.store.newestBucket());
    const edge = END - 3 * 86_400_000;
    expect(mem.store.bucketsBetween(edge - 3_600_000, edge).length).toBeGreaterThan(0);
    expect(mem.store.prune(edge)).toBeGreaterThan(0);
    expect(disk.store.prune(edge)).toBeGreaterThan(0);
    expect(mem.store.sumBuckets(0, Number.MAX_SAFE_INTEGER)).toEqual(disk.store.sumBuckets(0, Number.MAX_SAFE_INTEGER));
    await mem.close();
    await disk.close();
  });
});

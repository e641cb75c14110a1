import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store, type BatchCommit } from '../../src/store/db.js';
import { tmp } from '../core/helpers.js';

// Store.totalsByCarrier keeps its sums in memory, moved by this connection's commits and read again
// when another connection committed: it must always answer what a fresh read of the table answers.

const batch = (totals: [number: string, carrier: string, outcome: string, count: number][]): BatchCommit => ({
  buckets: [], seen: [], blocks: [], counters: [], quarantine: [],
  totals: totals.map(([number, carrier, outcome, count]) => ({ number, carrier, outcome, count })),
});

describe('Store.totalsByCarrier', () => {
  it('answers what a fresh read answers after own commits, new keys and another connection’s commits', () => {
    const file = join(tmp('numrep-totals-'), 'numrep.db');
    const a = new Store(file, { bucketMs: 60_000 });
    const fresh = () => {
      const s = new Store(file, { bucketMs: 60_000 });
      const t = s.totalsByCarrier();
      s.close();
      return t;
    };
    a.commit(batch([['+12025550101', 'verizon', 'answered', 3], ['+12025550102', 'att', 'cancelled', 1]]));
    expect(a.totalsByCarrier()).toEqual(fresh());
    // Own commits: an existing key grows, new keys sort in among the old ones (bytes order, as GROUP BY).
    a.commit(batch([['+12025550103', 'att', 'cancelled', 2], ['+12025550101', 'tmobile', 'blocked', 1], ['+12025550104', 'Zed', 'answered', 1], ['+12025550104', 'att', 'answered', 5]]));
    const own = a.totalsByCarrier();
    expect(own).toEqual(fresh());
    expect(own.find((t) => t.carrier === 'att' && t.outcome === 'cancelled')?.count).toBe(3);
    // The caller may keep or change what it got: the store's sums are its own.
    own[0].count += 100;
    expect(a.totalsByCarrier()).toEqual(fresh());
    // Another connection commits: read again.
    const b = new Store(file, { bucketMs: 60_000 });
    b.commit(batch([['+12025550105', 'att', 'answered', 7], ['+12025550105', 'lumen', 'failed', 1]]));
    b.close();
    expect(a.totalsByCarrier()).toEqual(fresh());
    a.commit(batch([['+12025550105', 'lumen', 'failed', 2]]));
    expect(a.totalsByCarrier()).toEqual(fresh());
    a.close();
  });
});

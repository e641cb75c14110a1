import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../src/store/db.js';
import { tmp } from '../core/helpers.js';

// serve's database connection keeps SQLite's own default page cache (2 MB), not the driver's 16 MB: at 10k numbers
// the held-out serve's glibc heap was ~30-40 MB larger with it (docs/performance.md, /metrics memory, stop 28).
// An in-memory database is its page cache, so it is left as it is.

describe('SQLite page cache', () => {
  it('is 2 MB on a database file, the driver default in memory', () => {
    const file = new Store(join(tmp('numrep-cache-'), 'n.db'), { bucketMs: 60_000 });
    const mem = new Store(':memory:', { bucketMs: 60_000 });
    try {
      expect(file.db.pragma('cache_size', { simple: true })).toBe(-2000);
      expect(mem.db.pragma('cache_size', { simple: true })).not.toBe(-2000);
    } finally {
      file.close();
      mem.close();
    }
  });
});

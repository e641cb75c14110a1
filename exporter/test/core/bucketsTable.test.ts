// Buckets as blocks (schema 8): a transaction's buckets are one row per hour they fall in (store/bucketBlocks.ts), not
// a row each. The windows read time ranges, so what they read must be what a table of one row per bucket would give:
// per-bucket rows added up over the blocks that hold them, sums per pair, the prune's edge exact to the bucket.
// Databases of schema 3 (a buckets table keyed by number first) and 4–7 (keyed by time first) are moved at open.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store, type BucketDelta } from '../../src/store/db.js';
import { BLOCK_HOUR_MS, bucketBlocksOf, decodeBucketBlock } from '../../src/store/bucketBlocks.js';
import { FIELDS, VECTOR_COLUMNS } from '../../src/stats/vector.js';

const vec = (calls: number, answered: number) => {
  const v = new Float64Array(FIELDS);
  v[0] = calls;
  v[1] = answered;
  return v;
};
const commitOf = (buckets: BucketDelta[]) => ({ buckets, seen: [], totals: [], blocks: [], counters: [], quarantine: [] });
const newFile = () => join(mkdtempSync(join(tmpdir(), 'numrep-buckets-')), 'numrep.db');
const tableExists = (store: Store, name: string) => store.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name) === 1;

/** What a table of one row per (bucket, number, carrier) holds after these commits: the reference for every read. */
function model(commits: BucketDelta[][]): Map<string, BucketDelta> {
  const m = new Map<string, BucketDelta>();
  for (const c of commits) {
    for (const b of c) {
      const k = `${b.bucket}|${b.number}|${b.carrier}`;
      const row = m.get(k);
      if (row) for (let i = 0; i < FIELDS; i++) row.v[i] += b.v[i];
      else m.set(k, { number: b.number, carrier: b.carrier, bucket: b.bucket, v: Float64Array.from(b.v) });
    }
  }
  return m;
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
function between(m: Map<string, BucketDelta>, from: number, to: number): [number, string, string, number[]][] {
  return [...m.values()]
    .filter((b) => b.bucket >= from && b.bucket < to)
    .sort((a, b) => a.bucket - b.bucket || cmp(a.number, b.number) || cmp(a.carrier, b.carrier))
    .map((b) => [b.bucket, b.number, b.carrier, Array.from(b.v)]);
}
function sums(m: Map<string, BucketDelta>, from: number, to: number): [string, string, number[]][] {
  const s = new Map<string, BucketDelta>();
  for (const b of m.values()) {
    if (b.bucket < from || b.bucket >= to) continue;
    const k = `${b.number}|${b.carrier}`;
    const row = s.get(k);
    if (row) for (let i = 0; i < FIELDS; i++) row.v[i] += b.v[i];
    else s.set(k, { ...b, v: Float64Array.from(b.v) });
  }
  return [...s.values()].sort((a, b) => cmp(a.number, b.number) || cmp(a.carrier, b.carrier)).map((b) => [b.number, b.carrier, Array.from(b.v)]);
}
const rowsOf = (d: BucketDelta[]) => d.map((b) => [b.bucket, b.number, b.carrier, Array.from(b.v)]);
const sumsOf = (d: BucketDelta[]) => d.map((b) => [b.number, b.carrier, Array.from(b.v)]);

/**
 * Sums of every width a block may be stored in: calls of one (u8), talk seconds (u16), large or negative (i32),
 * fractional (f64). A case draws its sums from one of these ranges (or all), so whole blocks fall at each width's edge.
 */
const SUM_RANGES = [
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
  fc.integer({ min: 2 ** 31 - 50, max: 2 ** 31 + 50 }),
  fc.integer({ min: 0, max: 2 ** 33 }),
  // Eighths: not whole (stored as f64), yet added exactly in any order, so reads can be compared with the model's sums.
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((x) => x / 8 + 0),
];
const deltaArbOf = (sums: fc.Arbitrary<number>) =>
  fc.record({
    number: fc.constantFrom('+12025550101', '+12025550102', '+13125550199', '+447700900123'),
    carrier: fc.constantFrom('att', 'verizon', 'tmobile', 'other', 'Ünïcode carrier'),
    // Minute buckets over a few hours, so blocks are cut at hours and prunes fall inside them.
    bucket: fc.integer({ min: 0, max: 5 * 60 - 1 }).map((m) => 1_800_000_000_000 + m * 60_000),
    v: fc.array(sums, { minLength: FIELDS, maxLength: FIELDS }).map((a) => Float64Array.from(a)),
  });
/** A batch whose sums all come from one range. */
const batchArb = (max: number) => fc.constantFrom(...SUM_RANGES, fc.oneof(...SUM_RANGES)).chain((r) => fc.array(deltaArbOf(r), { maxLength: max }));

describe('bucket blocks', () => {
  it('a batch of buckets is one block per hour, each read back as written: pairs, buckets and sums, at the narrowest exact width (property)', () => {
    fc.assert(
      fc.property(batchArb(200), (deltas) => {
        const pairs: { number: string; carrier: string }[] = [];
        const ids = new Map<string, number>();
        const c = { n: deltas.length, pairs, pair: new Int32Array(deltas.length), bucket: new Float64Array(deltas.length), v: new Float64Array(deltas.length * FIELDS) };
        deltas.forEach((d, r) => {
          const k = `${d.number}|${d.carrier}`;
          if (!ids.has(k)) {
            ids.set(k, pairs.length);
            pairs.push({ number: d.number, carrier: d.carrier });
          }
          c.pair[r] = ids.get(k)!;
          c.bucket[r] = d.bucket;
          c.v.set(d.v, r * FIELDS);
        });
        const blocks = bucketBlocksOf(c);
        const hours = new Set(deltas.map((d) => Math.floor(d.bucket / BLOCK_HOUR_MS)));
        expect(blocks.map((b) => b.hour).sort()).toEqual([...hours].sort());
        const back: [number, string, string, number[]][] = [];
        for (const b of blocks) {
          const d = decodeBucketBlock(b.pairs, b.rows);
          expect(d.n).toBe(b.n);
          // Bytes that typed arrays cannot view in place (at an odd offset, as a pooled Buffer may hold them) read the same.
          const odd = new Uint8Array(b.rows.length + 3).subarray(3);
          odd.set(b.rows);
          const moved = decodeBucketBlock(b.pairs, odd);
          expect([Array.from(moved.pair), Array.from(moved.bucket), Array.from(moved.v)]).toEqual([Array.from(d.pair), Array.from(d.bucket), Array.from(d.v)]);
          let min = Infinity;
          let max = -Infinity;
          for (let r = 0; r < d.n; r++) {
            expect(Math.floor(d.bucket[r] / BLOCK_HOUR_MS)).toBe(b.hour);
            min = Math.min(min, d.bucket[r]);
            max = Math.max(max, d.bucket[r]);
            back.push([d.bucket[r], d.names[2 * d.pair[r]], d.names[2 * d.pair[r] + 1], Array.from(d.v.subarray(r * FIELDS, (r + 1) * FIELDS))]);
          }
          expect([b.minBucket, b.maxBucket]).toEqual([min, max]);
          // The narrowest width that holds every sum exactly.
          const all = Array.from(d.v);
          const width = all.some((x) => !Number.isInteger(x)) ? 8 : all.some((x) => x < 0 || x > 0xffff) ? (all.some((x) => x < -(2 ** 31) || x >= 2 ** 31) ? 8 : 4) : all.some((x) => x > 0xff) ? 2 : 1;
          expect(b.rows.length).toBe(16 + 8 * d.n + width * d.n * FIELDS);
        }
        // Rows in the batch's order within each hour.
        const expected = deltas.map((d) => [d.bucket, d.number, d.carrier, Array.from(d.v)] as [number, string, string, number[]]);
        const byHour = (rows: [number, string, string, number[]][]) => [...hours].sort().flatMap((h) => rows.filter((r) => Math.floor(r[0] / BLOCK_HOUR_MS) === h));
        expect(byHour(back)).toEqual(byHour(expected));
      }),
      { numRuns: 150 },
    );
  });

  it('what the windows read is what a table of one row per bucket would give, through commits, prunes and a reopen (property)', () => {
    fc.assert(
      fc.property(
        fc.array(batchArb(40), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 * 60 }), fc.integer({ min: 0, max: 5 * 60 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 5 * 60 }), { nil: undefined }),
        fc.option(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 })), { nil: undefined }),
        (commits, ranges, pruneAt, compact) => {
          const file = newFile();
          let store = new Store(file, { bucketMs: 60_000 });
          try {
            for (const c of commits) store.commit(commitOf(c));
            let m = model(commits);
            const at = (minute: number) => 1_800_000_000_000 + minute * 60_000;
            const check = () => {
              for (const [a, b] of ranges) {
                const [from, to] = [at(Math.min(a, b)), at(Math.max(a, b))];
                expect(rowsOf(store.bucketsBetween(from, to))).toEqual(between(m, from, to));
                expect(sumsOf(store.sumBuckets(from, to))).toEqual(sums(m, from, to));
              }
              expect(sumsOf(store.sumBuckets(at(0), Number.MAX_SAFE_INTEGER))).toEqual(sums(m, at(0), Number.MAX_SAFE_INTEGER));
              const newest = [...m.values()].reduce((x, b) => Math.max(x, b.bucket), -Infinity);
              expect(store.newestBucket()).toBe(m.size === 0 ? null : newest);
            };
            check();
            if (compact !== undefined) {
              // Hours before `beforeHour` with more than `minBlocks` blocks become one block each; reads do not change.
              const [hours, minBlocks] = compact;
              const beforeHour = Math.floor(at(0) / BLOCK_HOUR_MS) + hours;
              const perHour = () => new Map(store.db.prepare('SELECT hour, count(*) FROM bucket_blocks GROUP BY hour').raw(true).all() as [number, number][]);
              const was = perHour();
              const merged = store.compactBuckets(beforeHour, minBlocks);
              const now = perHour();
              let expectMerged = 0;
              for (const [h, n] of was) {
                const compacted = h < beforeHour && n > minBlocks;
                if (compacted) expectMerged += n - 1;
                expect(now.get(h)).toBe(compacted ? 1 : n);
              }
              expect(merged).toBe(expectMerged);
              check();
            }
            if (pruneAt !== undefined) {
              const edge = at(pruneAt);
              const storedRows = (s: Store) => Number(s.db.prepare('SELECT coalesce(sum(n), 0) FROM bucket_blocks').pluck().get());
              const before = storedRows(store);
              const removed = store.prune(edge);
              expect(before - storedRows(store)).toBe(removed);
              m = new Map([...m].filter(([, b]) => b.bucket >= edge));
              // No block keeps a bucket older than the edge.
              expect(Number(store.db.prepare('SELECT count(*) FROM bucket_blocks WHERE min_b < ?').pluck().get(edge))).toBe(0);
              check();
            }
            store.close();
            store = new Store(file, { bucketMs: 60_000 });
            check();
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('commits add into what is stored: the same bucket in two transactions reads as one row with both sums', () => {
    const store = new Store(newFile(), { bucketMs: 60_000 });
    try {
      const rows = (n: number, calls: number) =>
        Array.from({ length: n }, (_, i) => ({ number: `+1202555${String(i % 7).padStart(4, '0')}`, carrier: ['att', 'verizon'][i % 2], bucket: 60_000 * (1 + i), v: vec(calls, i % 2) }));
      store.commit(commitOf(rows(37, 1)));
      store.commit(commitOf(rows(21, 2))); // the first 21 again
      const stored = store.bucketsBetween(0, 60_000 * 40);
      expect(stored.length).toBe(37);
      for (const r of stored) {
        const i = r.bucket / 60_000 - 1;
        expect([r.number, r.carrier, r.v[0], r.v[1]]).toEqual([`+1202555${String(i % 7).padStart(4, '0')}`, ['att', 'verizon'][i % 2], i < 21 ? 3 : 1, i < 21 ? 2 * (i % 2) : i % 2]);
      }
      // Two transactions, each in one hour: two blocks, not a row a bucket.
      expect(store.db.prepare('SELECT count(*) FROM bucket_blocks').pluck().get()).toBe(2);
    } finally {
      store.close();
    }
  });

  for (const [schema, key] of [
    [3, 'PRIMARY KEY (number, carrier, bucket)) WITHOUT ROWID; CREATE INDEX buckets_by_time ON buckets (bucket);'],
    [7, 'PRIMARY KEY (bucket, number, carrier)) WITHOUT ROWID;'],
  ] as const) {
    it(`a schema-${schema} database's buckets table is moved into blocks at open, every bucket kept, in pages`, () => {
      const file = newFile();
      new Store(file, { bucketMs: 60_000 }).close();
      // Make it what numrep wrote before schema 8 (3: keyed by number first).
      const db = new Database(file);
      const cols = VECTOR_COLUMNS.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(', ');
      db.exec(`DROP TABLE bucket_blocks; CREATE TABLE buckets (number TEXT NOT NULL, carrier TEXT NOT NULL, bucket INTEGER NOT NULL, ${cols}, ${key}
        UPDATE meta SET value = '${schema}' WHERE key = 'schema_version';`);
      const ins = db.prepare('INSERT INTO buckets (number, carrier, bucket, calls, answered, talk_sec) VALUES (?, ?, ?, ?, ?, ?)');
      // More rows than a page of the move (65,536), over more than a day of minutes.
      const n = 70_000;
      db.transaction(() => {
        for (let i = 0; i < n; i++) ins.run(`+1202555${String(i % 50).padStart(4, '0')}`, ['att', 'verizon', 'tmobile'][i % 3], 60_000 * (1 + Math.floor(i / 40)), 1 + (i % 4), i % 2, i + 0.5);
      })();
      const before = db.prepare(`SELECT bucket, number, carrier, ${VECTOR_COLUMNS.join(', ')} FROM buckets ORDER BY bucket, number, carrier`).raw(true).all() as unknown[][];
      db.close();

      const said: string[] = [];
      const store = new Store(file, { bucketMs: 60_000, onMigrate: (m) => said.push(m) });
      try {
        // The move says it starts and how it ended (serve logs it: a large database takes a while, once).
        expect(said[0]).toBe(`${file}: moving 70,000 stored buckets into hourly blocks (schema 8), once`);
        expect(said[said.length - 1]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}: 70,000 stored buckets moved into hourly blocks in \\d+\\.\\d s$`));
        expect(store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
        expect(Number(store.db.prepare('SELECT sum(n) FROM bucket_blocks').pluck().get())).toBe(n);
        const after = store.bucketsBetween(0, Number.MAX_SAFE_INTEGER).map((b) => [b.bucket, b.number, b.carrier, ...b.v]);
        expect(after).toEqual(before);
        store.commit(commitOf([{ number: '+12025550000', carrier: 'att', bucket: 60_000, v: vec(2, 1) }]));
        const sum = store.sumBuckets(0, 120_000).find((r) => r.number === '+12025550000' && r.carrier === 'att')!;
        expect([sum.v[0], sum.v[1]]).toEqual([3, 1]);
      } finally {
        store.close();
      }
      const again = new Store(file, { bucketMs: 60_000, onMigrate: (m) => said.push(`again: ${m}`) });
      try {
        expect(said.filter((m) => m.startsWith('again:'))).toEqual([]);
        expect(Number(again.db.prepare('SELECT sum(n) FROM bucket_blocks').pluck().get())).toBe(n + 1);
      } finally {
        again.close();
      }
    });
  }

  it("serve's hourly prune merges a live tail's second-by-second blocks of hours closed an hour ago; the windows read the same", async () => {
    const { Runtime } = await import('../../src/runtime.js');
    const { CarrierResolver } = await import('../../src/model/carrier.js');
    const NOW = Date.parse('2026-11-20T18:30:00Z');
    const dir = mkdtempSync(join(tmpdir(), 'numrep-compact-'));
    const rt = new Runtime({ db: join(dir, 'numrep.db'), bucketMs: 60_000, inbox: join(dir, 'inbox'), globs: [], readerOptions: { defaultCountryCode: '1', timezone: 'UTC' }, resolver: new CarrierResolver(), settleMs: 0, maxRecordBytes: 65_536, now: () => NOW });
    try {
      // 30 commits in each of the three hours before now, as a live tail makes them.
      for (const hoursAgo of [3, 2, 1]) {
        for (let k = 0; k < 30; k++) rt.store.commit(commitOf([{ number: '+12025550101', carrier: 'att', bucket: Math.floor((NOW - hoursAgo * 3_600_000) / 3_600_000) * 3_600_000 + k * 60_000, v: vec(1, k % 2) }]));
      }
      const before = rt.store.sumBuckets(0, Number.MAX_SAFE_INTEGER);
      const perHour = () => (rt.store.db.prepare('SELECT count(*) FROM bucket_blocks GROUP BY hour ORDER BY hour').pluck().all() as number[]);
      expect(perHour()).toEqual([30, 30, 30]);
      expect(rt.prune(0)).toBe(0);
      // The hours that closed more than an hour ago are one block each; the hour that closed less than an hour ago is left.
      expect(perHour()).toEqual([1, 1, 30]);
      expect(rowsOf(rt.store.sumBuckets(0, Number.MAX_SAFE_INTEGER))).toEqual(rowsOf(before));
    } finally {
      await rt.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { generate } from '../../src/bench/gen.js';
import { tmp } from '../core/helpers.js';
import { MemoryBuckets } from '../../src/store/db.js';
import { FIELDS } from '../../src/stats/vector.js';
import { CallLog, addLogged } from '../../src/stats/callLog.js';

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

describe('MemoryBuckets.sum', () => {
  it('gives its rows in (number, carrier) order by code units while keys keep arriving out of order', () => {
    const mem = new MemoryBuckets();
    let seed = 7;
    // The LCG's high bits: its low bits repeat with a short period.
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const names = ['+12025550100', '+12025550101', '+442071234567', '+1202555010', 'b', 'B', 'é', 'z', ''];
    const carriers = ['verizon', 'att', 'other', 'Tmobile', 'tmobile', 'unknown', 'ä'];
    const expected = (from: number, to: number, added: { number: string; carrier: string; bucket: number }[]) =>
      [...new Set(added.filter((b) => b.bucket >= from && b.bucket < to).map((b) => b.number + '\u0000' + b.carrier))]
        .map((k) => k.split('\u0000'))
        .sort(([n1, c1], [n2, c2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : c1 < c2 ? -1 : c1 > c2 ? 1 : 0));
    const added: { number: string; carrier: string; bucket: number }[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 40; i++) {
        const b = { number: names[rnd(names.length)], carrier: carriers[rnd(carriers.length)], bucket: rnd(100), v: new Float64Array(FIELDS).fill(1) };
        mem.add(b);
        added.push(b);
      }
      for (const [from, to] of [[0, 100], [30, 60], [99, 100]]) {
        const rows = mem.sum(from, to);
        expect(rows.map((r) => [r.number, r.carrier])).toEqual(expected(from, to, added));
        for (const r of rows) expect(r.v[0]).toBe(added.filter((b) => b.number === r.number && b.carrier === r.carrier && b.bucket >= from && b.bucket < to).length);
      }
    }
  });
});

describe('MemoryBuckets.sum over logged calls', () => {
  it('adds each key\'s calls in reading order (the same doubles to the bit) through added batches, new keys and pruning', () => {
    const mem = new MemoryBuckets();
    let seed = 11;
    // The LCG's high bits: its low bits repeat with a short period.
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const pairs = ['+12025550100', '+12025550101', '+442071234567', '+33123456789'].flatMap((number) => ['att', 'verizon', 'other'].map((carrier) => ({ number, carrier })));
    // Every call read so far, in reading order, and the bucket rows added beside them.
    let calls: { pair: number; bucket: number; code: number; talk: number }[] = [];
    let rows: { number: string; carrier: string; bucket: number; v: Float64Array }[] = [];
    const reference = (from: number, to: number) => {
      const sums = new Map<string, Float64Array>();
      const at = (number: string, carrier: string) => {
        const k = number + '\u0000' + carrier;
        if (!sums.has(k)) sums.set(k, new Float64Array(FIELDS));
        return sums.get(k)!;
      };
      for (const r of rows) if (r.bucket >= from && r.bucket < to) at(r.number, r.carrier).forEach((_, f, v) => (v[f] += r.v[f]));
      for (const c of calls) if (c.bucket >= from && c.bucket < to) addLogged(at(pairs[c.pair].number, pairs[c.pair].carrier), 0, c.code, c.talk);
      return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [...k.split('\u0000'), [...v]]);
    };
    for (let round = 0; round < 8; round++) {
      // A batch over a growing set of pairs (new keys arrive), talk times whose sums depend on their order (2^53 + 1 + 1).
      const log = new CallLog();
      log.pairs = pairs.slice(0, 3 + round);
      for (let i = 0; i < 300; i++) {
        const c = { pair: rnd(log.pairs.length), bucket: 1000 * (round * 50 + rnd(200)), code: rnd(256), talk: rnd(4) === 0 ? 2 ** 53 : rnd(1000) / 7 + 0.1 };
        log.push(c.pair, c.bucket, c.code, c.talk);
        calls.push(c);
      }
      mem.addCalls(log);
      if (round % 3 === 1) {
        const r = { ...pairs[rnd(pairs.length)], bucket: 1000 * rnd(400), v: Float64Array.from({ length: FIELDS }, () => rnd(100) / 3) };
        mem.add(r);
        rows.push(r);
      }
      if (round === 5) {
        const before = 1000 * 120;
        mem.prune(before);
        calls = calls.filter((c) => c.bucket >= before);
        rows = rows.filter((r) => r.bucket >= before);
      }
      for (const [from, to] of [[0, 1e9], [1000 * 100, 1000 * 300], [1000 * 250, 1000 * 251]]) {
        // Asked twice: the second answer comes from what the first made.
        for (let twice = 0; twice < 2; twice++) expect(mem.sum(from, to).map((r) => [r.number, r.carrier, [...r.v]])).toEqual(reference(from, to));
      }
    }
  });

  it('gives every row its own sums: rows of an earlier sum keep theirs', () => {
    const mem = new MemoryBuckets();
    const log = new CallLog();
    log.pairs = [{ number: '+12025550100', carrier: 'att' }];
    log.push(0, 1000, 0, 5);
    mem.addCalls(log);
    const first = mem.sum(0, 2000);
    const second = mem.sum(0, 500);
    expect(second).toEqual([]);
    expect(first[0].v[0]).toBe(1);
    mem.sum(0, 2000)[0].v[0] = 99;
    expect(first[0].v[0]).toBe(1);
    expect(mem.sum(0, 2000)[0].v[0]).toBe(1);
  });
});

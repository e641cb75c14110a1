import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Store } from '../../src/store/db.js';
import { Batch } from '../../src/ingest/batch.js';
import { PairRows, WindowSet } from '../../src/stats/windows.js';
import { takeSnapshot, updateSnapshot, type Snapshot } from '../../src/stats/snapshot.js';
import { FIELDS } from '../../src/stats/vector.js';
import { WINDOWS, type CallRecord, type Outcome, type WindowName } from '../../src/model/types.js';
import { mulberry32 } from '../../src/sim/rng.js';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { line, testRuntime, tmp } from '../core/helpers.js';

// A snapshot's per-carrier sums are the live windows' rows, shared copy-on-write (stats/windows.ts RowShare,
// PairRows): a record copies its rows out just before the windows change one. A snapshot held while calls are
// added, the clock moves or the windows are rebuilt must go on reading the sums it was taken at, and the next
// snapshot the new ones. Without the copy (or with it after the change) the held snapshots read the new sums.

const H = 3_600_000;
const AT = Date.UTC(2026, 10, 20, 17, 30);
const NAMES = Object.keys(WINDOWS) as WindowName[];
const OUTCOMES: Outcome[] = ['answered', 'cancelled', 'blocked', 'no_answer', 'rejected', 'busy'];

/** Everything a snapshot's numbers say, read now, in its Map orders. */
function flat(s: Snapshot): unknown[] {
  const vec = (r: Partial<Record<WindowName, Float64Array>>) => NAMES.filter((w) => r[w]).map((w) => [w, [...r[w]!]]);
  return [...s.numbers].map(([k, v]) => [k, vec(v.windows), [...v.carriers].map(([c, w]) => [c, vec(w)])]);
}

/** The same, numbers and carriers sorted (a WindowSet built afresh orders its pairs otherwise). */
function sorted(s: Snapshot): unknown[] {
  const vec = (r: Partial<Record<WindowName, Float64Array>>) => NAMES.filter((w) => r[w]).map((w) => [w, [...r[w]!]]);
  return [...s.numbers]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, vec(v.windows), [...v.carriers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, w]) => [c, vec(w)])]);
}

interface Held {
  snap: Snapshot;
  /** What it read when it was taken. */
  was: unknown[];
}

/**
 * `ops`: [kind, a, b]: 0 new calls (a: how many, hours back ≤ b × 4), 1 the clock moves a × 20 min, 2 a snapshot
 * (updated from the last when b is odd), 3 the windows rebuilt at the clock. Every snapshot taken is held to the
 * end and read after every step; each new one must equal a snapshot of a fresh WindowSet built at that instant.
 */
function run(seed: number, ops: Array<[number, number, number]>, maxCarriers?: number): { detached: number; kept: number } {
  const r = mulberry32(seed);
  const store = new Store(':memory:', { bucketMs: 60_000 });
  const ws = new WindowSet(store, 60_000);
  let at = AT;
  ws.build(at, false);
  const numbers = Array.from({ length: 12 }, (_, i) => `+1202555${1000 + i}`);
  const carriers = ['att', 'tmobile', 'verizon', 'lumen', 'other'];
  const held: Held[] = [];
  let detached = 0;
  let kept = 0;
  const opts = maxCarriers === undefined ? {} : { maxCarriersPerNumber: maxCarriers };
  const call = (ts: number): CallRecord => ({
    ts,
    caller: numbers[Math.floor(r() * numbers.length)],
    called: '+13125550000',
    carrier: carriers[Math.floor(r() * carriers.length)],
    outcome: OUTCOMES[Math.floor(r() * OUTCOMES.length)],
    talkSec: Math.floor(r() * 90),
    attestation: 'A',
    source: 'test',
  });
  const add = (n: number, hoursBack: number) => {
    const b = new Batch(60_000);
    for (let i = 0; i < n; i++) b.add(call(at - Math.floor(r() * hoursBack * H)));
    store.commit(b.toCommit());
    ws.addBuckets(b.buckets.values());
  };
  add(60, 8 * 24);
  for (const [kind, a, b] of ops) {
    if (kind === 0) add(1 + a, Math.max(0.1, b * 4));
    else if (kind === 1) ws.advance((at += a * 20 * 60_000));
    else if (kind === 2) {
      const last = held[held.length - 1]?.snap;
      ws.takeChanges();
      const changed = new Set(numbers); // every number: the records of unchanged pairs are still handed on
      const snap = last && b % 2 === 1 ? updateSnapshot(last, ws, new Map(), () => 'default', () => [], changed, opts) : takeSnapshot(ws, new Map(), () => 'default', [], opts);
      const fresh = new WindowSet(store, 60_000);
      fresh.build(at, false);
      expect(sorted(snap)).toEqual(sorted(takeSnapshot(fresh, new Map(), () => 'default', [], opts)));
      if (last) {
        for (const [n, v] of snap.numbers) for (const [c, w] of v.carriers) if (w === last.numbers.get(n)?.carriers.get(c)) kept++;
      }
      held.push({ snap, was: flat(snap) });
    } else ws.build(at, false);
    for (const h of held) expect(flat(h.snap)).toEqual(h.was);
  }
  for (const h of held) for (const v of h.snap.numbers.values()) for (const w of v.carriers.values()) if (w instanceof PairRows && !w.attached) detached++;
  store.close();
  return { detached, kept };
}

describe('snapshot rows shared with the live windows (copy-on-write)', () => {
  it('a held snapshot reads the sums it was taken at after new calls, a slide and a rebuild; the next one the new sums', () => {
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const ws = new WindowSet(store, 60_000);
    ws.build(AT, false);
    const load = (recs: CallRecord[]) => {
      const b = new Batch(60_000);
      for (const x of recs) b.add(x);
      store.commit(b.toCommit());
      ws.addBuckets(b.buckets.values());
    };
    const c = (ts: number, carrier = 'att'): CallRecord => ({ ts, caller: '+12025550101', called: '+13125550000', carrier, outcome: 'answered', talkSec: 30, attestation: 'A', source: 'test' });
    load([c(AT - 2 * H), c(AT - 30 * H), c(AT - 30 * H, 'tmobile')]);
    const s1 = takeSnapshot(ws, new Map(), () => 'default');
    const att1 = s1.numbers.get('+12025550101')!.carriers.get('att')!;
    expect(att1).toBeInstanceOf(PairRows);
    expect((att1 as PairRows).attached).toBe(true);
    expect([att1['24h'][0], att1['48h'][0], att1['7d'][0]]).toEqual([1, 2, 2]);

    // Nothing moved: the next snapshot is handed the same record, still reading in place.
    const s2 = takeSnapshot(ws, new Map(), () => 'default');
    expect(s2.numbers.get('+12025550101')!.carriers.get('att')).toBe(att1);

    load([c(AT - 60_000), c(AT - 60_000)]);
    expect((att1 as PairRows).attached).toBe(false);
    expect([att1['24h'][0], att1['48h'][0], att1['7d'][0]]).toEqual([1, 2, 2]);
    const tm1 = s1.numbers.get('+12025550101')!.carriers.get('tmobile')!;
    expect((tm1 as PairRows).attached).toBe(true); // its rows did not change
    const s3 = takeSnapshot(ws, new Map(), () => 'default');
    const att3 = s3.numbers.get('+12025550101')!.carriers.get('att')!;
    expect(att3).not.toBe(att1);
    expect([att3['24h'][0], att3['48h'][0], att3['7d'][0]]).toEqual([3, 4, 4]);

    // The 24h window lets the 2 h-old call's pair row shrink: s3 keeps its sums.
    ws.advance(AT + 23 * H);
    expect([att3['24h'][0], att3['48h'][0], att3['7d'][0]]).toEqual([3, 4, 4]);
    expect([...att3['24h']]).toEqual([...s3.numbers.get('+12025550101')!.carriers.get('att')!['24h']]);
    expect(takeSnapshot(ws, new Map(), () => 'default').numbers.get('+12025550101')!.carriers.get('att')!['24h'][0]).toBe(2);

    // A rebuild copies every record out first.
    ws.build(AT + 100 * H, false);
    expect([att3['24h'][0], att3['48h'][0], att3['7d'][0]]).toEqual([3, 4, 4]);
    expect(tm1['48h'][0]).toBe(1);
    expect([...tm1['24h']]).toEqual(new Array(FIELDS).fill(0)); // not held in 24h when s1 was taken: zero
    expect((tm1 as Partial<Record<WindowName, Float64Array>>)['1h']).toBeUndefined();
    store.close();
  });

  it('held snapshots keep their sums through random adds, slides, snapshots and rebuilds (property)', () => {
    let detached = 0;
    let kept = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 60 })), { minLength: 1, maxLength: 40 }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        (seed, ops, maxCarriers) => {
          const got = run(seed, ops.map(([k, a, b]) => [k === 3 && a > 2 ? 2 : k, a, b]), maxCarriers);
          detached += got.detached;
          kept += got.kept;
        },
      ),
      { numRuns: 60 },
    );
    // The properties did exercise both ways: records copied out, and records handed on unchanged.
    expect(detached).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
  });

  it("serve's snapshots (Runtime.snapshotNow: updated, handed on) keep their sums while files are read and the clock moves", async () => {
    const dir = tmp('numrep-shared-');
    const file = join(dir, 'calls.test');
    const r = mulberry32(11);
    const T0 = Date.UTC(2026, 10, 20, 18, 0, 7);
    const numbers = Array.from({ length: 20 }, (_, i) => `+1202555${String(1000 + i)}`);
    const call = (tsSec: number) => line(tsSec, numbers[Math.floor(r() * numbers.length)], ['att', 'tmobile', 'verizon'][Math.floor(r() * 3)], OUTCOMES[Math.floor(r() * OUTCOMES.length)], Math.floor(r() * 90));
    let text = '';
    for (let i = 0; i < 200; i++) text += call(Math.floor(T0 / 1000) - Math.floor(r() * 8 * 86_400));
    writeFileSync(file, text);
    let now = T0;
    const rt = testRuntime(file, () => now, join(dir, 'numrep.db'));
    await rt.poll();
    const held: Held[] = [];
    let handedOn = 0;
    for (let step = 0; step < 40; step++) {
      if (r() < 0.6) {
        let add = '';
        for (let i = 0; i < 1 + Math.floor(r() * 5); i++) add += call(Math.floor(now / 1000) - Math.floor(r() * 30 * 3_600));
        appendFileSync(file, add);
        await rt.poll();
      } else now += Math.floor(r() * 8 * 3_600_000);
      const snap = rt.snapshotNow();
      const last = held[held.length - 1]?.snap;
      if (last) for (const [n, v] of snap.numbers) for (const [c, w] of v.carriers) if (w === last.numbers.get(n)?.carriers.get(c)) handedOn++;
      held.push({ snap, was: flat(snap) });
      for (const h of held) expect(flat(h.snap), `step ${step}`).toEqual(h.was);
    }
    expect(handedOn).toBeGreaterThan(0);
    await rt.close();
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Store } from '../../src/store/db.js';
import { Batch } from '../../src/ingest/batch.js';
import { WindowSet, lowerEdge } from '../../src/stats/windows.js';
import { kpisOf, emptyVector, addRecord } from '../../src/stats/vector.js';
import { OUTCOMES, type CallRecord, type Outcome } from '../../src/model/types.js';

const H = 3_600_000;
const AT = Date.UTC(2026, 10, 20, 17, 30);

function rec(ts: number, outcome: Outcome = 'answered', talkSec = 30, caller = '+12025550101', carrier = 'att'): CallRecord {
  return { ts, caller, called: '+13125550000', carrier, outcome, talkSec, attestation: 'A', source: 'test' };
}

function load(store: Store, bucketMs: number, records: CallRecord[]): Batch {
  const b = new Batch(bucketMs);
  for (const r of records) b.add(r);
  store.commit(b.toCommit());
  return b;
}

const WIDTHS = { '1h': H, '24h': 24 * H, '48h': 48 * H, '72h': 72 * H, '7d': 168 * H } as const;

/**
 * Feed a WindowSet calls (hours before the clock, number index, carrier) in len(steps) rounds, the clock moving `step`
 * hours after each, and check every window's order against the windows as they were kept before pair ids: a Map per
 * window, an entry made on a pair's first add and deleted when its calls reach 0 (a pair added again goes last).
 */
function checkOrder(calls: Array<[number, number, string]>, steps: number[]): void {
  const store = new Store(':memory:', { bucketMs: 60_000 });
  const ws = new WindowSet(store, 60_000);
  ws.build(AT, false);
  const names = Object.keys(WIDTHS) as Array<keyof typeof WIDTHS>;
  const ref = new Map(names.map((n) => [n, { map: new Map<string, number>(), edge: lowerEdge(AT, WIDTHS[n], 60_000), width: WIDTHS[n] }]));
  let at = AT;
  const pending = [...calls];
  const perStep = Math.ceil(calls.length / steps.length);
  for (const step of steps) {
    const now = pending.splice(0, perStep).map(([h, n, c], i) => rec(at - h * H + i * 1000, 'answered', 20, `+1202555${String(1000 + n)}`, c));
    const b = load(store, 60_000, now);
    const deltas = [...b.buckets.values()];
    ws.addBuckets(deltas);
    for (const d of deltas) {
      for (const r of ref.values()) {
        if (d.bucket < r.edge) continue;
        const k = `${d.number}\u0000${d.carrier}`;
        r.map.set(k, (r.map.get(k) ?? 0) + d.v[0]);
      }
    }
    const next = at + step * H;
    for (const r of ref.values()) {
      const edge = lowerEdge(next, r.width, 60_000);
      if (edge <= r.edge) continue;
      for (const d of store.bucketsBetween(r.edge, edge)) {
        const k = `${d.number}\u0000${d.carrier}`;
        if (!r.map.has(k)) continue;
        const left = r.map.get(k)! - d.v[0];
        if (left <= 0) r.map.delete(k);
        else r.map.set(k, left);
      }
      r.edge = edge;
    }
    ws.advance(next);
    at = next;
    for (const n of names) {
      const got: string[] = [];
      ws.forEach(n, (number, carrier, sums, o) => got.push(`${number}\u0000${carrier}=${sums[o]}`));
      expect(got).toEqual([...ref.get(n)!.map].map(([k, c]) => `${k}=${c}`));
      expect(ws.size(n)).toBe(got.length);
    }
  }
  store.close();
}

describe('KPIs (docs/architecture.md#kpis)', () => {
  it('computes every ratio from outcome counts; ratios over zero calls are null', () => {
    const v = emptyVector();
    expect(kpisOf(v)).toMatchObject({ calls: 0, answer_ratio: null, cancel_ratio: null, short_call_ratio: null, avg_talk_seconds: null });
    for (const [o, talk] of [['answered', 5], ['answered', 65], ['voicemail', 30], ['cancelled', 0], ['busy', 0], ['rejected', 0], ['blocked', 0], ['no_answer', 0], ['failed', 0], ['cancelled', 0]] as const) {
      addRecord(v, rec(0, o, talk));
    }
    const k = kpisOf(v);
    expect(k.calls).toBe(10);
    expect(k.answered).toBe(2);
    expect(k.answer_ratio).toBe(0.2);
    expect(k.cancel_ratio).toBe(0.2);
    expect(k.rejection_ratio).toBe(0.2); // rejected + busy
    expect(k.block_ratio).toBe(0.1);
    expect(k.voicemail_ratio).toBe(0.1);
    expect(k.short_call_ratio).toBe(0.5); // 5 s < 10 s, of answered only
    expect(k.avg_talk_seconds).toBe(35);
    expect(Object.values(k.outcomes).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('keeps ratios in [0,1] and outcome counts summing to calls (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...OUTCOMES), fc.nat(3600)), { maxLength: 200 }), (calls) => {
        const v = emptyVector();
        for (const [o, t] of calls) addRecord(v, rec(0, o, t));
        const k = kpisOf(v);
        for (const r of [k.answer_ratio, k.cancel_ratio, k.rejection_ratio, k.block_ratio, k.voicemail_ratio, k.short_call_ratio]) {
          if (k.calls === 0) expect(r).toBeNull();
          else if (r !== null) expect(r >= 0 && r <= 1).toBe(true);
        }
        expect(Object.values(k.outcomes).reduce((a, b) => a + b, 0)).toBe(k.calls);
      }),
    );
  });
});

describe('event-time windows', () => {
  it('counts calls in (at − W, at] exactly with one-second buckets', () => {
    const store = new Store(':memory:', { bucketMs: 1000 });
    load(store, 1000, [
      rec(AT - 7 * 24 * H), // exactly at the 7d edge: out
      rec(AT - 7 * 24 * H + 1000), // in 7d
      rec(AT - 24 * H), // out of 24h, in 7d
      rec(AT - 24 * H + 1000), // in 24h
      rec(AT - H + 1000), // in 1h
      rec(AT), // in every window
      rec(AT + 1000), // after --at: out
    ]);
    const w = new WindowSet(store, 1000);
    w.build(AT, true);
    const calls = (n: '1h' | '24h' | '7d') => [...w.copyOf(n).values()].reduce((s, x) => s + x.v[0], 0);
    expect(calls('1h')).toBe(2);
    expect(calls('24h')).toBe(3);
    expect(calls('7d')).toBe(5);
  });

  it('advances open windows incrementally and matches a full rebuild (property: 1h ⊆ 24h ⊆ 7d)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -9 * 24, max: 0 }), fc.constantFrom(...OUTCOMES), fc.constantFrom('att', 'tmobile')), { maxLength: 80 }),
        fc.integer({ min: 1, max: 72 }),
        (calls, stepHours) => {
          const store = new Store(':memory:', { bucketMs: 60_000 });
          const inc = new WindowSet(store, 60_000);
          inc.build(AT, false);
          const recs = calls.map(([h, o, c], i) => rec(AT + h * H + i * 1000, o, 20, '+12025550101', c));
          const b = load(store, 60_000, recs);
          inc.addBuckets(b.buckets.values());
          inc.advance(AT + stepHours * H);
          const full = new WindowSet(store, 60_000);
          full.build(AT + stepHours * H, false);
          for (const n of ['1h', '24h', '7d'] as const) {
            const a = [...inc.copyOf(n).entries()].map(([k, x]) => [k, [...x.v]]).sort();
            const e = [...full.copyOf(n).entries()].map(([k, x]) => [k, [...x.v]]).sort();
            expect(a).toEqual(e);
          }
          const total = (n: '1h' | '24h' | '7d') => [...full.copyOf(n).values()].reduce((s, x) => s + x.v[0], 0);
          expect(total('1h')).toBeLessThanOrEqual(total('24h'));
          expect(total('24h')).toBeLessThanOrEqual(total('7d'));
          store.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps each window in the order a Map keyed by pair would (the JSON and /metrics follow it), through adds, expiries and re-adds (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom('att', 'tmobile', 'verizon')), { minLength: 1, maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
        (calls, steps) => checkOrder(calls, steps),
      ),
      { numRuns: 80 },
    );
  });

  it("takes a batch's own columns (a pair's many rows, its id looked up once) as it takes the buckets one by one: same sums, same order, same changed numbers (property)", () => {
    // Calls: hours before the clock (some past 7d: in no window), number, carrier; several commits, the clock moving
    // between them so pairs leave the short windows and come back.
    const call = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5 }), fc.constantFrom('att', 'tmobile', 'verizon'), fc.constantFrom(...OUTCOMES));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(call, { maxLength: 60 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 6 }), (commits) => {
        const store = new Store(':memory:', { bucketMs: 60_000 });
        const byColumns = new WindowSet(store, 60_000);
        const byBucket = new WindowSet(store, 60_000);
        let at = AT;
        byColumns.build(at, false);
        byBucket.build(at, false);
        byColumns.takeChanges();
        byBucket.takeChanges();
        for (const [calls, stepHours] of commits) {
          const recs = calls.map(([h, n, c, o], i) => rec(at - h * H + i * 1000, o, 20, `+1202555${String(1000 + n)}`, c));
          const b = load(store, 60_000, recs);
          byColumns.addColumns(b.bucketColumns!);
          for (const d of b.buckets.values()) byBucket.addBuckets([d]);
          const changed = byColumns.takeChanges();
          expect(changed).toEqual(byBucket.takeChanges());
          // A number is changed when one of its calls fell in a window (the 7d window holds every other one).
          const inSome = new Set(recs.filter((r) => r.ts >= lowerEdge(at, WIDTHS['7d'], 60_000)).map((r) => r.caller));
          expect(changed).toEqual(inSome);
          for (const n of Object.keys(WIDTHS) as Array<keyof typeof WIDTHS>) {
            expect([...byColumns.copyOf(n).entries()].map(([k, x]) => [k, [...x.v]])).toEqual([...byBucket.copyOf(n).entries()].map(([k, x]) => [k, [...x.v]]));
          }
          at += stepHours * H;
          byColumns.advance(at);
          byBucket.advance(at);
          expect(byColumns.takeChanges()).toEqual(byBucket.takeChanges()); // the expiries
        }
        store.close();
      }),
      { numRuns: 150 },
    );
  });

  it('keeps that order when most pairs leave and new ones come, round after round (the order list is compacted)', () => {
    // Each round: 50 new pairs in the last minute, then the clock moves 2 h, so the 1h window lets all of them go.
    const rounds = 30;
    const calls: Array<[number, number, string]> = [];
    for (let r = 0; r < rounds; r++) for (let i = 0; i < 50; i++) calls.push([0, (r * 50 + i) % 997, ['att', 'tmobile'][r % 2]]);
    checkOrder(calls, Array<number>(rounds).fill(2));
  });

  it('places the lower edge on bucket boundaries', () => {
    expect(lowerEdge(AT, H, 60_000)).toBe(AT - H + 60_000);
    expect(lowerEdge(AT + 30_000, H, 60_000)).toBe(AT - H + 60_000);
  });
});

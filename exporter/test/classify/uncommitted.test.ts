import { describe, expect, it } from 'vitest';
import { Classifier, PendingKeys, type ClassifySink } from '../../src/classify/classifier.js';
import { CallKeySet } from '../../src/classify/callKeys.js';
import { numberPlan } from '../../src/model/phone.js';
import type { RawCall } from '../../src/model/types.js';

// serve commits several read steps in one transaction (FileIngestor): what those steps remembered must be found by
// the next step before it is committed, and forgotten if the transaction rolls back (its rows are read again).

function classifier(maxTrackedNumbers = 100) {
  const tracked = new Set<string>();
  return new Classifier({
    plan: numberPlan('1'),
    track: 'all',
    inventory: () => new Set<string>(),
    resolveCarrier: () => 'att',
    tracked,
    maxTrackedNumbers,
    keys: new CallKeySet(),
    secret: null,
  });
}

const call = (caller: string, called: string, ts: number): RawCall => ({ ts, caller, called, outcome: 'answered', talkSec: 30, attestation: 'A', source: 'generic', direction: 'outbound' });

/** One step's verdicts: 'count' or the skip reason, row by row. */
function step(c: Classifier, rows: RawCall[], source: number, pending?: ReturnType<Classifier['begin']>): string[] {
  const out: string[] = [];
  const sink: ClassifySink = {
    count: () => out.push('count'),
    skip: (_raw, reason) => out.push(reason),
    reject: (_i, reason) => out.push(`reject:${reason}`),
    remember: () => undefined,
  };
  c.step(rows, source, sink, pending);
  return out;
}

describe('keys and callers of uncommitted steps (a transaction of several steps)', () => {
  const t = Date.parse('2026-11-20T10:00:00Z');
  const a = call('+12025550101', '+13125550199', t);

  it('a leg in the next step of the same transaction is a leg; in another file, a duplicate', () => {
    const c = classifier();
    const tx = c.begin();
    expect(step(c, [a], 1, tx)).toEqual(['count']);
    expect(step(c, [{ ...a }], 1, tx)).toEqual(['leg']);
    expect(step(c, [{ ...a }], 2, c.begin())).toEqual(['duplicate_call']);
  });

  it('a rolled-back transaction is forgotten: its call is counted when read again', () => {
    const c = classifier();
    const tx = c.begin();
    expect(step(c, [a], 1, tx)).toEqual(['count']);
    c.rolledBack(tx);
    expect(step(c, [{ ...a }], 1, c.begin())).toEqual(['count']);
  });

  it('callers admitted by uncommitted steps count against max_tracked_numbers', () => {
    const c = classifier(1);
    const tx = c.begin();
    expect(step(c, [a], 1, tx)).toEqual(['count']);
    expect(step(c, [call('+12025550102', '+13125550199', t)], 1, tx)).toEqual(['numbers_over_cap']);
    // The caller the uncommitted step admitted is one of ours already: its next call is counted.
    expect(step(c, [call('+12025550101', '+13125550177', t + 60_000)], 1, tx)).toEqual(['count']);
  });
});

describe('PendingKeys: a transaction\'s keys, looked up as a key set', () => {
  /** A small xorshift: the same keys every run. */
  function rng(seed: number) {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % 4096; // few distinct values: many keys repeat, with other sources and starts
    };
  }

  it('answers as a CallKeySet given the same keys in the same order, steps and lookups interleaved', () => {
    const next = rng(7);
    const pending = new PendingKeys();
    const model = new CallKeySet();
    const before: Array<[number, number, number, number]> = []; // keys of earlier steps only
    for (let s = 0; s < 40; s++) {
      pending.beginStep();
      const stepModel = new CallKeySet();
      for (const q of before) stepModel.add(...q);
      for (let k = 0; k < 50; k++) {
        const q: [number, number, number, number] = [next(), next(), next() % 3, next()];
        pending.add(...q);
        model.add(...q);
        before.push(q);
        const hi = next();
        const lo = next();
        // From another transaction's step: every key so far; from this transaction's step: those of earlier steps.
        expect(pending.sourceOf(hi, lo, false)).toBe(model.sourceOf(hi, lo));
        expect(pending.sourceOf(hi, lo, true)).toBe(stepModel.sourceOf(hi, lo));
        expect(pending.sourceOf(q[0], q[1], false)).toBe(model.sourceOf(q[0], q[1]));
      }
    }
  });

  it('a step of a transaction does not see the keys it added itself, and sees them in the next step', () => {
    const pending = new PendingKeys();
    pending.beginStep();
    pending.add(1, 2, 5, 100);
    expect(pending.sourceOf(1, 2, true)).toBe(-1);
    expect(pending.sourceOf(1, 2, false)).toBe(5);
    pending.beginStep();
    expect(pending.sourceOf(1, 2, true)).toBe(5);
  });

  it('a transaction of one step builds no key set (its keys are only inserted once, when committed)', () => {
    const c = classifier();
    const tx = c.begin();
    const t = Date.parse('2026-11-20T10:00:00Z');
    const rows = Array.from({ length: 200 }, (_, i) => call(`+1202555${String(1000 + (i % 50)).padStart(4, '0')}`, `+1312555${String(1000 + i).padStart(4, '0')}`, t + i * 1000));
    expect(step(c, rows, 1, tx).filter((v) => v === 'count')).toHaveLength(200);
    expect(tx.keys.built).toBe(false);
    // The next step of the same transaction looks the first step's keys up: now there is one.
    expect(step(c, [{ ...rows[3] }], 1, tx)).toEqual(['leg']);
    expect(tx.keys.built).toBe(true);
  });
});

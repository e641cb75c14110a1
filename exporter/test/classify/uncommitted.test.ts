import { describe, expect, it } from 'vitest';
import { Classifier, type ClassifySink } from '../../src/classify/classifier.js';
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

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type LabelSnapshot } from '../../src/store/db.js';
import { RemediationError, remediationStats } from '../../src/store/remediation.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'numrep-remed-'));
  dirs.push(d);
  return join(d, 'numrep.db');
}
const labelBatch = (labels: LabelSnapshot[]) => ({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [], labels });
/** Our numbers: +12025550101 … +12025550109 in the inventory. */
function ours(store: Store): Store {
  const inventory = Array.from({ length: 9 }, (_, i) => ({ number: `+1202555010${i + 1}`, pool: 'default', campaign: null, registered: null, registeredAt: null }));
  store.commit({ ...labelBatch([]), inventory });
  return store;
}
const label = (number: string, engine: string, l: string, checkedAt: number): LabelSnapshot => ({ number, engine, label: l, checkedAt, reports: null });

describe('remediation cases in the store', () => {
  it('open → submitted → resolved, with events, survives closing and reopening the database', () => {
    const file = dbFile();
    let store = ours(new Store(file));
    const c = store.remediations.open({ number: '+12025550101', engine: 'hiya', ticket: 'HY-1', note: 'first try' }, T0);
    expect(c).toMatchObject({ id: 1, state: 'open', ticket: 'HY-1', note: 'first try', createdAt: T0 });
    store.remediations.update(c.id, { state: 'submitted' }, T0 + DAY);
    store.close();
    store = new Store(file);
    const done = store.remediations.update(c.id, { state: 'resolved' }, T0 + 3 * DAY);
    expect(done).toMatchObject({ state: 'resolved', submittedAt: T0 + DAY, closedAt: T0 + 3 * DAY });
    store.close();
    store = new Store(file);
    expect(store.remediations.list()).toEqual([done]);
    expect(store.remediations.events({ caseId: c.id }).map((e) => [e.event, e.state, e.at])).toEqual([
      ['opened', 'open', T0],
      ['submitted', 'submitted', T0 + DAY],
      ['resolved', 'resolved', T0 + 3 * DAY],
    ]);
    store.close();
  });

  it('refuses what a case cannot do: a second active case, a final state, an unknown engine or state', () => {
    const store = ours(new Store(':memory:'));
    const r = store.remediations;
    const c = r.open({ number: '+12025550101', engine: 'tns' }, T0);
    expect(() => r.open({ number: '+12025550101', engine: 'tns' }, T0)).toThrow(/already open/);
    expect(() => r.open({ number: '+12025550101', engine: 'verizon' }, T0)).toThrow(RemediationError);
    expect(() => r.update(c.id, { state: 'open' }, T0)).toThrow(/not one of submitted, resolved, rejected/);
    r.update(c.id, { state: 'rejected' }, T0 + DAY);
    const err = (() => {
      try {
        r.update(c.id, { state: 'resolved' }, T0 + 2 * DAY);
      } catch (e) {
        return e as RemediationError;
      }
    })();
    expect(err?.status).toBe(409);
    expect(() => r.update(99, { state: 'resolved' }, T0)).toThrow(/no remediation case 99/);
    // Not one of ours (a consumer's number typed by mistake): refused, and not repeated in the error.
    expect(() => r.open({ number: '+13125550199', engine: 'tns' }, T0)).toThrow(/^that number is not one of ours/);
    // A final case leaves room for a new one.
    expect(r.open({ number: '+12025550101', engine: 'tns' }, T0 + 3 * DAY).id).toBe(c.id + 1);
    // A number pasted into a note is not kept in clear (the ticket is kept as given).
    const noted = r.update(c.id + 1, { note: 'complaint from +1 (312) 555-0199, called 2026-11-30', ticket: 'CG-2026-77' }, T0 + 4 * DAY);
    expect(noted).toMatchObject({ note: 'complaint from +<digits:11>, called 2026-11-30', ticket: 'CG-2026-77' });
    expect(r.events({ caseId: noted.id }).at(-1)).toMatchObject({ event: 'noted', state: 'open' });
    store.close();
  });

  it('a flagging label suggests a case once; opening it keeps its id; a benign or older label suggests nothing', () => {
    const store = new Store(':memory:', { now: () => T0 + DAY });
    store.commit(labelBatch([label('+12025550101', 'hiya', 'spam', T0), label('+12025550102', 'hiya', 'clean', T0), label('+12025550103', 'other', 'spam', T0)]));
    store.commit(labelBatch([label('+12025550101', 'hiya', 'spam', T0 + 1000)]));
    const suggested = store.remediations.list();
    expect(suggested.map((c) => [c.number, c.engine, c.state, c.label, c.createdAt])).toEqual([['+12025550101', 'hiya', 'suggested', 'spam', T0 + DAY]]);
    // The number was labelled spam, then clean, in one import: its latest label is benign.
    store.commit(labelBatch([label('+12025550104', 'tns', 'scam', T0), label('+12025550104', 'tns', 'clean', T0 + 1)]));
    // An older flag than the one stored is history, not news.
    store.commit(labelBatch([label('+12025550102', 'hiya', 'spam', T0 - DAY)]));
    expect(store.remediations.list()).toHaveLength(1);
    const opened = store.remediations.open({ number: '+12025550101', engine: 'hiya', ticket: 'T-9' }, T0 + 2 * DAY);
    expect(opened).toMatchObject({ id: suggested[0].id, state: 'open', ticket: 'T-9', label: 'spam' });
    expect(store.remediations.events({ number: '+12025550101' }).map((e) => e.event)).toEqual(['suggested', 'opened']);
    store.close();
  });

  it('a label that is benign by configuration suggests nothing', () => {
    const store = new Store(':memory:', { benignLabels: ['clean', 'unknown', 'survey'] });
    store.commit(labelBatch([label('+12025550101', 'hiya', 'survey', T0)]));
    expect(store.remediations.list()).toEqual([]);
    store.close();
  });

  it('a resolved case flagged again by its engine within 30 days is re-flagged (and a new case is suggested); later is not', () => {
    const store = ours(new Store(':memory:', { now: () => T0 + 40 * DAY }));
    const r = store.remediations;
    const a = r.open({ number: '+12025550101', engine: 'first_orion' }, T0);
    r.update(a.id, { state: 'resolved' }, T0 + DAY);
    const b = r.open({ number: '+12025550102', engine: 'first_orion' }, T0);
    r.update(b.id, { state: 'resolved' }, T0 + DAY);
    store.commit(labelBatch([label('+12025550101', 'first_orion', 'spam', T0 + 20 * DAY), label('+12025550102', 'first_orion', 'spam', T0 + 32 * DAY)]));
    expect(r.get(a.id)!.reflaggedAt).toBe(T0 + 20 * DAY);
    expect(r.get(b.id)!.reflaggedAt).toBe(null);
    expect(r.events({ caseId: a.id }).at(-1)).toMatchObject({ event: 'reflagged', state: 'resolved' });
    expect(r.list({ state: 'suggested' }).map((c) => c.number).sort()).toEqual(['+12025550101', '+12025550102']);
    const s = remediationStats(r.list(), T0 + 40 * DAY);
    expect(s.reflagged.get('first_orion')).toBe(1);
    expect(s.cases.get('first_orion')!.get('resolved')).toBe(2);
    expect(s.cases.get('first_orion')!.get('suggested')).toBe(2);
    store.close();
  });

  it('stats: time in review from submitted (else opened) to closed, oldest submitted case by engine', () => {
    const store = ours(new Store(':memory:'));
    const r = store.remediations;
    const a = r.open({ number: '+12025550101', engine: 'hiya' }, T0);
    r.update(a.id, { state: 'submitted' }, T0 + DAY);
    r.update(a.id, { state: 'resolved' }, T0 + 4 * DAY);
    const b = r.open({ number: '+12025550102', engine: 'hiya' }, T0);
    r.update(b.id, { state: 'rejected' }, T0 + 2 * DAY);
    const c = r.open({ number: '+12025550103', engine: 'tns' }, T0);
    r.update(c.id, { state: 'submitted' }, T0 + DAY);
    const s = remediationStats(r.list(), T0 + 6 * DAY);
    expect(s.reviews.sort((x, y) => x.seconds - y.seconds)).toEqual([
      { engine: 'hiya', outcome: 'rejected', seconds: 2 * 86_400 },
      { engine: 'hiya', outcome: 'resolved', seconds: 3 * 86_400 },
    ]);
    expect(s.oldestSubmittedSeconds.get('tns')).toBe(5 * 86_400);
    expect(s.oldestSubmittedSeconds.has('hiya')).toBe(false);
    store.close();
  });
});

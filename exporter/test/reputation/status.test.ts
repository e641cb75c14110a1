import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG as D } from '../../src/reputation/config.js';
import { countsOf, type Counts } from '../../src/reputation/math.js';
import { decideStatus, numberSignals, windowFlagged, type Signal } from '../../src/reputation/status.js';
import { kpis, type Traffic } from './helpers.js';

const C = (t: Traffic): Counts => countsOf(kpis(t));
const sig = (window: '24h' | '7d', severity: 'warning' | 'flag', kind: Signal['kind'] = 'rejection', carrier?: string): Signal => ({
  window,
  severity,
  kind,
  carrier,
  reason: `${kind}${carrier ? ` on ${carrier}` : ''} (${window})`,
});

describe('status transitions', () => {
  const base = { calls7d: 300, labels: [], signals: [] as Signal[] };

  it('healthy with no signal', () => {
    expect(decideStatus(base, D)).toMatchObject({ status: 'healthy', reason: 'no warnings over 300 calls in 7d' });
  });

  it('in_progress below 20 calls in 7d with no label — even with signals', () => {
    expect(decideStatus({ ...base, calls7d: 19, signals: [sig('24h', 'flag', 'blocks'), sig('7d', 'flag', 'blocks')] }, D)).toMatchObject({
      status: 'in_progress',
      reason: '19 calls in 7d, fewer than 20 needed to judge',
    });
    expect(decideStatus({ ...base, calls7d: 20 }, D).status).toBe('healthy');
  });

  it('spam when labelled now, whatever the calls', () => {
    const r = decideStatus({ ...base, calls7d: 0, labels: [{ engine: 'first_orion', label: 'scam', checked_at: '2026-11-21T10:00:00Z' }] }, D);
    expect(r).toMatchObject({ status: 'spam', reason: 'labelled scam by first_orion (checked 2026-11-21)' });
  });

  it('mixed when a flag or warning is in one window only', () => {
    expect(decideStatus({ ...base, signals: [sig('24h', 'flag', 'blocks')] }, D).status).toBe('mixed');
    expect(decideStatus({ ...base, signals: [sig('7d', 'flag', 'blocks')] }, D).status).toBe('mixed');
    expect(decideStatus({ ...base, signals: [sig('24h', 'warning')] }, D).status).toBe('mixed');
  });

  it('mixed when warnings (not flags) show in both windows', () => {
    expect(decideStatus({ ...base, signals: [sig('24h', 'warning'), sig('7d', 'warning')] }, D).status).toBe('mixed');
  });

  it('spam when flagged consistently in 24h and 7d', () => {
    const r = decideStatus({ ...base, signals: [sig('24h', 'flag', 'blocks'), sig('7d', 'flag', 'carrier_flagged', 'att')] }, D);
    expect(r.status).toBe('spam');
    expect(r.reason).toBe('flagged in 24h and 7d: blocks (24h); carrier_flagged on att (7d)');
    expect(r.flagged).toEqual({ '24h': true, '7d': true });
  });

  it('three distinct warnings in a window count as a flag there', () => {
    const three = (w: '24h' | '7d') => [sig(w, 'warning', 'rejection'), sig(w, 'warning', 'short_calls'), sig(w, 'warning', 'carrier_warning', 'att')];
    expect(windowFlagged(three('24h'), '24h', D)).toBe(true);
    expect(windowFlagged(three('24h').slice(0, 2), '24h', D)).toBe(false);
    // The same kind on two carriers is two warnings.
    expect(windowFlagged([sig('7d', 'warning', 'carrier_warning', 'att'), sig('7d', 'warning', 'carrier_warning', 'verizon'), sig('7d', 'warning', 'cancel')], '7d', D)).toBe(true);
    expect(decideStatus({ ...base, signals: [...three('24h'), ...three('7d')] }, D).status).toBe('spam');
    expect(decideStatus({ ...base, signals: [...three('24h'), sig('7d', 'warning')] }, D).status).toBe('mixed');
  });
});

describe('number signals', () => {
  const quiet = { carriers: {} };
  it('raise nothing on a quiet healthy number', () => {
    const w = C({ answered: 45, voicemail: 10, cancelled: 8, no_answer: 33, busy: 2, rejected: 2, short: 2, talk: 80 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D)).toEqual([]);
  });

  it('rejection above 15 % with at least 20 calls', () => {
    const w = C({ answered: 40, rejected: 10, busy: 6, no_answer: 44 });
    const s = numberSignals({ ...quiet, w24h: w, w7d: w }, D);
    expect(s.filter((x) => x.kind === 'rejection').map((x) => x.reason)).toEqual([
      'rejection rate 16 % over 100 calls (24h) > 15 %',
      'rejection rate 16 % over 100 calls (7d) > 15 %',
    ]);
    const few = C({ answered: 5, rejected: 10, no_answer: 4 });
    expect(numberSignals({ ...quiet, w24h: few, w7d: few }, D).filter((x) => x.kind === 'rejection')).toEqual([]);
  });

  it('short calls above 15 % of at least 10 answered', () => {
    const w = C({ answered: 20, no_answer: 20, short: 4 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D).map((x) => x.kind)).toContain('short_calls');
    const ok = C({ answered: 20, no_answer: 20, short: 3 });
    expect(numberSignals({ ...quiet, w24h: ok, w7d: ok }, D).map((x) => x.kind)).not.toContain('short_calls');
  });

  it('answer below 25 % unless the pool answers just as badly', () => {
    const w = C({ answered: 20, no_answer: 80 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D).map((x) => x.kind)).toEqual(['answer_low', 'answer_low']);
    const pool = { '24h': C({ answered: 250, no_answer: 750 }), '7d': C({ answered: 250, no_answer: 750 }) };
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, pool }, D)).toEqual([]);
  });

  it('voicemail above 60 % may mean filtering', () => {
    const w = C({ answered: 30, voicemail: 61, no_answer: 9 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D)[0]!.reason).toBe('voicemail 61 % of 100 calls (24h) > 60 %: calls may be filtered');
  });

  it('spam reports above 2 % of delivered calls', () => {
    const w = C({ answered: 50, no_answer: 50 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, reportRatio: 0.021 }, D).map((x) => x.reason)).toEqual(['spam report rate 2.1 % > 2.0 %']);
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, reportRatio: 0.02 }, D)).toEqual([]);
  });

  it('blocks ≥ 5 % (and at least 2) are a flag', () => {
    const w = C({ answered: 50, blocked: 3, no_answer: 7 });
    const s = numberSignals({ ...quiet, w24h: w, w7d: w }, D);
    expect(s.filter((x) => x.kind === 'blocks').map((x) => [x.severity, x.reason])).toEqual([
      ['flag', 'block ratio 5.0 % (3 of 60 calls, 24h)'],
      ['flag', 'block ratio 5.0 % (3 of 60 calls, 7d)'],
    ]);
  });
});

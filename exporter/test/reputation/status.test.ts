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

  it('rejection confidently above 15 % (Wilson lower bound), with at least 20 calls', () => {
    const w = C({ answered: 40, rejected: 20, busy: 10, no_answer: 30 });
    const s = numberSignals({ ...quiet, w24h: w, w7d: w }, D);
    expect(s.filter((x) => x.kind === 'rejection').map((x) => x.reason)).toEqual([
      'rejection rate 30 % over 100 calls (24h; lower bound 23 %) > 15 %',
      'rejection rate 30 % over 100 calls (7d; lower bound 23 %) > 15 %',
    ]);
    // 20 % over 100 calls could still be a 15 % number having a bad day.
    const noisy = C({ answered: 40, rejected: 20, no_answer: 40 });
    expect(numberSignals({ ...quiet, w24h: noisy, w7d: noisy }, D)).toEqual([]);
    const few = C({ answered: 5, rejected: 10, no_answer: 4 });
    expect(numberSignals({ ...quiet, w24h: few, w7d: few }, D).filter((x) => x.kind === 'rejection')).toEqual([]);
  });

  it('short calls confidently above 15 % of at least 10 answered', () => {
    const w = C({ answered: 40, no_answer: 20, short: 14 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D)[0]!.reason).toBe('short calls 35 % of 40 answered (24h; lower bound 24 %) > 15 %');
    const ok = C({ answered: 40, no_answer: 20, short: 8 });
    expect(numberSignals({ ...quiet, w24h: ok, w7d: ok }, D).map((x) => x.kind)).not.toContain('short_calls');
  });

  it('answer below 25 % unless the pool answers just as badly', () => {
    const w = C({ answered: 10, no_answer: 90 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D).map((x) => x.kind)).toEqual(['answer_low', 'answer_low']);
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D)[0]!.reason).toBe('answer rate 10 % over 100 calls (24h; upper bound 16 %) < 25 %');
    const pool = { '24h': C({ answered: 120, no_answer: 880 }), '7d': C({ answered: 120, no_answer: 880 }) };
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, pool }, D)).toEqual([]);
  });

  it('voicemail above 60 % may mean filtering', () => {
    const w = C({ answered: 15, voicemail: 80, no_answer: 5 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w }, D).find((x) => x.kind === 'voicemail')!.reason).toBe(
      'voicemail 80 % of 100 calls (24h; lower bound 73 %) > 60 %: calls may be filtered',
    );
  });

  it('spam reports above 2 % of delivered calls', () => {
    const w = C({ answered: 50, no_answer: 50 });
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, reportRatio: 0.021 }, D).map((x) => x.reason)).toEqual(['spam report rate 2.1 % > 2.0 %']);
    expect(numberSignals({ ...quiet, w24h: w, w7d: w, reportRatio: 0.02 }, D)).toEqual([]);
  });

  it('an answer drop must be over 10 points and significant (Newcombe lower bound > 0)', () => {
    const prior = { answered: 200, no_answer: 200 };
    const big = C({ answered: 20, no_answer: 80 });
    const s = numberSignals({ ...quiet, w24h: big, w7d: C({ answered: 220, no_answer: 280 }) }, D).filter((x) => x.kind === 'answer_drop');
    expect(s.map((x) => x.reason)).toEqual(['answer rate fell 30 points (50 % over the prior 6 days → 20 % in 24h)']);
    // 15 points down over a 20-call day: a size that matters, but not yet evidence.
    const small = C({ answered: 7, no_answer: 13 });
    const w7d = C({ answered: prior.answered + 7, no_answer: prior.no_answer + 13 });
    expect(numberSignals({ ...quiet, w24h: small, w7d }, D).filter((x) => x.kind === 'answer_drop')).toEqual([]);
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

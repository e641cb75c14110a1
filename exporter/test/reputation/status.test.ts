import { describe, expect, it } from 'vitest';
import { assessNumber } from '../../src/reputation/assess.js';
import { carrierBaselines } from '../../src/reputation/carrierFlag.js';
import { DEFAULT_REPUTATION_CONFIG as D } from '../../src/reputation/config.js';
import { ALL_CARRIERS, carrierEvents } from '../../src/reputation/events.js';
import { DAY, kpis, mix, NOW } from './helpers.js';
import { buildNumber, CARRIERS, healthyDays, HEALTHY, num, poolBaselines } from './scenario.js';

// Status, action and diagnosis (docs/scoring.md §7, issue 16): direct evidence needs no volume; industry bands
// are context; pacing only slows down; reasons are whole.

describe('direct evidence needs no volume', () => {
  it('blocked on 6 of 6 calls by each of two carriers (608, 603+), 18 calls in 7d: spam, not in_progress', () => {
    const b = buildNumber(num(0), [
      { att: mix(6, { blocked: 1 }), verizon: mix(6, { blocked: 1 }), tmobile: mix(2, HEALTHY) },
      { tmobile: mix(4, HEALTHY) },
    ]);
    const a = assessNumber(b.input, { now: NOW });
    expect(a.carriers.att!.flag).toBe('flagged');
    expect(a.carriers.verizon!.flag).toBe('flagged');
    expect(a.status).toBe('spam');
    expect(['retire', 'rest']).toContain(a.recommendation.action);
    expect(a.diagnosis).toBe('blacklisted');
    expect(a.diagnosisReason).toContain('6 blocked (608/603+) of 6 calls on att');
  });

  it('one block flags the carrier: mixed and rest, even on a quiet number', () => {
    const b = buildNumber(num(0), [{}, {}, {}, { att: mix(8, { ...HEALTHY, blocked: 0.125 }) }]);
    const a = assessNumber(b.input, { now: NOW });
    expect(a.carriers.att!.flag).toBe('flagged');
    expect(a.status).toBe('mixed');
    expect(a.recommendation.action).toBe('rest');
  });

  it('in_progress only with too few calls and no block or label', () => {
    const a = assessNumber(buildNumber(num(0), [{ att: mix(8, HEALTHY) }]).input, { now: NOW });
    expect(a.status).toBe('in_progress');
    expect(a.diagnosis).toBe('healthy');
  });
});

describe('bands are context, pacing only slows down, reasons are whole', () => {
  it('a list that simply answers less (20 %, every day) is healthy; the band is named as context', () => {
    const low = { ...HEALTHY, answered: 0.2 };
    const subject = buildNumber(num(0), healthyDays(25, low));
    const a = assessNumber(subject.input, { now: NOW, baselines: poolBaselines([subject, ...Array.from({ length: 9 }, (_, i) => buildNumber(num(i + 1), healthyDays()))]) });
    expect(a.status).toBe('healthy');
    expect(a.recommendation.action).toBe('keep');
    const band = a.signals.find((s) => s.name === 'answer_rate')!;
    expect(band).toMatchObject({ met: true, effect: 'context', threshold: 0.25, direction: '<' });
    expect(a.statusReason).toContain('context: answer rate 20 % over 525 calls (7d) < 25 %');
  });

  it('every reason is listed whole (no "+N more")', () => {
    const days = healthyDays();
    for (const c of CARRIERS) days[0]![c] = mix(25, { ...HEALTHY, blocked: 0.2 });
    const a = assessNumber(buildNumber(num(0), days).input, { now: NOW });
    expect(a.statusReason).not.toMatch(/more/);
    for (const c of CARRIERS) expect(a.statusReason).toContain(`on ${c} (20.0 %, 24h)`);
    expect(a.recommendation.reason).toContain(a.statusReason);
  });
});

describe('pool and carrier events, diagnosis external', () => {
  it('a carrier whose whole pool answers 20 points less is an event; its numbers are external, not degrading', () => {
    const dropped = () => {
      const d = healthyDays();
      d[0]!.att = mix(25, { ...HEALTHY, answered: 0.2 });
      return d;
    };
    const numbers = Array.from({ length: 10 }, (_, i) => buildNumber(num(i), dropped()));
    const baselines = poolBaselines(numbers);
    const events = carrierEvents(baselines, D);
    expect(events.find((e) => e.carrier === 'att' && e.event === 'answer_drop')).toMatchObject({ active: true });
    expect(events.find((e) => e.carrier === 'verizon' && e.event === 'answer_drop')).toMatchObject({ active: false });
    expect(events.find((e) => e.carrier === ALL_CARRIERS && e.event === 'answer_drop')!.points).toBeCloseTo(25 / 3, 0);
    const a = assessNumber(numbers[0]!.input, { now: NOW, baselines, events });
    expect(a.diagnosis).toBe('external');
    expect(a.status).toBe('healthy');
    expect(a.recommendation.reason).toMatch(/answer rate on att pool-wide 20 % in 24h vs 44 % over the 6 days before \(fell 24 points\): external, not this number$/);
  });

  it('no event below the volume floor', () => {
    const b = carrierBaselines({ att: { '24h': kpis({ answered: 10, no_answer: 90 }), '7d': kpis({ answered: 90, no_answer: 110 }) } });
    expect(carrierEvents(b, D).every((e) => !e.active)).toBe(true);
  });

  it('the diagnosis is degrading when the number’s own evidence is met', () => {
    const days = healthyDays();
    const collapse = { answered: 0.1, voicemail: 0.1, cancelled: 0.45, rejected: 0.2, failed: 0.02 };
    for (const i of [0, 1]) days[i]!.tmobile = mix(25, collapse, { shortShare: 0.5, talk: 20 });
    const subject = buildNumber(num(0), days);
    const a = assessNumber(subject.input, { now: NOW + 0 * DAY, baselines: poolBaselines([subject, ...Array.from({ length: 9 }, (_, i) => buildNumber(num(i + 1), healthyDays()))]) });
    expect(a.carriers.tmobile!.flag).toBe('warning');
    expect(a.diagnosis).toBe('degrading');
    expect(a.status).toBe('mixed');
    expect(a.recommendation.action).toBe('slow_down');
  });
});

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { conversionDrop } from '../../src/reputation/engagement.js';
import { assessNumber } from '../../src/reputation/assess.js';
import { DEFAULT_REPUTATION_CONFIG, parseReputationConfig } from '../../src/reputation/config.js';
import { diagnose } from '../../src/reputation/diagnosis.js';
import { countsOf } from '../../src/reputation/math.js';
import { kpis, mix, plus } from './helpers.js';
import { tmp } from '../core/helpers.js';

// The operators' second situation, "declining score, stable answers", read through the dialer's dispositions:
// answers hold while the people reached convert less → diagnosis `engagement` (the list, script or offer), a
// context signal that never changes the status or the action.

const cfg = DEFAULT_REPUTATION_CONFIG;
const people = (connected_human: number, conversions: number) => ({ connected_human, conversions });

/** 24h and the 6 days before, each with `calls` calls answered at `answer`. */
function windows(calls24: number, answer24: number, callsBefore: number, answerBefore: number) {
  const recent = mix(calls24, { answered: answer24 });
  const before = mix(callsBefore, { answered: answerBefore });
  return { w24h: countsOf(kpis(recent)), w7d: countsOf(kpis(plus(recent, before))) };
}

describe('conversion_drop', () => {
  it('met: answers stable, conversions fell beyond chance and by enough points', () => {
    const w = windows(200, 0.4, 1200, 0.41);
    const s = conversionDrop({ ...w, dispositions: { '24h': people(80, 4), '7d': people(80 + 490, 4 + 98) } }, cfg)!;
    expect(s.met).toBe(true);
    expect(s.effect).toBe('context');
    expect(s.value).toBeCloseTo(0.2 - 0.05, 6);
    expect(s.reason).toBe(
      'answers stable (40 % in 24h vs 41 % before), conversions 5 % of 80 people reached in 24h vs 20 % of 490 before: the list, script or offer, not the number\'s reputation — check the campaign before resting the number',
    );
  });

  it('not met when the answers moved too (then the number, not the list, is the suspect)', () => {
    const w = windows(200, 0.3, 1200, 0.41);
    const s = conversionDrop({ ...w, dispositions: { '24h': people(60, 3), '7d': people(60 + 490, 3 + 98) } }, cfg)!;
    expect(s.met).toBe(false);
    expect(s.reason).toMatch(/^answers moved \(30 % in 24h vs 41 % before\)/);
  });

  it('not met within chance, nor when conversions rose, nor below the people-reached floor', () => {
    const w = windows(200, 0.4, 1200, 0.4);
    // 20 % → 12 % over 25 people reached: a fall, but not beyond chance at z = 3.
    const small = conversionDrop({ ...w, dispositions: { '24h': people(25, 3), '7d': people(25 + 490, 3 + 98) } }, cfg)!;
    expect(small.met).toBe(false);
    expect(small.reason).toContain('(within chance)');
    const rose = conversionDrop({ ...w, dispositions: { '24h': people(80, 30), '7d': people(80 + 490, 30 + 98) } }, cfg)!;
    expect(rose.met).toBe(false);
    const few = conversionDrop({ ...w, dispositions: { '24h': people(19, 0), '7d': people(19 + 490, 98) } }, cfg)!;
    expect(few).toMatchObject({ met: false, value: null });
    expect(few.reason).toBe('conversions not compared: 19 people reached in 24h and 490 in the 6 days before, 20 needed on each side');
  });

  it('absent without dispositions; the points and z come from the config', () => {
    const w = windows(200, 0.4, 1200, 0.41);
    expect(conversionDrop({ ...w }, cfg)).toBeNull();
    expect(conversionDrop({ ...w, dispositions: { '7d': people(0, 0) } }, cfg)).toBeNull();
    const strict = parseReputationConfig({ diagnosis: { conversionDropPoints: 20 } });
    expect(conversionDrop({ ...w, dispositions: { '24h': people(80, 4), '7d': people(570, 102) } }, strict)!.met).toBe(false);
    expect(() => parseReputationConfig({ diagnosis: { z: 0 } })).toThrow(/diagnosis\.z: must be > 0/);
    expect(() => parseReputationConfig({ diagnosis: { minPeople: 3 } })).toThrow(/unknown key/);
  });
});

describe('diagnosis reads dispositions', () => {
  const day = 86_400_000;
  const now = Date.parse('2026-11-20T12:00:00Z');
  const input = (d: { '24h': ReturnType<typeof people>; '7d': ReturnType<typeof people> } | undefined) => {
    const recent = mix(200, { answered: 0.4 });
    const all = plus(recent, mix(1200, { answered: 0.41 }));
    return { number: '+12025550101', windows: { '24h': kpis(recent), '7d': kpis(all) }, firstSeen: now - 30 * day, dispositions: d };
  };

  it('engagement, with the status and the action unchanged', () => {
    const plain = assessNumber(input(undefined), { now });
    const a = assessNumber(input({ '24h': people(80, 4), '7d': people(570, 102) }), { now });
    expect(plain.diagnosis).toBe('healthy');
    expect(a.diagnosis).toBe('engagement');
    expect(a.diagnosisReason).toMatch(/^answers stable \(40 % in 24h vs 41 % before\), conversions 5 % of 80/);
    expect(a.status).toBe(plain.status);
    expect(a.score).toBe(plain.score);
    expect(a.recommendation.action).toBe(plain.recommendation.action);
    expect(a.signals.find((s) => s.name === 'conversion_drop')?.met).toBe(true);
    // Stable conversions: healthy, the signal listed as not met.
    const stable = assessNumber(input({ '24h': people(80, 16), '7d': people(570, 114) }), { now });
    expect(stable.diagnosis).toBe('healthy');
    expect(stable.signals.find((s) => s.name === 'conversion_drop')?.met).toBe(false);
  });

  it('direct evidence and own warnings come first', () => {
    const conversion = { name: 'conversion_drop', window: '24h', value: 0.15, threshold: 0.05, direction: '>' as const, met: true, effect: 'context' as const, reason: 'conversions fell' };
    const warning = { ...conversion, name: 'outcome_shift', effect: 'warning' as const, reason: 'refusals rose' };
    expect(diagnose({ labelled: false, carriers: {}, signals: [conversion], events: [] }).diagnosis).toBe('engagement');
    expect(diagnose({ labelled: false, carriers: {}, signals: [warning, conversion], events: [] }).diagnosis).toBe('degrading');
    expect(diagnose({ labelled: true, carriers: {}, signals: [conversion], events: [] }).diagnosis).toBe('blacklisted');
  });
});

describe('report --json: a campaign whose conversions collapse while answers hold', () => {
  const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  const AT = Date.parse('2026-11-20T17:30:00Z');
  const H = 3_600_000;

  it('the number whose people reached stopped converting is engagement; its twin with steady conversions is healthy', () => {
    const dir = tmp('numrep-engagement-');
    const rows = ['caller,called,start,billsec,disposition,dialer_result'];
    let k = 0;
    let reached = 0;
    // Two numbers, 7 days, 20 calls every 2 hours: 2 of 5 answered by a person; the answered ones convert at 20 %,
    // except the last 24h of +12025550101, where 1 in 20 converts.
    for (const caller of ['+12025550101', '+12025550102']) {
      for (let h = 167; h >= 1; h -= 2) {
        for (let i = 0; i < 20; i++) {
          const ts = AT - h * H + i * 60_000;
          const answered = i % 5 < 2;
          const recent = h < 24 && caller === '+12025550101';
          const n = k++;
          const a = answered ? reached++ : -1;
          const sale = answered && (recent ? a % 20 === 0 : a % 5 === 0);
          const called = `+1312${String(5550000 + (n % 9000)).padStart(7, '0')}`;
          rows.push([caller, called, new Date(ts).toISOString(), answered ? 45 : 0, answered ? 'answered' : 'no_answer', answered ? (sale ? 'SALE' : 'NI') : ''].join(','));
        }
      }
    }
    writeFileSync(join(dir, 'dialer.csv'), rows.join('\n') + '\n');
    const stdout = execFileSync(process.execPath, [CLI, 'report', '--json', '--at', new Date(AT).toISOString(), join(dir, 'dialer.csv')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const json = JSON.parse(stdout) as { numbers: { number: string; status: string; diagnosis: { diagnosis: string; reason: string }; recommendation: { action: string } }[] };
    const by = new Map(json.numbers.map((n) => [n.number, n]));
    expect(by.get('+12025550101')!.diagnosis.diagnosis).toBe('engagement');
    expect(by.get('+12025550101')!.diagnosis.reason).toMatch(/^answers stable \(40 % in 24h vs 40 % before\), conversions \d+(\.\d)? % of 96 people reached in 24h vs 20 % of 576 before: the list, script or offer/);
    expect(by.get('+12025550102')!.diagnosis.diagnosis).toBe('healthy');
    expect(by.get('+12025550101')!.status).toBe(by.get('+12025550102')!.status);
    expect(by.get('+12025550101')!.recommendation.action).toBe(by.get('+12025550102')!.recommendation.action);
    // No consumer number in the output.
    expect(stdout).not.toMatch(/\+1312555\d{4}/);
  });
});

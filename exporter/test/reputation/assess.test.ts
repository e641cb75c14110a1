import { describe, expect, it } from 'vitest';
import { assessNumber, assessmentJson } from '../../src/reputation/assess.js';
import { parseReputationConfig, type ReputationConfig } from '../../src/reputation/config.js';
import { DAY, kpis, mix, NOW } from './helpers.js';
import { buildNumber, CARRIERS, healthyDays, HEALTHY, num, poolBaselines, type Built, type Days } from './scenario.js';

/** Nine healthy peers plus the number under test. */
function pool(subject: Built) {
  const peers = Array.from({ length: 9 }, (_, i) => buildNumber(num(i + 1), healthyDays()));
  return { baselines: poolBaselines([subject, ...peers]), peers };
}

function assess(subject: Built, peers?: Built[], config?: ReputationConfig) {
  const baselines = peers?.length ? poolBaselines([subject, ...peers]) : pool(subject).baselines;
  return assessNumber(subject.input, { now: NOW, baselines, ...(config ? { config } : {}) });
}

describe('scenarios (issue 4 §9)', () => {
  it('a plainly healthy number is healthy, scores excellent and is kept', () => {
    const a = assess(buildNumber(num(0), healthyDays()));
    expect(a.status).toBe('healthy');
    expect(a.recommendation.action).toBe('keep');
    expect(a.recommendation.reason).toMatch(/^score \d+ \(excellent\), answer rate 44 % over 525 calls in 7d, no early warning, block or label$/);
    expect(a.score).toBeGreaterThanOrEqual(80);
    for (const c of CARRIERS) expect(a.carriers[c]!.flag).toBe('clean');
    expect(a.diagnosis).toBe('healthy');
    // Every figure is listed, none is met.
    expect(a.signals.filter((s) => s.met)).toEqual([]);
    expect(a.signals.filter((s) => s.name === 'outcome_shift').map((s) => s.carrier ?? '*').sort()).toEqual(['*', 'att', 'tmobile', 'verizon']);
  });

  it('(a) an answer-rate drop on every number and carrier at once is pool-wide, not a number problem', () => {
    const dropped = (): Days => {
      const d = healthyDays();
      for (const c of CARRIERS) d[0]![c] = mix(25, { ...HEALTHY, answered: 0.2 }, { shortShare: 0.05, talk: 90 });
      return d;
    };
    const subject = buildNumber(num(0), dropped());
    const peers = Array.from({ length: 9 }, (_, i) => buildNumber(num(i + 1), dropped()));
    const a = assess(subject, peers);
    expect(a.status).toBe('healthy');
    expect(a.recommendation.action).toBe('keep');
    expect(a.recommendation.reason).toMatch(/answer rate pool-wide \d+ % in 24h vs \d+ % over the 6 days before \(fell \d+ points\).*: external, not this number/);
    expect(a.diagnosis).toBe('external');
    expect(a.detail.connection.drop_points).toBeGreaterThan(20);
    expect(a.detail.connection.own_drop_points).toBeCloseTo(0, 6);
    expect(a.detail.connection.drop_penalty).toBe(0);
    for (const c of CARRIERS) expect(a.carriers[c]!.flag).toBe('clean');
    // Without the pool context the same figures are the number's own drop.
    const alone = assessNumber(subject.input, { now: NOW });
    expect(alone.detail.connection.drop_penalty).toBeGreaterThan(0);
    // …and its evidence (still under the budget's threshold on one day of 75 calls) is what the pool's move cancels.
    const g = (x: typeof a) => x.signals.find((sig) => sig.name === 'outcome_shift' && !sig.carrier)!.value!;
    expect(g(alone)).toBeGreaterThan(10);
    expect(g(a)).toBeLessThan(1);
  });

  it('(b) a declining score with a stable answer rate warns and slows down before labelling', () => {
    const days = healthyDays();
    for (const c of CARRIERS) {
      days[0]![c] = mix(25, { ...HEALTHY, rejected: 0.2 }, { shortShare: 0.45, talk: 20 });
    }
    const healthy = assess(buildNumber(num(0), healthyDays()));
    const a = assess(buildNumber(num(0), days));
    expect(Math.abs(a.detail.connection.drop_points!)).toBeLessThan(1); // answer rate stable
    expect(a.score).toBeLessThan(healthy.score);
    expect(a.status).toBe('mixed');
    expect(a.recommendation.action).toBe('slow_down');
    expect(a.recommendation.reason).toMatch(/^487 \+ declined\/busy \+ short calls \d+ % over all carriers in 24h vs \d+ % expected/);
    expect(a.recommendation.reason).toMatch(/slow down before it is labelled$/);
    expect(a.diagnosis).toBe('degrading');
    expect(a.signals.filter((s) => s.met && s.effect === 'warning').map((s) => s.name)).toContain('outcome_shift');
  });

  it('(c) everything collapsing together is spam: stop and retire', () => {
    const days = healthyDays();
    const bad = { answered: 0.1, cancelled: 0.35, rejected: 0.2, blocked: 0.15, failed: 0.05 };
    for (const i of [0, 1]) for (const c of CARRIERS) days[i]![c] = mix(25, bad, { shortShare: 0.5, talk: 8 });
    const a = assess(buildNumber(num(0), days));
    expect(a.status).toBe('spam');
    expect(a.score).toBeLessThan(50);
    expect(a.band).toBe('critical');
    expect(a.recommendation.action).toBe('retire');
    expect(a.recommendation.reason).toMatch(/^blocked in 24h and 7d: .*score \d+: rotate out of the pool$/);
    expect(a.diagnosis).toBe('blacklisted');
  });

  it('(d) 487s climbing on one carrier for one number: warning on that carrier only, not healthy', () => {
    const days = healthyDays();
    for (const i of [0, 1, 2]) days[i]!.tmobile = mix(25, { ...HEALTHY, cancelled: 0.44 }, { shortShare: 0.05, talk: 90 });
    const a = assess(buildNumber(num(0), days));
    expect(a.carriers.tmobile!.flag).toBe('warning');
    expect(a.carriers.att!.flag).toBe('clean');
    expect(a.carriers.verizon!.flag).toBe('clean');
    // The evidence test against the number's own earlier days on tmobile (docs/scoring.md §6.3) over 72h.
    expect(a.carriers.tmobile!.evidence).toMatchObject({ window: '72h', met: true, calls: 75 });
    expect(a.carriers.tmobile!.reason).toMatch(/^487 \+ declined\/busy \+ short calls 56 % on tmobile in 72h vs \d+ % expected from its earlier days/);
    expect(a.status).toBe('mixed');
    expect(a.diagnosis).toBe('degrading');
    expect(a.recommendation.action).toBe('slow_down');
    expect(a.recommendation.reason).toContain('on tmobile in 72h');
  });

  it('(e) blocks (608/603+) from two carriers: flagged there, spam, below 50, not kept', () => {
    const days = healthyDays();
    for (const d of days) for (const c of ['att', 'verizon'] as const) d[c] = mix(25, { ...HEALTHY, blocked: 0.2 }, { shortShare: 0.05, talk: 90 });
    const a = assess(buildNumber(num(0), days));
    expect(a.carriers.att!.flag).toBe('flagged');
    expect(a.carriers.verizon!.flag).toBe('flagged');
    expect(a.carriers.tmobile!.flag).toBe('clean');
    expect(a.carriers.att!.reason).toBe('5 blocked (608/603+) of 25 calls on att (20.0 %, 24h)');
    expect(a.status).toBe('spam');
    expect(a.score).toBeLessThan(50);
    expect(a.caps.map((c) => c.kind)).toEqual(['blocked']);
    expect(a.recommendation.action).not.toBe('keep');
    expect(a.recommendation.action).toBe('retire');
  });

  it('(f) too few calls: in_progress, kept', () => {
    const days: Days = [{ att: mix(8, HEALTHY) }];
    const a = assess(buildNumber(num(0), days, { firstSeen: NOW - 2 * 3_600_000 }));
    expect(a.status).toBe('in_progress');
    expect(a.recommendation).toEqual({ action: 'keep', reason: '8 calls in 7d, fewer than 20 needed to judge, and no block or label', until: null, engine: null });
  });

  it('a labelled number is spam whatever its traffic, remediated with the named engine', () => {
    const days: Days = [{ att: mix(8, HEALTHY) }];
    const a = assess(
      buildNumber(num(0), days, { engines: { hiya: { label: 'spam', checked_at: '2026-11-20T08:00:00Z' }, tns: { label: 'clean', checked_at: '2026-11-20T08:00:00Z' } } }),
    );
    expect(a.status).toBe('spam');
    expect(a.score).toBeLessThanOrEqual(30);
    expect(a.engineFlagged).toEqual({ hiya: 1, tns: 0 });
    expect(a.carriers.att!.flag).toBe('flagged');
    expect(a.recommendation.action).toBe('remediate');
    expect(a.recommendation.engine).toBe('hiya');
    expect(a.recommendation.reason).toBe(
      'labelled spam by hiya (checked 2026-11-20): open a review with hiya and stop dialling until it clears',
    );
  });

  // Pacing (issue 16): over a cap is a cause, not evidence that consumers or carriers react. It recommends
  // slow_down and leaves the status alone (it made the number mixed before: a false alarm on healthy numbers).
  // Over the daily cap means sustained: over it in 24h and over 3 days' cap in 72h.
  it('velocity over the daily cap, sustained, slows a healthy number down without changing its status', () => {
    const a = assess(buildNumber(num(0), healthyDays(50)));
    expect(a.velocity).toMatchObject({ calls24h: 150, calls72h: 450, overDaily: true, dailyCap: 100 });
    expect(a.status).toBe('healthy');
    expect(a.signals.filter((s) => s.met).map((s) => [s.name, s.window, s.effect])).toEqual([['velocity_daily', '24h', 'slow_down']]);
    expect(a.recommendation).toMatchObject({ action: 'slow_down', reason: '150 calls in 24h (450 in 72h) over the 100/day cap' });
    // A one-day spike is not sustained pacing.
    const days = healthyDays(25);
    for (const c of CARRIERS) days[0]![c] = mix(40, HEALTHY);
    const spike = assess(buildNumber(num(0), days));
    expect(spike.velocity).toMatchObject({ calls24h: 120, overDaily: false });
    expect(spike.recommendation.action).toBe('keep');
  });

  it('velocity over the hourly cap slows it down too', () => {
    const b = buildNumber(num(0), healthyDays());
    b.input.windows['1h'] = kpis({ answered: 30, no_answer: 30 });
    const a = assess(b);
    expect(a.status).toBe('healthy');
    expect(a.recommendation).toMatchObject({ action: 'slow_down', reason: '60 calls in the last hour over the 50/hour cap' });
  });

  it('a flag in one window only is mixed and rests until now + 30 days', () => {
    const days = healthyDays();
    // Blocks on att three days ago; clean since.
    days[3]!.att = mix(25, { ...HEALTHY, blocked: 0.2 });
    const a = assess(buildNumber(num(0), days));
    expect(a.carriers.att!.windows['24h'].flag).toBe('clean');
    expect(a.carriers.att!.windows['7d'].flag).toBe('flagged');
    expect(a.status).toBe('mixed');
    expect(a.recommendation.action).toBe('rest');
    expect(a.recommendation.until).toBe(NOW + 30 * DAY);
    expect(a.recommendation.reason).toMatch(/5 blocked \(608\/603\+\) of 175 calls on att \(2\.9 %, 7d\); score \d+; rest 30 days until 2026-12-22$/);
    expect(assessmentJson(a).recommendation.until).toBe('2026-12-22T09:00:00Z');
  });

  it('a drop in answer rate lowers connection and score', () => {
    const days = healthyDays();
    for (const c of CARRIERS) days[0]![c] = mix(25, { ...HEALTHY, answered: 0.2 });
    const healthy = assess(buildNumber(num(0), healthyDays()));
    const a = assess(buildNumber(num(0), days));
    expect(a.subscores.connection).toBeLessThan(healthy.subscores.connection);
    expect(a.score).toBeLessThan(healthy.score);
    expect(a.detail.connection.drop_points).toBeGreaterThan(20);
  });

  it('mostly short calls rate engagement poor or very poor', () => {
    const a = assess(buildNumber(num(0), healthyDays(25, HEALTHY, { shortShare: 0.7, talk: 9 })));
    expect(['poor', 'very_poor']).toContain(a.ratings.engagement);
  });

  it('assessmentJson gives the docs/architecture.md#json reputation fields', () => {
    const a = assess(buildNumber(num(0), healthyDays()));
    const j = assessmentJson(a);
    expect(Object.keys(j)).toEqual(['status', 'score', 'subscores', 'ratings', 'recommendation', 'carrier_flags', 'diagnosis', 'signals']);
    expect(j.recommendation.until).toBeNull();
    expect(j.carrier_flags.att).toEqual({ flag: 'clean', reason: 'no block or label on att over 25 calls (24h)' });
    expect(j.diagnosis).toEqual({ diagnosis: 'healthy', reason: 'no block, label, early warning or pool/carrier event' });
    for (const sig of j.signals) expect(Object.keys(sig).filter((k) => k !== 'carrier')).toEqual(['name', 'window', 'value', 'threshold', 'direction', 'met', 'effect', 'reason']);
  });

  it('is pure: the same input and clock give the same answer', () => {
    const b = buildNumber(num(0), healthyDays());
    const base = pool(b).baselines;
    expect(assessNumber(b.input, { now: NOW, baselines: base })).toEqual(assessNumber(b.input, { now: NOW, baselines: base }));
  });
});

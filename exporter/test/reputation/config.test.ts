import { describe, expect, it } from 'vitest';
import { DEFAULT_REPUTATION_CONFIG, parseReputationConfig, ReputationConfigError } from '../../src/reputation/config.js';

function errorsOf(o: unknown): string[] {
  try {
    parseReputationConfig(o);
  } catch (e) {
    expect(e).toBeInstanceOf(ReputationConfigError);
    return (e as ReputationConfigError).issues;
  }
  throw new Error('expected a ReputationConfigError');
}

describe('reputation config', () => {
  it('has the defaults docs/scoring.md gives', () => {
    const c = DEFAULT_REPUTATION_CONFIG;
    expect(c.weights).toEqual({ connection: 0.35, sentiment: 0.35, engagement: 0.2, maturity: 0.1 });
    expect(c.ratings).toEqual({ good: 80, normal: 60, poor: 40 });
    expect(c.bands).toEqual({ excellent: 80, degraded: 50 });
    expect(c.velocity).toEqual({ dailyCap: 100, hourlyCap: 50, sustainedDays: 3 });
    expect(c.restDays).toBe(30);
    expect(c.status.minCalls7d).toBe(20);
    expect(c.engagement.shortCallSeconds).toBe(10);
    expect(c.engagement.engagedSeconds).toBe(60);
    expect(c.connection).toMatchObject({ healthy: 0.4, watch: 0.25, dropPoints: 10 });
    expect(c.sentiment).toMatchObject({ rejectionNormal: 0.05, rejectionCritical: 0.15, reportGreen: 0.005, reportRed: 0.02 });
    expect(c.caps.blockRatio).toBe(0.05);
    expect(c.carrier.engines).toEqual({ att: 'hiya', verizon: 'tns', tmobile: 'first_orion' });
  });

  it('returns the defaults for an empty or missing override', () => {
    expect(parseReputationConfig({})).toEqual(DEFAULT_REPUTATION_CONFIG);
    expect(parseReputationConfig(undefined)).toEqual(DEFAULT_REPUTATION_CONFIG);
    expect(parseReputationConfig(null)).toEqual(DEFAULT_REPUTATION_CONFIG);
  });

  it('merges a partial override deeply, leaving the defaults untouched', () => {
    const c = parseReputationConfig({ velocity: { dailyCap: 75 }, restDays: 14, carrier: { baselineMinCalls: 80 } });
    expect(c.velocity).toEqual({ dailyCap: 75, hourlyCap: 50, sustainedDays: 3 });
    expect(c.restDays).toBe(14);
    expect(c.carrier.baselineMinCalls).toBe(80);
    expect(c.carrier.blockMinCount).toBe(1);
    expect(DEFAULT_REPUTATION_CONFIG.velocity.dailyCap).toBe(100);
  });

  it('still accepts (and ignores) the keys of the tests issue 16 replaced, so existing config files load', () => {
    expect(() => parseReputationConfig({ carrier: { minCalls: 20, z: 1.96, margin: 0.1, answerMargin: 0.15, ownHistory: { enabled: false } }, signals: { z: 1.645, warningsForFlag: 3, answerDropAlonePoints: 10 } })).not.toThrow();
  });

  it('replaces the carrier → engine map wholesale', () => {
    const c = parseReputationConfig({ carrier: { engines: { uscellular: 'tns' } } });
    expect(c.carrier.engines).toEqual({ uscellular: 'tns' });
  });

  it('names the key path and the reason', () => {
    expect(errorsOf({ connection: { healthy: 1.4 } })).toEqual(['connection.healthy: must be a ratio between 0 and 1']);
    expect(errorsOf({ velocity: { dailyCap: 'lots' } })).toEqual(['velocity.dailyCap: expected number, got string']);
    expect(errorsOf({ velocity: { dailyCap: 12.5 } })).toEqual(['velocity.dailyCap: must be a whole number']);
    expect(errorsOf({ weights: { connection: -1 } })).toEqual(['weights.connection: weights must be ≥ 0']);
    expect(errorsOf({ carrier: { engines: { att: 'robokiller' } } })).toEqual([
      'carrier.engines.att: must be one of hiya, first_orion, tns, other',
    ]);
    expect(errorsOf({ carrier: { engines: { 'AT&T': 'hiya' } } })[0]).toMatch(/^carrier\.engines\.AT&T: carrier ids are lower-case/);
  });

  it('rejects unknown keys, naming them', () => {
    expect(errorsOf({ velocty: { dailyCap: 50 } })).toEqual(['(root): unknown key(s) "velocty"']);
    expect(errorsOf({ velocity: { daily: 50 } })).toEqual(['velocity: unknown key(s) "daily"']);
  });

  it('lists every problem at once', () => {
    expect(errorsOf({ restDays: 0, status: { minCalls7d: -1 } })).toHaveLength(2);
  });

  it('checks cross-field order on the merged config', () => {
    expect(errorsOf({ connection: { watch: 0.5 } })).toEqual(['connection: must satisfy excellent > healthy > watch > 0']);
    expect(errorsOf({ ratings: { poor: 70 } })).toEqual(['ratings: must satisfy good > normal > poor']);
    expect(errorsOf({ bands: { degraded: 90 } })).toEqual(['bands: must satisfy excellent > degraded']);
    expect(errorsOf({ velocity: { hourlyCap: 500 } })).toEqual(['velocity.hourlyCap: must not exceed dailyCap']);
    expect(errorsOf({ weights: { connection: 0, sentiment: 0, engagement: 0, maturity: 0 } })).toEqual([
      'weights: at least one weight must be > 0',
    ]);
    const e = new ReputationConfigError(['a: b']);
    expect(e.message).toContain('invalid reputation config');
  });
});

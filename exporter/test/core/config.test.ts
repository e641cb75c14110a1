import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config.js';

// A config file that does not validate says everything that is wrong with it at once — the main keys and the
// reputation: section together — naming the file and the key, with the closest key for a misspelt one.

function errors(raw: unknown): string[] {
  try {
    validateConfig(raw, 'numrep.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  return [];
}

describe('config validation', () => {
  it('reports every problem in one go, reputation included', () => {
    const e = errors({ timezne: 'UTC', bucket_seconds: '60s', reputation: { dailycap: 100 }, sources: [{ path: '/x', formt: 'asterisk' }] });
    expect(e).toContain('numrep.yml: timezne: unknown key (did you mean "timezone"?)');
    expect(e).toContain('numrep.yml: bucket_seconds: Expected number, received string');
    expect(e).toContain('numrep.yml: reputation.dailycap: unknown key');
    expect(e).toContain('numrep.yml: sources.0.formt: unknown key (did you mean "format"?)');
    expect(e).toHaveLength(4);
  });

  it('suggests only what is close', () => {
    expect(errors({ colour: 'red' })).toEqual(['numrep.yml: colour: unknown key']);
    expect(errors({ web: { allowed_host: ['x'] } })).toEqual(['numrep.yml: web.allowed_host: unknown key (did you mean "allowed_hosts"?)']);
  });

  it('accepts a good config, and a default_region alone', () => {
    expect(errors({ timezone: 'UTC', default_region: 'UZ', track: 'inventory', dial_prefixes: ['9'] })).toEqual([]);
  });

  it('metrics.exclude: names per-number families, suggests the closest, refuses those alert rules read', () => {
    expect(errors({ metrics: { exclude: ['numrep_number_attestation_ratio', 'numrep_number_voicemail_ratio'] } })).toEqual([]);
    expect(errors({ metrics: { exclude: ['numrep_number_attestation'] } })).toEqual([
      'numrep.yml: metrics.exclude.0: "numrep_number_attestation" is not a per-number family that can be left out (did you mean "numrep_number_attestation_ratio"?); see docs/metrics.md',
    ]);
    expect(errors({ metrics: { exclude: ['numrep_number_talk_seconds_avg', 'numrep_number_calls'] } })).toEqual([
      'numrep.yml: metrics.exclude.1: numrep_number_calls is read by the shipped alert rules (alerting/rules/), so it cannot be left out',
    ]);
    expect(errors({ metrics: { exlude: [] } })).toEqual(['numrep.yml: metrics.exlude: unknown key (did you mean "exclude"?)']);
  });
});

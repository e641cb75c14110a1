import { countryCodeOf, loadConfig, type Config } from '../config.js';
import { CarrierResolver } from '../model/carrier.js';
import { numberPlan } from '../model/phone.js';
import { WallClock } from '../ingest/formats/time.js';
import { loadCallerMap } from '../classify/callerMap.js';
import type { ClassifySettings } from '../runtime.js';
import { fail } from './log.js';

/** Options shared by several commands, merged over the YAML config (CLI wins). */
export interface CommonFlags {
  config?: string;
  prefixMap?: string;
  trunkMap?: string;
  timezone?: string;
  countryCode?: string;
  region?: string;
  callerMap?: string;
  track?: string;
  format?: string;
}

export function configFrom(flags: CommonFlags): Config {
  let c: Config;
  try {
    c = loadConfig(flags.config);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  if (flags.prefixMap) c.prefix_map = flags.prefixMap;
  if (flags.trunkMap) c.trunk_map = flags.trunkMap;
  if (flags.timezone) c.timezone = flags.timezone;
  if (flags.countryCode) c.default_country_code = flags.countryCode;
  if (flags.region) c.default_region = flags.region;
  if (flags.callerMap) c.caller_map = flags.callerMap;
  if (flags.track) {
    if (flags.track !== 'all' && flags.track !== 'inventory') fail(`--track ${flags.track}: expected all or inventory`, 2);
    c.track = flags.track;
  }
  // Settings every reader needs, checked before anything starts: a typo here would otherwise reject every line.
  const where = (flag: string, key: string) => (flags.config ? `${flag} / ${flags.config}: ${key}` : flag);
  try {
    new WallClock(c.timezone);
  } catch (err) {
    fail(`${where('--timezone', 'timezone')}: ${(err as Error).message}`, 2);
  }
  try {
    numberPlan(c.default_country_code ?? (c.default_region ? undefined : '1'), c.default_region);
  } catch (err) {
    fail(`${where(c.default_region ? '--region' : '--country-code', c.default_region ? 'default_region' : 'default_country_code')}: ${(err as Error).message}`, 2);
  }
  return c;
}

/** The classification stage's settings from the config (the caller map read and checked here). */
export function classifySettingsFrom(c: Config): ClassifySettings {
  let callerMap;
  if (c.caller_map) {
    try {
      callerMap = loadCallerMap(c.caller_map, numberPlan(countryCodeOf(c), c.default_region));
    } catch (err) {
      fail((err as Error).message, 2);
    }
  }
  return { callerMap, track: c.track, maxTrackedNumbers: c.max_tracked_numbers, dialPrefixes: c.dial_prefixes.length ? c.dial_prefixes : undefined };
}

export function resolverFrom(c: Config): CarrierResolver {
  try {
    return CarrierResolver.fromFiles({ prefixMap: c.prefix_map, trunkMap: c.trunk_map });
  } catch (err) {
    fail((err as Error).message, 2);
  }
}

export const FORMATS = ['asterisk', 'freeswitch', 'kamailio', 'generic', 'sipp', 'sofia'];

export function checkFormat(f: string | undefined): string | undefined {
  if (f !== undefined && !FORMATS.includes(f)) fail(`--format ${f}: expected one of ${FORMATS.join(', ')}`, 2);
  return f;
}

/** HOST:PORT, or :PORT for every interface (host ''). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)?:(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) fail(`--listen ${v}: expected HOST:PORT or :PORT (every interface), e.g. 127.0.0.1:9847`, 2);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

import { loadConfig, type Config } from '../config.js';
import { CarrierResolver } from '../model/carrier.js';
import { fail } from './log.js';

/** Options shared by several commands, merged over the YAML config (CLI wins). */
export interface CommonFlags {
  config?: string;
  prefixMap?: string;
  trunkMap?: string;
  timezone?: string;
  countryCode?: string;
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
  return c;
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

export function parseListen(v: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) fail(`--listen ${v}: expected HOST:PORT, e.g. 127.0.0.1:9847`, 2);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

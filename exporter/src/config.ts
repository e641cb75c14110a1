import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { numberPlan } from './model/phone.js';
import { DEFAULT_MAX_CARRIERS_PER_NUMBER } from './stats/snapshot.js';

/** The YAML parser, loaded only when a config file is read (~30 ms of start-up `report` without one skips). */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

/** The YAML config file, validated with messages that name the file, the key and why. */

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9847');

/** A `web.allowed_hosts` entry: a name or address alone (any port) or with its port. */
export const allowedHost = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'expected HOST or HOST:PORT, e.g. numrep.internal or exporter:9847');

export const configSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:9847'),
    db: z.string().min(1).default('./var/numrep.db'),
    inbox: z.string().min(1).default('./var/inbox'),
    sources: z
      .array(
        z.object({
          path: z.string().min(1, 'a file path or glob'),
          format: z.enum(['asterisk', 'freeswitch', 'kamailio', 'generic', 'sipp', 'sofia']).optional(),
        }).strict(),
      )
      .default([]),
    prefix_map: z.string().optional(),
    trunk_map: z.string().optional(),
    // Optional so a default_region alone can set it (countryCodeOf); 1 when neither is given.
    default_country_code: z.string().regex(/^\+?[1-9][0-9]{0,2}$/, 'a country calling code, 1–3 digits').optional(),
    default_region: z.string().regex(/^[A-Za-z]{2}$/, 'an ISO 3166 region code, e.g. US, GB, UZ').optional(),
    caller_map: z.string().optional(),
    track: z.enum(['all', 'inventory']).default('all'),
    dial_prefixes: z.array(z.string().regex(/^[0-9*#]{1,4}$/, 'digits, e.g. "9"')).default([]),
    max_tracked_numbers: z.number().int().min(1).default(100_000),
    timezone: z.string().default('UTC'),
    bucket_seconds: z.number().int().positive().max(3600).default(60),
    retention_days: z.number().positive().max(400).default(8),
    poll_interval_ms: z.number().int().min(50).max(60_000).default(1000),
    use_polling: z.boolean().default(false),
    settle_ms: z.number().int().min(0).default(2000),
    max_record_bytes: z.number().int().min(1024).default(1_048_576),
    max_upload_bytes: z.number().int().min(1024).default(50 * 1_048_576),
    future_tolerance_seconds: z.number().min(0).default(300),
    series_budget: z.number().int().min(0).default(100_000),
    // Named carriers per number; the rest are summed into carrier "other" (docs/operations.md, Limits).
    max_carriers_per_number: z.number().int().min(1).max(1000).default(DEFAULT_MAX_CARRIERS_PER_NUMBER),
    generic: z.object({ columns: z.record(z.string()).default({}) }).strict().default({}),
    freeswitch: z.object({ template: z.array(z.string()).optional() }).strict().default({}),
    kamailio: z
      .object({
        caller_key: z.string().default('src_user'),
        callee_key: z.string().default('dst_user'),
        domain_key: z.string().default('dst_domain'),
        carrier_key: z.string().optional(),
        attest_key: z.string().optional(),
        direction_key: z.string().optional(),
        source_key: z.string().default('src_ip'),
        max_call_seconds: z.number().int().positive().default(6 * 3600),
      })
      .strict()
      .default({}),
    sip: z
      .object({
        timeout_seconds: z.number().positive().default(300),
        max_call_seconds: z.number().positive().default(6 * 3600),
        direction: z.enum(['sent', 'received', 'both']).default('sent'),
        date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD').optional(),
      })
      .strict()
      .default({}),
    auth: z
      .object({ bearer_token_file: z.string().optional(), protect_metrics: z.boolean().default(false) })
      .strict()
      .default({}),
    web: z
      .object({
        // Host header values served besides the listen address and loopback (DNS-rebinding guard)
        allowed_hosts: z.array(allowedHost).default([]),
        max_concurrent_uploads: z.number().int().min(1).default(4),
      })
      .strict()
      .default({}),
    reputation: z.record(z.unknown()).default({}),
    // Live signal (docs/formats.md#hep): a HEPv3 collector, and CDRs pushed over HTTP.
    hep: z
      .object({
        listen: hostPort.optional(),
        auth_key: z.string().min(1).max(1024).optional(),
      })
      .strict()
      .default({}),
    push: z
      .object({
        // mod_json_cdr `cred` (HTTP Basic): a file holding user:password
        freeswitch: z.object({ credentials_file: z.string().min(1) }).strict().optional(),
        // the account's Auth Token in a file; `url`: the public URL Twilio posts to, when a proxy rewrites it
        twilio: z.object({ auth_token_file: z.string().min(1), url: z.string().url().optional() }).strict().optional(),
        // the account's public key (base64, Mission Control: Keys & Credentials)
        telnyx: z.object({ public_key: z.string().min(1), tolerance_seconds: z.number().int().min(1).max(86_400).default(300) }).strict().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function validateConfig(raw: unknown, file = '<config>'): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const key = i.path.length ? i.path.join('.') : '(top level)';
    const why = i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
    return `${file}: ${key}: ${why}`;
  });
  throw new ConfigError(lines.join('\n'));
}

export function loadConfig(file?: string): Config {
  if (!file) return validateConfig({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(raw, file);
}

/** The default calling code, digits only: the one configured, else the default region's, else 1. */
export function countryCodeOf(c: Pick<Config, 'default_country_code' | 'default_region'>): string {
  if (c.default_country_code !== undefined) return c.default_country_code.replace(/^\+/, '');
  if (c.default_region !== undefined) {
    try {
      return numberPlan(undefined, c.default_region).callingCode;
    } catch {
      return '1'; // an unknown region is reported where the plan is checked (cli/common.ts)
    }
  }
  return '1';
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';

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
          // A path (or glob match) that is a symbolic link is read only when this says so (a planted link must not
          // make numrep copy any file it can read into its quarantine).
          follow_symlinks: z.boolean().default(false),
        }).strict(),
      )
      .default([]),
    prefix_map: z.string().optional(),
    trunk_map: z.string().optional(),
    default_country_code: z.string().regex(/^\+?[1-9][0-9]{0,2}$/, 'a country calling code, 1–3 digits').default('1'),
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
    // The database, its WAL/SHM, lock and quarantine.jsonl are created 0600; true makes them 0640 (group-readable).
    group_readable: z.boolean().default(false),
    // A source that cannot make progress this long makes /readyz 503 and sets numrep_source_stalled.
    stall_after_seconds: z.number().int().min(1).default(300),
    quarantine: z
      .object({
        // Characters of a rejected line kept (the rest cut, marked); digit runs of 7+ are always masked.
        max_raw_chars: z.number().int().min(64).max(65_536).default(2048),
        // Rejected lines kept per read step (4 MiB); more are counted, not kept.
        max_per_step: z.number().int().min(1).default(10_000),
        // quarantine.jsonl is rotated at this size, keeping this many old files (quarantine.jsonl.1 …).
        file_max_bytes: z.number().int().min(65_536).default(64 * 1_048_576),
        file_keep: z.number().int().min(0).max(100).default(3),
        // Rows of the database's quarantine table kept (the newest).
        db_max_rows: z.number().int().min(100).default(100_000),
      })
      .strict()
      .default({}),
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

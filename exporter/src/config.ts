import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { numberPlan } from './model/phone.js';
import { parseReputationConfig } from './reputation/config.js';
import { DEFAULT_MAX_CARRIERS_PER_NUMBER } from './stats/snapshot.js';
import { DEFAULT_DAILY_CAP, DEFAULT_MAX_DIALS } from './stats/fatigue.js';
import { DEFAULT_ABANDONED_LIMIT } from './model/disposition.js';
import { ALERTED_FAMILIES, EXCLUDABLE_FAMILIES } from './http/numberFamilies.js';

/** The YAML parser, loaded only when a config file is read (~30 ms of start-up `report` without one skips). */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

/** The YAML config file, validated with messages that name the file, the key and why. */

// `:9847` (no host) is every interface, as Prometheus exporters write it.
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)?:\d{1,5}$/, 'expected HOST:PORT or :PORT, e.g. 127.0.0.1:9847');

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
    metrics: z
      .object({
        // Per-number families left out of /metrics (fewer series for a large pool: docs/scaling.md); the
        // families the shipped alert rules read cannot be left out.
        exclude: z
          .array(z.string())
          .default([])
          .superRefine((names, ctx) => {
            names.forEach((name, i) => {
              if (EXCLUDABLE_FAMILIES.includes(name)) return;
              const message = ALERTED_FAMILIES.includes(name)
                ? `${name} is read by the shipped alert rules (alerting/rules/), so it cannot be left out`
                : `${JSON.stringify(name)} is not a per-number family that can be left out${suggest(name, [...EXCLUDABLE_FAMILIES])}; see docs/metrics.md`;
              ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message });
            });
          }),
      })
      .strict()
      .default({}),
    // Named carriers per number; the rest are summed into carrier "other" (docs/operations.md, Limits).
    max_carriers_per_number: z.number().int().min(1).max(1000).default(DEFAULT_MAX_CARRIERS_PER_NUMBER),
    // The database, its WAL/SHM, lock and quarantine.jsonl are created 0600; true makes them 0640 (group-readable).
    group_readable: z.boolean().default(false),
    // A source that cannot make progress this long makes /readyz 503 and sets numrep_source_stalled.
    stall_after_seconds: z.number().int().min(1).default(300),
    quarantine: z
      .object({
        // Characters of a rejected line kept (the rest cut, marked); digit runs of 7+ are always masked.
        max_raw_chars: z.number().int().min(64).max(65_536).default(2048),
        // Rejected lines kept per transaction (the read steps committed together: ≤ 16 MiB of input or 1 s); more are counted, not kept.
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
        // exporter-toolkit web config (TLS, basic auth, headers); --web.config.file wins
        config_file: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    reputation: z.record(z.unknown()).default({}),
    // Recipient fatigue (docs/metrics.md#recipient-fatigue): calls to one consumer per 24 h, per pool overridable.
    fatigue: z
      .object({
        daily_cap: z.number().int().min(1).max(1000).default(DEFAULT_DAILY_CAP),
        pools: z.record(z.number().int().min(1).max(1000)).default({}),
        // Dials remembered at most (16 bytes each; the earliest read are forgotten first beyond it).
        max_dials: z.number().int().min(1000).max(100_000_000).default(DEFAULT_MAX_DIALS),
        // serve: the figures are remade at most this often (0: at every request).
        refresh_seconds: z.number().int().min(0).max(3600).default(60),
      })
      .strict()
      .default({}),
    // The dialer's dispositions (docs/metrics.md#business-outcome): values added to the built-in ones, and the
    // abandoned share a campaign may reach (the 3 % rule).
    dispositions: z
      .object({
        conversion: z.array(z.string().min(1)).default([]),
        connected_human: z.array(z.string().min(1)).default([]),
        abandoned: z.array(z.string().min(1)).default([]),
        abandoned_limit: z.number().gt(0).max(1).default(DEFAULT_ABANDONED_LIMIT),
      })
      .strict()
      .default({}),
    // The business behind our numbers, for `numrep export registry` (docs/remediation.md#registering-numbers).
    registry: z
      .object({
        business_name: z.string().min(1).max(200).optional(),
        business_address: z.string().max(300).optional(),
        business_website: z.string().max(200).optional(),
        ein: z.string().max(40).optional(),
        contact_name: z.string().max(200).optional(),
        contact_email: z.string().max(200).optional(),
        contact_phone: z.string().max(40).optional(),
        call_purpose: z.string().max(200).optional(),
        // per pool: another call purpose (a collections pool and a sales pool call for different reasons)
        pools: z.record(z.object({ call_purpose: z.string().max(200) }).strict()).default({}),
      })
      .strict()
      .default({}),
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

/** Edit distance, for "did you mean" (keys are short). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The keys the schema knows at a path (for suggestions). */
function knownKeys(path: (string | number)[]): string[] {
  let t: z.ZodTypeAny = configSchema;
  for (const p of path) {
    while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t._def.innerType;
    if (t instanceof z.ZodArray && typeof p === 'number') {
      t = t.element;
      continue;
    }
    if (!(t instanceof z.ZodObject)) return [];
    t = t.shape[p as string];
    if (!t) return [];
  }
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t._def.innerType;
  return t instanceof z.ZodObject ? Object.keys(t.shape) : [];
}

function suggest(key: string, known: string[]): string {
  const best = known.map((k) => [k, distance(key.toLowerCase(), k)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best[0]}"?)` : '';
}

/**
 * The config, or every problem with it at once: the main keys and the `reputation:` section together, each
 * naming the file, the key and why, with the closest known key for a misspelt one.
 */
export function validateConfig(raw: unknown, file = '<config>'): Config {
  const r = configSchema.safeParse(raw ?? {});
  const lines: string[] = [];
  if (!r.success) {
    for (const i of r.error.issues) {
      const key = i.path.length ? i.path.join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') {
        const known = knownKeys(i.path);
        for (const k of i.keys) lines.push(`${file}: ${i.path.length ? `${key}.` : ''}${k}: unknown key${suggest(k, known)}`);
      } else lines.push(`${file}: ${key}: ${i.message}`);
    }
  }
  const rep = (raw as { reputation?: unknown } | null | undefined)?.reputation;
  if (rep !== undefined) {
    try {
      parseReputationConfig(rep);
    } catch (err) {
      for (const l of (err as { issues?: string[] }).issues ?? [(err as Error).message]) {
        // `(root): unknown key(s) "a", "b"` / `connection.watch: expected number`: one line a key, under reputation.
        const m = /^(.*?): unknown key\(s\) (.*)$/.exec(l);
        const at = (p: string) => (p === '(root)' ? 'reputation' : `reputation.${p}`);
        if (m) for (const k of m[2].split(', ')) lines.push(`${file}: ${at(m[1])}.${k.replace(/"/g, '')}: unknown key`);
        else lines.push(`${file}: ${l.replace(/^([^:]*): /, (_, p: string) => `${at(p)}: `)}`);
      }
    }
  }
  if (lines.length > 0 || !r.success) throw new ConfigError(lines.join('\n'));
  return r.data;
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

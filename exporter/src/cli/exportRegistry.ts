import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { countryCodeOf, type Config } from '../config.js';
import { parseInventoryCsv, formatIssue } from '../reputation/labels.js';
import { placeOf } from '../model/geo.js';
import { registrationOf, type Registration } from '../http/json.js';
import { safeCell } from '../http/csv.js';
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';
import { configFrom } from './common.js';
import { fail } from './log.js';

/**
 * `numrep export registry`: the numbers to register with the free caller registration portals (the Free Caller
 * Registry that Hiya, TNS and First Orion share; First Orion's and Hiya's own portals), one row per number,
 * with the business fields of the config's `registry:` section. Numbers come from the inventory (the database's,
 * or --inventory FILE); already registered ones only with --all. Columns: docs/remediation.md#registering-numbers.
 */
export const REGISTRY_COLUMNS = [
  'phone_number', 'national_number', 'country', 'area', 'business_name', 'business_address', 'business_website', 'ein',
  'contact_name', 'contact_email', 'contact_phone', 'call_purpose', 'pool', 'campaign', 'registration',
] as const;

export interface RegistryNumber {
  number: string;
  pool: string;
  campaign: string | null;
  registered: boolean | null;
}

/** The CSV (pure: numbers and config in, text out). */
export function registryCsv(numbers: readonly RegistryNumber[], reg: Config['registry'], o: { all: boolean }): { csv: string; rows: number } {
  const lines = [REGISTRY_COLUMNS.join(',')];
  let rows = 0;
  for (const n of [...numbers].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0))) {
    const registration: Registration = registrationOf(n.registered);
    if (!o.all && registration === 'registered') continue;
    const p = parsePhoneNumberFromString(n.number, metadata);
    const place = placeOf(n.number);
    const row = [
      n.number, p ? String(p.nationalNumber) : '', place.country, place.area, reg.business_name, reg.business_address, reg.business_website, reg.ein,
      reg.contact_name, reg.contact_email, reg.contact_phone, reg.pools[n.pool]?.call_purpose ?? reg.call_purpose, n.pool, n.campaign, registration,
    ];
    lines.push(row.map(safeCell).join(','));
    rows++;
  }
  return { csv: lines.join('\n') + '\n', rows };
}

export function exportRegistry(flags: { config?: string; db?: string; inventory?: string; out?: string; all?: boolean; countryCode?: string }): void {
  const c = configFrom({ config: flags.config, countryCode: flags.countryCode });
  if (!c.registry.business_name) fail(`${flags.config ?? 'the config'}: registry.business_name is not set: the portals register numbers to a business (docs/remediation.md#registering-numbers)`, 2);
  let numbers: RegistryNumber[];
  if (flags.inventory) {
    let text: string;
    try {
      text = readFileSync(flags.inventory, 'utf8');
    } catch (err) {
      fail(`${flags.inventory}: ${(err as Error).message}`, 2);
    }
    const parsed = parseInventoryCsv(text, { file: flags.inventory, defaultCountryCode: countryCodeOf(c) });
    for (const e of parsed.errors) process.stderr.write(`numrep: ${formatIssue(e)}\n`);
    if (parsed.rows.length === 0 && parsed.errors.length > 0) process.exit(2);
    numbers = parsed.rows.map((r) => ({ number: r.number, pool: r.pool, campaign: r.campaign, registered: r.registered }));
  } else {
    const file = flags.db ?? c.db;
    if (!existsSync(file)) fail(`no database ${file}: give --inventory FILE, or --db of a database with an imported inventory`, 2);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      numbers = (db.prepare('SELECT number, pool, campaign, registered FROM inventory').all() as { number: string; pool: string; campaign: string | null; registered: number | null }[]).map((r) => ({
        ...r,
        registered: r.registered === null ? null : r.registered === 1,
      }));
    } finally {
      db.close();
    }
  }
  if (numbers.length === 0) fail('the inventory is empty: numrep inventory import FILE, or --inventory FILE', 2);
  const { csv, rows } = registryCsv(numbers, c.registry, { all: flags.all === true });
  if (flags.out) writeFileSync(flags.out, csv, { mode: 0o600 });
  else process.stdout.write(csv);
  process.stderr.write(`numrep: ${rows} number(s) to register${flags.all ? '' : ` (${numbers.length - rows} already registered left out; --all includes them)`}${flags.out ? ` written to ${flags.out}` : ''}\n`);
}

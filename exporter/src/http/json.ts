import type { Kpis, WindowName } from '../model/types.js';
import { OTHER_CARRIER, type NumberView, type Snapshot } from '../stats/snapshot.js';
import { attestationOf, kpisOf, type Vector } from '../stats/vector.js';
import { accountOf, type IngestAccount } from '../classify/account.js';
import type { SourceState } from '../store/db.js';
import { dispositionWindows, type DispositionFigures, type DispositionWindows } from '../stats/vector.js';
import type { FatigueScope } from '../stats/fatigue.js';
import { placeOf } from '../model/geo.js';

/** docs/architecture.md#json: the JSON returned by `numrep report --json` and `GET /api/v1/numbers`. */

const JSON_WINDOWS: WindowName[] = ['24h', '7d'];

export interface NumberJson {
  number: string;
  pool: string;
  /** Where the number lives (model/geo.ts): ISO 3166 country and the area of its prefix. */
  country?: string | null;
  area?: string | null;
  /** The inventory's `registered` column: registered, not_registered, or unknown (empty or no inventory row). */
  registration?: Registration;
  registered_at?: string | null;
  status?: string;
  score?: number;
  subscores?: Record<string, number>;
  ratings?: Record<string, string>;
  recommendation?: { action: string; reason: string; until: string | null };
  /** healthy | external | degrading | blacklisted, and the figures behind it. */
  diagnosis?: { diagnosis: string; reason: string };
  windows: Record<string, Kpis>;
  carriers: Record<string, { flag?: string; reason?: string } & Record<string, unknown>>;
  attestation: Record<string, number>;
  engines?: Record<string, { label: string; checked_at: string }>;
  /** Recipient fatigue (http/management.ts), when the outputs were given it. */
  fatigue?: FatigueScope;
  /** The dialer's dispositions per window, when the number's records carried any. */
  dispositions?: Partial<Record<string, DispositionFigures>>;
  first_seen: string | null;
  last_seen: string | null;
  /** Every figure the verdict rests on (reputation/signals.ts). */
  signals?: unknown[];
}

export interface CarrierJson {
  carrier: string;
  [window: string]: Kpis | string;
}

export interface PoolJson {
  pool: string;
  fatigue: FatigueScope;
  dispositions?: DispositionWindows;
}

export interface CampaignJson {
  campaign: string;
  dispositions: DispositionWindows;
  /** The abandoned share allowed (dispositions.abandoned_limit) and whether the 7d share is over it. */
  abandoned_limit: number;
  over_abandoned_limit: boolean;
}

export interface ReportJson {
  evaluated_at: string;
  numbers: NumberJson[];
  carriers: CarrierJson[];
  /** Per pool: recipient fatigue and dispositions; per campaign: dispositions against the 3 % rule (http/management.ts). */
  pools?: PoolJson[];
  campaigns?: CampaignJson[];
  /** A one-shot run's account of every row it read (report --json). */
  ingest?: IngestAccount;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.000Z$/, 'Z'));

function windowsJson(w: Partial<Record<WindowName, Vector>>, names = JSON_WINDOWS): Record<string, Kpis> {
  const out: Record<string, Kpis> = {};
  for (const n of names) {
    // Read once: a snapshot's window is a getter that makes a new view each time (stats/snapshot.ts SlabWindows).
    const v = w[n];
    if (v) out[n] = kpisOf(v);
  }
  return out;
}

/** Extra per-number fields (score, status, …) added by the reputation engine when it runs. */
export type Enrich = (n: NumberView, json: NumberJson) => void;

export type Registration = 'registered' | 'not_registered' | 'unknown';

/** The inventory's registered column as the JSON, the CSV and the panel say it. */
export function registrationOf(registered: boolean | null | undefined): Registration {
  return registered === true ? 'registered' : registered === false ? 'not_registered' : 'unknown';
}

/**
 * Adds where each number lives and its registration state (from the inventory: `registered` true/false/null and
 * the date when the column held one) to what `inner` adds.
 */
export function withPlace(inner: Enrich | undefined, inventory: { registration: ReadonlyMap<string, boolean | null>; registered: ReadonlyMap<string, number> }): Enrich {
  return (n, json) => {
    inner?.(n, json);
    const place = placeOf(n.number);
    json.country = place.country;
    json.area = place.area;
    json.registration = registrationOf(inventory.registration.get(n.number));
    json.registered_at = iso(inventory.registered.get(n.number) ?? null);
  };
}

export function numberJson(n: NumberView, enrich?: Enrich): NumberJson {
  const carriers: NumberJson['carriers'] = {};
  for (const [c, w] of [...n.carriers.entries()].sort(([a], [b]) => a.localeCompare(b))) carriers[c] = { ...windowsJson(w), attestation: attestationOf(w['7d']) };
  // The number used more carriers than max_carriers_per_number: say how many `other` sums.
  if (n.foldedCarriers && carriers[OTHER_CARRIER]) carriers[OTHER_CARRIER].folded_carriers = n.foldedCarriers;
  const json: NumberJson = {
    number: n.number,
    pool: n.pool,
    windows: windowsJson(n.windows),
    carriers,
    attestation: attestationOf(n.windows['7d'] ?? n.windows['24h']),
    first_seen: iso(n.firstSeen),
    last_seen: iso(n.lastSeen),
  };
  const dispositions = dispositionWindows(n.windows);
  if (dispositions) json.dispositions = dispositions;
  enrich?.(n, json);
  // docs/architecture.md#json key order, so a diff of two reports reads top-down like the contract.
  const { number, pool, country, area, registration, registered_at, status, score, subscores, ratings, recommendation, diagnosis, windows, attestation, engines, fatigue, dispositions: disp, first_seen, last_seen, signals } = json;
  return { number, pool, country, area, registration, registered_at, status, score, subscores, ratings, recommendation, diagnosis, windows, carriers: json.carriers, attestation, engines, fatigue, dispositions: disp, first_seen, last_seen, signals };
}

export function reportJson(s: Snapshot, enrich?: Enrich): ReportJson {
  return { evaluated_at: evaluatedAt(s), numbers: [...numberEntries(s, enrich)], carriers: carriersJson(s) };
}

/** The time a report is evaluated at, as reportJson says it. */
export const evaluatedAt = (s: Snapshot): string => iso(s.at)!;

/**
 * reportJson's numbers, in its order, each made only when the iteration reaches it: a report written as they come
 * (report --json) never holds them all, which for 12,000 numbers was most of its garbage collection.
 */
export function* numberEntries(s: Snapshot, enrich?: Enrich): Generator<NumberJson> {
  for (const n of [...s.numbers.values()].sort((a, b) => a.number.localeCompare(b.number))) yield numberJson(n, enrich);
}

/** reportJson's carriers. */
export function carriersJson(s: Snapshot): CarrierJson[] {
  return [...s.carriers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([carrier, w]) => ({ carrier, ...windowsJson(w) }));
}

/** One followed file for GET /api/v1/sources: where reading stands and what its rows became. */
export function sourceJson(s: SourceState, size: number | null) {
  const counts = Object.entries(s.counts).map(([k, count]) => {
    const i = k.indexOf(':');
    return { format: s.format ?? 'unknown', result: k.slice(0, i) as 'accepted' | 'skipped' | 'rejected', reason: k.slice(i + 1), count };
  });
  return {
    path: s.path,
    format: s.format,
    offset: s.offset,
    size,
    bytes_behind: size === null ? null : Math.max(0, size - s.offset),
    newest_record: iso(s.newestTs),
    last_read: iso(s.lastReadAt),
    rotations: s.rotations,
    truncations: s.truncations,
    ingest: accountOf(counts),
  };
}

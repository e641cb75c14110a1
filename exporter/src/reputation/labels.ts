// Engine-label snapshots (`number,engine,label,checked_at[,reports]`) and number inventory
// (`number,pool,campaign,registered`): detection by header, parsing with per-line errors
// (file, line, reason), engine/label normalisation and E.164 numbers.

import { ENGINES, type Engine } from './config.js';
import { normalizePhone } from '../model/phone.js';
import { splitCsvLine } from '../ingest/csv.js';
import type { EngineLabel } from './assess.js';

export type CsvKind = 'labels' | 'inventory';

export interface CsvIssue {
  file: string;
  /** 1-based physical line number. */
  line: number;
  reason: string;
}

export const formatIssue = (i: CsvIssue): string => `${i.file}:${i.line}: ${i.reason}`;

export interface ParseOptions {
  /** Name used in errors. */
  file?: string;
  /** Country code for national-format numbers (default 1). */
  defaultCountryCode?: string;
  /**
   * The clock, in ms: a label `checked_at` more than a day after it is refused (a far-future snapshot would stay
   * the latest one forever). Without it, no row is judged against the clock.
   */
  now?: number;
}

/** How far ahead of the clock a label's checked_at may be (time zones, clocks that differ). */
export const LABEL_FUTURE_TOLERANCE_MS = 86_400_000;

export interface ParseResult<T> {
  kind: CsvKind;
  rows: T[];
  errors: CsvIssue[];
}

// ---------- normalisation ----------

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

const ENGINE_ALIASES: Record<string, Engine> = {
  hiya: 'hiya',
  hiyainc: 'hiya',
  att: 'hiya',
  attcallprotect: 'hiya',
  firstorion: 'first_orion',
  fo: 'first_orion',
  tmobile: 'first_orion',
  scamshield: 'first_orion',
  tns: 'tns',
  transactionnetworkservices: 'tns',
  tnscallguardian: 'tns',
  callguardian: 'tns',
  verizon: 'tns',
  verizoncallfilter: 'tns',
  other: 'other',
};

/** hiya | first_orion | tns | other; null only for an empty value. Unknown engine names are `other`. */
export function normaliseEngine(raw: string): Engine | null {
  const k = squash(raw);
  if (!k) return null;
  return ENGINE_ALIASES[k] ?? 'other';
}

export const KNOWN_LABELS = [
  'clean',
  'spam',
  'scam',
  'fraud',
  'telemarketer',
  'nuisance',
  'political',
  'survey',
  'debt_collector',
  'robocall',
  'unknown',
] as const;
export type KnownLabel = (typeof KNOWN_LABELS)[number];

const LABEL_ALIASES: Record<string, KnownLabel> = {
  clean: 'clean',
  ok: 'clean',
  good: 'clean',
  safe: 'clean',
  none: 'clean',
  nolabel: 'clean',
  notflagged: 'clean',
  unflagged: 'clean',
  verified: 'clean',
  valid: 'clean',
  spam: 'spam',
  spamlikely: 'spam',
  likelyspam: 'spam',
  suspectedspam: 'spam',
  potentialspam: 'spam',
  spamrisk: 'spam',
  flagged: 'spam',
  scam: 'scam',
  scamlikely: 'scam',
  likelyscam: 'scam',
  potentialscam: 'scam',
  suspectedscam: 'scam',
  fraud: 'fraud',
  fraudrisk: 'fraud',
  potentialfraud: 'fraud',
  fraudlikely: 'fraud',
  telemarketer: 'telemarketer',
  telemarketing: 'telemarketer',
  telemarketers: 'telemarketer',
  sales: 'telemarketer',
  nuisance: 'nuisance',
  nuisancelikely: 'nuisance',
  political: 'political',
  politicalcall: 'political',
  politics: 'political',
  survey: 'survey',
  debtcollector: 'debt_collector',
  debtcollection: 'debt_collector',
  collections: 'debt_collector',
  collectionagency: 'debt_collector',
  robocall: 'robocall',
  robocaller: 'robocall',
  unknown: 'unknown',
  unverified: 'unknown',
  na: 'unknown',
  notchecked: 'unknown',
};

/**
 * Normalise a label. Known spellings map to KNOWN_LABELS ("Spam Likely" → spam, "Telemarketing" → telemarketer,
 * empty → unknown); anything else becomes a lower-case slug (e.g. "Charity Call" → charity_call), which
 * counts as flagged since it is not in config.labels.benign.
 */
export function normaliseLabel(raw: string): string {
  const k = squash(raw);
  if (!k) return 'unknown';
  return LABEL_ALIASES[k] ?? raw.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Parse a timestamp: ISO 8601 date or date-time (no zone = UTC), or Unix seconds / milliseconds. */
export function parseTimestamp(raw: string): number | null {
  const s = raw.trim();
  if (!s) return null;
  if (/^\d{9,10}(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (/^\d{12,13}$/.test(s)) return Number(s);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60) return null;
  let z = zone ? zone.toUpperCase() : 'Z';
  if (z !== 'Z' && !z.includes(':')) z = `${z.slice(0, 3)}:${z.slice(3)}`;
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${z}`);
  if (!Number.isFinite(t)) return null;
  // Reject dates JS rolled over (e.g. 2026-02-31).
  if (!zone && new Date(t).getUTCDate() !== day) return null;
  return t;
}

const isoSeconds = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, 'Z');

// ---------- CSV ----------

/** Split one CSV line (RFC 4180 quoting, `""` for a quote). Returns null on an unterminated quote. */
export function splitCsvRow(line: string): string[] | null {
  const out: string[] = [];
  return splitCsvLine(line, out) < 0 ? null : out;
}

const HEADER_ALIASES: Record<string, string> = {
  number: 'number',
  phone: 'number',
  phonenumber: 'number',
  tn: 'number',
  did: 'number',
  callerid: 'number',
  engine: 'engine',
  provider: 'engine',
  label: 'label',
  status: 'label',
  checkedat: 'checked_at',
  checked: 'checked_at',
  date: 'checked_at',
  reports: 'reports',
  spamreports: 'reports',
  pool: 'pool',
  campaign: 'campaign',
  registered: 'registered',
};

function headerMap(line: string): Map<string, number> | null {
  const cells = splitCsvRow(line.replace(/^\uFEFF/, ''));
  if (!cells) return null;
  const m = new Map<string, number>();
  cells.forEach((c, i) => {
    const k = HEADER_ALIASES[squash(c)];
    if (k && !m.has(k)) m.set(k, i);
  });
  return m;
}

/** Which kind of file a header line introduces, or null when it is neither. */
export function detectCsvKind(headerLine: string): CsvKind | null {
  const m = headerMap(headerLine);
  if (!m || !m.has('number')) return null;
  if (m.has('engine') && m.has('label')) return 'labels';
  if (m.has('pool') && !m.has('engine')) return 'inventory';
  return null;
}

interface Line {
  no: number;
  cells: string[] | null;
}

function lines(text: string): { header: Line | null; body: Line[] } {
  const raw = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let header: Line | null = null;
  const body: Line[] = [];
  raw.forEach((l, i) => {
    if (l.trim() === '' || l.trimStart().startsWith('#')) return;
    const ln = { no: i + 1, cells: splitCsvRow(l) };
    if (!header) header = ln;
    else body.push(ln);
  });
  return { header, body };
}

function checkHeader(
  h: Line | null,
  kind: CsvKind,
  required: string[],
  file: string,
): { map: Map<string, number> } | { error: CsvIssue } {
  if (!h || !h.cells) return { error: { file, line: h?.no ?? 1, reason: 'empty file: expected a header line' } };
  const map = new Map<string, number>();
  h.cells.forEach((c, i) => {
    const k = HEADER_ALIASES[squash(c)];
    if (k && !map.has(k)) map.set(k, i);
  });
  const missing = required.filter((r) => !map.has(r));
  if (missing.length) {
    return {
      error: {
        file,
        line: h.no,
        reason: `not a ${kind} file: header lacks ${missing.join(', ')} (expected ${kind === 'labels' ? 'number,engine,label,checked_at[,reports]' : 'number,pool,campaign,registered'})`,
      },
    };
  }
  return { map };
}

function phone(raw: string, cc: string): { ok: true; e164: string } | { ok: false; reason: string } {
  const r = normalizePhone(raw, cc);
  return r.ok ? { ok: true, e164: r.e164 } : { ok: false, reason: `number ${r.why}` };
}

/** Cell of a named column, '' when the header lacks it or the row is short. */
function columnReader(map: Map<string, number>): (cells: string[], k: string) => string {
  return (cells, k) => {
    const i = map.get(k);
    return i === undefined ? '' : (cells[i] ?? '');
  };
}

/**
 * The frame both side files share: the header checked for its required columns, then every body row with its
 * number normalised; `row` turns the rest of it into a row, or says in a string what is wrong with it.
 */
function parseSideCsv<T>(
  text: string,
  opts: ParseOptions,
  kind: CsvKind,
  required: string[],
  row: (cell: (k: string) => string, number: string, line: number) => T | string,
): ParseResult<T> {
  const file = opts.file ?? `<${kind}>`;
  const cc = opts.defaultCountryCode ?? '1';
  const { header, body } = lines(text);
  const h = checkHeader(header, kind, required, file);
  if ('error' in h) return { kind, rows: [], errors: [h.error] };
  const col = columnReader(h.map);
  const rows: T[] = [];
  const errors: CsvIssue[] = [];
  const rowOf = (cells: string[], line: number): T | string => {
    const n = phone(col(cells, 'number'), cc);
    return n.ok ? row((k) => col(cells, k), n.e164, line) : n.reason;
  };
  for (const l of body) {
    const r = l.cells ? rowOf(l.cells, l.no) : 'unterminated quoted field';
    if (typeof r === 'string') errors.push({ file, line: l.no, reason: r });
    else rows.push(r);
  }
  return { kind, rows, errors };
}

// ---------- labels ----------

export interface LabelRow {
  number: string;
  engine: Engine;
  label: string;
  /** ISO 8601 UTC. */
  checked_at: string;
  checkedAtMs: number;
  reports: number | null;
  line: number;
}

export function parseLabelsCsv(text: string, opts: ParseOptions = {}): ParseResult<LabelRow> {
  return parseSideCsv(text, opts, 'labels', ['number', 'engine', 'label', 'checked_at'], (cell, number, line): LabelRow | string => {
    const engine = normaliseEngine(cell('engine'));
    if (!engine) return `engine is empty (expected one of ${ENGINES.join(', ')})`;
    const checkedRaw = cell('checked_at');
    const t = parseTimestamp(checkedRaw);
    if (t === null) return checkedRaw ? `checked_at "${checkedRaw.slice(0, 40)}" is not an ISO 8601 date/time or Unix time` : 'checked_at is empty';
    if (opts.now !== undefined && t > opts.now + LABEL_FUTURE_TOLERANCE_MS) return `checked_at ${isoSeconds(t)} is more than 1 day in the future`;
    let reports: number | null = null;
    const repRaw = cell('reports');
    if (repRaw !== '') {
      if (!/^\d+$/.test(repRaw)) return `reports "${repRaw.slice(0, 20)}" is not a whole number ≥ 0`;
      reports = Number(repRaw);
    }
    return { number, engine, label: normaliseLabel(cell('label')), checked_at: isoSeconds(t), checkedAtMs: t, reports, line };
  });
}

/**
 * The latest snapshot per number and engine (by checked_at; a later line wins a tie), in the shape
 * `NumberInput.engines` takes.
 */
export function latestLabels(rows: Iterable<LabelRow>): Map<string, Partial<Record<Engine, EngineLabel & { checked_at: string }>>> {
  const best = new Map<string, LabelRow>();
  for (const r of rows) {
    const k = `${r.number}\u0000${r.engine}`;
    const cur = best.get(k);
    if (!cur || r.checkedAtMs >= cur.checkedAtMs) best.set(k, r);
  }
  const out = new Map<string, Partial<Record<Engine, EngineLabel & { checked_at: string }>>>();
  for (const r of best.values()) {
    const e = out.get(r.number) ?? {};
    e[r.engine] = { label: r.label, checked_at: r.checked_at, reports: r.reports };
    out.set(r.number, e);
  }
  return out;
}

// ---------- inventory ----------

export interface InventoryRow {
  number: string;
  pool: string;
  campaign: string | null;
  /** Registered (e.g. with the carriers' free caller registry): true/false, null when not given. */
  registered: boolean | null;
  /** When the registered column held a date. */
  registeredAt: number | null;
  line: number;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'registered', 'x']);
const FALSE = new Set(['false', 'no', 'n', '0', 'unregistered', 'not registered']);

export function parseInventoryCsv(text: string, opts: ParseOptions = {}): ParseResult<InventoryRow> {
  const seen = new Map<string, number>();
  // A plain list of numbers (header `number`) is an inventory too: every number in pool `default`.
  return parseSideCsv(text, opts, 'inventory', ['number'], (cell, number, line): InventoryRow | string => {
    const first = seen.get(number);
    if (first !== undefined) return `duplicate number (first listed on line ${first})`;
    const pool = cell('pool') || 'default';
    if (pool.length > 64 || /[\u0000-\u001f]/.test(pool)) return 'pool must be at most 64 printable characters';
    const regRaw = cell('registered');
    let registered: boolean | null = null;
    let registeredAt: number | null = null;
    if (regRaw !== '') {
      const low = regRaw.toLowerCase();
      if (TRUE.has(low)) registered = true;
      else if (FALSE.has(low)) registered = false;
      else {
        const t = parseTimestamp(regRaw);
        if (t === null) return `registered "${regRaw.slice(0, 30)}" is not yes/no/true/false or a date`;
        registered = true;
        registeredAt = t;
      }
    }
    seen.set(number, line);
    return { number, pool, campaign: cell('campaign') || null, registered, registeredAt, line };
  });
}

/** Detect the kind from the first non-blank line and parse; null kind when the header is neither. */
export function parseReputationCsv(
  text: string,
  opts: ParseOptions = {},
): ParseResult<LabelRow> | ParseResult<InventoryRow> | { kind: null; rows: []; errors: CsvIssue[] } {
  const { header } = lines(text);
  const kind = header && header.cells ? detectCsvKind(header.cells.join(',')) : null;
  if (kind === 'labels') return parseLabelsCsv(text, opts);
  if (kind === 'inventory') return parseInventoryCsv(text, opts);
  return {
    kind: null,
    rows: [],
    errors: [{ file: opts.file ?? '<csv>', line: header?.no ?? 1, reason: 'header is neither number,engine,label,checked_at nor number,pool,campaign,registered' }],
  };
}

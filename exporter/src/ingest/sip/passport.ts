// STIR/SHAKEN: the PASSporT in the SIP Identity header (RFC 8224, RFC 8225, RFC 8588).
//
//   Identity: eyJhbGciOiJFUzI1NiIs….eyJhdHRlc3QiOiJBIiwiZGVzdCI6….sig;info=<https://cert.example/x.pem>;alg=ES256;ppt=shaken
//
// The value before the first ';' is a JWT (header.payload.signature, base64url). Only the
// payload is decoded: `attest` (A full, B partial, C gateway), `orig.tn`, `dest.tn`, `iat`,
// `origid`. The signature is NOT verified (that needs the certificate at `info`/`x5u` and a
// trust anchor); numrep reports the attestation the originating carrier claimed.
//
// The verification result a terminating carrier passes on is the `verstat` parameter of
// P-Asserted-Identity / From (`TN-Validation-Passed`, `TN-Validation-Failed`,
// `No-TN-Validation`); see `verstatOf`.

import type { Attestation } from '../../model/types.js';
import { headers, nameAddrParams, params, splitList, uriOf, type SipMessage } from './message.js';

export interface Passport {
  attest: Attestation;
  origTn?: string;
  destTn?: string[];
  iat?: number;
  origid?: string;
  /** `ppt` from the JWT header or the Identity parameters (e.g. `shaken`). */
  ppt?: string;
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function decodeJson(part: string): Record<string, unknown> | null {
  if (part.length === 0 || part.length > 16384 || !B64URL.test(part)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function tnOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** Decode one Identity header value; null when it holds no readable PASSporT. */
export function decodePassport(identity: string): Passport | null {
  const p = params(identity.trim());
  let token = p.get('') ?? '';
  if (token.length >= 2 && token[0] === '"' && token[token.length - 1] === '"') token = token.slice(1, -1);
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const head = decodeJson(parts[0]);
  const payload = decodeJson(parts[1]);
  if (payload === null) return null;
  const a = typeof payload.attest === 'string' ? payload.attest.trim().toUpperCase() : '';
  const out: Passport = { attest: a === 'A' || a === 'B' || a === 'C' ? a : 'none' };
  const orig = payload.orig as Record<string, unknown> | undefined;
  if (orig && typeof orig === 'object') {
    const tn = tnOf(orig.tn);
    if (tn !== undefined) out.origTn = tn;
  }
  const dest = payload.dest as Record<string, unknown> | undefined;
  if (dest && typeof dest === 'object') {
    const tn = dest.tn;
    if (Array.isArray(tn)) out.destTn = tn.filter((x): x is string => typeof x === 'string');
    else if (typeof tn === 'string') out.destTn = [tn];
  }
  if (typeof payload.iat === 'number' && Number.isFinite(payload.iat)) out.iat = payload.iat;
  if (typeof payload.origid === 'string') out.origid = payload.origid;
  const ppt = (head && typeof head.ppt === 'string' ? head.ppt : undefined) ?? p.get('ppt');
  if (ppt) out.ppt = ppt;
  return out;
}

/**
 * The PASSporT of a message: the first Identity header whose payload carries an attestation
 * (a SHAKEN one when several are present), else null.
 */
export function passportOf(msg: SipMessage): Passport | null {
  let fallback: Passport | null = null;
  for (const raw of headers(msg, 'identity')) {
    for (const v of splitIdentity(raw)) {
      const pp = decodePassport(v);
      if (pp === null) continue;
      if (pp.attest !== 'none' && (pp.ppt === undefined || pp.ppt.toLowerCase() === 'shaken')) return pp;
      fallback ??= pp;
    }
  }
  return fallback;
}

/** Identity values may be comma-joined when a proxy merged headers; JWTs contain no commas. */
function splitIdentity(raw: string): string[] {
  return raw.includes(',') ? splitList(raw) : [raw];
}

export type Verstat = 'TN-Validation-Passed' | 'TN-Validation-Failed' | 'No-TN-Validation';

/** `verstat` of P-Asserted-Identity (any value) or From: URI parameter or header parameter. */
export function verstatOf(msg: SipMessage): Verstat | undefined {
  const candidates: string[] = [];
  for (const h of headers(msg, 'p-asserted-identity')) candidates.push(...splitList(h));
  for (const h of headers(msg, 'from')) candidates.push(h);
  for (const c of candidates) {
    const uri = uriOf(c);
    const v = params(uri).get('verstat') ?? nameAddrParams(c).get('verstat');
    if (v === undefined) continue;
    const t = v.trim().toLowerCase();
    if (t === 'tn-validation-passed') return 'TN-Validation-Passed';
    if (t === 'tn-validation-failed') return 'TN-Validation-Failed';
    if (t === 'no-tn-validation') return 'No-TN-Validation';
  }
  return undefined;
}

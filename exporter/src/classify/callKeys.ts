// The durable memory of calls already counted, so that one call counts once whatever way it
// arrives again: the next rows of the same attempt (`leg`), an overlapping export, a re-sent
// upload or the same calls in a second format (`duplicate_call`).
//
// A call is remembered by keys: the ids its rows carry (Asterisk linkedid/uniqueid, a Local
// channel's base, FreeSWITCH uuid and bleg_uuid, a SIP Call-ID, a generic call_id) and its
// fingerprint, caller + called + start second. Keys are never kept in clear: each is the
// SipHash-2-4, under a secret key kept beside the database and never exported, of a fast 64-bit
// hash of the key's text, so a copy of the database alone cannot be searched for a consumer's
// number. Each key also remembers the source
// (file) that counted it — a key met again in the same file is a further leg of that attempt,
// in another file a duplicate — and its call's start, to forget it with the windows.

import type { HashKey } from './sipHash.js';

export { sipHash64, type HashKey } from './sipHash.js';

export function hashKeyFrom(bytes: Uint8Array): HashKey {
  if (bytes.length !== 16) throw new Error('a call-key secret is 16 bytes');
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = bytes[i * 4] | (bytes[i * 4 + 1] << 8) | (bytes[i * 4 + 2] << 16) | (bytes[i * 4 + 3] << 24);
  return k;
}

// A fast 64-bit hash (two murmur3-style lanes, two code units a round, then fmix): what the rows of a
// step are joined by, and what the secret SipHash (sipHash64) is taken of. Parts are hashed as if joined
// by a separator no part contains, so no string is built per row. The same text as a string or as ASCII
// bytes hashes alike (keyHash / keyHashBytes), so a reader's byte path and string path give one key.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function finish(out: Uint32Array, h1: number, h2: number): void {
  h1 ^= h2;
  h2 ^= h1;
  h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b); h1 ^= h1 >>> 13; h1 = Math.imul(h1, 0xc2b2ae35); h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16; h2 = Math.imul(h2, 0x85ebca6b); h2 ^= h2 >>> 13; h2 = Math.imul(h2, 0xc2b2ae35); h2 ^= h2 >>> 16;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}

// The lanes live in these two words between the part functions (no allocation, no closure).
const L = new Int32Array(2);

function part(s: string): void {
  let h1 = L[0];
  let h2 = L[1];
  const len = s.length;
  for (let i = 0; i < len; i += 2) {
    const k = s.charCodeAt(i) | (i + 1 < len ? s.charCodeAt(i + 1) << 16 : 0x10000);
    h1 = Math.imul(h1 ^ k, C1);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ k, C2);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  L[0] = Math.imul(h1 ^ 0x1f, C1); // the separator
  L[1] = Math.imul(h2 ^ 0x1f, C2);
}

function partBytes(buf: Uint8Array, s: number, e: number): void {
  let h1 = L[0];
  let h2 = L[1];
  for (let i = s; i < e; i += 2) {
    const k = buf[i] | (i + 1 < e ? buf[i + 1] << 16 : 0x10000);
    h1 = Math.imul(h1 ^ k, C1);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ k, C2);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  L[0] = Math.imul(h1 ^ 0x1f, C1);
  L[1] = Math.imul(h2 ^ 0x1f, C2);
}

/** The fast hash of one to two text parts and an optional whole number (a start second, mixed in as a number). */
export function keyHash(out: Uint32Array, a: string, b?: string, n?: number): void {
  L[0] = 0x9747b28c;
  L[1] = 0x85ebca6b | 0;
  part(a);
  if (b !== undefined) part(b);
  let h1 = L[0];
  let h2 = L[1];
  if (n !== undefined) {
    const lo = n >>> 0;
    const hi = Math.floor(n / 4294967296) >>> 0;
    h1 = Math.imul(h1 ^ lo, C1);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ hi ^ 0x2a, C2);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  finish(out, h1, h2);
}

/** keyHash(out, kind, text) for the text in buf[s, e) (ASCII): no string. */
export function keyHashBytes(out: Uint32Array, kind: string, buf: Uint8Array, s: number, e: number): void {
  L[0] = 0x9747b28c;
  L[1] = 0x85ebca6b | 0;
  part(kind);
  partBytes(buf, s, e);
  finish(out, L[0], L[1]);
}

const K = new Uint32Array(2);

/**
 * A call id into a row's keys (RawCall.keys: flat hi, lo pairs of its fast hash): `kind` says which id it
 * is (`ast:u` an Asterisk uniqueid, `fs` a FreeSWITCH uuid, `sip` a Call-ID, …), `text` the id itself.
 */
export function pushKey(keys: number[], kind: string, text: string): void {
  keyHash(K, kind, text);
  keys.push(K[0], K[1]);
}

/** pushKey for an id in buf[s, e) (ASCII). */
export function pushKeyBytes(keys: number[], kind: string, buf: Uint8Array, s: number, e: number): void {
  keyHashBytes(K, kind, buf, s, e);
  keys.push(K[0], K[1]);
}

/**
 * A reader's keys of one row, read from bytes: gathered into a reused buffer, then taken as an array of their
 * exact length. A row lives until its read step is classified, and an array grown by push from empty holds room for
 * 17 numbers (~170 bytes a row to allocate and for the collector to copy, a million rows a file).
 */
export class RowKeys {
  private words = new Uint32Array(8);
  private n = 0;

  /** A new row: no keys. */
  clear(): void {
    this.n = 0;
  }

  /** pushKeyBytes into this row's keys. */
  addBytes(kind: string, buf: Uint8Array, s: number, e: number): void {
    if (this.n + 2 > this.words.length) {
      const more = new Uint32Array(this.words.length * 2);
      more.set(this.words);
      this.words = more;
    }
    keyHashBytes(K, kind, buf, s, e);
    this.words[this.n++] = K[0];
    this.words[this.n++] = K[1];
  }

  get size(): number {
    return this.n / 2;
  }

  /** The row's keys as RawCall.keys holds them (flat hi, lo pairs), or undefined when it has none. */
  take(): number[] | undefined {
    const w = this.words;
    switch (this.n) {
      case 0:
        return undefined;
      case 2:
        return [w[0], w[1]];
      case 4:
        return [w[0], w[1], w[2], w[3]];
      case 6:
        return [w[0], w[1], w[2], w[3], w[4], w[5]];
      default:
        return Array.from(w.subarray(0, this.n));
    }
  }
}

/** SipHash-2-4 of a string's code units taken as bytes (a reference for tests; the hot path uses sipHash64 of keyHash). */
export function sipHash(key: HashKey, text: string, out: Uint32Array): void {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes.push(c & 0xff);
    if (c > 0x7f) bytes.push(0x80 | (c >>> 8));
  }
  sipHashBytes(key, Uint8Array.from(bytes), out);
}

/** SipHash-2-4 over bytes, with BigInt (slow, plain: the reference the fast forms are checked against). */
export function sipHashBytes(key: HashKey, m: Uint8Array, out: Uint32Array): void {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M;
  const k0 = (BigInt(key[1]) << 32n) | BigInt(key[0]);
  const k1 = (BigInt(key[3]) << 32n) | BigInt(key[2]);
  let v0 = k0 ^ 0x736f6d6570736575n, v1 = k1 ^ 0x646f72616e646f6dn, v2 = k0 ^ 0x6c7967656e657261n, v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const word = (i: number) => {
    let w = 0n;
    for (let j = 7; j >= 0; j--) w = (w << 8n) | BigInt(i + j < m.length ? m[i + j] : 0);
    return w;
  };
  const full = m.length - (m.length % 8);
  for (let i = 0; i < full; i += 8) {
    const w = word(i);
    v3 ^= w; round(); round(); v0 ^= w;
  }
  let last = BigInt(m.length & 0xff) << 56n;
  for (let j = m.length - 1; j >= full; j--) last |= BigInt(m[j]) << BigInt(8 * (j - full));
  v3 ^= last; round(); round(); v0 ^= last;
  v2 ^= 0xffn;
  round(); round(); round(); round();
  const r = v0 ^ v1 ^ v2 ^ v3;
  out[0] = Number(r >> 32n);
  out[1] = Number(r & 0xffffffffn);
}

/** One remembered key: its hash halves, the source that counted it and its call's start (seconds). */
export interface CallKey {
  hi: number;
  lo: number;
  source: number;
  tsSec: number;
}

/**
 * An open-addressing set of 64-bit key hashes → (source, start second): 16 bytes a slot, one slot's
 * four words side by side (one cache line per probe), at most 3/4 full, so ~21–32 bytes per
 * remembered key. Hash 0:0 marks an empty slot (a key hashing to it is stored as 0:1 — a collision of 2⁻⁶⁴).
 *
 * Most look-ups are of keys never seen (each new call's keys), and a miss in a table of millions of keys is a
 * cache miss (64 MB for 2.2M keys). A bitmap of 4 bits a slot (1/8 of the table), one bit set per key by its hash's
 * high word, answers most misses from memory that stays in cache; a set bit (the key, or another key with that
 * bit: ~1 in 8 at the most full) sends the look-up on to the table.
 */
export class CallKeySet {
  /** hi, lo, source, start second per slot */
  private t: Uint32Array;
  private mask: number;
  /** The bitmap of keys held: bit (hi & filterMask) of each key. */
  private filter: Int32Array;
  private filterMask: number;
  size = 0;

  constructor(capacity = 1024) {
    let cap = 1024;
    while (cap * 0.75 < capacity) cap *= 2;
    this.t = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    this.filter = new Int32Array(cap / 8);
    this.filterMask = cap * 4 - 1;
  }

  /** Bytes held by the table and its bitmap (for the bench and docs). */
  get bytes(): number {
    return this.t.byteLength + this.filter.byteLength;
  }

  private mayHold(hi: number): boolean {
    const bit = hi & this.filterMask;
    return (this.filter[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  private markHeld(hi: number): void {
    const bit = hi & this.filterMask;
    this.filter[bit >>> 5] |= 1 << (bit & 31);
  }

  private slot(hi: number, lo: number): number {
    const t = this.t;
    let i = ((lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask) << 2;
    const wrap = this.t.length - 1;
    for (;;) {
      const h = t[i];
      const l = t[i + 1];
      if ((h === 0 && l === 0) || (h === hi && l === lo)) return i;
      i = (i + 4) & wrap;
    }
  }

  /** The source that counted this key, or -1. */
  sourceOf(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1;
    if (!this.mayHold(hi)) return -1;
    const i = this.slot(hi, lo);
    return this.t[i] === 0 && this.t[i + 1] === 0 ? -1 : this.t[i + 2];
  }

  /** Remember a key (an existing one keeps its source and the earlier start). */
  add(hi: number, lo: number, source: number, tsSec: number): void {
    if (hi === 0 && lo === 0) lo = 1;
    let i = this.slot(hi, lo);
    const t = this.t;
    if (t[i] === hi && t[i + 1] === lo) {
      if (tsSec < t[i + 3]) t[i + 3] = tsSec;
      return;
    }
    if (this.size + 1 > (this.mask + 1) * 0.75) {
      this.rehash((this.mask + 1) * 2, 0);
      i = this.slot(hi, lo);
    }
    const u = this.t;
    u[i] = hi;
    u[i + 1] = lo;
    u[i + 2] = source;
    u[i + 3] = tsSec;
    this.markHeld(hi);
    this.size++;
  }

  /** Forget keys of calls that started before `beforeSec`; returns how many. */
  forgetBefore(beforeSec: number): number {
    const before = this.size;
    this.rehash(this.mask + 1, beforeSec);
    return before - this.size;
  }

  private rehash(cap: number, minTs: number): void {
    const old = this.t;
    this.t = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    this.filter = new Int32Array(cap / 8);
    this.filterMask = cap * 4 - 1;
    this.size = 0;
    const t = this.t;
    for (let i = 0; i < old.length; i += 4) {
      if ((old[i] === 0 && old[i + 1] === 0) || old[i + 3] < minTs) continue;
      const j = this.slot(old[i], old[i + 1]);
      t[j] = old[i];
      t[j + 1] = old[i + 1];
      t[j + 2] = old[i + 2];
      t[j + 3] = old[i + 3];
      this.markHeld(old[i]);
      this.size++;
    }
  }
}

/** The signed 64-bit integer SQLite stores for a key hash (its rowid). */
export function keyRowId(hi: number, lo: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** Back from a stored rowid. */
export function keyFromRowId(id: bigint | number): { hi: number; lo: number } {
  const u = BigInt.asUintN(64, BigInt(id));
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
}

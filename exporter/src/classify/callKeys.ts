// The durable memory of calls already counted, so that one call counts once whatever way it
// arrives again: the next rows of the same attempt (`leg`), an overlapping export, a re-sent
// upload or the same calls in a second format (`duplicate_call`).
//
// A call is remembered by keys: the ids its rows carry (Asterisk linkedid/uniqueid, a Local
// channel's base, FreeSWITCH uuid and bleg_uuid, a SIP Call-ID, a generic call_id) and its
// fingerprint, caller + called + start second. Keys are never kept in clear: each is a 64-bit
// SipHash-2-4 under a secret key (kept beside the database, never exported), so a copy of the
// database alone cannot be searched for a consumer's number. Each key also remembers the source
// (file) that counted it — a key met again in the same file is a further leg of that attempt,
// in another file a duplicate — and its call's start, to forget it with the windows.

/** A 128-bit SipHash key as four 32-bit words. */
export type HashKey = Uint32Array;

export function hashKeyFrom(bytes: Uint8Array): HashKey {
  if (bytes.length !== 16) throw new Error('a call-key secret is 16 bytes');
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = bytes[i * 4] | (bytes[i * 4 + 1] << 8) | (bytes[i * 4 + 2] << 16) | (bytes[i * 4 + 3] << 24);
  return k;
}

// SipHash-2-4 on 64-bit words kept as (hi, lo) 32-bit halves in a scratch array.
const V = new Uint32Array(8); // v0 hi/lo, v1, v2, v3
const M = new Uint32Array(2);

function add(a: number, b: number): void {
  // v[a] += v[b] (64-bit)
  const lo = (V[a + 1] + V[b + 1]) >>> 0;
  V[a] = (V[a] + V[b] + (lo < V[a + 1] ? 1 : 0)) >>> 0;
  V[a + 1] = lo;
}
function rotl(a: number, n: number): void {
  const hi = V[a];
  const lo = V[a + 1];
  if (n === 32) {
    V[a] = lo;
    V[a + 1] = hi;
  } else if (n < 32) {
    V[a] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    V[a + 1] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
  } else {
    const m = n - 32;
    V[a] = ((lo << m) | (hi >>> (32 - m))) >>> 0;
    V[a + 1] = ((hi << m) | (lo >>> (32 - m))) >>> 0;
  }
}
function xor(a: number, b: number): void {
  V[a] = (V[a] ^ V[b]) >>> 0;
  V[a + 1] = (V[a + 1] ^ V[b + 1]) >>> 0;
}
function round(): void {
  add(0, 2); rotl(2, 13); xor(2, 0); rotl(0, 32);
  add(4, 6); rotl(6, 16); xor(6, 4);
  add(0, 6); rotl(6, 21); xor(6, 0);
  add(4, 2); rotl(2, 17); xor(2, 4); rotl(4, 32);
}

/**
 * SipHash-2-4 of a string's UTF-16 code units taken as bytes (keys are ASCII; any other code unit
 * contributes its low byte and, marked, its high byte). The result's high and low 32 bits.
 */
export function sipHash(key: HashKey, text: string, out: Uint32Array): void {
  const k0lo = key[0], k0hi = key[1], k1lo = key[2], k1hi = key[3];
  V[0] = (k0hi ^ 0x736f6d65) >>> 0; V[1] = (k0lo ^ 0x70736575) >>> 0;
  V[2] = (k1hi ^ 0x646f7261) >>> 0; V[3] = (k1lo ^ 0x6e646f6d) >>> 0;
  V[4] = (k0hi ^ 0x6c796765) >>> 0; V[5] = (k0lo ^ 0x6e657261) >>> 0;
  V[6] = (k1hi ^ 0x74656462) >>> 0; V[7] = (k1lo ^ 0x79746573) >>> 0;
  let len = 0;
  let lo = 0;
  let hi = 0;
  const push = (b: number) => {
    const pos = len & 7;
    if (pos < 4) lo |= b << (pos * 8);
    else hi |= b << ((pos - 4) * 8);
    len++;
    if ((len & 7) === 0) {
      M[0] = hi >>> 0; M[1] = lo >>> 0;
      V[6] ^= M[0]; V[7] ^= M[1];
      round(); round();
      V[0] ^= M[0]; V[1] ^= M[1];
      lo = 0;
      hi = 0;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    push(c & 0xff);
    if (c > 0x7f) push(0x80 | (c >>> 8));
  }
  // Last block: remaining bytes and the length in the top byte.
  hi |= (len & 0xff) << 24;
  M[0] = hi >>> 0; M[1] = lo >>> 0;
  V[6] ^= M[0]; V[7] ^= M[1];
  round(); round();
  V[0] ^= M[0]; V[1] ^= M[1];
  V[5] = (V[5] ^ 0xff) >>> 0;
  round(); round(); round(); round();
  out[0] = (V[0] ^ V[2] ^ V[4] ^ V[6]) >>> 0;
  out[1] = (V[1] ^ V[3] ^ V[5] ^ V[7]) >>> 0;
}

/** One remembered key: its hash halves, the source that counted it and its call's start (seconds). */
export interface CallKey {
  hi: number;
  lo: number;
  source: number;
  tsSec: number;
}

/**
 * An open-addressing set of 64-bit key hashes → (source, start second): 16 bytes a slot, at most
 * 3/4 full, so ~21–32 bytes per remembered key. Hash 0:0 marks an empty slot (a key hashing to
 * it is stored as 0:1 — a collision of 2⁻⁶⁴).
 */
export class CallKeySet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private src: Uint32Array;
  private ts: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let cap = 1024;
    while (cap * 0.75 < capacity) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.src = new Uint32Array(cap);
    this.ts = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Bytes held by the table (for the bench and docs). */
  get bytes(): number {
    return this.hi.byteLength * 4;
  }

  private slot(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.hi[i];
      const l = this.lo[i];
      if ((h === 0 && l === 0) || (h === hi && l === lo)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The source that counted this key, or -1. */
  sourceOf(hi: number, lo: number): number {
    const i = this.slot(hi, lo);
    return this.hi[i] === 0 && this.lo[i] === 0 ? -1 : this.src[i];
  }

  /** Remember a key (an existing one keeps its source and the earlier start). */
  add(hi: number, lo: number, source: number, tsSec: number): void {
    if (hi === 0 && lo === 0) lo = 1;
    let i = this.slot(hi, lo);
    if (this.hi[i] === hi && this.lo[i] === lo) {
      if (tsSec < this.ts[i]) this.ts[i] = tsSec;
      return;
    }
    if ((this.size + 1) > (this.mask + 1) * 0.75) {
      this.rehash((this.mask + 1) * 2, 0);
      i = this.slot(hi, lo);
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.src[i] = source;
    this.ts[i] = tsSec;
    this.size++;
  }

  /** Forget keys of calls that started before `beforeSec`; returns how many. */
  forgetBefore(beforeSec: number): number {
    const before = this.size;
    this.rehash(this.mask + 1, beforeSec);
    return before - this.size;
  }

  private rehash(cap: number, minTs: number): void {
    const { hi, lo, src, ts } = this;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.src = new Uint32Array(cap);
    this.ts = new Uint32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < hi.length; i++) {
      if ((hi[i] === 0 && lo[i] === 0) || ts[i] < minTs) continue;
      const j = this.slot(hi[i], lo[i]);
      this.hi[j] = hi[i];
      this.lo[j] = lo[i];
      this.src[j] = src[i];
      this.ts[j] = ts[i];
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

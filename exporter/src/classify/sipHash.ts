// SipHash-2-4 of one 64-bit word, the secret form of every call key and consumer hash `serve` keeps
// (classify/callKeys.ts). It runs for every key of every row (~5 a call), so it is WebAssembly: 64-bit adds and
// rotates are single instructions there, where JavaScript emulated them on 32-bit halves (~200 ns a hash against
// ~35 ns here; a tenth of a durable backfill's CPU before: docs/performance.md, stop 30). The module is assembled
// below from its instructions (no toolchain, no binary blob), and callKeys.test.ts checks it against the plain
// BigInt reference (sipHashBytes).

/** A 128-bit SipHash key as four 32-bit words (little-endian: key[0] is the low word of k0). */
export type HashKey = Uint32Array;

const I32 = 0x7f;
const I64 = 0x7e;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb64(value: bigint): number[] {
  let v = BigInt.asIntN(64, value);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vector([...s].map((c) => [c.charCodeAt(0)]));

// Instructions.
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i64 = (v: bigint) => [0x42, ...sleb64(v)];
const ADD = 0x7c;
const XOR = 0x85;
const OR = 0x84;
const SHL = 0x86;
const ROTL = 0x89;
const EXTEND_U = 0xad; // i64.extend_i32_u
const STORE64 = [0x37, 3, 0]; // i64.store, 8-byte aligned, offset 0

// Parameters k0lo, k0hi, k1lo, k1hi, mhi, mlo (0..5); locals v0..v3, m, k0, k1.
const [V0, V1, V2, V3, M, K0, K1] = [6, 7, 8, 9, 10, 11, 12];

/** The 64-bit word of two i32 parameters. */
const word = (lo: number, hi: number) => [...get(hi), EXTEND_U, ...i64(32n), SHL, ...get(lo), EXTEND_U, OR];

const sipRound = [
  ...get(V0), ...get(V1), ADD, ...set(V0),
  ...get(V1), ...i64(13n), ROTL, ...get(V0), XOR, ...set(V1),
  ...get(V0), ...i64(32n), ROTL, ...set(V0),
  ...get(V2), ...get(V3), ADD, ...set(V2),
  ...get(V3), ...i64(16n), ROTL, ...get(V2), XOR, ...set(V3),
  ...get(V0), ...get(V3), ADD, ...set(V0),
  ...get(V3), ...i64(21n), ROTL, ...get(V0), XOR, ...set(V3),
  ...get(V2), ...get(V1), ADD, ...set(V2),
  ...get(V1), ...i64(17n), ROTL, ...get(V2), XOR, ...set(V1),
  ...get(V2), ...i64(32n), ROTL, ...set(V2),
];

/** One message word through two compression rounds. */
const absorb = (m: number[]) => [...get(V3), ...m, XOR, ...set(V3), ...sipRound, ...sipRound, ...get(V0), ...m, XOR, ...set(V0)];

const body = [
  ...word(0, 1), ...set(K0),
  ...word(2, 3), ...set(K1),
  ...word(5, 4), ...set(M),
  ...get(K0), ...i64(0x736f6d6570736575n), XOR, ...set(V0),
  ...get(K1), ...i64(0x646f72616e646f6dn), XOR, ...set(V1),
  ...get(K0), ...i64(0x6c7967656e657261n), XOR, ...set(V2),
  ...get(K1), ...i64(0x7465646279746573n), XOR, ...set(V3),
  ...absorb(get(M)),
  ...absorb(i64(8n << 56n)), // the length block: 8 bytes
  ...get(V2), ...i64(0xffn), XOR, ...set(V2),
  ...sipRound, ...sipRound, ...sipRound, ...sipRound,
  0x41, 0, // i32.const 0: the address the result is stored at
  ...get(V0), ...get(V1), XOR, ...get(V2), XOR, ...get(V3), XOR,
  ...STORE64,
  0x0b, // end
];

const code = [...vector([[7, I64]]), ...body];
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), 0]])), // (i32 × 6) -> ()
  ...section(3, vector([[0]])),
  ...section(5, vector([[0, 1]])), // one page of memory
  ...section(7, vector([[...name('sip'), 0, 0], [...name('mem'), 2, 0]])),
  ...section(10, vector([[...uleb(code.length), ...code]])),
]);

// Node has WebAssembly; this project's TypeScript libraries (no DOM) do not declare it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
const sip = instance.exports.sip as (k0lo: number, k0hi: number, k1lo: number, k1hi: number, hi: number, lo: number) => void;
const result = new Uint32Array((instance.exports.mem as WebAssembly.Memory).buffer, 0, 2);

/**
 * SipHash-2-4 of an 8-byte message, the little-endian 64-bit word (hi, lo): the secret form of a key's
 * fast hash (keyHash). The result's high and low 32 bits go to out[0], out[1].
 */
export function sipHash64(key: HashKey, hi: number, lo: number, out: Uint32Array): void {
  sip(key[0], key[1], key[2], key[3], hi, lo);
  out[0] = result[1];
  out[1] = result[0];
}

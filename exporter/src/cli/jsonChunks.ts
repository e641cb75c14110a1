// `report --json` writes JSON.stringify(report, null, 2) in pieces: a dialer's report holds one entry per number
// (121 MB for 12,000 numbers), and one string of it costs a second full copy for its UTF-8 encoding — slower still
// when a single non-Latin-1 character anywhere makes the whole string two-byte.

/**
 * An array whose elements are made as they are read, for a member of what indentedJsonChunks writes: it writes them
 * one at a time and keeps none. Anywhere else it is the array of all of them (toJSON), as JSON.stringify says it.
 */
export class StreamedArray<T> {
  constructor(readonly elements: () => Iterable<T>) {}

  toJSON(): T[] {
    return [...this.elements()];
  }
}

/**
 * The pieces of JSON.stringify(value, null, 2), in order: their concatenation is that string, byte for byte.
 * A plain object's members come one by one and the elements of its arrays (and StreamedArrays) one by one, so no
 * piece is larger than one member or element; anything else (a top-level array, a value with toJSON) is one piece.
 */
export function* indentedJsonChunks(value: unknown): Generator<string> {
  if (!isPlainObject(value)) {
    const whole = JSON.stringify(value, null, 2);
    if (whole !== undefined) yield whole;
    return;
  }
  let members = 0;
  for (const key of Object.keys(value)) {
    const v = value[key];
    const elements = v instanceof StreamedArray ? (v.elements() as Iterable<unknown>) : Array.isArray(v) && v.length > 0 && !hasToJson(v) ? v : null;
    if (elements !== null) {
      let i = 0;
      for (const element of elements) {
        // An array member is never left out: `"key": [`, its elements at depth 2, `]`.
        if (i === 0) yield `${members++ === 0 ? '{\n  ' : ',\n  '}${JSON.stringify(key)}: [\n    `;
        // [x] under a key of a top-level object puts x at depth 2, indented as in the whole:
        // '{\n  "a": [\n    ' … '\n  ]\n}' (and an element JSON leaves out becomes null there, as in the whole).
        const wrapped = JSON.stringify({ a: [element] }, null, 2);
        // The separator a piece of its own: joined to the element's text it would make a string that has to be
        // copied whole before it is encoded (~40 % of the encoding's time at 121 MB).
        if (i++ > 0) yield ',\n    ';
        yield wrapped.slice(15, -6);
      }
      // No element (a StreamedArray can only tell by being read): `"key": []` as JSON says an empty array.
      yield i > 0 ? '\n  ]' : `${members++ === 0 ? '{\n  ' : ',\n  '}${JSON.stringify(key)}: []`;
      continue;
    }
    // {key: v} puts the member at depth 1 as in the whole: '{\n  ' … '\n}'; '{}' when JSON leaves it out.
    const wrapped = JSON.stringify({ [key]: v }, null, 2);
    if (wrapped === '{}') continue;
    yield members++ === 0 ? '{\n  ' : ',\n  ';
    yield wrapped.slice(4, -2);
  }
  yield members === 0 ? '{}' : '\n}';
}

function hasToJson(v: object): boolean {
  return typeof (v as { toJSON?: unknown }).toJSON === 'function';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || hasToJson(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Pieces encoded as UTF-8 straight into buffers of about `bytes` bytes, each handed to `write` when full (a fresh
 * buffer each time: `write` may keep it): no joined string and no second copy for the encoding.
 */
export function writePiecesUtf8(pieces: Iterable<string>, write: (chunk: Buffer) => void, bytes = 1 << 20): void {
  let buf = Buffer.allocUnsafe(bytes);
  let used = 0;
  for (const p of pieces) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
    if (used + p.length * 3 > buf.length) {
      if (used > 0) write(buf.subarray(0, used));
      buf = Buffer.allocUnsafe(bytes);
      used = 0;
      if (p.length * 3 > buf.length) {
        write(Buffer.from(p, 'utf8'));
        continue;
      }
    }
    used += buf.write(p, used, 'utf8');
  }
  if (used > 0) write(buf.subarray(0, used));
}

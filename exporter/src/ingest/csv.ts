// A small, allocation-light RFC 4180 line splitter: the hot path of every CSV reader.
//
// Lines arrive already split on '\n' (see ingest/reader.ts), so a quoted field that spans
// lines shows up here as an unterminated quote, which is reported, never guessed at.
//
// Rules:
//  - fields are separated by ',' (or the given one-character delimiter);
//  - a field that starts with '"' is quoted: it ends at the next '"' not followed by
//    another '"'; '""' inside it stands for one '"'; commas inside it are data;
//  - an empty unquoted field (",,") is the empty string, as is an empty quoted one ("");
//  - text after a closing quote and before the next delimiter (`"ab"c,`) is not RFC 4180;
//    it is kept (appended to the field) rather than rejected, as spreadsheets do;
//  - a '"' in the middle of an unquoted field is data.
//
// `splitCsvLine` writes into a caller-owned array to avoid a new array per line.

export const CSV_UNTERMINATED_QUOTE = -1;

/**
 * Split one CSV line into `out` (cleared first). Returns the number of fields, or
 * CSV_UNTERMINATED_QUOTE (-1) if a quoted field never closes; `out` then holds the fields
 * before the broken one.
 */
export function splitCsvLine(line: string, out: string[], delimiter = ','): number {
  out.length = 0;
  const len = line.length;
  const d = delimiter.charCodeAt(0);
  let i = 0;
  for (;;) {
    if (i < len && line.charCodeAt(i) === 34 /* " */) {
      // Quoted field.
      let start = i + 1;
      let acc: string | null = null;
      let q = line.indexOf('"', start);
      for (;;) {
        if (q < 0) return CSV_UNTERMINATED_QUOTE;
        if (q + 1 < len && line.charCodeAt(q + 1) === 34) {
          // Escaped quote: keep text up to and including one '"'.
          acc = acc === null ? line.slice(start, q + 1) : acc + line.slice(start, q + 1);
          start = q + 2;
          q = line.indexOf('"', start);
          continue;
        }
        break;
      }
      let field = acc === null ? line.slice(start, q) : acc + line.slice(start, q);
      i = q + 1;
      if (i < len && line.charCodeAt(i) !== d) {
        // Junk after the closing quote: keep it (lenient).
        let e = line.indexOf(delimiter, i);
        if (e < 0) e = len;
        field += line.slice(i, e);
        i = e;
      }
      out.push(field);
      if (i >= len) return out.length;
      i++; // past the delimiter
      if (i === len) {
        out.push('');
        return out.length;
      }
    } else {
      let e = line.indexOf(delimiter, i);
      if (e < 0) {
        out.push(i === 0 ? line : line.slice(i));
        return out.length;
      }
      out.push(line.slice(i, e));
      i = e + 1;
      if (i === len) {
        out.push('');
        return out.length;
      }
    }
  }
}

/** Split into a fresh array; throws on an unterminated quote. For loaders, not the hot path. */
export function splitCsv(line: string, delimiter = ','): string[] {
  const out: string[] = [];
  if (splitCsvLine(line, out, delimiter) < 0) throw new Error('unterminated quoted field');
  return out;
}

/** Quote one field for output (RFC 4180): only when it contains '"', ',', CR or LF, or always if asked. */
export function quoteCsvField(v: string, always = false): string {
  if (always || /[",\r\n]/.test(v)) return '"' + v.replace(/"/g, '""') + '"';
  return v;
}

/** Strip a trailing '\r' and a leading UTF-8 BOM (expected on line 1; also seen where files were concatenated). */
export function cleanLine(line: string): string {
  let s = line;
  if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
  if (s.length > 0 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s;
}

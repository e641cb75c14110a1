/**
 * A string kept for a long time (a label set, a map key) as one flat string: a template literal or `+` makes a
 * tree of concatenations (32 bytes a node) that V8 keeps beside its flattened copy once the string is read or
 * hashed — at 10k numbers and their pairs, ~10 MB of heap. Same text: lone surrogates aside (never in a number, a
 * carrier id or a pool name that was read as UTF-8), the UTF-8 round trip gives back the string it was given.
 */
export function flatString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

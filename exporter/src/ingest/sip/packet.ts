// SIP messages as they travel on the wire (a UDP datagram, a HEP payload, a TCP stream), not as a log
// writes them: the header section ends at the first empty line, the body is what follows (its length
// from Content-Length on a stream). The same SipMessage as the log readers build, so the dialog
// tracker cannot tell where a message came from.

import { HEADER, MAX_HEADER_BYTES, MAX_HEADER_LINES, fullHeaderName, header, startLine, type SipMessage } from './message.js';

/** Messages larger than this are not SIP we read (a UDP datagram is at most 64 KiB anyway). */
export const MAX_SIP_MESSAGE = 64 * 1024;

/** Index just past the empty line ending the headers (CRLFCRLF, or LFLF from lax senders), or -1. */
function headerEnd(buf: Buffer, start: number, end: number): { body: number } | null {
  for (let i = start; i < end - 1; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i + 1] === 10) return { body: i + 2 };
    if (buf[i + 1] === 13 && i + 2 < end && buf[i + 2] === 10) return { body: i + 3 };
  }
  return null;
}

/** Any byte above ASCII (the header text is read as Latin-1, one char a byte). */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * One SIP message from its bytes, or null when they are not one (no SIP start line). A message whose
 * headers have no end (a truncated datagram) is still read from the headers it has.
 *
 * The same message, header for header, as `MessageBuilder` makes of these lines (the SIP log readers'
 * path; test/sip/packetParse.test.ts compares the two), in one pass: each header line is matched once,
 * and its value goes straight into the message (the builder matches every line twice and keeps the lines).
 */
export function sipFromBytes(buf: Buffer, start = 0, end = buf.length): SipMessage | null {
  // Keep-alives (CRLF) and leading blank lines are skipped.
  while (start < end && (buf[start] === 13 || buf[start] === 10)) start++;
  if (end - start < 12 || end - start > MAX_SIP_MESSAGE) return null;
  const he = headerEnd(buf, start, end);
  const headEnd = he ? he.body : end;
  const text = buf.toString('latin1', start, headEnd);
  const ascii = !NON_ASCII.test(text);
  let msg: SipMessage | null = null;
  let haveStart = false;
  let inBody = false;
  let stored = 1; // lines kept, the start line included (MAX_HEADER_LINES)
  let headerBytes = 0;
  // The last header kept: a folded line continues it.
  let lastValues: string[] | null = null;
  let lastIndex = 0;
  let lastRaw = '';
  let lastName = '';
  let lastBroken = false;
  let at = 0;
  while (at <= text.length && !inBody) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    let lineEnd = nl;
    if (lineEnd > at && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const line = text.slice(at, lineEnd);
    at = nl + 1;
    if (line === '') continue;
    if (!haveStart) {
      const t = line.trim();
      if (t === '') continue;
      haveStart = true;
      msg = startLine(t, 0);
      if (msg === null) return null;
      continue;
    }
    const n = ascii ? line.length : Buffer.byteLength(line, 'utf8');
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      // folded continuation of the previous header kept
      if (lastValues !== null && headerBytes + n <= MAX_HEADER_BYTES) {
        headerBytes += n;
        if (lastBroken) continue;
        lastRaw += ' ' + line.trim();
        if (lastRaw.includes('\r')) {
          // The builder's joined line no longer matches a header (a CR inside it): that header is dropped.
          lastValues.splice(lastIndex, 1);
          if (lastValues.length === 0) msg!.headers.delete(lastName);
          lastBroken = true;
        } else lastValues[lastIndex] = lastRaw.trim();
      }
      continue;
    }
    const m = HEADER.exec(line);
    if (m === null) {
      inBody = true; // the builder's body starts here: nothing after it is a header
      continue;
    }
    if (stored >= MAX_HEADER_LINES || headerBytes + n > MAX_HEADER_BYTES) continue;
    stored++;
    headerBytes += n;
    const name = fullHeaderName(m[1]);
    lastName = name;
    lastBroken = false;
    lastRaw = m[2];
    const value = lastRaw.trim();
    const list = msg!.headers.get(name);
    if (list) {
      lastIndex = list.length;
      list.push(value);
      lastValues = list;
    } else {
      lastIndex = 0;
      lastValues = [value];
      msg!.headers.set(name, lastValues);
    }
  }
  if (msg === null) return null;
  // Body lines, for hasSdp when Content-Length is absent.
  let bodyLines = 0;
  if (he && he.body < end) {
    for (let i = he.body; i < end; i++) if (buf[i] === 10) bodyLines++;
    if (buf[end - 1] !== 10) bodyLines++;
  }
  msg.bodyLines = bodyLines;
  // Header values were read as Latin-1 so that any byte survives; numbers and tokens are ASCII, and a
  // UTF-8 display name only matters as text: re-read values that are not pure ASCII as UTF-8.
  if (!ascii) {
    for (const vs of msg.headers.values()) {
      for (let i = 0; i < vs.length; i++) if (NON_ASCII.test(vs[i])) vs[i] = Buffer.from(vs[i], 'latin1').toString('utf8');
    }
  }
  return msg;
}

/**
 * On a stream (SIP over TCP): the byte length of the message starting at `start`, counting leading
 * keep-alive CRLFs; 'need_more' while its headers or body are not all there; 'bad' when the bytes
 * cannot be a SIP message (no Content-Length on a stream, a header section over MAX_SIP_MESSAGE).
 */
export function sipStreamLength(buf: Buffer, start = 0, end = buf.length): number | 'need_more' | 'bad' {
  let s = start;
  while (s < end && (buf[s] === 13 || buf[s] === 10)) s++;
  if (s === end) return end > start ? end - start : 'need_more';
  const he = headerEnd(buf, s, Math.min(end, s + MAX_SIP_MESSAGE));
  if (he === null) return end - s >= MAX_SIP_MESSAGE ? 'bad' : 'need_more';
  const head = buf.toString('latin1', s, he.body);
  const m = /(?:^|\n)(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*\r?(?:\n|$)/i.exec(head);
  if (!m) return 'bad'; // RFC 3261 §18.3: mandatory on stream transports
  const len = Number(m[1]);
  if (len > MAX_SIP_MESSAGE) return 'bad';
  const total = he.body - start + len;
  return start + total <= end ? total : 'need_more';
}

/** Call-ID of a message (for tests and tools). */
export function callIdOf(msg: SipMessage): string | undefined {
  return header(msg, 'call-id');
}

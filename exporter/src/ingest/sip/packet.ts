// SIP messages as they travel on the wire (a UDP datagram, a HEP payload, a TCP stream), not as a log
// writes them: the header section ends at the first empty line, the body is what follows (its length
// from Content-Length on a stream). The same SipMessage as the log readers build, so the dialog
// tracker cannot tell where a message came from.

import { MessageBuilder, header, type SipMessage } from './message.js';

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

/**
 * One SIP message from its bytes, or null when they are not one (no SIP start line). A message whose
 * headers have no end (a truncated datagram) is still read from the headers it has.
 */
export function sipFromBytes(buf: Buffer, start = 0, end = buf.length): SipMessage | null {
  // Keep-alives (CRLF) and leading blank lines are skipped.
  while (start < end && (buf[start] === 13 || buf[start] === 10)) start++;
  if (end - start < 12 || end - start > MAX_SIP_MESSAGE) return null;
  const he = headerEnd(buf, start, end);
  const headEnd = he ? he.body : end;
  const text = buf.toString('latin1', start, headEnd);
  const b = new MessageBuilder(null);
  let lines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    b.add(line);
    lines++;
  }
  if (lines === 0) return null;
  const msg = b.build();
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
  for (const [k, vs] of msg.headers) {
    for (let i = 0; i < vs.length; i++) if (/[^\x00-\x7f]/.test(vs[i])) vs[i] = Buffer.from(vs[i], 'latin1').toString('utf8');
    msg.headers.set(k, vs);
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

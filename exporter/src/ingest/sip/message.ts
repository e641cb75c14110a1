// SIP message parsing for log readers (sipp -trace_msg, sofia siptrace).
//
// The tailer hands readers one line at a time with the line ending removed and BLANK LINES
// DROPPED, so the empty line between the headers and the body is never seen. A message is
// therefore assembled by `MessageBuilder` from its start line and header lines; the first
// line that is neither a header nor a folded continuation starts the body, and body lines
// are only counted (the dialog logic needs Content-Type/Content-Length, not the SDP text).
//
// Both log formats say how many bytes the message had on the wire. SIP lines end in CRLF,
// so the builder estimates the wire size as Σ(bytes of line + 2) plus the 2 bytes of the
// dropped empty line, and reports the message complete when that reaches the announced
// size: a trace's last message is handled as soon as it is written, not only when the next
// one arrives. The next block's header line, or the end of the run, also completes it.

/** Compact header forms (RFC 3261 §7.3.3, RFC 8224 for Identity). */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  e: 'content-encoding',
  k: 'supported',
  s: 'subject',
  y: 'identity',
};

export const HEADER = /^([A-Za-z0-9!%*+.^_`|~-]+)[ \t]*:(.*)$/;
const REQUEST_LINE = /^([A-Z][A-Z0-9_.!%*+`'~-]*) (\S+) SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/;

/** Upper bound on stored header lines per message (a hostile log cannot grow state unboundedly). */
export const MAX_HEADER_LINES = 200;
export const MAX_HEADER_BYTES = 32 * 1024;

export interface SipMessage {
  /** Request method, e.g. INVITE; undefined for a response. */
  method?: string;
  /** Request-URI of a request. */
  uri?: string;
  /** Status code of a response. */
  status?: number;
  /** Reason phrase of a response (may be empty). */
  reason?: string;
  /** Header values by lower-case full name, in order; folded lines joined with one space. */
  headers: Map<string, string[]>;
  /** Body lines seen (after the headers). */
  bodyLines: number;
}

/** First value of a header (full or compact name), trimmed. */
export function header(msg: SipMessage, name: string): string | undefined {
  const v = msg.headers.get(name.toLowerCase());
  return v && v.length > 0 ? v[0] : undefined;
}

/** All values of a header. */
export function headers(msg: SipMessage, name: string): string[] {
  return msg.headers.get(name.toLowerCase()) ?? [];
}

/** CSeq: `314159 INVITE` → {seq, method}. */
export function cseqOf(msg: SipMessage): { seq: number; method: string } | null {
  const v = header(msg, 'cseq');
  if (!v) return null;
  const m = /^(\d{1,10})\s+([A-Za-z]+)/.exec(v.trim());
  return m ? { seq: Number(m[1]), method: m[2].toUpperCase() } : null;
}

/** Does the message carry an SDP body (Content-Type application/sdp, non-empty)? Multipart with SDP counts too. */
export function hasSdp(msg: SipMessage): boolean {
  const ct = (header(msg, 'content-type') ?? '').toLowerCase();
  if (!ct.includes('application/sdp') && !(ct.startsWith('multipart/') && msg.bodyLines > 0)) return false;
  const cl = header(msg, 'content-length');
  if (cl !== undefined && /^\s*\d+\s*$/.test(cl)) return Number(cl) > 0;
  return msg.bodyLines > 0;
}

/**
 * Split on `sep` where it stands outside double quotes (with `\` escapes) and angle brackets; parts untrimmed.
 */
function splitOutside(value: string, sep: string): string[] {
  const parts: string[] = [];
  let depthAngle = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') depthAngle++;
    else if (ch === '>') depthAngle = Math.max(0, depthAngle - 1);
    else if (ch === sep && depthAngle === 0) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/**
 * Split a header value on commas that are outside quotes and angle brackets
 * (`<sip:a@b>, <tel:+1…>` → two values).
 */
export function splitList(value: string): string[] {
  const out = splitOutside(value, ',').map((v) => v.trim());
  if (out[out.length - 1] === '') out.pop();
  return out;
}

/**
 * Parameters after a value: `SIP;cause=603;text="v=analytics1;url=…"` → Map
 * (keys lower-case, quoted values unquoted). The first token (before any ';') is under ''.
 */
export function params(value: string): Map<string, string> {
  const m = new Map<string, string>();
  const parts = splitOutside(value, ';');
  m.set('', parts[0].trim());
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i].trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const k = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    let v = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!m.has(k)) m.set(k, v);
  }
  return m;
}

/** The URI inside a name-addr (`"Bob" <sip:bob@h>;tag=1` → `sip:bob@h`) or an addr-spec without <> (params cut). */
export function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf('<');
  if (lt >= 0) {
    const gt = nameAddr.indexOf('>', lt);
    return nameAddr.slice(lt + 1, gt < 0 ? nameAddr.length : gt).trim();
  }
  const semi = nameAddr.indexOf(';');
  return (semi < 0 ? nameAddr : nameAddr.slice(0, semi)).trim();
}

/** Header parameters after the name-addr (`<sip:…>;tag=abc` → tag). */
export function nameAddrParams(nameAddr: string): Map<string, string> {
  const gt = nameAddr.lastIndexOf('>');
  const rest = gt >= 0 ? nameAddr.slice(gt + 1) : nameAddr.slice(nameAddr.indexOf(';') < 0 ? nameAddr.length : nameAddr.indexOf(';'));
  return params('x' + rest);
}

/** User part of a SIP/tel URI (`sip:+1212…@host;user=phone` → `+1212…`, `tel:+1…;npdi` → `+1…`). */
export function uriUser(uri: string): string | undefined {
  let s = uri.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const scheme = s.slice(0, colon).toLowerCase();
  s = s.slice(colon + 1);
  if (scheme === 'tel') {
    const semi = s.indexOf(';');
    return semi < 0 ? s : s.slice(0, semi);
  }
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  const at = s.indexOf('@');
  if (at < 0) return undefined;
  let user = s.slice(0, at);
  const semi = user.indexOf(';'); // user parameters, e.g. ;npdi;rn=…
  if (semi >= 0) user = user.slice(0, semi);
  const colon2 = user.indexOf(':'); // user:password
  if (colon2 >= 0) user = user.slice(0, colon2);
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** host[:port] of a SIP URI (`sip:+1…@gw.att.example:5060;transport=udp` → `gw.att.example:5060`). */
export function uriHostPort(uri: string): string | undefined {
  let s = uri.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  s = s.slice(colon + 1);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  const cut = s.search(/[;?>]/);
  if (cut >= 0) s = s.slice(0, cut);
  s = s.trim().toLowerCase();
  return s === '' ? undefined : s;
}

/** Byte length of a line as UTF-8, fast path for ASCII. */
function utf8Len(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Serializable state of a message being assembled (goes into reader snapshots). */
export interface BuilderState {
  lines: string[];
  inBody: boolean;
  bodyLines: number;
  wire: number;
  bytes: number | null;
  headerBytes: number;
}

/**
 * Assembles one message from lines. `add()` returns true once the announced size is reached.
 */
export class MessageBuilder {
  private lines: string[] = [];
  private inBody = false;
  private bodyLines = 0;
  private wire = 2; // the dropped empty line after the headers
  private headerBytes = 0;
  /** Wire size announced by the log, if any. */
  constructor(private readonly bytes: number | null) {}

  static from(s: BuilderState): MessageBuilder {
    const b = new MessageBuilder(s.bytes);
    b.lines = [...s.lines];
    b.inBody = s.inBody;
    b.bodyLines = s.bodyLines;
    b.wire = s.wire;
    b.headerBytes = s.headerBytes;
    return b;
  }

  state(): BuilderState {
    return { lines: [...this.lines], inBody: this.inBody, bodyLines: this.bodyLines, wire: this.wire, bytes: this.bytes, headerBytes: this.headerBytes };
  }

  get empty(): boolean {
    return this.lines.length === 0;
  }

  /** Add one line (no line ending). Returns true when the message is complete by its byte count. */
  add(line: string): boolean {
    const n = utf8Len(line);
    this.wire += n + 2;
    if (this.inBody) {
      this.bodyLines++;
    } else if (this.lines.length === 0) {
      if (line.trim() !== '') this.lines.push(line.trim());
    } else if (line[0] === ' ' || line[0] === '\t') {
      // folded continuation of the previous header
      if (this.lines.length > 1 && this.headerBytes + n <= MAX_HEADER_BYTES) {
        this.lines[this.lines.length - 1] += ' ' + line.trim();
        this.headerBytes += n;
      }
    } else if (HEADER.test(line)) {
      if (this.lines.length < MAX_HEADER_LINES && this.headerBytes + n <= MAX_HEADER_BYTES) {
        this.lines.push(line);
        this.headerBytes += n;
      }
    } else {
      this.inBody = true;
      this.bodyLines++;
    }
    return this.bytes !== null && this.wire >= this.bytes;
  }

  /** The parsed message, or null when the start line is not SIP. */
  build(): SipMessage | null {
    if (this.lines.length === 0) return null;
    const msg = startLine(this.lines[0], this.bodyLines);
    if (msg === null) return null;
    for (let i = 1; i < this.lines.length; i++) {
      const m = HEADER.exec(this.lines[i]);
      if (!m) continue;
      let name = m[1].toLowerCase();
      name = COMPACT[name] ?? name;
      const value = m[2].trim();
      const list = msg.headers.get(name);
      if (list) list.push(value);
      else msg.headers.set(name, [value]);
    }
    return msg;
  }
}

/** A message with no headers yet from its start line (trimmed), or null when it is no SIP start line. */
export function startLine(start: string, bodyLines: number): SipMessage | null {
  const msg: SipMessage = { headers: new Map(), bodyLines };
  const st = STATUS_LINE.exec(start);
  if (st) {
    msg.status = Number(st[1]);
    msg.reason = (st[2] ?? '').trim();
  } else {
    const rq = REQUEST_LINE.exec(start);
    if (!rq) return null;
    msg.method = rq[1].toUpperCase();
    msg.uri = rq[2];
  }
  return msg;
}

/** Header names as written → full lower-case name: a capture repeats the same few dozen spellings. */
const headerNames = new Map<string, string>();

/** Full lower-case name of a header name as written (compact forms expanded). */
export function fullHeaderName(name: string): string {
  let full = headerNames.get(name);
  if (full === undefined) {
    const n = name.toLowerCase();
    full = COMPACT[n] ?? n;
    if (headerNames.size < 4096) headerNames.set(name, full); // bounded: a hostile sender's invented names stop being kept
  }
  return full;
}

/** Parse a whole message from text (tests, tools). Blank lines are ignored like the tailer does. */
export function parseSipMessage(text: string): SipMessage | null {
  const b = new MessageBuilder(null);
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    b.add(line);
  }
  return b.build();
}

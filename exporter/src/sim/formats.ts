// Simulated calls written as the files real systems produce (docs/formats.md): each format turns
// one SimCall into one or more timed log events — a CDR line when the call ends, Kamailio acc
// lines at the INVITE's final response and at the BYE, a sipp -trace_msg block per SIP message.
// Writers sort events by time, so the files read like the real thing.

import { CARRIERS, type CarrierId, type SimCall } from './model.js';
import { connected } from '../model/outcome.js';

export const SIM_FORMATS = ['generic', 'asterisk', 'freeswitch', 'kamailio', 'sipp', 'sofia'] as const;
export type SimFormat = (typeof SIM_FORMATS)[number];

export interface SimEvent {
  /** When the system writes it, UTC ms. */
  t: number;
  seq: number;
  /** Order within the call (ties). */
  k: number;
  text: string;
}

export interface FormatWriter {
  format: SimFormat;
  /** File name inside the format's directory. */
  file: string;
  /** First line(s) of a new file, or ''. */
  header: string;
  events(c: SimCall): SimEvent[];
}

const CARRIER = new Map(CARRIERS.map((c) => [c.id, c]));
const spec = (id: CarrierId) => CARRIER.get(id)!;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` in UTC (Asterisk with usegmtime=yes; FreeSWITCH on a UTC host). */
export function stamp(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const isoZ = (t: number) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const sec = (t: number) => Math.floor(t / 1000);
const q = (v: string) => `"${v.replace(/"/g, '""')}"`;

/** A v4-looking UUID derived from the call's sequence (deterministic). */
function uuid(seed: number, salt: number): string {
  let h = (seed * 2654435761 + salt * 40503) >>> 0;
  const hex: string[] = [];
  for (let i = 0; i < 32; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    h = (h + i * 97 + salt) >>> 0;
    hex.push((h & 15).toString(16));
  }
  hex[12] = '4';
  hex[16] = '89ab'[parseInt(hex[16], 16) & 3];
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const hex = (n: number, w: number) => (n >>> 0).toString(16).padStart(w, '0').slice(-w);

const answered = (c: SimCall) => connected(c.outcome);

// ---------- generic CSV ----------

export const GENERIC_HEADER = 'start,answer,end,caller,called,carrier,sip_code,reason,billsec,attestation,amd,dialer_result';

/**
 * What a dialer would write down (docs/formats.md#dialer-dispositions), deterministic per call: a person reached
 * who talked a minute or more converts one time in five, else is not interested; an answer dropped within 3 s is an
 * abandoned call one time in four; the rest carry no result.
 */
export function simDisposition(c: SimCall): string {
  if (c.outcome !== 'answered') return '';
  if (c.talkSec >= 60) return c.seq % 5 === 0 ? 'SALE' : 'NI';
  if (c.talkSec < 3 && c.seq % 4 === 0) return 'ABANDON';
  return '';
}

export const genericWriter: FormatWriter = {
  format: 'generic',
  file: 'calls.csv',
  header: GENERIC_HEADER + '\n',
  events(c) {
    const end = c.ts + c.endMs;
    const row = [
      isoZ(c.ts),
      c.answerMs !== null ? isoZ(c.ts + c.answerMs) : '',
      isoZ(end),
      c.caller,
      c.called,
      spec(c.carrier).name,
      String(c.sipCode),
      c.reason, // the phrase ("Network Blocked") marks a 603+
      String(c.talkSec),
      c.attestation,
      c.amd ?? '',
      simDisposition(c),
    ];
    return [{ t: end, seq: c.seq, k: 0, text: row.join(',') }];
  },
};

// ---------- Asterisk cdr_csv (18 columns, usegmtime=yes) ----------

/** cdr_csv has no SIP code: what Asterisk's CDR disposition shows for each outcome. */
export function asteriskDisposition(c: SimCall): string {
  switch (c.outcome) {
    case 'answered':
    case 'voicemail':
      return 'ANSWERED';
    case 'cancelled':
    case 'no_answer':
      return 'NO ANSWER';
    case 'busy':
      return 'BUSY';
    case 'blocked':
      return 'CONGESTION';
    default:
      return 'FAILED';
  }
}

export const asteriskWriter: FormatWriter = {
  format: 'asterisk',
  file: 'Master.csv',
  header: '',
  events(c) {
    const s = spec(c.carrier);
    const end = c.ts + c.endMs;
    const duration = Math.max(0, sec(end) - sec(c.ts));
    const billsec = answered(c) ? c.talkSec : 0;
    const f = [
      q(''),
      q(c.caller),
      q(c.called),
      q('from-dialer'),
      q(`"Acme Outreach" <${c.caller}>`),
      q(`Local/${c.called}@outbound-${hex(c.seq, 8)};2`),
      q(`PJSIP/${s.peer}-${hex(c.seq * 7 + 1, 8)}`),
      q('Dial'),
      q(`PJSIP/${s.peer}/${c.called},30,tT`),
      q(stamp(c.ts)),
      c.answerMs !== null ? q(stamp(c.ts + c.answerMs)) : '',
      q(stamp(end)),
      String(Math.max(duration, billsec)),
      String(billsec),
      q(asteriskDisposition(c)),
      q('DOCUMENTATION'),
      q(`${sec(c.ts)}.${c.seq}`),
      q(c.amd ? `AMDSTATUS=${c.amd}` : ''),
    ];
    return [{ t: end, seq: c.seq, k: 0, text: f.join(',') }];
  },
};

// ---------- FreeSWITCH mod_cdr_csv, default 13-field template ----------

/** The Q.850 cause FreeSWITCH logs for each simulated outcome (no SIP code in the default template). */
export function freeswitchCause(c: SimCall): string {
  switch (c.outcome) {
    case 'answered':
    case 'voicemail':
      return 'NORMAL_CLEARING';
    case 'cancelled':
      return 'ORIGINATOR_CANCEL';
    case 'no_answer':
      return c.sipCode === 408 ? 'NO_USER_RESPONSE' : 'NO_ANSWER';
    case 'busy':
      return 'USER_BUSY';
    case 'rejected':
    case 'blocked':
      return 'CALL_REJECTED';
    default:
      return c.sipCode === 404 ? 'UNALLOCATED_NUMBER' : 'NORMAL_TEMPORARY_FAILURE';
  }
}

export const freeswitchWriter: FormatWriter = {
  format: 'freeswitch',
  file: 'Master.csv',
  header: '',
  events(c) {
    const end = c.ts + c.endMs;
    const billsec = answered(c) ? c.talkSec : 0;
    const f = [
      'Acme Outreach',
      c.caller,
      c.called,
      'default',
      stamp(c.ts),
      c.answerMs !== null ? stamp(c.ts + c.answerMs) : '',
      stamp(end),
      String(Math.max(sec(end) - sec(c.ts), billsec)),
      String(billsec),
      freeswitchCause(c),
      uuid(c.seq, 1),
      answered(c) ? uuid(c.seq, 2) : '',
      spec(c.carrier).peer,
    ];
    return [{ t: end, seq: c.seq, k: 0, text: f.map(q).join(',') }];
  },
};

// ---------- Kamailio acc (syslog), stock log_extra ----------

const SYSLOG_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function syslogStamp(t: number): string {
  const d = new Date(t);
  return `${SYSLOG_MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export const kamailioWriter: FormatWriter = {
  format: 'kamailio',
  file: 'kamailio-acc.log',
  header: '',
  events(c) {
    const s = spec(c.carrier);
    const callId = `${hex(c.seq * 2654435761, 8)}${hex(c.seq, 4)}@10.0.0.5`;
    const fromTag = hex(c.seq * 40503 + 17, 8);
    const toTag = `as${hex(c.seq * 69069 + 5, 8)}`;
    const pid = 2210 + (c.seq % 4);
    const line = (t: number, kind: string, method: string, code: number, reason: string, tags: [string, string], dst: string) =>
      `${syslogStamp(t)} sbc1 /usr/sbin/kamailio[${pid}]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: ${kind}: timestamp=${sec(t)};method=${method};from_tag=${tags[0]};to_tag=${tags[1]};call_id=${callId};code=${code};reason=${reason};src_user=${c.caller};src_domain=10.0.0.5;src_ip=10.0.0.5;dst_ouser=${dst};dst_user=${dst};dst_domain=${s.domain}`;
    if (answered(c)) {
      const at = c.ts + c.answerMs!;
      const end = c.ts + c.endMs;
      return [
        { t: at, seq: c.seq, k: 0, text: line(at, 'transaction answered', 'INVITE', 200, 'OK', [fromTag, toTag], c.called) },
        // In-dialog BYE: its R-URI is the contact, so dst_user is empty (what a real Kamailio logs).
        { t: end, seq: c.seq, k: 1, text: line(end, 'transaction answered', 'BYE', 200, 'OK', [fromTag, toTag], '') },
      ];
    }
    const end = c.ts + c.endMs;
    return [{ t: end, seq: c.seq, k: 0, text: line(end, 'call missed', 'INVITE', c.sipCode, c.reason, [fromTag, toTag], c.called) }];
  },
};

// ---------- sipp -trace_msg ----------

const OUR_IP = '10.0.0.5';
const SDP = ['v=0', `o=dialer 53655765 2353687637 IN IP4 ${OUR_IP}`, 's=-', `c=IN IP4 ${OUR_IP}`, 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'];

function b64url(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** An (unsigned) SHAKEN PASSporT: the reader decodes the payload only. */
function identity(c: SimCall): string {
  const head = b64url({ alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: 'https://cert.numrep.test/shaken.pem' });
  const body = b64url({ attest: c.attestation, dest: { tn: [c.called.slice(1)] }, iat: sec(c.ts), orig: { tn: c.caller.slice(1) }, origid: uuid(c.seq, 3) });
  return `${head}.${body}.bm90LWEtc2lnbmF0dXJl;info=<https://cert.numrep.test/shaken.pem>;alg=ES256;ppt=shaken`;
}

function sippStamp(t: number, micro: number): string {
  const d = new Date(t);
  return `${stamp(t)}.${pad(d.getUTCMilliseconds(), 3)}${pad(micro % 1000, 3)}`;
}

/** One trace block: delimiter, direction with the wire size, the message (CRLF on the wire). */
function block(t: number, micro: number, dir: 'sent' | 'received', lines: string[], body: string[] = []): string {
  const bodyBytes = body.reduce((s, l) => s + Buffer.byteLength(l) + 2, 0);
  const msg = lines.map((l) => (l === 'Content-Length' ? `Content-Length: ${bodyBytes}` : l));
  const bytes = msg.reduce((s, l) => s + Buffer.byteLength(l) + 2, 0) + 2 + bodyBytes;
  const dirLine = dir === 'sent' ? `UDP message sent (${bytes} bytes):` : `UDP message received [${bytes}] bytes :`;
  return [`${'-'.repeat(47)} ${sippStamp(t, micro)}`, dirLine, '', ...msg, '', ...body, ''].join('\n');
}

/** One SIP message of a call as the dialer's side logs it. */
interface TraceMsg {
  t: number;
  dir: 'sent' | 'received';
  lines: string[];
  body: string[];
}

/** Every SIP message of a call, from the dialer's side (sipp: the UAC; FreeSWITCH: the outbound leg). */
function sipMessages(c: SimCall): TraceMsg[] {
    const s = spec(c.carrier);
    const host = `${s.domain}:5060`;
    const callId = `${c.seq}-${hex(c.seq * 2654435761, 6)}@${OUR_IP}`;
    const fromTag = `${c.seq}SIPpTag00${c.seq % 10}`;
    const toTag = `${hex(c.seq * 69069 + 3, 8)}`;
    const branch = `z9hG4bK-${c.seq}-1-0`;
    const from = `From: <sip:${c.caller}@${OUR_IP}:5060>;tag=${fromTag}`;
    const toNoTag = `To: <sip:${c.called}@${host}>`;
    const toTagged = `${toNoTag};tag=${toTag}`;
    const via = `Via: SIP/2.0/UDP ${OUR_IP}:5060;branch=${branch}`;
    const cid = `Call-ID: ${callId}`;
    const ev: TraceMsg[] = [];
    const add = (t: number, dir: 'sent' | 'received', lines: string[], body: string[] = []) => ev.push({ t, dir, lines, body });
    const t0 = c.ts;
    add(t0, 'sent', [
      `INVITE sip:${c.called}@${host} SIP/2.0`, via, from, toNoTag, cid, 'CSeq: 1 INVITE',
      `Contact: sip:${c.caller}@${OUR_IP}:5060`, `P-Asserted-Identity: <sip:${c.caller}@${OUR_IP};user=phone>`,
      `Identity: ${identity(c)}`, 'Max-Forwards: 70', 'Content-Type: application/sdp', 'Content-Length',
    ], SDP);
    const resp = (t: number, code: number, reason: string, tagged: boolean, extra: string[] = [], body: string[] = [], method = 'INVITE', seq = 1) =>
      add(t, 'received', [`SIP/2.0 ${code} ${reason}`, via, from, tagged ? toTagged : toNoTag, cid, `CSeq: ${seq} ${method}`, ...extra, 'Content-Length'], body);
    resp(t0 + 12, 100, 'Trying', false);
    if (c.ringMs !== null) resp(t0 + c.ringMs, 180, 'Ringing', true, [`Contact: <sip:${host};transport=UDP>`]);
    const ackNon2xx = (t: number) => add(t, 'sent', [`ACK sip:${c.called}@${host} SIP/2.0`, via, from, toTagged, cid, 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length']);
    if (answered(c)) {
      const at = t0 + c.answerMs!;
      const end = t0 + c.endMs;
      resp(at, 200, 'OK', true, [`Contact: <sip:${host};transport=UDP>`, 'Content-Type: application/sdp'], SDP);
      const via2 = `Via: SIP/2.0/UDP ${OUR_IP}:5060;branch=z9hG4bK-${c.seq}-1-2`;
      add(at + 1, 'sent', [`ACK sip:${host};transport=UDP SIP/2.0`, via2, from, toTagged, cid, 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length']);
      const via3 = `Via: SIP/2.0/UDP ${OUR_IP}:5060;branch=z9hG4bK-${c.seq}-2-3`;
      add(end, 'sent', [`BYE sip:${host};transport=UDP SIP/2.0`, via3, from, toTagged, cid, 'CSeq: 2 BYE', 'Max-Forwards: 70', 'Content-Length']);
      add(end + 18, 'received', ['SIP/2.0 200 OK', via3, from, toTagged, cid, 'CSeq: 2 BYE', 'Content-Length']);
    } else if (c.outcome === 'cancelled') {
      const ct = t0 + c.cancelMs!;
      add(ct, 'sent', [`CANCEL sip:${c.called}@${host} SIP/2.0`, via, from, toNoTag, cid, 'CSeq: 1 CANCEL', 'Max-Forwards: 70', 'Content-Length']);
      resp(ct + 9, 200, 'OK', true, [], [], 'CANCEL');
      resp(t0 + c.endMs, 487, 'Request Terminated', true);
      ackNon2xx(t0 + c.endMs + 1);
    } else {
      const extra: string[] = [];
      if (c.reasonHeader) extra.push(`Reason: ${c.reasonHeader}`);
      if (c.callInfo) extra.push(`Call-Info: ${c.callInfo}`);
      resp(t0 + c.endMs, c.sipCode, c.reason, true, extra);
      ackNon2xx(t0 + c.endMs + 1);
    }
    return ev;
}

export const sippWriter: FormatWriter = {
  format: 'sipp',
  file: 'sipp-trace.log',
  header: '',
  events(c) {
    return sipMessages(c).map((m, k) => ({ t: m.t, seq: c.seq, k, text: block(m.t, (c.seq * 7919 + k + 1) % 1000, m.dir, m.lines, m.body) }));
  },
};

// ---------- FreeSWITCH sofia siptrace (flush-left, as in freeswitch.log) ----------

const RULE72 = '-'.repeat(72);

/** The date-bearing FreeSWITCH log line before each new call (the siptrace stamp is time of day only). */
function fsLogLine(t: number, c: SimCall): string {
  return `${sippStamp(t, c.seq % 1000)} [NOTICE] switch_channel.c:1142 New Channel sofia/external/${c.called}@${spec(c.carrier).peer} [${uuid(c.seq, 4)}]`;
}

export const sofiaWriter: FormatWriter = {
  format: 'sofia',
  file: 'freeswitch.log',
  header: '',
  events(c) {
    const host = spec(c.carrier).domain;
    const out: SimEvent[] = [{ t: c.ts, seq: c.seq, k: 0, text: fsLogLine(c.ts, c) }];
    sipMessages(c).forEach((m, i) => {
      const bodyBytes = m.body.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0);
      const msg = m.lines.map((l) => (l === 'Content-Length' ? `Content-Length: ${bodyBytes}` : l));
      const bytes = msg.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0) + 2 + bodyBytes;
      const stampLine = `${m.dir === 'sent' ? 'send' : 'recv'} ${bytes} bytes ${m.dir === 'sent' ? 'to' : 'from'} udp/[${host}]:5060 at ${sippStamp(m.t, (c.seq * 7919 + i + 1) % 1000).slice(11)}:`;
      out.push({ t: m.t, seq: c.seq, k: i + 1, text: [stampLine, RULE72, ...msg, '', ...m.body].join('\n') });
    });
    return out;
  },
};

export const WRITERS: Record<SimFormat, FormatWriter> = {
  generic: genericWriter,
  asterisk: asteriskWriter,
  freeswitch: freeswitchWriter,
  kamailio: kamailioWriter,
  sipp: sippWriter,
  sofia: sofiaWriter,
};

/** trunk,carrier for every format's trunk field (Asterisk peer, FreeSWITCH accountcode, SIP host). */
export function trunkMapCsv(): string {
  const rows = ['trunk,carrier', '# written by numrep simulate: the simulated carriers\' trunks'];
  for (const c of CARRIERS) rows.push(`${c.peer},${c.id}`, `${c.domain},${c.id}`);
  return rows.join('\n') + '\n';
}

/** prefix,carrier for the simulated consumers' area codes (illustrative). */
export function prefixMapCsv(): string {
  const rows = ['prefix,carrier', '# written by numrep simulate: area codes of the simulated consumers (illustrative, not LNP data)'];
  for (const c of CARRIERS) for (const npa of c.npas) rows.push(`+1${npa},${c.id}`);
  return rows.join('\n') + '\n';
}

export function compareEvents(a: SimEvent, b: SimEvent): number {
  return a.t - b.t || a.seq - b.seq || a.k - b.k;
}

// Synthetic input for the bench: realistic lines of every hot format, written in big
// blocks so generating 10M rows takes seconds. Deterministic (a small LCG), so two runs
// of the bench read byte-identical files.

import { openSync, writeSync, closeSync } from 'node:fs';

export type GenFormat = 'asterisk' | 'freeswitch' | 'kamailio' | 'sipp';

export interface GenOptions {
  /** Rows (calls) to write; sipp writes ~30 lines per call, so for sipp this counts lines. */
  rows: number;
  /** Distinct caller numbers. */
  numbers: number;
  /** Call start of the last row (UTC ms); rows spread back from here over `spanMs`. */
  endMs: number;
  spanMs: number;
  /** Number of the first caller: +1202 5550000 + i (wraps into more NPAs past 10k). */
  seed?: number;
}

export interface GenResult {
  path: string;
  rows: number;
  /** Calls the file describes (what `report` must count). */
  calls: number;
  lines: number;
  bytes: number;
}

export class Lcg {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Caller i: distinct E.164 numbers in NANP form, 10k per NPA. */
export function callerNumber(i: number): string {
  const npa = 202 + (Math.floor(i / 10_000) % 700); // 202, 203, …: valid NANP shapes
  return `+1${npa}555${pad(i % 10_000, 4)}`;
}

function calledNumber(r: Lcg): string {
  const npas = [212, 646, 310, 206, 415, 305, 312, 713];
  return `+1${npas[r.int(npas.length)]}555${pad(r.int(10_000), 4)}`;
}

/** Local "YYYY-MM-DD HH:MM:SS" in UTC (the bench runs readers with timezone UTC). */
export function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

// Outcome mix: mostly no answer / answered, a few cancels, busies and blocks.
const AST = ['ANSWERED', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'NO ANSWER', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION', 'NO ANSWER'];
const FS = ['NORMAL_CLEARING', 'NORMAL_CLEARING', 'NORMAL_CLEARING', 'NO_ANSWER', 'NO_ANSWER', 'ORIGINATOR_CANCEL', 'USER_BUSY', 'CALL_REJECTED', 'NO_USER_RESPONSE', 'UNALLOCATED_NUMBER'];
const KAM: [string, string, string][] = [
  ['transaction answered', '200', 'OK'], ['transaction answered', '200', 'OK'], ['transaction answered', '200', 'OK'],
  ['call missed', '487', 'Request Terminated'], ['call missed', '480', 'Temporarily Unavailable'], ['call missed', '408', 'Request Timeout'],
  ['call missed', '486', 'Busy Here'], ['call missed', '603', 'Decline'], ['call missed', '608', 'Rejected'], ['call missed', '404', 'Not Found'],
];
const TRUNKS = ['att-trunk', 'verizon', 'tmo-gw'];
const DOMAINS = ['att.sip.example.net', 'tmo.sip.example.net', '198.51.100.20'];
const SIPP_CODES: [number, string][] = [[200, 'OK'], [200, 'OK'], [200, 'OK'], [486, 'Busy Here'], [487, 'Request Terminated'], [480, 'Temporarily Unavailable'], [603, 'Decline'], [608, 'Rejected']];

/** Write `opts.rows` rows of `format` to `path`. */
export function generate(format: GenFormat, path: string, opts: GenOptions): GenResult {
  const r = new Lcg(opts.seed ?? 42);
  const fd = openSync(path, 'w');
  let buf = '';
  let bytes = 0;
  let lines = 0;
  let calls = 0;
  const flush = (force: boolean) => {
    if (buf.length < 4_000_000 && !force) return;
    bytes += writeSync(fd, buf);
    buf = '';
  };
  const start = opts.endMs - opts.spanMs;
  const step = opts.rows > 1 ? opts.spanMs / opts.rows : 0;
  let i = 0;
  while (format === 'sipp' ? lines < opts.rows : calls < opts.rows) {
    const ts = Math.floor(start + i * step);
    const caller = callerNumber(r.int(opts.numbers));
    const called = calledNumber(r);
    const k = r.int(10);
    const talk = k < 3 ? 5 + r.int(300) : 0;
    const ring = 3 + r.int(20);
    switch (format) {
      case 'asterisk': {
        const disp = AST[k];
        const trunk = TRUNKS[r.int(3)];
        const ans = disp === 'ANSWERED' ? `"${stamp(ts + ring * 1000)}"` : '';
        buf += `"","${caller}","${called}","from-dialer","""Acme Health"" <${caller}>","Local/${called}@outbound-${i.toString(16).padStart(8, '0')};2","SIP/${trunk}-${(i % 65536).toString(16).padStart(8, '0')}","Dial","SIP/${trunk}/${called},60,tT","${stamp(ts)}",${ans},"${stamp(ts + (ring + talk) * 1000)}",${ring + talk},${talk},"${disp}","DOCUMENTATION","${Math.floor(ts / 1000)}.${i}",""\n`;
        lines++;
        calls++;
        break;
      }
      case 'freeswitch': {
        const cause = FS[k];
        const t = cause === 'NORMAL_CLEARING' ? talk : 0;
        const ans = t > 0 ? stamp(ts + ring * 1000) : '';
        const u = `${pad(i, 8)}-${pad(r.int(10000), 4)}-4${pad(r.int(1000), 3)}-a${pad(r.int(1000), 3)}-${pad(r.int(1e6), 12)}`;
        buf += `"Acme Health","${caller}","${called}","default","${stamp(ts)}","${ans}","${stamp(ts + (ring + t) * 1000)}","${ring + t}","${t}","${cause}","${u}","","${TRUNKS[r.int(3)]}"\n`;
        lines++;
        calls++;
        break;
      }
      case 'kamailio': {
        const [what, code, reason] = KAM[k];
        const tag = (i * 2654435761 >>> 0).toString(16).padStart(8, '0');
        const cid = `${pad(i, 12)}@10.0.0.5`;
        const dom = DOMAINS[r.int(3)];
        const sec = Math.floor(ts / 1000);
        const d = new Date(ts);
        const sys = `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} sbc1 /usr/sbin/kamailio[2212]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: `;
        buf += `${sys}${what}: timestamp=${sec};method=INVITE;from_tag=${tag};to_tag=as${tag};call_id=${cid};code=${code};reason=${reason};src_user=${caller};src_domain=10.0.0.5;src_ip=10.0.0.5;dst_ouser=${called};dst_user=${called};dst_domain=${dom}\n`;
        lines++;
        if (code === '200') {
          const b = sec + ring + talk;
          buf += `${sys.replace(/\d\d:\d\d:\d\d/, new Date(b * 1000).toISOString().slice(11, 19))}transaction answered: timestamp=${b};method=BYE;from_tag=${tag};to_tag=as${tag};call_id=${cid};code=200;reason=OK;src_user=${caller};src_domain=10.0.0.5;src_ip=10.0.0.5;dst_ouser=${called};dst_user=;dst_domain=10.0.0.5\n`;
          lines++;
        }
        calls++;
        break;
      }
      case 'sipp': {
        const [code, phrase] = SIPP_CODES[r.int(SIPP_CODES.length)];
        const cid = `${i}-bench@127.0.0.1`;
        const ftag = `${i}SIPpTag00`;
        const head = (t: number, dir: 'sent' | 'received', size: number) =>
          `----------------------------------------------- ${new Date(t).toISOString().slice(0, 23).replace('T', ' ')}443\nUDP message ${dir === 'sent' ? `sent (${size} bytes)` : `received [${size}] bytes`} :\n\n`;
        const common = (method: string, seq: number, toTag: string) =>
          `Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${i}-${seq}\nFrom: <sip:${caller}@127.0.0.1:5061>;tag=${ftag}\nTo: <sip:${called}@127.0.0.1:5062>${toTag}\nCall-ID: ${cid}\nCSeq: ${seq} ${method}\n`;
        const before = buf.length;
        buf += head(ts, 'sent', 400) + `INVITE sip:${called}@127.0.0.1:5062 SIP/2.0\n` + common('INVITE', 1, '') + `Contact: <sip:${caller}@127.0.0.1:5061>\nMax-Forwards: 70\nContent-Length: 0\n\n`;
        buf += head(ts + 200, 'received', 300) + 'SIP/2.0 180 Ringing\n' + common('INVITE', 1, `;tag=${i}r`) + 'Content-Length: 0\n\n';
        if (code === 200) {
          const a = ts + ring * 1000;
          buf += head(a, 'received', 300) + 'SIP/2.0 200 OK\n' + common('INVITE', 1, `;tag=${i}r`) + 'Content-Length: 0\n\n';
          buf += head(a + 5, 'sent', 300) + `ACK sip:${called}@127.0.0.1:5062 SIP/2.0\n` + common('ACK', 1, `;tag=${i}r`) + 'Content-Length: 0\n\n';
          buf += head(a + talk * 1000, 'sent', 300) + `BYE sip:${called}@127.0.0.1:5062 SIP/2.0\n` + common('BYE', 2, `;tag=${i}r`) + 'Content-Length: 0\n\n';
          buf += head(a + talk * 1000 + 20, 'received', 300) + 'SIP/2.0 200 OK\n' + common('BYE', 2, `;tag=${i}r`) + 'Content-Length: 0\n\n';
        } else {
          buf += head(ts + ring * 1000, 'received', 300) + `SIP/2.0 ${code} ${phrase}\n` + common('INVITE', 1, `;tag=${i}r`) + 'Content-Length: 0\n\n';
          buf += head(ts + ring * 1000 + 5, 'sent', 300) + `ACK sip:${called}@127.0.0.1:5062 SIP/2.0\n` + common('ACK', 1, `;tag=${i}r`) + 'Content-Length: 0\n\n';
        }
        for (let p = buf.indexOf('\n', before); p >= 0; p = buf.indexOf('\n', p + 1)) lines++;
        calls++;
        break;
      }
    }
    i++;
    flush(false);
  }
  flush(true);
  closeSync(fd);
  return { path, rows: format === 'sipp' ? lines : calls, calls, lines, bytes };
}

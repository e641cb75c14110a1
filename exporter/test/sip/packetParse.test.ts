// sipFromBytes parses a captured message in one pass; the SIP log readers assemble the same message with
// MessageBuilder. Both must agree header for header: the builder's path (as sipFromBytes was written
// before issue 19) is the reference here, over hand-written edge cases and generated messages.
import { describe, expect, it } from 'vitest';
import { sipFromBytes } from '../../src/ingest/sip/packet.js';
import { MessageBuilder, type SipMessage } from '../../src/ingest/sip/message.js';

function reference(buf: Buffer, start = 0, end = buf.length): SipMessage | null {
  while (start < end && (buf[start] === 13 || buf[start] === 10)) start++;
  if (end - start < 12 || end - start > 64 * 1024) return null;
  let headEnd = end;
  let body = -1;
  for (let i = start; i < end - 1; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i + 1] === 10) { body = i + 2; break; }
    if (buf[i + 1] === 13 && i + 2 < end && buf[i + 2] === 10) { body = i + 3; break; }
  }
  if (body >= 0) headEnd = body;
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
  let bodyLines = 0;
  if (body >= 0 && body < end) {
    for (let i = body; i < end; i++) if (buf[i] === 10) bodyLines++;
    if (buf[end - 1] !== 10) bodyLines++;
  }
  msg.bodyLines = bodyLines;
  for (const [k, vs] of msg.headers) {
    for (let i = 0; i < vs.length; i++) if (/[^\x00-\x7f]/.test(vs[i])) vs[i] = Buffer.from(vs[i], 'latin1').toString('utf8');
    msg.headers.set(k, vs);
  }
  return msg;
}

const norm = (m: SipMessage | null) => (m === null ? null : { ...m, headers: Object.fromEntries([...m.headers].sort(([a], [b]) => (a < b ? -1 : 1))) });

const CASES = [
  'INVITE sip:+12125550100@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nFrom: <sip:+12025550123@h>;tag=1\r\nTo: <sip:+12125550100@h>\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
  'SIP/2.0 180 Ringing\r\ni: a@b\r\nf: <sip:x@h>;tag=1\r\nt: <sip:y@h>;tag=2\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n',
  'SIP/2.0 200 OK\nCall-ID: lf-only\nCSeq: 1 INVITE\nContent-Type: application/sdp\n\nv=0\no=- 1 1 IN IP4 1.2.3.4\n',
  'SIP/2.0 603 Decline\r\nReason: SIP ;cause=603\r\n ;text="v=analytics1"\r\n\t;x=1\r\nCall-ID: fold\r\n\r\n',
  'INVITE sip:u@h SIP/2.0\r\nFrom: "Jos\xc3\xa9" <sip:+12025550123@h>\r\nCall-ID: utf8\r\n\r\n',
  'INVITE sip:u@h SIP/2.0\r\nFrom: <sip:a@h>\r\n  \r\nX-Cr: one\r\n two\rthree\r\n four\r\nCall-ID: cr\r\nX-Cr: again\r\n\r\n',
  'INVITE sip:u@h SIP/2.0\r\nnot a header line\r\nCall-ID: after-body\r\n\r\n',
  '   \r\n\r\nSIP/2.0 486 Busy Here  \r\nCall-ID: lead\r\n\r\n',
  'SIP/2.0 999 Nope\r\nCall-ID: x\r\n\r\n',
  'HELLO world this is not sip\r\n\r\n',
  'INVITE sip:u@h SIP/2.0\r\n folded-before-any-header\r\nCall-ID: x\r\n',
  'SIP/2.0 200 OK\r\nCall-ID:\r\n  late-value\r\nCSeq : 1 INVITE\r\n\r\nbody without newline',
];

describe('sipFromBytes (one pass) agrees with MessageBuilder', () => {
  it('on hand-written edge cases', () => {
    for (const c of CASES) {
      const b = Buffer.from(c, 'latin1');
      expect(norm(sipFromBytes(b)), c).toEqual(norm(reference(b)));
    }
  });

  it('on generated messages (folds, CRs, compact names, non-ASCII, caps)', () => {
    let seed = 19;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    // Names and values where a byte scanner can go wrong: every token character, blanks before the colon, no name,
    // what String.prototype.trim removes in Latin-1 (VT, FF, no-break space), a CR inside, a colon in the value.
    const names = ['Call-ID', 'i', 'CSeq', 'From', 'f', 'To', 't', 'Via', 'v', 'Reason', 'Content-Type', 'c', 'l', 'P-Asserted-Identity', 'Identity', 'y', 'X-Long', 'X_!%*+.^`|~-9', 'Call-ID \t', '', 'Bad Name', 'Caf\xe9'];
    const values = ['a@b', '1 INVITE', '<sip:+12025550123@h>;tag=x', ' spaced ', '', 'caf\xc3\xa9', 'x\ry', 'SIP;cause=603;text="v=analytics"', 'z'.repeat(3000), '\xa0nbsp\xa0', '\x0bvt\x0c', 'a:b:c', '\t\xa0 \x85'];
    const starts = ['INVITE sip:+1212@h SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated', 'BYE sip:x@h SIP/2.0', ' SIP/2.0 180 Ringing ', 'garbage'];
    for (let k = 0; k < 3000; k++) {
      const lines = [starts[rnd(starts.length)]];
      const count = rnd(4) === 0 ? 210 : rnd(15);
      for (let i = 0; i < count; i++) {
        const r = rnd(20);
        if (r === 0) lines.push(' ' + values[rnd(values.length)]);
        else if (r === 1) lines.push('\t' + values[rnd(values.length)]);
        else if (r === 2) lines.push('no colon here');
        else if (r === 3) lines.push('');
        else lines.push(`${names[rnd(names.length)]}${rnd(3) === 0 ? ' ' : ''}:${values[rnd(values.length)]}`);
      }
      const eol = rnd(3) === 0 ? '\n' : '\r\n';
      const text = lines.join(eol) + (rnd(2) ? eol + eol + 'v=0' + eol : eol);
      const b = Buffer.from(text, 'latin1');
      expect(norm(sipFromBytes(b)), JSON.stringify(text.slice(0, 300))).toEqual(norm(reference(b)));
      // The message inside a larger buffer (a HEP packet's payload, a capture's frame): nothing past `end` is read.
      const framed = Buffer.concat([Buffer.from('junk\r\nX: y\r\n'), b, Buffer.from('\r\nCall-ID: past-end\n\n')]);
      const at = 'junk\r\nX: y\r\n'.length;
      expect(norm(sipFromBytes(framed, at, at + b.length)), JSON.stringify(text.slice(0, 300))).toEqual(norm(reference(framed, at, at + b.length)));
    }
  });
});

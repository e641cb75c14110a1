// Memory per open SIP dialog: N INVITEs sent (each answered by a 180, none final yet) held by one DialogTracker,
// the heap measured after a full GC before and after. Run with --expose-gc; prints one JSON line.
// Usage: node --expose-gc dist/bench/dialogMem.js [N]

import { DialogTracker, sipOptions, type SipCall } from '../ingest/sip/dialogs.js';
import { parseSipMessage } from '../ingest/sip/message.js';
import { PhoneNormalizer } from '../model/phone.js';

const n = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function invite(i: number): string {
  const caller = `+1202555${String(i % 10_000).padStart(4, '0')}`;
  const called = `+1310${String(2_000_000 + i).padStart(7, '0')}`;
  return [
    `INVITE sip:${called}@198.51.100.20:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK${i.toString(16)}`,
    `From: "Acme" <sip:${caller}@10.0.0.5>;tag=${(i * 2654435761) >>> 0}`,
    `To: <sip:${called}@198.51.100.20>`,
    `Call-ID: ${i.toString(16).padStart(12, '0')}-bench@10.0.0.5`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${caller}@10.0.0.5:5060>`,
    'Content-Type: application/sdp',
    'Content-Length: 0',
    '',
  ].join('\r\n');
}
function ringing(i: number): string {
  return invite(i).replace(/^INVITE [^\r]+/, 'SIP/2.0 180 Ringing').replace(/^To: ([^\r]+)/m, `To: $1;tag=b${i}`);
}

const tracker = new DialogTracker(sipOptions({}), { callers: new PhoneNormalizer('1', 4096), called: new PhoneNormalizer('1', 4096) }, 'bench');
const out: SipCall[] = [];
const t0 = Date.UTC(2026, 11, 6, 12, 0, 0);
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < n; i++) {
  // The messages are parsed and dropped as a live source does; only the dialogs stay.
  tracker.onMessage(parseSipMessage(invite(i))!, t0 + i, 'sent', out);
  tracker.onMessage(parseSipMessage(ringing(i))!, t0 + i + 1, 'received', out);
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
if (tracker.openCount !== n || out.length !== 0) throw new Error(`expected ${n} open dialogs, have ${tracker.openCount} (${out.length} emitted)`);
console.log(JSON.stringify({ dialogs: n, heapBytes: after - before, bytesPerDialog: (after - before) / n }));

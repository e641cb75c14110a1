import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Store } from '../../src/store/db.js';
import { CaptureDialogs } from '../../src/ingest/sip/capture.js';
import type { Dialog, DialogSnapshot, SipCall } from '../../src/ingest/sip/dialogs.js';
import { tmp } from '../core/helpers.js';

// The HEP collector commits the dialog tracker's changes (keyed by Call-ID in `live_dialogs`) instead of its
// whole state. Differential: after every commit of interleaved random traffic, the table read back gives the
// tracker the state the whole snapshot would have (open dialogs, finished Call-IDs, engines), and the table
// holds nothing more than that state (bounded storage without a log to compact).

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32);
}

function message(first: string, id: string, cseq: string, toTag: boolean, extra: string[] = []): Buffer {
  const lines = [first, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1', `From: <sip:+12025550100@10.0.0.1>;tag=f-${id}`, `To: <sip:+12125550199@10.0.0.2>${toTag ? `;tag=t-${id}` : ''}`, `Call-ID: ${id}`, `CSeq: ${cseq}`, ...extra, 'Content-Length: 0'];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n');
}

/** Interleaved calls: each picks an ending (answered+BYE, busy, 608 with an engine, cancelled, left open); retransmissions included. */
function traffic(calls: number, seed: number): Array<{ at: number; bytes: Buffer }> {
  const r = rng(seed);
  const out: Array<{ at: number; bytes: Buffer }> = [];
  for (let i = 0; i < calls; i++) {
    const id = `delta-${seed}-${i}`;
    const t = i * 400 + Math.floor(r() * 300);
    const push = (dt: number, b: Buffer) => out.push({ at: t + dt, bytes: b });
    push(0, message('INVITE sip:+12125550199@10.0.0.2 SIP/2.0', id, '1 INVITE', false));
    if (r() < 0.2) push(500, message('INVITE sip:+12125550199@10.0.0.2 SIP/2.0', id, '1 INVITE', false)); // retransmission
    push(200 + Math.floor(r() * 2_000), message('SIP/2.0 180 Ringing', id, '1 INVITE', true));
    const kind = Math.floor(r() * 5);
    if (kind === 0) {
      const ok = 3_000 + Math.floor(r() * 5_000);
      push(ok, message('SIP/2.0 200 OK', id, '1 INVITE', true));
      push(ok + 1_000 + Math.floor(r() * 200_000), message('BYE sip:+12025550100@10.0.0.1 SIP/2.0', id, '2 BYE', true));
    } else if (kind === 1) push(2_500, message('SIP/2.0 486 Busy Here', id, '1 INVITE', true));
    else if (kind === 2) push(2_500, message('SIP/2.0 608 Rejected', id, '1 INVITE', true, [`Call-Info: <https://engine${i % 40}.example.com/redress>;purpose=jwscard`]));
    else if (kind === 3) {
      push(4_000, message('CANCEL sip:+12125550199@10.0.0.2 SIP/2.0', id, '1 CANCEL', false));
      push(4_100, message('SIP/2.0 487 Request Terminated', id, '1 INVITE', true));
    }
    // kind 4: never answered; ends by timeout (sip.timeout_seconds of log time) or stays open
  }
  return out.sort((a, b) => a.at - b.at);
}

const sorted = (s: DialogSnapshot) => ({
  now: s.now,
  open: [...s.open].sort((a, b) => a.callId.localeCompare(b.callId)),
  done: [...s.done].sort((a, b) => a[0].localeCompare(b[0])),
  engines: [...(s.engines ?? [])].sort(),
});

const empty = { buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [] };

describe('the dialog table the HEP collector commits', () => {
  for (const seed of [1, 2, 3]) {
    it(`read back after every commit, it is the tracker's whole state and no more (seed ${seed})`, () => {
      const dir = tmp('numrep-dialog-delta-');
      const store = new Store(join(dir, 'db'));
      try {
        const live = new CaptureDialogs(undefined, 'hep');
        live.tracker.trackChanges();
        const t0 = Date.parse('2026-11-22T09:00:00Z');
        const out: SipCall[] = [];
        let emitted = 0;
        let commits = 0;
        const msgs = traffic(1_500, seed);
        const r = rng(seed + 100);
        for (let i = 0; i < msgs.length; i++) {
          live.onPayload(msgs[i].bytes, 0, msgs[i].bytes.length, t0 + msgs[i].at, '10.0.0.1', out);
          if (r() > 0.02 && i !== msgs.length - 1) continue; // a commit every ~50 messages, and one at the end
          const { changes } = live.tracker.takeChanges();
          store.commit({ ...empty, dialogs: { sourceId: 1, ...changes } });
          commits++;
          const head = live.tracker.snapshotHead();
          const rows = store.liveDialogs(1);
          const again = new CaptureDialogs(undefined, 'hep');
          again.tracker.restoreRows(JSON.parse(JSON.stringify(head)), rows.open as Dialog[], rows.done);
          const whole = live.snapshot();
          expect(sorted(again.snapshot())).toEqual(sorted(whole));
          expect(rows.open.length + rows.done.length).toBe(whole.open.length + whole.done.length);
        }
        emitted = out.length;
        expect(commits).toBeGreaterThan(20);
        expect(emitted).toBeGreaterThan(1_000); // most calls ended: finished Call-IDs were written and forgotten
      } finally {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a failed commit hands its Call-IDs back: the next one writes their state as it is then', () => {
    const live = new CaptureDialogs(undefined, 'hep');
    live.tracker.trackChanges();
    const out: SipCall[] = [];
    const inv = message('INVITE sip:+12125550199@10.0.0.2 SIP/2.0', 'lost-1', '1 INVITE', false);
    live.onPayload(inv, 0, inv.length, 1_000, '10.0.0.1', out);
    const first = live.tracker.takeChanges();
    expect(first.changes.open.map((d) => d.callId)).toEqual(['lost-1']);
    live.tracker.markChanged(first.ids); // the commit failed
    const ok = message('SIP/2.0 200 OK', 'lost-1', '1 INVITE', true);
    live.onPayload(ok, 0, ok.length, 2_000, '10.0.0.1', out);
    const second = live.tracker.takeChanges();
    expect(second.changes.open).toMatchObject([{ callId: 'lost-1', answeredAt: 2_000 }]);
    expect(live.tracker.takeChanges().ids).toEqual([]);
  });
});

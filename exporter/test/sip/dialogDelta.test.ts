import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/db.js';
import { CaptureDialogs } from '../../src/ingest/sip/capture.js';
import type { Dialog, DialogSnapshot, SipCall } from '../../src/ingest/sip/dialogs.js';
import { tmp } from '../core/helpers.js';

// The HEP collector commits the dialog tracker's changes instead of its whole state: open dialogs keyed by
// Call-ID (`live_dialogs`), finished Call-IDs appended a row a commit (`live_done`) and dropped by age.
// Differential: after every commit of interleaved random traffic, what is stored, read back, gives the tracker
// the state the whole snapshot would have (open dialogs, finished Call-IDs still remembered, engines), and the
// store holds no open dialog more than the tracker and no finished Call-IDs past their age.

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

/** The tracker forgets finished Call-IDs at its sweep (once a second of log time); a restore does it at once. */
const DONE_KEEP_MS = 120_000;
const sorted = (s: DialogSnapshot) => ({
  now: s.now,
  open: [...s.open].sort((a, b) => a.callId.localeCompare(b.callId)),
  done: s.done.filter((e) => e[1] >= s.now - DONE_KEEP_MS).sort((a, b) => a[0].localeCompare(b[0])),
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
          expect(changes.keepFrom).toBe(live.snapshot().now - DONE_KEEP_MS);
          commits++;
          const head = live.tracker.snapshotHead();
          const rows = store.liveDialogs(1);
          const again = new CaptureDialogs(undefined, 'hep');
          again.tracker.restoreRows(JSON.parse(JSON.stringify(head)), rows.open as Dialog[], rows.done);
          const whole = live.snapshot();
          expect(sorted(again.snapshot())).toEqual(sorted(whole));
          const raw = new Database(join(dir, 'db'), { readonly: true });
          const stored = raw.prepare('SELECT count(*) AS n FROM live_dialogs').get() as { n: number };
          const oldest = raw.prepare('SELECT min(last_at) AS at FROM live_done').get() as { at: number | null };
          raw.close();
          expect(stored.n).toBe(whole.open.length);
          if (oldest.at !== null) expect(oldest.at).toBeGreaterThanOrEqual(whole.now - DONE_KEEP_MS);
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

  it('finished Call-IDs stored are the newest maxDone and at most one commit\'s more', () => {
    const dir = tmp('numrep-dialog-done-');
    const store = new Store(join(dir, 'db'));
    try {
      for (let c = 0; c < 30; c++) {
        const done = Array.from({ length: 10 }, (_, i): [string, number] => [`id-${c * 10 + i}`, c * 1_000 + i]);
        store.commit({ ...empty, dialogs: { sourceId: 1, open: [], closed: [], done, keepFrom: 0, maxDone: 25 } });
        const kept = store.liveDialogs(1).done.map((e) => e[0]);
        const upto = (c + 1) * 10;
        expect(kept.length).toBeGreaterThanOrEqual(Math.min(upto, 25));
        expect(kept.length).toBeLessThan(25 + 10);
        expect(kept[kept.length - 1]).toBe(`id-${upto - 1}`);
      }
      // By age: rows whose newest Call-ID finished before keepFrom go.
      store.commit({ ...empty, dialogs: { sourceId: 1, open: [], closed: [], done: [['late', 40_000]], keepFrom: 29_005, maxDone: 25 } });
      expect(store.liveDialogs(1).done.map((e) => e[0])).toEqual([...Array.from({ length: 10 }, (_, i) => `id-${290 + i}`), 'late']);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

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

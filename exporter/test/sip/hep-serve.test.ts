import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeHep, hepChunk, CHUNK, HEP_MAGIC } from '../../src/ingest/hep/hep.js';
import { tmp } from '../core/helpers.js';
import { freeTcpPort, killAll, scrapeNumber, serveCli, stopWith, until, type Served } from '../support/proc.js';
import { StateSealer } from '../../src/store/sealed.js';

// The HEP collector in a running serve: hostile senders (truncated chunks, lengths that lie, 64 KiB
// payloads, floods bounded in count, over UDP and TCP) are counted and survived; the auth key is
// enforced; and a call in flight survives a crash of numrep between its 200 OK and its BYE.

let dir = '';
beforeAll(() => (dir = tmp('numrep-hep-serve-')));
afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = () => Date.now();
function sip(lines: string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}
function call(id: string, caller: string, called: string) {
  const from = `From: <sip:${caller}@10.0.0.1>;tag=f-${id}`;
  const to = `To: <sip:${called}@10.0.0.2>`;
  const common = [`Call-ID: ${id}`, 'Content-Length: 0'];
  return {
    invite: sip([`INVITE sip:${called}@10.0.0.2:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-a', from, to, 'CSeq: 1 INVITE', ...common]),
    ringing: sip(['SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-a', from, `${to};tag=t-${id}`, 'CSeq: 1 INVITE', ...common]),
    ok: sip(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-a', from, `${to};tag=t-${id}`, 'CSeq: 1 INVITE', ...common]),
    busy: sip(['SIP/2.0 486 Busy Here', 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-a', from, `${to};tag=t-${id}`, 'CSeq: 1 INVITE', ...common]),
    bye: sip([`BYE sip:${called}@10.0.0.2:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-b', from, `${to};tag=t-${id}`, 'CSeq: 2 BYE', ...common]),
  };
}
function hep(payload: string | Buffer, ms: number, extra: { authKey?: string; agentId?: number } = {}): Buffer {
  return encodeHep({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: Math.floor(ms / 1000), timeUsec: (ms % 1000) * 1000, agentId: extra.agentId ?? 7, authKey: extra.authKey, payload });
}

async function udpSend(port: number, packets: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  for (const p of packets) await new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  s.close();
}
async function tcpSend(port: number, bytes: Buffer, end = true): Promise<void> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  await new Promise<void>((r) => s.write(bytes, () => r()));
  if (end) await new Promise<void>((r) => s.end(() => r()));
  // the server may already have closed it (a stream without framing)
  s.on('error', () => undefined);
}

async function start(extraConfig = ''): Promise<{ srv: Served; base: string; hepPort: number; cfg: string }> {
  const port = await freeTcpPort();
  const hepPort = await freeTcpPort();
  const cfg = join(dir, `numrep-${port}.yaml`);
  writeFileSync(cfg, `db: ${join(dir, 'hep.db')}\ninbox: ${join(dir, 'inbox')}\nlisten: 127.0.0.1:${port}\nhep:\n  listen: 127.0.0.1:${hepPort}\n${extraConfig}`);
  const srv = serveCli(['--config', cfg]);
  await until(`HEP collector up (${srv.log()})`, async () => (srv.log().includes('HEP collector on') ? true : undefined));
  return { srv, base: `http://127.0.0.1:${port}`, hepPort, cfg };
}

const malformed = (base: string, reason: string) => scrapeNumber(base, new RegExp(`numrep_hep_packets_malformed_total\\{reason="${reason}"\\} (\\d+)`));
const accepted = (base: string) => scrapeNumber(base, /numrep_ingest_records_total\{format="hep",result="accepted",reason="ok"\} (\d+)/);

/** Open dialogs in the HEP source's dialog table, as committed (store/db.ts live_dialogs). */
async function committedOpen(): Promise<number> {
  const db = new Database(join(dir, 'hep.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM live_dialogs d JOIN sources s ON s.id = d.source WHERE s.path = 'hep' AND d.state IS NOT NULL").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function callsOf(base: string, caller: string): Promise<{ calls: number; answered: number; avg_talk_seconds: number }> {
  const n = (await (await fetch(`${base}/api/v1/numbers/${caller}`)).json()) as { windows: Record<string, { calls: number; answered: number; avg_talk_seconds: number }> };
  return n.windows['24h'];
}

describe('serve --hep-listen against hostile senders', () => {
  it('counts truncated chunks, lying lengths, 64 KiB payloads and a bounded flood, and still counts the next real call', async () => {
    const { srv, base, hepPort } = await start();
    const good = hep(call('x', '+12025550161', '+12125550100').invite, now());
    const lying = Buffer.from(good);
    lying.writeUInt16BE(good.length + 100, 4); // says more than it has
    const badChunk = Buffer.concat([good.subarray(0, 6), hepChunk(CHUNK.family, Buffer.from([0, 2]))]);
    badChunk.writeUInt16BE(badChunk.length, 4);
    const cut = Buffer.concat([good.subarray(0, 6), Buffer.from([0, 0, 0, CHUNK.payload, 0x40, 0x00, 65, 66])]); // payload chunk claims 16 KiB
    cut.writeUInt16BE(cut.length, 4);
    const bigNotSip = encodeHep({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, timeSec: 1, payload: Buffer.alloc(65_000, 0x41) });
    await udpSend(hepPort, [lying, badChunk, cut, bigNotSip]);
    // A 64 KiB frame over TCP (the largest a HEP length can say), a SIP message with a giant header.
    const huge = 'INVITE sip:+12125550199@10.0.0.2 SIP/2.0\r\nX-Pad: ' + 'p'.repeat(65_535 - 200) + '\r\n\r\n';
    const maxFrame = encodeHep({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, timeSec: 1, payload: huge.slice(0, 65_535 - 6 - 90) });
    expect(maxFrame.length).toBeGreaterThan(65_000);
    await tcpSend(hepPort, maxFrame);
    // A stream that is not HEP at all is hung up on; one that stops mid-frame leaves nothing behind.
    await tcpSend(hepPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await tcpSend(hepPort, good.subarray(0, 40));
    // A flood, bounded: 5,000 junk datagrams and 5,000 packets whose chunks lie.
    const flood: Buffer[] = [];
    for (let i = 0; i < 5_000; i++) flood.push(Buffer.from(`junk-${i}`), i % 2 ? lying : badChunk);
    const s = createSocket('udp4');
    for (let i = 0; i < flood.length; i += 500) {
      await Promise.all(flood.slice(i, i + 500).map((p) => new Promise<void>((r) => s.send(p, hepPort, '127.0.0.1', () => r()))));
      await new Promise((r) => setImmediate(r));
    }
    s.close();
    await until('the flood counted', async () => ((await scrapeNumber(base, /numrep_hep_packets_total\{agent="unknown",transport="udp"\} (\d+)/)) ?? 0) >= 3 + 1_000 ? true : undefined);
    expect(await malformed(base, 'bad_length')).toBeGreaterThanOrEqual(1);
    expect(await malformed(base, 'chunk_size')).toBeGreaterThanOrEqual(1);
    expect(await malformed(base, 'truncated_chunk')).toBe(1);
    expect(await malformed(base, 'bad_magic')).toBeGreaterThanOrEqual(1); // the HTTP stream (and junk datagrams)
    await until('the 64 KiB datagram and frame read', async () => ((await malformed(base, 'bad_sip')) === 1 && (await scrapeNumber(base, /numrep_hep_sip_messages_total (\d+)/)) === 1 ? true : undefined));
    expect(srv.exitCode).toBeNull();
    // Still working: a real call, over TCP.
    const c = call('after-flood', '+12025550161', '+12125550101');
    const t = now();
    await tcpSend(hepPort, Buffer.concat([hep(c.invite, t), hep(c.ringing, t + 100), hep(c.busy, t + 900)]));
    await until('the call after the flood', async () => ((await accepted(base)) === 1 ? true : undefined));
    expect(srv.log()).not.toContain('+1212555');
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 60_000);

  it('with hep.auth_key, refuses packets without the key or with another one', async () => {
    rmSync(join(dir, 'hep.db'), { force: true });
    const { srv, base, hepPort } = await start('  auth_key: s3cret\n');
    const c = call('auth-1', '+12025550162', '+12125550102');
    const t = now();
    await udpSend(hepPort, [hep(c.invite, t), hep(c.invite, t, { authKey: 's3creT' }), hep(c.invite, t, { authKey: 's3cret!' })]);
    await until('three refused', async () => ((await malformed(base, 'auth')) === 3 ? true : undefined));
    await udpSend(hepPort, [hep(c.invite, t, { authKey: 's3cret' }), hep(c.busy, t + 500, { authKey: 's3cret' })]);
    await until('the keyed call counted', async () => ((await accepted(base)) === 1 ? true : undefined));
    const sources = (await (await fetch(`${base}/api/v1/sources`)).json()) as { sources: Array<{ path: string; format: string; size: number | null; ingest: { records: number; accepted: number } }> };
    expect(sources.sources.find((x) => x.path === 'hep')).toMatchObject({ format: 'hep', size: null, ingest: { records: 1, accepted: 1 } });
    expect(await stopWith(srv, 'SIGTERM')).toBe(0);
  }, 30_000);

  it('a call in flight survives a crash: INVITE and 200 before it, BYE after the restart, talk time from 200 to BYE', async () => {
    rmSync(join(dir, 'hep.db'), { force: true });
    const first = await start();
    const c = call('crash-1', '+12025550163', '+12125550103');
    const t = now() - 5_000;
    await udpSend(first.hepPort, [hep(c.invite, t), hep(c.ringing, t + 300), hep(c.ok, t + 1_000)]);
    // Wait until the dialog is committed (the collector commits within 250 ms).
    await until('the open dialog committed', async () => ((await committedOpen()) === 1 ? true : undefined));
    first.srv.kill('SIGKILL');
    await new Promise((r) => first.srv.once('exit', r));
    const second = await start();
    expect(second.srv.log()).toContain('1 dialog(s) resumed');
    expect(await scrapeNumber(second.base, /numrep_hep_dialogs_open (\d+)/)).toBe(1);
    await udpSend(second.hepPort, [hep(c.bye, t + 4_000)]);
    await until('the call counted once', async () => ((await accepted(second.base)) === 1 ? true : undefined));
    const n = (await (await fetch(`${second.base}/api/v1/numbers/+12025550163`)).json()) as { windows: Record<string, { calls: number; answered: number; avg_talk_seconds: number }> };
    expect(n.windows['24h']).toMatchObject({ calls: 1, answered: 1, avg_talk_seconds: 3 });
    expect(await stopWith(second.srv, 'SIGTERM')).toBe(0);
  }, 40_000);

  it('killed mid-traffic and restarted: open dialogs resume, and a replay of everything counts every call once', async () => {
    rmSync(join(dir, 'hep.db'), { force: true });
    const first = await start();
    const t = now() - 30_000;
    // done: finished before the kill; open: INVITE and 200 before, BYE after; stream: sent while numrep is killed.
    const done = Array.from({ length: 40 }, (_, i) => call(`mid-done-${i}`, '+12025550171', `+1212555${String(1000 + i)}`));
    const open = Array.from({ length: 30 }, (_, i) => call(`mid-open-${i}`, '+12025550172', `+1212555${String(2000 + i)}`));
    const stream = Array.from({ length: 2_000 }, (_, i) => call(`mid-stream-${i}`, '+12025550173', `+121255${String(30000 + i)}`));
    const finished = (c: ReturnType<typeof call>, i: number, at: number): Buffer[] =>
      i % 2 === 0 ? [hep(c.invite, at), hep(c.ok, at + 1_000), hep(c.bye, at + 4_000)] : [hep(c.invite, at), hep(c.busy, at + 500)];
    await tcpSend(first.hepPort, Buffer.concat([
      ...done.flatMap((c, i) => finished(c, i, t + i * 10)),
      ...open.flatMap((c, i) => [hep(c.invite, t + i * 10), hep(c.ringing, t + i * 10 + 300), hep(c.ok, t + i * 10 + 1_000)]),
    ]));
    await until('the first calls committed', async () => ((await accepted(first.base)) === 40 && (await committedOpen()) === 30 ? true : undefined));
    // The 30 open dialogs are in the database, sealed: none of their consumers' numbers is in its bytes.
    const bytes = Buffer.concat(['', '-wal'].map((x) => join(dir, `hep.db${x}`)).filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
    for (let i = 0; i < open.length; i++) expect(bytes.includes(`1212555${2000 + i}`), `consumer ${i} stored in clear`).toBe(false);
    // The stream goes on in bursts; numrep is killed once part of it is committed.
    const streamPackets = stream.flatMap((c, i) => finished(c, i, t + 1_000 + i * 10));
    let stop = false;
    const sending = (async () => {
      const s = createSocket('udp4');
      s.on('error', () => undefined); // the port goes away with the process
      for (let i = 0; i < streamPackets.length && !stop; i += 20) {
        const burst = streamPackets.slice(i, i + 20);
        await new Promise<void>((r) => burst.forEach((p, j) => s.send(p, first.hepPort, '127.0.0.1', j === burst.length - 1 ? () => r() : undefined)));
        await new Promise((r) => setImmediate(r));
      }
      s.close();
    })();
    await until('part of the stream committed', async () => ((await accepted(first.base) ?? 0) >= 140 ? true : undefined));
    first.srv.kill('SIGKILL');
    await new Promise((r) => first.srv.once('exit', r));
    stop = true;
    await sending;

    const second = await start();
    const resumed = Number(/(\d+) dialog\(s\) resumed/.exec(second.srv.log())?.[1]);
    expect(resumed).toBeGreaterThanOrEqual(30);
    expect(await scrapeNumber(second.base, /numrep_hep_dialogs_open (\d+)/)).toBe(resumed);
    // Over one TCP stream, in order: the open calls' BYEs, the whole stream again, the finished calls' BYEs again
    // (late retransmissions), then a last call: once it is counted, everything before it was handled.
    const last = call('mid-last', '+12025550174', '+12125559999');
    await tcpSend(second.hepPort, Buffer.concat([
      ...open.map((c, i) => hep(c.bye, t + i * 10 + 4_000)),
      ...streamPackets,
      ...done.map((c, i) => hep(c.bye, t + i * 10 + 4_000)),
      hep(last.invite, t + 9_000), hep(last.busy, t + 9_500),
    ]));
    await until('the last call counted', async () => ((await callsOf(second.base, '+12025550174')).calls === 1 ? true : undefined));
    expect(await callsOf(second.base, '+12025550171')).toMatchObject({ calls: 40, answered: 20 });
    expect(await callsOf(second.base, '+12025550172')).toMatchObject({ calls: 30, answered: 30, avg_talk_seconds: 3 });
    expect(await callsOf(second.base, '+12025550173')).toMatchObject({ calls: 2_000, answered: 1_000 });
    expect(await accepted(second.base)).toBe(40 + 30 + 2_000 + 1);
    expect(await scrapeNumber(second.base, /numrep_hep_dialogs_open (\d+)/)).toBe(0);
    expect(await stopWith(second.srv, 'SIGTERM')).toBe(0);
  }, 60_000);

  it('dialogs an older numrep committed whole (reader_state) resume, and move into the dialog tables', async () => {
    rmSync(join(dir, 'hep.db'), { force: true });
    const first = await start();
    expect(await stopWith(first.srv, 'SIGTERM')).toBe(0);
    const c = call('older-1', '+12025550175', '+12125550105');
    const t = now() - 5_000;
    const dialog = { callId: 'older-1', cseq: 1, ts: t, caller: '+12025550175', called: '+12125550105', trunk: '10.0.0.2:5060', attestation: 'none', earlyMedia: false, answeredAt: t + 1_000, sipCode: 200, inTrunk: '10.0.0.1' };
    const db = new Database(join(dir, 'hep.db'));
    db.prepare("UPDATE sources SET reader_state = ? WHERE path = 'hep'").run(JSON.stringify({ dialogs: { v: 1, now: t + 1_000, open: [dialog], done: [], engines: [] }, lastTs: t + 1_000 }));
    db.close();
    const second = await start();
    expect(second.srv.log()).toContain('1 dialog(s) resumed');
    await udpSend(second.hepPort, [hep(c.bye, t + 4_000)]);
    await until('the call counted', async () => ((await callsOf(second.base, '+12025550175')).calls === 1 ? true : undefined));
    expect(await callsOf(second.base, '+12025550175')).toMatchObject({ answered: 1, avg_talk_seconds: 3 });
    expect(await stopWith(second.srv, 'SIGTERM')).toBe(0);
    const after = new Database(join(dir, 'hep.db'), { readonly: true });
    const open = after.prepare('SELECT count(*) AS n FROM live_dialogs').get() as { n: number };
    const done = (after.prepare('SELECT call_ids FROM live_done').all() as { call_ids: string }[]).flatMap((r) => JSON.parse(r.call_ids) as unknown[]);
    const stored = (after.prepare("SELECT reader_state FROM sources WHERE path = 'hep'").get() as { reader_state: string }).reader_state;
    expect(stored.startsWith('s1:')).toBe(true); // the state in clear from the older numrep is sealed now
    const head = JSON.parse(StateSealer.forDatabase(join(dir, 'hep.db'))!.open(stored)!) as { dialogs: { v: number } };
    after.close();
    expect(open.n).toBe(0);
    expect(done).toEqual([['older-1', t + 4_000]]);
    expect(head.dialogs.v).toBe(2);
  }, 40_000);
});

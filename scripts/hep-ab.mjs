#!/usr/bin/env node
// One HEP run against a given build, for before/after comparisons of the collector (docs/performance.md,
// issue 19): a serve of that build with --hep-listen, the bench's packets sent over TCP (as fast as it reads)
// or UDP (paced to RATE packets/s, 0 = at will), then packets counted, calls by outcome, what was dropped
// unread and serve's CPU seconds (from /proc) from the first packet to the last counted. Build the other
// side into its own directory (git archive + tsc) and alternate the two. OPEN > 0: that many dialogs are
// opened first (INVITEs never answered, over TCP, not timed), as a collector in front of long calls holds
// them; the measured calls then run beside them (their capture times stay within sip.timeout_seconds).
// usage: node scripts/hep-ab.mjs <exporter dist dir> <tcp|udp> [rate] [calls] [cpu-prof dir] [open]
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const [dist, mode = 'tcp', rateS = '0', callsS = '50000', profdir = '', openS = '0'] = process.argv.slice(2);
const { benchHepPackets, sendTcp, sendUdp } = await import(pathToFileURL(`${resolve(dist)}/bench/hep.js`).href);
const { encodeHep } = await import(pathToFileURL(`${resolve(dist)}/ingest/hep/hep.js`).href);
const freePort = () => new Promise((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = join(tmpdir(), `numrep-hep-ab-${process.pid}`); rmSync(dir, { recursive: true, force: true }); mkdirSync(`${dir}/inbox`, { recursive: true });
const port = await freePort(), hep = await freePort();
const pre = profdir ? ['--cpu-prof', '--cpu-prof-dir', profdir] : [];
const p = spawn(process.execPath, [ ...pre, `${dist}/cli/main.js`, 'serve', '--quiet', '--listen', `127.0.0.1:${port}`, '--inbox', `${dir}/inbox`, '--db', `${dir}/db`, '--trunk-map', fileURLToPath(new URL('../examples/trunk-map.csv', import.meta.url)), '--timezone', 'UTC', '--hep-listen', `127.0.0.1:${hep}`], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = ''; p.stderr.on('data', (d) => (err += d));
const url = `http://127.0.0.1:${port}`;
// ready within 60 s
for (let i = 0; i < 600; i++) { try { if ((await fetch(`${url}/readyz`)).ok) break; } catch {} await sleep(100); }
const tCalls = Date.now() - 3_600_000;
const packets = benchHepPackets(Number(callsS), tCalls);
const metrics = async () => (await (await fetch(`${url}/metrics`)).text());
const counted = (b) => [...b.matchAll(/numrep_hep_packets_total\{[^}]*\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
const openN = Number(openS);
let before = 0;
if (openN > 0) {
  // 250 s into the measured calls' capture time: none of them times out before it, nor it before them.
  const at = tCalls + 250_000;
  const inv = [];
  for (let i = 0; i < openN; i++) {
    const id = `open-${i}@10.0.0.9`, called = `+1646${String(2000000 + i).padStart(7, '0')}`;
    inv.push(encodeHep({ srcIp: '10.0.0.9', dstIp: '10.0.0.2', srcPort: 5060, dstPort: 5060, timeSec: Math.floor(at / 1000), timeUsec: 0, agentId: 1,
      payload: `INVITE sip:${called}@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-o${i}\r\nFrom: <sip:+12025551${String(i % 1000).padStart(3, '0')}@10.0.0.9>;tag=o${i}\r\nTo: <sip:${called}@10.0.0.2>\r\nCall-ID: ${id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n` }));
  }
  await sendTcp(inv, hep);
  for (let i = 0; i < 1200; i++) { const b = await metrics(); before = counted(b); if (Number(/^numrep_hep_dialogs_open (\d+)/m.exec(b)?.[1]) >= openN && before >= openN) break; await sleep(100); }
  await sleep(1000); // the commit of the last of them
}
const cpuOf = () => { const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const c0 = cpuOf();
const packetsBefore = before;
const t0 = performance.now();
if (mode === 'tcp') await sendTcp(packets, hep); else await sendUdp(packets, hep, Number(rateS) || undefined);
const tSent = performance.now();
let n = 0, last = -1, lastT = performance.now(), tEnd = t0;
for (const deadline = performance.now() + 120_000; performance.now() < deadline; ) { n = counted(await metrics()) - packetsBefore; const t = performance.now(); if (n !== last) { last = n; lastT = t; tEnd = t; } if (n >= packets.length || t - lastT > 2000) break; await sleep(50); }
const cpu = +(cpuOf() - c0).toFixed(2);
await sleep(1200);
const body = await metrics();
const calls = Number(/numrep_ingest_records_total\{format="hep",result="accepted",reason="ok"\} (\d+)/.exec(body)?.[1] ?? 0);
const byOutcome = {}; for (const m of body.matchAll(/^numrep_calls_total\{[^}]*outcome="([^"]+)"[^}]*\} (\d+)/gm)) byOutcome[m[1]] = (byOutcome[m[1]] ?? 0) + Number(m[2]);
const extra = JSON.stringify(byOutcome) + ' drops=' + (/^numrep_hep_udp_drops_total (\d+)/m.exec(body)?.[1] ?? '-');
p.kill('SIGTERM'); await new Promise((r) => p.once('exit', r));
console.log(JSON.stringify({ mode, rate: rateS, open: openN, packets: packets.length, counted: n, pps: Math.round(n / ((tEnd - t0) / 1000)), sendS: +((tSent - t0) / 1000).toFixed(2), calls, cpu: cpu }));
console.log(extra); 
rmSync(dir, { recursive: true, force: true });

#!/usr/bin/env node
// One durable catch-up and restart against a given build, for before/after comparisons of the store
// (docs/performance.md, issue 19): a serve of that build on a fresh inbox, FILE dropped into it (a rename), timed
// until every one of CALLS is counted in /metrics (wall, and serve's CPU from /proc); then serve stopped, the
// database measured (with its WAL), serve started again on it and timed to its first /metrics (wall, CPU, peak
// RSS). Alternate two builds on the same file. DIR is made afresh and removed at the end.
// usage: node scripts/backfill-restart.mjs <dist/cli/main.js> <asterisk file> <calls> <dir>
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
const [cli, file, callsS, base] = process.argv.slice(2);
if (!cli || !file || !callsS || !base) {
  process.stderr.write('usage: node scripts/backfill-restart.mjs <dist/cli/main.js> <asterisk file> <calls> <dir>\n');
  process.exit(2);
}
const calls = Number(callsS);
const trunkMap = fileURLToPath(new URL('../examples/trunk-map.csv', import.meta.url));
const COMMON = ['--format', 'asterisk', '--trunk-map', trunkMap, '--timezone', 'UTC'];
const freePort = () => new Promise((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const cpuS = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const peakRssMB = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
rmSync(base, { recursive: true, force: true });
mkdirSync(join(base, 'inbox'), { recursive: true });
const port = await freePort();
const deadline = Date.now() + 3_600_000; // every wait below is bounded
async function start() {
  const t0 = performance.now();
  const p = spawn(process.execPath, [cli, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', join(base, 'inbox'), '--db', join(base, 'numrep.db'), ...COMMON], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  let exited = null;
  p.once('exit', (c) => (exited = c));
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`serve exited ${exited}: ${err.slice(-500)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (r.ok) return { p, body: await r.text(), ms: performance.now() - t0 };
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error('serve did not answer within the hour');
}
const accepted = (body) => [...body.matchAll(/^numrep_ingest_records_total\{format="asterisk",result="accepted",reason="ok"\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
const stop = async (p) => { const s = new Promise((r) => p.once('exit', r)); p.kill('SIGTERM'); await s; };
let s = await start();
copyFileSync(file, join(base, 'staged.csv')); // same file system as the inbox: the drop is a rename
const t0 = performance.now();
const c0 = cpuS(s.p.pid);
renameSync(join(base, 'staged.csv'), join(base, 'inbox', 'backfill.csv'));
while (accepted(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()) < calls) {
  if (Date.now() > deadline) throw new Error('not caught up within the hour');
  await sleep(1000);
}
const backfillWallS = (performance.now() - t0) / 1000;
const backfillCpuS = cpuS(s.p.pid) - c0;
await stop(s.p);
const dbBytes = readdirSync(base).filter((f) => f === 'numrep.db' || f === 'numrep.db-wal').reduce((t, f) => t + statSync(join(base, f)).size, 0);
s = await start();
const out = {
  cli, backfillWallS: +backfillWallS.toFixed(1), backfillCpuS: +backfillCpuS.toFixed(1), dbMB: +(dbBytes / 1_048_576).toFixed(1),
  restartReadyMs: Math.round(s.ms), restartCpuS: cpuS(s.p.pid), restartPeakRssMB: Math.round(peakRssMB(s.p.pid)),
};
await stop(s.p);
rmSync(base, { recursive: true, force: true });
console.log(JSON.stringify(out));

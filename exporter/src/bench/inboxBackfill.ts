// Issue 19's backfill target, measured as a user meets it: a real-shaped Asterisk file dropped into a running
// `numrep serve`'s inbox, timed from the drop until serve logs it read to its end (its last transaction
// committed), against the one-shot `numrep report --json` of the same file in the same run.
//
//   node exporter/dist/bench/inboxBackfill.js [--rows 500000] [--reps 1] [--baseline-cli PATH] [--dir DIR]
//
// --baseline-cli: another build's dist/cli/main.js (e.g. the commit before a change), run alternately with this
// one on the same file, so before and after share the machine's load. Prints wall s, CPU s (serve's process from
// the drop to the end; report's from /usr/bin/time or /proc) and rows/s of each, the ratios, and the load average.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateReal } from './genReal.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TRUNK_MAP = join(ROOT, 'examples', 'trunk-map.csv');
const COMMON = ['--format', 'asterisk', '--trunk-map', TRUNK_MAP, '--timezone', 'UTC'];

const USAGE = `usage: npm run bench:backfill -- [--rows N] [--reps N] [--baseline-cli PATH] [--dir DIR]
  (or node exporter/dist/bench/inboxBackfill.js …)

A real-shaped Asterisk file of --rows rows (default 500000) dropped into a fresh numrep serve's inbox, timed
until every call is durable, beside numrep report --json of the same file; --reps times (default 1).
  --baseline-cli PATH  another build's dist/cli/main.js, run alternately with this one on the same file
  --dir DIR            where the file and the databases go (default: a new folder under the temp dir)
`;

/** The bench's options: unknown flags and values that are not positive integers are refused, naming them. */
function options(argv: string[]): { rows: number; reps: number; baselineCli?: string; dir?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { rows: { type: 'string' }, reps: { type: 'string' }, 'baseline-cli': { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`backfill bench: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const count = (name: 'rows' | 'reps', fallback: number): number => {
    const text = v[name];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`backfill bench: --${name} ${JSON.stringify(text)} is not a positive whole number\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const baselineCli = v['baseline-cli'];
  if (baselineCli !== undefined && !existsSync(baselineCli)) {
    process.stderr.write(`backfill bench: --baseline-cli ${baselineCli}: no such file (give another build's dist/cli/main.js)\n`);
    process.exit(2);
  }
  return { rows: count('rows', 500_000), reps: count('reps', 1), baselineCli, dir: v.dir };
}

const opts = options(process.argv.slice(2));
const rows = opts.rows;
const reps = opts.reps;
const baselineCli = opts.baselineCli;
const dir = opts.dir ?? join(tmpdir(), `numrep-backfill-${process.pid}`);
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const log = (s: string) => process.stderr.write(`backfill bench: ${s}\n`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** user + system CPU seconds of a live process (Linux /proc). */
function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

interface Run {
  wallS: number;
  cpuS: number;
}

/** `report --json` of the file: wall here, CPU of the child from /usr/bin/time. */
function report(cli: string, file: string): Run {
  const tf = join(dir, '.time');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', tf, process.execPath, cli, 'report', file, '--json', ...COMMON], { maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'] });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`report exited ${r.status}: ${String(r.stderr).slice(-500)}`);
  const [u, s] = readFileSync(tf, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallS, cpuS: u + s };
}

/**
 * A fresh serve; the file dropped (renamed) into its inbox once it is up; done when /metrics shows every call of the
 * file accepted (counts move only once committed). Polled every second: the "read to its end" line is only written
 * for files 64 MiB or more behind.
 */
async function inbox(cli: string, file: string, name: string, calls: number): Promise<Run & { progressLines: number; accepted: number }> {
  const base = join(dir, name);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(join(base, 'inbox'), { recursive: true });
  const port = await freePort();
  const p = spawn(process.execPath, [cli, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', join(base, 'inbox'), '--db', join(base, 'numrep.db'), ...COMMON], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let progressLines = 0;
  let started: (() => void) | null = null;
  const up = new Promise<void>((r) => (started = r));
  p.stderr!.on('data', (d: Buffer) => {
    err += d;
    if (/listening|ready/i.test(err)) started?.();
    if (/: reading, \d+ %/.test(String(d))) progressLines++;
  });
  let exitCode: number | null = null;
  p.once('exit', (code) => (exitCode = code ?? -1));
  while (!(await Promise.race([up.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]))) {
    if (exitCode !== null) throw new Error(`serve exited ${exitCode}: ${err.slice(-500)}`);
  }
  const staged = join(base, 'staged.csv');
  copyFileSync(file, staged); // same file system as the inbox: the drop is a rename, as a user's mv
  const cpu0 = cpuSecondsOf(p.pid!);
  const t0 = performance.now();
  renameSync(staged, join(base, 'inbox', 'backfill.csv'));
  const acceptedNow = async () => {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return [...body.matchAll(/^numrep_ingest_records_total\{format="asterisk",result="accepted",reason="ok"\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  };
  let accepted = 0;
  const deadline = Date.now() + 3_600_000;
  while ((accepted = await acceptedNow()) < calls && Date.now() < deadline) {
    if (exitCode !== null) throw new Error(`serve exited ${exitCode}: ${err.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 1000)); // polling /metrics once a second: more often, its rendering would be a large part of the CPU measured
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuSecondsOf(p.pid!) - cpu0;
  const stopped = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await stopped;
  rmSync(base, { recursive: true, force: true });
  return { wallS, cpuS, progressLines, accepted };
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `asterisk-real-${rows}.csv`);
  log(`generating ${fmt(rows)} real-shaped Asterisk rows`);
  // Ends two days ago: the generator's local stamps may lie hours ahead of UTC, and serve rejects future rows.
  const g = generateReal('asterisk', file, { rows, numbers: 5000, endMs: Date.now() - 2 * 86_400_000, spanMs: 6 * 86_400_000 });
  const builds: [string, string][] = [['this build', CLI]];
  if (baselineCli) builds.unshift(['baseline', baselineCli]);
  const lines: string[] = [];
  lines.push(`| build | run | wall s | CPU s | rows/s | durable ÷ report (wall) | durable ÷ report (CPU) | progress lines | accepted | load before |`);
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (let rep = 0; rep < reps; rep++) {
    for (const [label, cli] of builds) {
      const before = load();
      log(`${label}: report --json (load ${before})`);
      const r = report(cli, file);
      log(`${label}: serve inbox`);
      const d = await inbox(cli, file, label.replace(/\W+/g, '-'), g.calls);
      const ok = d.accepted === g.calls ? '✓' : `✗ (${fmt(g.calls)} expected)`;
      lines.push(`| ${label} | report --json | ${fmt(r.wallS, 1)} | ${fmt(r.cpuS, 1)} | ${fmt(g.rows / r.wallS)} | | | | | ${before} |`);
      lines.push(`| ${label} | serve inbox, durable | ${fmt(d.wallS, 1)} | ${fmt(d.cpuS, 1)} | ${fmt(g.rows / d.wallS)} | ${fmt((100 * r.wallS) / d.wallS)} % | ${fmt((100 * r.cpuS) / d.cpuS)} % | ${d.progressLines} | ${fmt(d.accepted)} ${ok} | |`);
    }
  }
  process.stdout.write(`${fmt(g.rows)} real-shaped Asterisk rows (${fmt(g.bytes / 1_048_576)} MB, ${fmt(g.calls)} calls); load after ${load()}\n\n${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});

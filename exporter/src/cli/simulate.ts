// `numrep simulate`: seeded outbound traffic for a pool of numbers (docs/simulation.md).
//   backfill: numrep simulate --days 30 --out DIR [--format kamailio|all] [--scenario pool] [--seed 1]
//   live:     numrep simulate --live --inbox DIR --rate 2 [--step 10] [--days 7] [--format generic]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { scenario, SCENARIOS } from '../sim/model.js';
import { SIM_FORMATS, WRITERS, prefixMapCsv, trunkMapCsv, type SimFormat } from '../sim/formats.js';
import { backfill, startLive } from '../sim/run.js';
import { fail, makeLog } from './log.js';

export interface SimulateFlags {
  days?: string;
  out?: string;
  format?: string;
  scenario?: string;
  numbers?: string;
  seed?: string;
  start?: string;
  live?: boolean;
  inbox?: string;
  rate?: string;
  step?: string;
  quiet?: boolean;
  reaction?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function num(v: string | undefined, name: string, dflt: number, { min = 0, int = false } = {}): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (int && !Number.isInteger(n))) fail(`--${name} ${v}: expected ${int ? 'a whole number' : 'a number'} ≥ ${min}`, 2);
  return n;
}

export function parseFormats(v: string | undefined, allowAll: boolean): SimFormat[] {
  if (v === undefined) return ['generic'];
  if (v === 'all' && allowAll) return [...SIM_FORMATS];
  const out: SimFormat[] = [];
  for (const f of v.split(',').map((s) => s.trim())) {
    if (!(SIM_FORMATS as readonly string[]).includes(f)) fail(`--format ${f}: expected one of ${SIM_FORMATS.join(', ')}${allowAll ? ' or all' : ''}`, 2);
    out.push(f as SimFormat);
  }
  return out;
}

export async function simulate(flags: SimulateFlags): Promise<void> {
  const log = makeLog(flags.quiet);
  const seed = num(flags.seed, 'seed', 1, { int: true });
  const name = flags.scenario ?? 'pool';
  if (!SCENARIOS.includes(name)) fail(`--scenario ${name}: expected one of ${SCENARIOS.join(', ')}`, 2);
  const numbers = flags.numbers === undefined ? undefined : num(flags.numbers, 'numbers', 60, { min: 1, int: true });
  if (numbers !== undefined && numbers > 9000) fail('--numbers: at most 9000', 2);
  const reaction = flags.reaction === undefined ? undefined : Number(flags.reaction);
  if (reaction !== undefined && !(reaction >= 0 && reaction <= 1)) fail(`--reaction ${flags.reaction}: expected a share between 0 and 1`, 2);

  if (!flags.live) {
    if (!flags.out) fail('simulate: give --out DIR (backfill) or --live --inbox DIR', 2);
    const days = num(flags.days, 'days', 30, { min: 1, int: true });
    const formats = parseFormats(flags.format, true);
    let start: number;
    if (flags.start !== undefined) {
      start = Date.parse(flags.start);
      if (Number.isNaN(start)) fail(`--start ${flags.start}: not an ISO 8601 time, e.g. 2026-10-05T00:00:00Z`, 2);
      start = Math.floor(start / HOUR) * HOUR;
    } else start = Math.floor(Date.now() / DAY) * DAY - days * DAY; // ends at 00:00 UTC today
    const out = resolve(flags.out);
    mkdirSync(out, { recursive: true });
    const sc = scenario(name, seed, { days, numbers });
    if (reaction !== undefined) sc.reputation.suspicionAtLabel = reaction;
    const t0 = Date.now();
    const r = backfill({ scenario: sc, seed, start, formats, out });
    const lab = r.truth.numbers.filter((n) => n.labelled).length;
    const deg = r.truth.numbers.filter((n) => n.degrades).length;
    log(`simulate: ${r.calls} calls from ${sc.plans.length} numbers over ${days} days (${r.truth.start} → ${r.truth.end}), scenario ${name}, seed ${seed}, in ${Date.now() - t0} ms`);
    log(`simulate: ${deg} numbers degrade, ${lab} get labelled by at least one carrier (ground truth: ${join(out, 'truth.json')})`);
    for (const f of formats) log(`simulate: ${f}: ${r.files[f][0]}`);
    log(`simulate: read it with: numrep report ${join(out, formats[0])} --trunk-map ${join(out, 'trunk-map.csv')} --prefix-map ${join(out, 'prefix-map.csv')}`);
    return;
  }

  if (!flags.inbox) fail('simulate --live: give --inbox DIR', 2);
  const [format] = parseFormats(flags.format, false);
  const rate = num(flags.rate, 'rate', 1, { min: 0.001 });
  const step = num(flags.step, 'step', 3600, { min: 0.05 });
  const days = num(flags.days, 'days', 0, { int: true });
  const inbox = resolve(flags.inbox);
  mkdirSync(inbox, { recursive: true });
  const now = Date.now();
  const start = Math.floor(now / HOUR) * HOUR - days * DAY;
  // The scenario runs a week past the backfill: its events (bursts, stale lists) fall in both parts.
  const sc = scenario(name, seed, { days: days + 7, numbers });
  if (reaction !== undefined) sc.reputation.suspicionAtLabel = reaction;
  sc.hours = days * 24;
  const w = WRITERS[format];
  const file = join(inbox, `sim-${new Date(now).toISOString().slice(0, 16).replace(/[-:]/g, '')}-${format}-${w.file}`);
  const bf = backfill({ scenario: sc, seed, start, formats: [format], out: inbox, fileFor: () => file, notAfter: now, dataOnly: true });
  if (days > 0) log(`simulate: backfilled ${bf.calls} calls over ${days} days into ${file}`);
  if (format !== 'generic') {
    // Only the generic CSV names the carrier; the others need the maps (kept out of the inbox).
    const maps = dirname(inbox);
    writeFileSync(join(maps, 'sim-trunk-map.csv'), trunkMapCsv());
    writeFileSync(join(maps, 'sim-prefix-map.csv'), prefixMapCsv());
    log(`simulate: carriers: run serve with --trunk-map ${join(maps, 'sim-trunk-map.csv')} --prefix-map ${join(maps, 'sim-prefix-map.csv')}`);
  }
  log(`simulate: live, ${rate} calls/s into ${file}; one model hour of reputation every ${step} s; Ctrl-C to stop`);
  const live = startLive({
    sim: bf.sim,
    format,
    file,
    rate,
    stepSeconds: step,
    now: Date.now,
    onStep: (sim) => {
      const st = sim.state();
      const moving = st.filter((s) => Math.min(s.rep.att, s.rep.verizon, s.rep.tmobile) < 0.85 || s.labelled.length);
      log(`model hour ${sim.hour}: ${moving.length ? moving.map((s) => `${s.number} ${s.labelled.length ? `labelled by ${s.labelled.join('+')}` : `r=${Math.min(s.rep.att, s.rep.verizon, s.rep.tmobile)}`}${s.resting ? ' (resting)' : ''}`).join(', ') : 'every number healthy'}`);
    },
  });
  await new Promise<void>((res) => {
    const stop = () => {
      live.stop();
      log(`simulate: stopped; ${live.calls()} live calls had reached the log (calls still ringing or talking are not written)`);
      res();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

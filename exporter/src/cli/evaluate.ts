// `numrep evaluate`: how long before a carrier label does numrep warn? (docs/early-warning.md)
//   numrep evaluate                                  # simulate + replay the default scenarios
//   numrep evaluate --scenario velocity --days 30 --numbers 60 --seed 1 --format kamailio
//   numrep evaluate DIR                              # replay an existing `numrep simulate --out DIR`

import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scenario, SCENARIOS } from '../sim/model.js';
import { backfill } from '../sim/run.js';
import { evaluateDir, resultMarkdown, type EvaluationResult } from '../sim/evaluate.js';
import { parseReputationConfig } from '../reputation/config.js';
import { configFrom } from './common.js';
import { fail, makeLog } from './log.js';
import { parseFormats } from './simulate.js';

export interface EvaluateFlags {
  scenario?: string;
  days?: string;
  numbers?: string;
  seed?: string;
  seeds?: string;
  start?: string;
  format?: string;
  config?: string;
  json?: boolean;
  keep?: string;
  out?: string;
  warmup?: string;
  reaction?: string;
  quiet?: boolean;
}

/** A Monday: the default scenario start, so the published figures are reproducible. */
export const EVALUATION_START = '2026-10-05T00:00:00Z';

/** The scenarios `numrep evaluate` runs by default (docs/early-warning.md). */
export const DEFAULT_SCENARIOS = ['pool', 'velocity', 'ramp', 'engagement', 'healthy', 'low_volume', 'holiday', 'carrier_ramp', 'heterogeneous'];

export async function evaluate(dirs: string[], flags: EvaluateFlags): Promise<EvaluationResult[]> {
  const log = makeLog(flags.quiet);
  let config;
  try {
    config = parseReputationConfig(configFrom({ config: flags.config }).reputation);
  } catch (err) {
    fail(`${flags.config ?? 'config'}: reputation: ${(err as Error).message}`, 2);
  }
  const warmupHours = flags.warmup === undefined ? undefined : Number(flags.warmup);
  if (warmupHours !== undefined && !(warmupHours >= 0)) fail(`--warmup ${flags.warmup}: expected hours ≥ 0`, 2);
  const results: EvaluationResult[] = [];
  const [format] = parseFormats(flags.format ?? 'kamailio', false);
  if (dirs.length) {
    for (const d of dirs) {
      const r = await evaluateDir({ dir: resolve(d), format: flags.format ? format : undefined, config, warmupHours, log });
      results.push(r);
    }
  } else {
    const names = (flags.scenario ?? DEFAULT_SCENARIOS.join(',')).split(',').map((s) => s.trim());
    for (const n of names) if (!SCENARIOS.includes(n)) fail(`--scenario ${n}: expected one of ${SCENARIOS.join(', ')}`, 2);
    const days = flags.days === undefined ? 30 : Number(flags.days);
    if (!Number.isInteger(days) || days < 3) fail(`--days ${flags.days}: expected a whole number ≥ 3`, 2);
    const numbers = flags.numbers === undefined ? undefined : Number(flags.numbers);
    if (numbers !== undefined && !(Number.isInteger(numbers) && numbers > 0)) fail(`--numbers ${flags.numbers}: expected a whole number > 0`, 2);
    const seedText = flags.seeds ?? flags.seed ?? '1';
    const seeds = seedText.split(',').map((x) => Number(x.trim()));
    if (!seeds.every((x) => Number.isInteger(x))) fail(`--seed${flags.seeds ? 's' : ''} ${seedText}: expected whole numbers, comma-separated`, 2);
    const reaction = flags.reaction === undefined ? undefined : Number(flags.reaction);
    if (reaction !== undefined && !(reaction >= 0 && reaction <= 1)) fail(`--reaction ${flags.reaction}: expected a share between 0 and 1`, 2);
    const start = Date.parse(flags.start ?? EVALUATION_START);
    if (Number.isNaN(start)) fail(`--start ${flags.start}: not an ISO 8601 time`, 2);
    const root = flags.keep ? resolve(flags.keep) : mkdtempSync(join(tmpdir(), 'numrep-eval-'));
    try {
      for (const seed of seeds) for (const n of names) {
        const dir = join(root, `${n}-${seed}`);
        mkdirSync(dir, { recursive: true });
        const t0 = Date.now();
        const sc = scenario(n, seed, { days, numbers });
        if (reaction !== undefined) sc.reputation.suspicionAtLabel = reaction;
        const b = backfill({ scenario: sc, seed, start, formats: [format], out: dir });
        log(`evaluate: ${n} (seed ${seed}): simulated ${b.calls} calls (${format}) in ${Date.now() - t0} ms; replaying hour by hour`);
        const t1 = Date.now();
        const r = await evaluateDir({ dir, format, config, warmupHours });
        log(`evaluate: ${n}: replayed ${r.evaluatedHours} hours in ${Date.now() - t1} ms`);
        results.push(r);
      }
    } finally {
      if (!flags.keep) rmSync(root, { recursive: true, force: true });
    }
  }
  const text = flags.json ? JSON.stringify(results, null, 2) + '\n' : resultMarkdown(results);
  if (flags.out) writeFileSync(flags.out, text);
  else process.stdout.write(text);
  return results;
}

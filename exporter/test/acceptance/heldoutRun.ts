// Runs `numrep report --json --at` every 6 h over the held-out traffic's 14 evaluated days and scores the
// answers against what the model knows (issue 16's acceptance figures).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DAY, HOUR, heldoutTraffic, type HeldoutNumber } from './heldoutTraffic.js';

const run = promisify(execFile);
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface NumberAnswer {
  number: string;
  status?: string;
  recommendation?: { action: string };
  carriers: Record<string, { flag?: string }>;
}

export interface HeldoutFigures {
  seed: number;
  healthy: number;
  healthyAlarmed: number;
  healthyNumberDays: number;
  /** Alarm onsets (an evaluation alarmed after one that was not) on healthy numbers. */
  falseAlarms: number;
  degrading: number;
  /** Warned on the right carrier (or by status/action) at least 24 h before the first block. */
  warned24h: number;
  /** Lead (h) of the first warning before the block, per degrading number (null: none before the block). */
  leads: Array<number | null>;
  /** Evaluations ≥ 24 h into full blocking: carrier flagged and action retire/rest/remediate. */
  blockedEvaluations: number;
  blockedRight: number;
  /** Healthy numbers' alarm reasons, for the report. */
  falseReasons: string[];
}

const alarmed = (a: NumberAnswer) =>
  (a.status === 'mixed' || a.status === 'spam') ||
  (a.recommendation !== undefined && a.recommendation.action !== 'keep') ||
  Object.values(a.carriers).some((c) => c.flag === 'warning' || c.flag === 'flagged');

const warnedOn = (a: NumberAnswer, carrier: string) =>
  a.status === 'mixed' || a.status === 'spam' || (a.recommendation !== undefined && a.recommendation.action !== 'keep') ||
  a.carriers[carrier]?.flag === 'warning' || a.carriers[carrier]?.flag === 'flagged';

/** Evaluate one seed in `dir`; `parallel` report processes at a time. */
export async function heldoutFigures(seed: number, dir: string, o: { parallel?: number; config?: string } = {}): Promise<HeldoutFigures> {
  const t = heldoutTraffic(seed);
  const file = join(dir, `heldout-${seed}.csv`);
  writeFileSync(file, t.csv);
  const times: number[] = [];
  for (let at = t.evalStart + 6 * HOUR; at <= t.end; at += 6 * HOUR) times.push(at);
  const answers = new Map<number, Map<string, NumberAnswer>>();
  const queue = [...times];
  const worker = async () => {
    for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
      const args = [CLI, 'report', '--json', '--format', 'generic', '--at', new Date(at - 1000).toISOString(), ...(o.config ? ['--config', o.config] : []), file];
      const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 28 });
      const json = JSON.parse(stdout) as { numbers: NumberAnswer[] };
      answers.set(at, new Map(json.numbers.map((n) => [n.number, n])));
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 2 }, worker));
  return score(t.numbers, times, answers, seed);
}

export function score(numbers: HeldoutNumber[], times: number[], answers: Map<number, Map<string, NumberAnswer>>, seed: number): HeldoutFigures {
  const f: HeldoutFigures = {
    seed, healthy: 0, healthyAlarmed: 0, healthyNumberDays: 0, falseAlarms: 0, degrading: 0, warned24h: 0, leads: [],
    blockedEvaluations: 0, blockedRight: 0, falseReasons: [],
  };
  for (const n of numbers) {
    if (!n.degrading) {
      f.healthy++;
      f.healthyNumberDays += (times.length * 6) / 24;
      let was = false;
      let ever = false;
      for (const at of times) {
        const a = answers.get(at)?.get(n.number);
        const now = a ? alarmed(a) : false;
        if (now && !was) {
          f.falseAlarms++;
          const r = (a as NumberAnswer & { recommendation?: { reason?: string } }).recommendation?.reason;
          if (r) f.falseReasons.push(`${new Date(at).toISOString().slice(0, 13)} ${n.number.slice(-4)}: ${r}`);
        }
        ever ||= now;
        was = now;
      }
      if (ever) f.healthyAlarmed++;
      continue;
    }
    f.degrading++;
    const block = n.blockAt!;
    let first: number | null = null;
    for (const at of times) {
      if (at < block - 72 * HOUR || at >= block) continue;
      const a = answers.get(at)?.get(n.number);
      if (a && warnedOn(a, n.carrier!)) {
        first = at;
        break;
      }
    }
    const lead = first === null ? null : (block - first) / HOUR;
    f.leads.push(lead);
    if (lead !== null && lead >= 24) f.warned24h++;
    for (const at of times) {
      if (at < block + DAY) continue;
      const a = answers.get(at)?.get(n.number);
      f.blockedEvaluations++;
      if (a && a.carriers[n.carrier!]?.flag === 'flagged' && ['retire', 'rest', 'remediate'].includes(a.recommendation?.action ?? '')) f.blockedRight++;
    }
  }
  return f;
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Shared by the tests that run real processes: free loopback ports, bounded polling, the built CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTestPort } from './ports.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A free loopback TCP port outside the ephemeral range (see ports.ts for why). */
export function freeTcpPort(): Promise<number> {
  return freeTestPort('tcp');
}

/** Poll `fn` until it returns a value (not undefined), with a deadline; errors count as "not yet". */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100)); // polling a condition, with a deadline
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface Served extends ChildProcess {
  /** Everything the process wrote to stderr so far. */
  log(): string;
}

/** Processes started through `serveCli`; `killAll()` in afterEach. */
const running: ChildProcess[] = [];

/** `numrep serve` with these arguments; `nodeArgs` go to Node itself (e.g. a heap cap). */
export function serveCli(args: string[], nodeArgs: string[] = []): Served {
  const p = spawn(process.execPath, [...nodeArgs, CLI, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) as Served;
  let log = '';
  p.stderr!.on('data', (d) => (log += d));
  p.log = () => log;
  running.push(p);
  return p;
}

export function killAll(): void {
  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

export async function stopWith(p: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill(signal);
  return done;
}

/** A counter from /metrics (first match), 0 when absent, undefined when the server does not answer. */
export async function scrapeNumber(base: string, re: RegExp): Promise<number | undefined> {
  try {
    const body = await (await fetch(`${base}/metrics`)).text();
    if (re.global) return [...body.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0); // every match, summed
    const m = re.exec(body);
    return m ? Number(m[1]) : 0;
  } catch {
    return undefined;
  }
}

/** `until` for a yes/no condition. */
export const waitFor = (what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<true> =>
  until(what, async () => ((await fn()) ? (true as const) : undefined), ms);

/** Records the generic CSV reader accepted, on /metrics. */
export const ACCEPTED_GENERIC = /numrep_ingest_records_total\{format="generic",result="accepted",reason="ok"\} (\d+)/;

/**
 * Records the generic reader read and accepted or skipped (a random generator may write the same caller, consumer
 * and second twice: one call, the second row skipped as `leg`), summed over reasons.
 */
export const READ_GENERIC = /numrep_ingest_records_total\{format="generic",result="(?:accepted|skipped)",reason="[a-z_]+"\} (\d+)/g;

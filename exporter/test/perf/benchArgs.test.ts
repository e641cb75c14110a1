// The benches refuse what they do not know before doing any work: a typo in a flag or a section used to run the
// whole bench (an hour) or a 500k-row backfill on defaults, and a value that is no number ran with NaN.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../dist/bench/run.js', import.meta.url));
const BACKFILL = fileURLToPath(new URL('../../dist/bench/inboxBackfill.js', import.meta.url));
const bench = (script: string, ...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('bench arguments', () => {
  it.each([
    [['--onyl', 'ingest'], /unknown argument "--onyl"/],
    [['--only', 'ingets'], /--only: no section "ingets" \(one of ingest, metrics/],
    [['--rows', 'x'], /--rows "x" is not a number/],
    [['--numbers', '10k'], /--numbers: "10k" is not a count of numbers/],
    [['stray'], /unknown argument "stray"/],
  ])('npm run bench refuses %j, naming it, with exit 2', (args, message) => {
    const r = bench(RUN, ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('npm run bench -- --help prints its usage', () => {
    const r = bench(RUN, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--only ingest,metrics,latency,load,backfill,keys,hep/);
  });

  it.each([
    [['--rowz', '5'], /Unknown option '--rowz'/],
    [['--rows', 'abc'], /--rows "abc" is not a positive whole number/],
    [['--reps', '0'], /--reps "0" is not a positive whole number/],
    [['--baseline-cli', '/nonexistent/main.js'], /--baseline-cli \/nonexistent\/main.js: no such file/],
  ])('the backfill bench refuses %j, naming it, with exit 2', (args, message) => {
    const r = bench(BACKFILL, ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('the backfill bench prints its usage on --help, without generating anything', () => {
    const r = bench(BACKFILL, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: npm run bench:backfill -- \[--rows N\]/);
    expect(r.stderr).toBe('');
  });
});

// Every test run gets a temporary directory of its own, removed when the run ends: tests (and the servers they start)
// make their scratch directories with mkdtemp under os.tmpdir(), which follows TMPDIR. Without it each run left a few
// hundred numrep-* directories (databases, CDR files) in /tmp, gigabytes over a few days of runs.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set while a run's directory exists: the projects of one run share it (each project's setup runs this file). */
const MARK = 'NUMREP_TEST_RUN_TMP';

export default function setup(): () => void {
  // One directory for the whole run, not one inside another per project: Chromium makes a socket under TMPDIR, and a
  // socket's path must stay under ~107 bytes.
  if (process.env[MARK] !== undefined) return () => {};
  const before = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'numrep-run-'));
  // As /tmp itself: tests run servers as an unprivileged user, which must reach and write their directories here.
  chmodSync(root, 0o1777);
  process.env.TMPDIR = root; // inherited by the test workers and every process they start
  process.env[MARK] = root;
  return () => {
    delete process.env[MARK];
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (process.env.NUMREP_KEEP_TEST_TMP === undefined) rmSync(root, { recursive: true, force: true });
    else console.log(`test scratch directories kept in ${root}`);
  };
}

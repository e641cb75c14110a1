import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmp } from '../core/helpers.js';
import { runPairs, type Pair } from './live.js';
import { freeTcpPort, until } from '../support/proc.js';

// Real sipp traffic for one number that two carriers block (608 with a Call-Info redress
// host on AT&T, 603+ "Network Blocked" with Reason v=analytics on Verizon), plus answered
// and cancelled calls, dropped into a running `numrep serve`: /metrics must show the block
// ratio, the blocks by carrier and engine, and the attestation shares.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const N = '+12025550109';
const procs: ChildProcess[] = [];

afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});



const PAIRS: Pair[] = [
  { kind: 'block608', calls: [{ caller: N, called: '+12125552001', attest: 'A' }, { caller: N, called: '+12125552002', attest: 'A' }] },
  { kind: 'block603', calls: [{ caller: N, called: '+13105552003', attest: 'A' }, { caller: N, called: '+13105552004', attest: 'B' }] },
  { kind: 'answered', talkMs: 1000, calls: [{ caller: N, called: '+14155552005', attest: 'A' }, { caller: N, called: '+14155552006', attest: 'A' }] },
  { kind: 'cancel', calls: [{ caller: N, called: '+14155552007' }] },
];

describe('sipp traces into numrep serve', () => {
  it('a number blocked by two carriers shows in numrep_number_block_ratio and numrep_blocks_total{engine}', async () => {
    expect(existsSync(CLI), 'build the exporter first (npm run build -w @numrep/exporter)').toBe(true);
    const dir = tmp('numrep-sipp-serve-');
    try {
      const traces = await runPairs(dir, PAIRS);
      mkdirSync(join(dir, 'inbox'));
      const map = join(dir, 'map.csv');
      writeFileSync(map, 'prefix,carrier\n+1212,att\n+1310,verizon\n+1415,tmobile\n');
      const port = await freeTcpPort();
      const p = spawn(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--inbox', join(dir, 'inbox'), '--db', join(dir, 'numrep.db'), '--prefix-map', map], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      procs.push(p);
      let log = '';
      p.stderr!.on('data', (d) => (log += d));
      await until('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
      for (const t of traces) {
        const tmpName = join(dir, 'inbox', basename(t) + '.part'); // ignored until renamed
        copyFileSync(t, tmpName);
        renameSync(tmpName, join(dir, 'inbox', basename(t)));
      }
      const body = await until(`7 calls for ${N} (log: ${log})`, async () => {
        const b = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return b.includes(`numrep_number_calls{number="${N}",pool="default",window="24h"} 7`) ? b : undefined;
      });
      const val = (re: RegExp) => {
        const m = re.exec(body);
        return m ? Number(m[1]) : undefined;
      };
      expect(val(/^numrep_number_block_ratio\{number="\+12025550109",pool="default",window="24h"\} (\S+)$/m)).toBeCloseTo(4 / 7, 6);
      expect(val(/^numrep_number_cancel_ratio\{number="\+12025550109",pool="default",window="24h"\} (\S+)$/m)).toBeCloseTo(1 / 7, 6);
      expect(val(/^numrep_blocks_total\{carrier="att",engine="redress\.hiya\.example"\} (\S+)$/m)).toBe(2);
      expect(val(/^numrep_blocks_total\{carrier="verizon",engine="redress\.tns\.example"\} (\S+)$/m)).toBe(2);
      expect(val(/^numrep_calls_total\{pool="default",carrier="att",outcome="blocked"\} (\S+)$/m)).toBe(2);
      expect(val(/^numrep_calls_total\{pool="default",carrier="tmobile",outcome="answered"\} (\S+)$/m)).toBe(2);
      expect(val(/^numrep_number_attestation_ratio\{number="\+12025550109",pool="default",window="24h",level="A"\} (\S+)$/m)).toBeCloseTo(5 / 7, 6);
      expect(val(/^numrep_ingest_records_total\{format="sipp",result="accepted",reason="ok"\} (\S+)$/m)).toBe(7);
      expect(body).not.toContain('+12125552001'); // called numbers never become labels
      expect(body).not.toMatch(/engine="https?:/);
      p.kill('SIGTERM');
      await until('serve exit', async () => (p.exitCode !== null || p.signalCode !== null ? true : undefined), 10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

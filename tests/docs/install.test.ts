import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Installing numrep like a tool: `npx numrep` right after `npm ci` (npm links a workspace's bin only if its file
// exists at install time, so the bin is a committed shim), and a package made with `npm pack` that installs into
// an empty folder and runs. The install builds better-sqlite3 from source: a minute or two.

const ROOT = new URL('../../', import.meta.url).pathname;

describe('install', () => {
  it('npx numrep works in the repository (the linked bin is the committed shim, not a build output)', () => {
    const link = readlinkSync(join(ROOT, 'node_modules', '.bin', 'numrep'));
    expect(link).toMatch(/exporter\/bin\/numrep\.js$/);
    const r = spawnSync('npx', ['numrep', '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('npm pack of the exporter installs into an empty folder and runs numrep', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'numrep-pack-'));
    const pack = spawnSync('npm', ['pack', '-w', 'exporter', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const app = join(dir, 'app');
    spawnSync('mkdir', [app]);
    spawnSync('npm', ['init', '-y'], { cwd: app, encoding: 'utf8' });
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tgz!)], { cwd: app, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(app, 'node_modules', '.bin', 'numrep');
    expect(existsSync(bin)).toBe(true);
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    const report = spawnSync(bin, ['report', '--json', join(ROOT, 'examples', 'Master.csv')], { encoding: 'utf8' });
    expect(report.status, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).ingest.accepted).toBe(60);
  });
});

import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

// The docs are part of the product: every relative link in README.md and docs/ resolves (file and heading),
// nothing cites a design document the repository does not have, and the README's runnable commands run.

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'exporter', 'dist', 'cli', 'main.js');

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md'), join(ROOT, 'grafana-plugin', 'README.md'), join(ROOT, 'alerting', 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.md')) out.push(p);
    }
  };
  walk(join(ROOT, 'docs'));
  return out.filter((f) => existsSync(f));
}

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -; repeats get -1, -2. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    if (fence) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) {
      const base = m[1].toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(a[1]);
  }
  return out;
}

describe('documentation', () => {
  const files = markdownFiles();

  it('every relative link points at a file that exists, and at a heading it has', () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
        const [path, anchor] = target.split('#');
        const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(dest)) {
          broken.push(`${relative(ROOT, file)}: ${target} (no such file)`);
          continue;
        }
        if (anchor && dest.endsWith('.md') && !anchorsOf(readFileSync(dest, 'utf8')).has(anchor)) broken.push(`${relative(ROOT, file)}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites no design document the repository does not hold (DESIGN §n), in the docs, the sources or --help', () => {
    const cites: string[] = [];
    for (const file of files) if (/DESIGN(\.md)? ?§/.test(readFileSync(file, 'utf8'))) cites.push(relative(ROOT, file));
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|tsx|mjs|yml)$/.test(name) && /DESIGN(\.md)? ?§/.test(readFileSync(p, 'utf8'))) cites.push(relative(ROOT, p));
      }
    };
    for (const d of ['exporter/src', 'grafana-plugin/src', 'alerting', 'dashboards']) walk(join(ROOT, d));
    for (const cmd of [[], ['serve'], ['report'], ['backup'], ['simulate'], ['evaluate'], ['labels', 'import'], ['inventory', 'import']]) {
      const help = spawnSync(process.execPath, [CLI, ...cmd, '--help'], { encoding: 'utf8' }).stdout;
      expect(help.length, cmd.join(' ')).toBeGreaterThan(50);
      if (/DESIGN/.test(help)) cites.push(`numrep ${cmd.join(' ')} --help`);
    }
    expect(cites).toEqual([]);
  });

  it("runs the README's blocks marked runnable, as printed", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/<!-- runnable[^>]*-->\s*```sh\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, ' ').trim());
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      for (const command of block.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
        const r = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
        expect(r.status, `${command}\n${r.stderr}`).toBe(0);
        expect(r.stdout.length, command).toBeGreaterThan(0);
      }
    }
  });
});

import { existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const PLUGIN_ROOT = new URL('../..', import.meta.url).pathname;
export const HARNESS_OUT = join(PLUGIN_ROOT, '.harness');
export const DIST = join(PLUGIN_ROOT, 'dist');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

function stale(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) {
    return true;
  }
  const out = statSync(output).mtimeMs;
  return inputs.some((i) => existsSync(i) && (statSync(i).isDirectory() ? newest(i) : statSync(i).mtimeMs) > out);
}

/** dist/ as `npm run build` makes it, rebuilt only when src/ or the build config changed. */
export function ensureDist(): void {
  const inputs = [join(PLUGIN_ROOT, 'src'), join(PLUGIN_ROOT, '.config'), join(PLUGIN_ROOT, 'scripts/build.mjs')];
  if (stale(join(DIST, 'module.js'), inputs)) {
    execFileSync(process.execPath, [join(PLUGIN_ROOT, 'scripts/build.mjs')], { cwd: PLUGIN_ROOT, stdio: 'inherit' });
  }
}

/** The harness page bundle (Vite), with React and @grafana/* bundled in: the "host" the panel runs in. */
export async function ensureHarness(): Promise<void> {
  const inputs = [join(PLUGIN_ROOT, 'src'), join(PLUGIN_ROOT, 'test/browser/harness'), join(PLUGIN_ROOT, 'test/fixtures')];
  if (!stale(join(HARNESS_OUT, 'index.html'), inputs)) {
    return;
  }
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: join(PLUGIN_ROOT, 'test/browser/harness'),
    base: '/',
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir: HARNESS_OUT,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 100_000,
    },
  });
}

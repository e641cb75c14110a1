// npm run build: webpack (single-threaded) → dist/module.js (AMD), then the files Grafana's plugin loader
// and the catalogue expect beside it: plugin.json (version and date filled in), img/, README, CHANGELOG, LICENSE.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dev = process.argv.includes('--dev');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const webpack = require('webpack');
const config = require(join(root, '.config/webpack/webpack.config.cjs'))({ development: dev });
const started = Date.now();
const stats = await new Promise((resolve, reject) =>
  webpack(config, (err, s) => (err ? reject(err) : s.hasErrors() ? reject(new Error(s.toString('errors-only'))) : resolve(s)))
);
if (stats.hasWarnings()) {
  console.warn(stats.toString('errors-warnings'));
}

const pluginJson = readFileSync(join(root, 'src/plugin.json'), 'utf8')
  .replace('%VERSION%', pkg.version)
  .replace('%TODAY%', new Date().toISOString().slice(0, 10));
writeFileSync(join(dist, 'plugin.json'), pluginJson);
cpSync(join(root, 'src/img'), join(dist, 'img'), { recursive: true });
for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
  if (existsSync(join(root, f))) {
    cpSync(join(root, f), join(dist, f));
  }
}

const js = readFileSync(join(dist, 'module.js'), 'utf8');
if (!/^define\(/.test(js.replace(/^\/\*[\s\S]*?\*\/\s*/, ''))) {
  throw new Error('dist/module.js is not an AMD module');
}
console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)}s: module.js ${(js.length / 1024).toFixed(1)} KiB`);

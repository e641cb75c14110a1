#!/usr/bin/env node
// The `numrep` command. npm links a bin only if its file exists at install time, and the CLI itself is
// compiled into dist/ by the build: this small file is committed so `npx numrep` works right after
// `npm ci`, and it says what to do when the build has not run yet.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('numrep: the CLI is not built yet: run `npm run build` in the repository (npm start and npm test build it too)\n');
  process.exit(1);
}
await import(main.href);

// Golden-file tests: every fixture under test/fixtures/<format>/ is read line by line
// (as the tailer hands lines over: split on '\n', '\r' left in) and the reader's output,
// plus the carrier each record resolves to with test/fixtures/{trunk,prefix}-map.csv, is
// compared with <fixture>.golden.json. Regenerate after a deliberate change with
// `npx vitest run --project exporter test/readers -u` and review the diff.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReader, detectFormat } from '../../src/ingest/formats/index.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import type { RawCall } from '../../src/model/types.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const resolver = CarrierResolver.fromFiles({ trunkMap: join(FIX, 'trunk-map.csv'), prefixMap: join(FIX, 'prefix-map.csv') });

function show(r: RawCall) {
  return { at: new Date(r.ts).toISOString(), ...r, resolvedCarrier: resolver.resolve(r) };
}

export function runFixture(format: string, path: string) {
  const optPath = path.replace(/\.(csv|log)$/, '.options.json');
  const options = existsSync(optPath) ? JSON.parse(readFileSync(optPath, 'utf8')) : {};
  const reader = createReader(format, options);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: unknown[] = [];
  let skipped = 0;
  lines.forEach((line, i) => {
    const r = reader.parseLine(line, { file: path, line: i + 1 });
    if (r.kind === 'skip') skipped++;
    else if (r.kind === 'reject') out.push({ line: i + 1, reject: r.rejection });
    else out.push({ line: i + 1, records: r.records.map(show) });
  });
  const flushed = reader.flush ? reader.flush().map(show) : [];
  return { format, detected: detectFormat(lines.slice(0, 10)), lines: lines.length, skipped, results: out, flushed };
}

for (const format of ['asterisk', 'freeswitch', 'kamailio', 'generic']) {
  describe(`${format} golden files`, () => {
    const dir = join(FIX, format);
    for (const name of readdirSync(dir).filter((f) => /\.(csv|log)$/.test(f)).sort()) {
      it(name, async () => {
        const got = runFixture(format, join(dir, name));
        await expect(JSON.stringify(got, null, 2) + '\n').toMatchFileSnapshot(join(dir, name.replace(/\.(csv|log)$/, '.golden.json')));
      });
    }
  });
}

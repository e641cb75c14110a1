import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';

export const START = Date.parse('2026-10-05T00:00:00Z'); // a Monday
export const H = 3_600_000;

export function tmp(prefix = 'numrep-sim-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Read one simulated file through the real readers (format detected from content), as `numrep report` does. */
export async function ingest(dir: string, file: string, at = START + 6 * 24 * H) {
  const rt = new Runtime({
    db: ':memory:',
    bucketMs: H,
    globs: [file],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: existsSync(join(dir, 'trunk-map.csv'))
      ? CarrierResolver.fromFiles({ trunkMap: join(dir, 'trunk-map.csv'), prefixMap: join(dir, 'prefix-map.csv') })
      : CarrierResolver.fromFiles({}),
    settleMs: 0,
    oneShot: true,
    maxRecordBytes: 1 << 20,
    now: () => Date.parse('2030-01-01T00:00:00Z'),
  });
  await rt.poll();
  rt.tailer.flushReaders();
  const counts = rt.store.ingestCounts();
  const accepted = counts.filter((c) => c.result === 'accepted').reduce((s, c) => s + c.count, 0);
  const rejected = counts.filter((c) => c.result !== 'accepted').reduce((s, c) => s + c.count, 0);
  const formats = [...new Set(counts.map((c) => c.format))];
  const snap = rt.snapshotAt(at);
  return { rt, accepted, rejected, formats, snap, quarantine: rt.store.quarantined(20) };
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reader, LineResult } from '../../src/ingest/reader.js';
import type { Outcome } from '../../src/model/types.js';
import { Store } from '../../src/store/db.js';
import { Tailer, type TailerOptions } from '../../src/ingest/tailer.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { Classifier, type ClassifierOptions } from '../../src/classify/classifier.js';
import { CallKeySet, hashKeyFrom } from '../../src/classify/callKeys.js';
import type { RawCall } from '../../src/model/types.js';

/** The classification stage as a bare Tailer needs it: every row with a number counts, carrier as the row says. */
export function testClassifier(over: Partial<ClassifierOptions> = {}): Classifier {
  return new Classifier({
    plan: { callingCode: '1' },
    track: 'all',
    inventory: () => new Set<string>(),
    resolveCarrier: (r: RawCall) => r.carrier ?? 'unknown',
    tracked: new Set<string>(),
    maxTrackedNumbers: Number.MAX_SAFE_INTEGER,
    keys: new CallKeySet(),
    secret: hashKeyFrom(new Uint8Array(16).fill(7)),
    ...over,
  });
}

export function tmp(prefix = 'numrep-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A minimal line format for core tests: `ts_seconds,caller,carrier,outcome,talk`. */
export class TestReader implements Reader {
  readonly format = 'test';
  parseLine(line: string): LineResult {
    if (line.startsWith('#')) return { kind: 'skip' };
    const f = line.split(',');
    if (f.length !== 5) return { kind: 'reject', rejection: { reason: 'wrong_column_count', detail: `expected 5 fields, got ${f.length}` } };
    return {
      kind: 'records',
      records: [{ ts: Number(f[0]) * 1000, caller: f[1], called: '+13125550000', carrier: f[2], outcome: f[3] as Outcome, talkSec: Number(f[4]), attestation: 'A', source: 'test' }],
    };
  }
}

export function line(tsSec: number, caller = '+12025550101', carrier = 'att', outcome: Outcome = 'answered', talk = 30): string {
  return `${tsSec},${caller},${carrier},${outcome},${talk}\n`;
}

export function makeTailer(store: Store, over: Partial<TailerOptions> = {}): Tailer {
  return new Tailer({
    store,
    bucketMs: 60_000,
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    createReader: () => new TestReader(),
    detectFormat: () => 'test',
    classifier: testClassifier(),
    chunkBytes: 64 * 1024,
    maxRecordBytes: 4096,
    now: () => 1_800_000_000_000,
    globs: [],
    settleMs: 1000,
    ...over,
  });
}

/** Total calls per number in the store, all time. */
export function totals(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of store.totals()) out[t.number] = (out[t.number] ?? 0) + t.count;
  return out;
}

/** A serve-like Runtime (60 s buckets, a database on disk) over one file of `line()`s read by TestReader. */
export function testRuntime(file: string, now: () => number, db = join(tmp('numrep-rt-'), 'numrep.db')): Runtime {
  return new Runtime({
    db,
    bucketMs: 60_000,
    globs: [file],
    readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
    resolver: new CarrierResolver(),
    settleMs: 0,
    maxRecordBytes: 65_536,
    now,
    readers: { createReader: () => new TestReader(), detectFormat: () => 'test' },
  });
}

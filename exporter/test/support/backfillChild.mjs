// A durable backfill in a process of its own, for test/reliability/crash.test.ts: serve's Runtime reads the one file
// in an inbox into a database on disk in small read steps, several steps to a transaction.
//   node backfillChild.mjs crash DB INBOX      kill -9 itself once 3 steps are read past the last commit
//   node backfillChild.mjs resume DB INBOX     read to the end; print the committed offset it starts from
//   node backfillChild.mjs reference - INBOX   the same file in one-shot steps into memory (the plain reference)
// Lines on stdout: `commit OFFSET`, `step OFFSET`, `start OFFSET`, then `result JSON` (totals and ingest counts).
import { writeSync } from 'node:fs';
import { Runtime } from '../../dist/runtime.js';
import { CarrierResolver } from '../../dist/model/carrier.js';
import { createReader, detectFormat } from '../../dist/ingest/formats/index.js';

const [mode, db, inbox] = process.argv.slice(2);
const say = (line) => writeSync(1, line + '\n'); // synchronous: every line is out before a kill
let offset = 0;
let stepsSinceCommit = 0;
let commits = 0;
const reference = mode === 'reference';
const rt = new Runtime({
  db: reference ? ':memory:' : db,
  bucketMs: 60_000,
  inbox,
  globs: [],
  readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
  resolver: new CarrierResolver(),
  settleMs: 0,
  oneShot: reference,
  maxRecordBytes: 65_536,
  chunkBytes: reference ? 64 * 1_048_576 : 64 * 1024,
  transactionBytes: 1_048_576,
  transactionMs: 600_000, // bounded by bytes only: where the kill lands does not depend on the machine's speed
  now: Date.now,
  readers: { createReader, detectFormat },
  onCommit: (_batch, src) => {
    offset = src.offset;
    stepsSinceCommit = 0;
    commits++;
    say(`commit ${src.offset}`);
  },
  onProgress: (bytes) => {
    stepsSinceCommit++;
    say(`step ${bytes}`);
    if (mode === 'crash' && commits > 0 && stepsSinceCommit === 3) process.kill(process.pid, 'SIGKILL');
  },
});
if (!reference) say(`start ${rt.store.sources()[0]?.offset ?? 0}`);
await rt.poll();
const counts = rt.store.ingestCounts().filter((c) => c.count > 0).map((c) => `${c.format}:${c.result}:${c.reason}=${c.count}`).sort();
const totals = rt.store.totals().map((t) => `${t.number}|${t.carrier}|${t.outcome}=${t.count}`).sort();
say(`result ${JSON.stringify({ counts, totals, offset })}`);
await rt.close();

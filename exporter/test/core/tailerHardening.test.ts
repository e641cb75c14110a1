import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, constants, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/db.js';
import { Runtime } from '../../src/runtime.js';
import { CarrierResolver } from '../../src/model/carrier.js';
import { line, makeTailer, TestReader, tmp, totals } from './helpers.js';

// What the tailer reads, and what it refuses (findings F5, F7, F8, F9, F15, F16 of the 2026-12 probe):
// every step is an explicit poll with a test clock; nothing sleeps.

const T0 = 1_800_000_000_000;

/** Handles this process has open on files under `dir`. */
function openUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + '/')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

async function mkfifo(path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn('mkfifo', [path], { stdio: 'ignore' });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo exited ${code}`))));
  });
}

describe('symbolic links', () => {
  it('F9: a link in the inbox to a file outside it is neither read nor copied into the quarantine; said once', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(dir, 'shadow'), 'root:*:20228:0:99999:7:::\n' + line(1000));
    symlinkSync(join(dir, 'shadow'), join(inbox, 's'));
    writeFileSync(join(inbox, 'real.csv'), line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const errors: string[] = [];
    let now = T0;
    const t = makeTailer(store, { inbox, settleMs: 0, now: () => now, onError: (p, e) => errors.push(`${p}: ${e.message}`), stallAfterMs: 60_000 });
    for (let i = 0; i < 5; i++) await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 }); // real.csv only
    expect(store.quarantined()).toEqual([]);
    expect(t.states().map((s) => s.path)).toEqual([join(inbox, 'real.csv')]);
    expect(errors).toEqual([`${join(inbox, 's')}: is a symbolic link; links in the inbox are never followed: copy or move the file in`]);
    expect(t.stalled()).toEqual([]);
    now += 60_000;
    expect(t.stalled()).toEqual([expect.objectContaining({ source: join(inbox, 's'), reason: 'not_regular' })]);
    await t.close();
  });

  it('a link among the sources is read only when its entry follows links', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'target.csv'), line(1000));
    symlinkSync(join(dir, 'target.csv'), join(dir, 'live.csv'));
    const refused = new Store(':memory:', { bucketMs: 60_000 });
    const a = makeTailer(refused, { globs: [join(dir, 'live.csv')], followSymlinks: () => false });
    await a.poll();
    expect(totals(refused)).toEqual({});
    await a.close();
    const followed = new Store(':memory:', { bucketMs: 60_000 });
    const b = makeTailer(followed, { globs: [join(dir, 'live.csv')], followSymlinks: () => true });
    await b.poll();
    expect(totals(followed)).toEqual({ '+12025550101': 1 });
    await b.close();
  });
});

describe("numrep's own files", () => {
  it('F5: are never read, whatever name leads to them (a glob over the database folder, a hard link in the inbox)', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const dbDir = join(dir, 'db');
    mkdirSync(dbDir);
    const db = join(dbDir, 'numrep.db');
    writeFileSync(join(dbDir, 'quarantine.jsonl'), '{"raw":"x"}\n');
    writeFileSync(join(dbDir, 'calls.csv'), line(1000));
    const errors: string[] = [];
    const rt = new Runtime({
      db,
      bucketMs: 60_000,
      inbox,
      globs: [join(dbDir, '*')],
      readerOptions: { defaultCountryCode: '1', timezone: 'UTC' },
      resolver: new CarrierResolver(),
      settleMs: 0,
      maxRecordBytes: 65_536,
      now: () => T0,
      readers: { createReader: () => new TestReader(), detectFormat: () => 'test' },
      ownFiles: [join(dbDir, 'quarantine.jsonl')],
      onError: (p, e) => errors.push(`${p}: ${e.message}`),
    });
    linkSync(db, join(inbox, 'innocent.csv'));
    for (let i = 0; i < 3; i++) await rt.poll();
    expect(rt.tailer.states().map((s) => s.path)).toEqual([join(dbDir, 'calls.csv')]);
    expect(rt.store.quarantined()).toEqual([]);
    expect(totals(rt.store)).toEqual({ '+12025550101': 1 });
    expect(errors.length).toBeGreaterThanOrEqual(3); // the database, its secret and lock (as found), the link, the quarantine: once each
    expect(new Set(errors).size).toBe(errors.length);
    for (const e of errors) expect(e).toContain("is one of numrep's own files");
    expect(rt.tailer.stalled(T0 + 3_600_000)).toEqual([]); // not a stall: nothing there is input
    await rt.close();
  });
});

describe('special files', () => {
  let swapper: ChildProcess | undefined;
  afterEach(() => {
    swapper?.kill('SIGKILL');
    swapper = undefined;
  });

  it('F7: a source path swapped between a file and a FIFO never blocks a poll; a file dropped afterwards is read', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const live = join(dir, 'live.csv');
    // One FIFO and one regular file, linked in turn at the path (rename is atomic): the tailer's stat and
    // open of the path race with it, as in the probe (7,433 swaps in 10 s stopped ingestion for good).
    await mkfifo(join(dir, 'the.fifo'));
    writeFileSync(join(dir, 'the.file'), line(1000));
    const script = `const fs=require('fs');const d=${JSON.stringify(dir)};const end=Date.now()+3000;let i=0;
      while(Date.now()<end){const src=i++%2?'the.fifo':'the.file';try{fs.linkSync(d+'/'+src,d+'/tmp-link');fs.renameSync(d+'/tmp-link',d+'/live.csv')}catch{}}
      process.stdout.write('done');`;
    swapper = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const swapping = new Promise<void>((r) => swapper!.once('exit', () => r()));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const errors: string[] = [];
    const t = makeTailer(store, { inbox, globs: [live], settleMs: 0, onError: (_p, e) => errors.push(e.message) });
    const deadline = (ms: number) => new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms).unref());
    let polls = 0;
    let swapDone = false;
    void swapping.then(() => (swapDone = true));
    while (!swapDone) {
      expect(await Promise.race([t.poll().then(() => 'ok' as const), deadline(5000)])).toBe('ok');
      polls++;
    }
    writeFileSync(join(inbox, 'after.csv'), line(2000, '+12025550199'));
    expect(await Promise.race([t.poll().then(() => 'ok' as const), deadline(5000)])).toBe('ok');
    expect(totals(store)['+12025550199']).toBe(1);
    expect(polls).toBeGreaterThan(20);
    // Said when it changes, not per poll.
    expect(errors.length).toBeLessThan(polls);
    await t.close();
    // If an old build is blocked in open() on the FIFO, a writer lets it go (test cleanup only).
    try {
      closeSync(openSync(join(dir, 'the.fifo'), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader: nothing blocked
    }
  });

  it('a configured source that is a FIFO is skipped without a read, said once, and stalled after stall_after', async () => {
    const dir = tmp();
    const live = join(dir, 'live.csv');
    await mkfifo(live);
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const errors: string[] = [];
    let now = T0;
    const t = makeTailer(store, { globs: [live], now: () => now, stallAfterMs: 300_000, onError: (p, e) => errors.push(`${p}: ${e.message}`) });
    for (let i = 0; i < 5; i++) await t.poll();
    expect(errors).toEqual([`${live}: is a FIFO, not a regular file; skipped`]);
    now += 299_000;
    await t.poll();
    expect(t.stalled()).toEqual([]);
    now += 1000;
    expect(t.stalled()).toEqual([{ source: live, reason: 'not_regular', since: T0, message: 'is a FIFO, not a regular file; skipped' }]);
    await t.close();
  });
});

describe('over-long lines', () => {
  it('F8: the unterminated over-long last line of a settled file is rejected once and the file is done', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const f = join(inbox, 'noeol.csv');
    writeFileSync(f, line(1000) + 'B'.repeat(4 * 1_048_576));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    let now = T0 + 3_600_000;
    const t = makeTailer(store, { inbox, now: () => now, settleMs: 1000, maxRecordBytes: 4096, chunkBytes: 64 * 1024 });
    const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
    await t.poll();
    const before = rchar();
    for (let i = 0; i < 20; i++) {
      now += 1000;
      await t.poll();
    }
    const read = rchar() - before;
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    expect(store.quarantined()).toEqual([expect.objectContaining({ line: 2, reason: 'record_too_long' })]);
    expect(store.quarantined()[0].detail).toContain('last line (no newline at the end of the file) is 4,194,304 bytes');
    expect(t.states()[0].offset).toBe(line(1000).length + 4 * 1_048_576);
    // Read once (the probe: 100 MiB again on every poll, forever).
    expect(read).toBeLessThan(2 * 4 * 1_048_576);
    await t.close();
  });

  it('a live file whose writer is still on an over-long line is not read again from its start on every poll', async () => {
    const dir = tmp();
    const f = join(dir, 'live.log');
    writeFileSync(f, line(1000) + 'B'.repeat(2 * 1_048_576));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f], maxRecordBytes: 4096, chunkBytes: 64 * 1024 });
    const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
    await t.poll();
    const before = rchar();
    for (let i = 0; i < 20; i++) await t.poll();
    expect(rchar() - before).toBeLessThan(1_048_576);
    appendFileSync(f, 'BBB\n' + line(1001));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    expect(store.quarantined()).toEqual([expect.objectContaining({ line: 2, reason: 'record_too_long' })]);
    expect(t.stalled(Date.now() + 3_600_000).filter((s) => s.reason === 'no_progress')).toEqual([]); // waiting on a line is not a stall
    await t.close();
  });
});

describe('handles and buffers', () => {
  it('F16: dropped files read to their end and settled are closed; a change opens them again', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    for (let i = 0; i < 30; i++) writeFileSync(join(inbox, `drop-${i}.csv`), line(1000 + i));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    let now = T0 + 3_600_000;
    const t = makeTailer(store, { inbox, now: () => now, settleMs: 1000 });
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 30 });
    expect(openUnder(inbox)).toEqual([]);
    appendFileSync(join(inbox, 'drop-3.csv'), line(2000));
    await t.poll(); // changed: opened again, read once settled
    now += 2000;
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 31 });
    expect(openUnder(inbox)).toEqual([]);
    expect(t.sizeOf(join(inbox, 'drop-3.csv'))).toBe(2 * line(1000).length);
    await t.close();
  });

  it('F11: a file whose first commit fails (disk full) leaves no handle open behind it', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const real = store.saveSource.bind(store);
    let full = true;
    store.saveSource = (s) => {
      if (full) throw Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' });
      real(s);
    };
    const errors: string[] = [];
    const t = makeTailer(store, { globs: [f], onError: (_p, e) => errors.push(e.message) });
    for (let i = 0; i < 5; i++) {
      await t.poll();
      expect(openUnder(dir)).toEqual([]);
    }
    expect(errors).toEqual(['SQLITE_FULL: database or disk is full']); // once, not per poll
    full = false;
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    await t.close();
  });
});

describe('problems are said once and become stalls', () => {
  it('F15: a commit failing on every poll is logged once, is a disk_full stall after stall_after, and clears when it works again', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const real = store.commit.bind(store);
    let fail = true;
    store.commit = (b) => {
      if (fail) throw Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' });
      real(b);
    };
    const errors: string[] = [];
    const recovered: string[] = [];
    let now = T0;
    const t = makeTailer(store, { globs: [f], now: () => now, stallAfterMs: 120_000, onError: (_p, e) => errors.push(e.message), onRecover: (p) => recovered.push(p) });
    for (let i = 0; i < 10; i++) {
      await t.poll();
      now += 15_000;
    }
    expect(errors).toEqual(['SQLITE_FULL: database or disk is full']);
    expect(t.stalled()).toEqual([expect.objectContaining({ source: f, reason: 'disk_full', since: T0 })]);
    fail = false;
    await t.poll();
    expect(t.stalled()).toEqual([]);
    expect(recovered).toEqual([f]);
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    await t.close();
  });

  it('complete lines left unread for stall_after are a no_progress stall; a partial last line is not', async () => {
    const dir = tmp();
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    const live = join(dir, 'live.csv');
    writeFileSync(live, line(1000) + '1001,+1202555'); // the writer is on its second line
    const store = new Store(':memory:', { bucketMs: 60_000 });
    let now = Date.now(); // the files' own mtimes count at first sight
    // A dropped file that never settles (written to on every poll) is never read.
    const t = makeTailer(store, { inbox, globs: [live], now: () => now, settleMs: 10_000, stallAfterMs: 60_000 });
    writeFileSync(join(inbox, 'busy.csv'), line(1000));
    for (let i = 0; i < 8; i++) {
      appendFileSync(join(inbox, 'busy.csv'), line(1001 + i));
      await t.poll();
      now += 9_000;
    }
    expect(totals(store)).toEqual({ '+12025550101': 1 }); // live.csv's first line
    expect(t.stalled()).toEqual([expect.objectContaining({ source: join(inbox, 'busy.csv'), reason: 'no_progress' })]);
    await t.close();
  });
});

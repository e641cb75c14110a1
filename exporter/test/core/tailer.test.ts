import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync, symlinkSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Store } from '../../src/store/db.js';
import { line, makeTailer, testClassifier, tmp, totals } from './helpers.js';

// mtail-style tailer tests: every step is an explicit poll, no sleeps.

describe('tailer', () => {
  it('reads appended lines and holds a partial last line until its newline', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + '1001,+12025550101,att,answ');
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f] });
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    appendFileSync(f, 'ered,12\n');
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    expect(t.states()[0].line).toBe(2);
    await t.close();
  });

  it('follows a rename rotation: drains the old file, then reads the new one from the start', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const rotations: string[] = [];
    const t = makeTailer(store, { globs: [f], onRotation: (_s, k) => rotations.push(k) });
    await t.poll();
    appendFileSync(f, line(1001)); // written just before rotation, not yet read
    renameSync(f, f + '.1');
    writeFileSync(f, line(1002, '+12025550102'));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2, '+12025550102': 1 });
    expect(rotations).toEqual(['rename']);
    await t.close();
  });

  it('does not read a rotated file twice when its new name matches the glob', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [join(dir, 'Master.csv*')] });
    await t.poll();
    renameSync(f, f + '.2026-11-20-00-00-00');
    writeFileSync(f, line(1002));
    await t.poll();
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 3 });
    await t.close();
  });

  it('restarts from zero after copytruncate and counts the truncation', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f] });
    await t.poll();
    truncateSync(f, 0);
    await t.poll();
    appendFileSync(f, line(1002, '+12025550103'));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2, '+12025550103': 1 });
    expect(t.states()[0].truncations).toBe(1);
    await t.close();
  });

  it('handles delete and recreate, and a symlink swap', async () => {
    const dir = tmp();
    const f = join(dir, 'a.csv');
    writeFileSync(f, line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f, join(dir, 'live.csv')] });
    await t.poll();
    unlinkSync(f);
    await t.poll();
    writeFileSync(f, line(1001));
    await t.poll();
    const g = join(dir, 'b.csv');
    writeFileSync(g, line(1002, '+12025550104'));
    symlinkSync(g, join(dir, 'live.csv'));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2, '+12025550104': 1 });
    // swap the link to another file: followed like a rename rotation, nothing read twice
    const h = join(dir, 'c.csv');
    writeFileSync(h, line(1003, '+12025550105'));
    appendFileSync(g, line(1004, '+12025550104'));
    symlinkSync(h, join(dir, 'live.tmp-link'));
    renameSync(join(dir, 'live.tmp-link'), join(dir, 'live.csv'));
    await t.poll();
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2, '+12025550104': 2, '+12025550105': 1 });
    await t.close();
  });

  it('tells apart files with identical first bytes (same CSV header)', async () => {
    const dir = tmp();
    const header = '# ts,caller,carrier,outcome,talk\n';
    writeFileSync(join(dir, 'day1.csv'), header + line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir });
    await t.poll();
    writeFileSync(join(dir, 'day2.csv'), header + line(1001));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    await t.close();
  });

  it('skips a dropped file whose whole content was already ingested (the same export dropped twice)', async () => {
    const dir = tmp();
    const body = '# ts,caller,carrier,outcome,talk\n' + line(1000) + line(1001);
    writeFileSync(join(dir, 'export.csv'), body);
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir });
    await t.poll();
    writeFileSync(join(dir, 'export (1).csv'), body);
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    expect(store.quarantined()[0]).toMatchObject({ file: join(dir, 'export (1).csv'), reason: 'duplicate_file' });
    await t.close();
  });

  it('unpacks a gzip file dropped in the inbox (by its magic bytes) and reads it like any other drop', async () => {
    const dir = tmp();
    const body = '# ts,caller,carrier,outcome,talk\n' + line(1000) + line(1001, '+12025550102');
    writeFileSync(join(dir, 'Master.csv.1.gz'), gzipSync(body));
    writeFileSync(join(dir, 'rotated'), gzipSync(line(1002, '+12025550103'))); // no .gz in the name: the bytes say gzip
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const unpacked: string[] = [];
    const t = makeTailer(store, { inbox: dir, onUnpack: (gz, out, _bytes, inflated) => unpacked.push(`${gz}>${out}:${inflated}`) });
    await t.poll();
    await t.poll(); // the unpacked files are new drops
    expect(totals(store)).toEqual({ '+12025550101': 1, '+12025550102': 1, '+12025550103': 1 });
    expect(readdirSync(dir).sort()).toEqual(['Master.csv.1', 'rotated.unpacked']);
    expect(readFileSync(join(dir, 'Master.csv.1'), 'utf8')).toBe(body);
    expect(unpacked.sort()).toEqual([`${join(dir, 'Master.csv.1.gz')}>${join(dir, 'Master.csv.1')}:${body.length}`, `${join(dir, 'rotated')}>${join(dir, 'rotated.unpacked')}:${line(1002).length}`]);
    expect(store.quarantined()).toEqual([]);
    await t.close();
  });

  it('unpacks a dropped gzip file under a free name, and the same content dropped again is a duplicate', async () => {
    const dir = tmp();
    const body = line(1000) + line(1001);
    writeFileSync(join(dir, 'day.csv'), body);
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir });
    await t.poll();
    writeFileSync(join(dir, 'day.csv.gz'), gzipSync(body));
    await t.poll();
    await t.poll();
    expect(existsSync(join(dir, 'day.csv.1'))).toBe(true);
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    expect(store.quarantined()[0]).toMatchObject({ file: join(dir, 'day.csv.1'), reason: 'duplicate_file' });
    await t.close();
  });

  it('rejects a damaged gzip drop whole, once, and leaves it in place', async () => {
    const dir = tmp();
    const gz = gzipSync(line(1000).repeat(200));
    writeFileSync(join(dir, 'cut.csv.gz'), gz.subarray(0, gz.length >> 1));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir });
    await t.poll();
    await t.poll();
    expect(totals(store)).toEqual({});
    expect(store.quarantined()).toHaveLength(1);
    expect(store.quarantined()[0]).toMatchObject({ file: join(dir, 'cut.csv.gz'), reason: 'bad_gzip' });
    expect(readdirSync(dir)).toEqual(['cut.csv.gz']);
    await t.close();
  });

  it("passes over a followed log's compressed rotation: its lines were read while it was the live file", async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [join(dir, 'Master.csv*')] });
    await t.poll();
    // logrotate with compress: Master.csv -> Master.csv.1 -> Master.csv.1.gz (a new inode), new Master.csv
    renameSync(f, f + '.1');
    writeFileSync(f, line(1002));
    await t.poll();
    writeFileSync(f + '.1.gz', gzipSync(readFileSync(f + '.1')));
    unlinkSync(f + '.1');
    await t.poll();
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 3 });
    expect(store.quarantined()).toEqual([]);
    expect(t.states().find((s) => s.path.endsWith('.gz'))).toMatchObject({ format: 'gzip', offset: expect.any(Number) });
    await t.close();
  });

  it('waits until a dropped file has settled before reading it', async () => {
    const dir = tmp();
    let now = Date.now();
    writeFileSync(join(dir, 'drop.csv'), line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir, now: () => now, settleMs: 5000 });
    await t.poll();
    expect(totals(store)).toEqual({});
    now += 6000;
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    await t.close();
  });

  it('picks up files created later under a glob', async () => {
    const dir = tmp();
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [join(dir, '*.csv')] });
    await t.poll();
    expect(t.paths()).toEqual([]);
    writeFileSync(join(dir, 'late.csv'), line(1000));
    writeFileSync(join(dir, 'ignored.txt'), line(1000));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    await t.close();
  });

  it('resumes after a restart without counting twice, including reader state', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    const db = join(dir, 'state.db');
    writeFileSync(f, line(1000) + line(1001));
    let store = new Store(db, { bucketMs: 60_000 });
    let t = makeTailer(store, { globs: [f] });
    await t.poll();
    await t.close();
    store.close();
    appendFileSync(f, line(1002));
    store = new Store(db, { bucketMs: 60_000 });
    t = makeTailer(store, { globs: [f] });
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 3 });
    await t.close();
    store.close();
  });

  it('loses nothing when a commit fails (disk full): the step is read again on the next poll', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const real = store.commit.bind(store);
    let fail = true;
    store.commit = (b) => {
      if (fail) throw new Error('SQLITE_FULL: database or disk is full');
      real(b);
    };
    const errors: string[] = [];
    const t = makeTailer(store, { globs: [f], onError: (_p, e) => errors.push(e.message) });
    await t.poll();
    expect(errors).toEqual(['SQLITE_FULL: database or disk is full']);
    expect(totals(store)).toEqual({});
    fail = false;
    appendFileSync(f, line(1002));
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 3 });
    expect(t.states()[0].line).toBe(3);
    await t.close();
  });

  it('quarantines a malformed line with file and line, and goes on', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + 'garbage\n' + line(1001) + 'a\u0000b,c,d,e,f\n');
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f] });
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    const q = store.quarantined().reverse();
    expect(q.map((e) => [e.file, e.line, e.reason])).toEqual([
      [f, 2, 'wrong_column_count'],
      [f, 4, 'nul_byte'],
    ]);
    expect(store.ingestCounts()).toEqual(
      expect.arrayContaining([
        { format: 'test', result: 'rejected', reason: 'wrong_column_count', count: 1 },
        { format: 'test', result: 'accepted', reason: 'ok', count: 2 },
      ]),
    );
    await t.close();
  });

  it('rejects an over-long line without holding it, then goes on', async () => {
    const dir = tmp();
    const f = join(dir, 'Master.csv');
    writeFileSync(f, line(1000) + 'x'.repeat(200_000) + '\n' + line(1001));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [f], maxRecordBytes: 4096, chunkBytes: 8192 });
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    expect(store.quarantined()[0]).toMatchObject({ line: 2, reason: 'record_too_long' });
    await t.close();
  });

  it('takes the unterminated last line of a dropped file once it has settled', async () => {
    const dir = tmp();
    let now = Date.now() + 60_000;
    writeFileSync(join(dir, 'drop.csv'), line(1000));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { inbox: dir, now: () => now, settleMs: 2000 });
    await t.poll();
    appendFileSync(join(dir, 'drop.csv'), line(1001).trimEnd()); // the writer is still on its last line
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 1 });
    now += 2500;
    await t.poll();
    expect(totals(store)).toEqual({ '+12025550101': 2 });
    await t.close();
  });
});

describe('tailer with the real readers', () => {
  it('joins a Kamailio call across a rename rotation: INVITE 200 before it, BYE after it', async () => {
    const { createReader, detectFormat } = await import('../../src/ingest/formats/index.js');
    const dir = tmp();
    const f = join(dir, 'acc.log');
    const acc = (ts: number, method: string, dst: string) =>
      `Nov 20 12:00:00 sbc1 /usr/sbin/kamailio[10814]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: transaction answered: timestamp=${ts};method=${method};from_tag=f1;to_tag=t1;call_id=abc@10.0.0.5;code=200;reason=OK;src_user=+12025550101;src_domain=pbx;src_ip=10.0.0.5;dst_ouser=${dst};dst_user=${dst};dst_domain=sip.att.example\n`;
    writeFileSync(f, acc(1763640000, 'INVITE', '+13125550123'));
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const t = makeTailer(store, { globs: [join(dir, 'acc.log*')], createReader, detectFormat, classifier: testClassifier({ resolveCarrier: () => 'att' }) });
    await t.poll();
    renameSync(f, f + '.1');
    writeFileSync(f, acc(1763640095, 'BYE', ''));
    await t.poll();
    const totalsNow = store.totals();
    expect(totalsNow).toEqual([{ number: '+12025550101', carrier: 'att', outcome: 'answered', count: 1 }]);
    const [row] = store.sumBuckets(0, Number.MAX_SAFE_INTEGER);
    expect(row.v[10]).toBe(95); // talk seconds: BYE − INVITE 200, across files
    await t.close();
  });
});

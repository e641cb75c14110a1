import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Batch } from '../../src/ingest/batch.js';
import { maskDigits, keptText } from '../../src/ingest/redact.js';
import { QuarantineFile } from '../../src/ingest/quarantineFile.js';
import { Store, type QuarantineEntry } from '../../src/store/db.js';
import { secretFor } from '../../src/store/secret.js';
import { tmp } from './helpers.js';
import { lineArb } from '../support/phoneLines.js';

// The quarantine is bounded (finding F4), written whole lines only (F11), private (F12): what a rejected
// record keeps, how much of it, where, and with which permissions.

const entry = (i: number, raw = `line ${i}`): QuarantineEntry => ({ file: '/in/x.csv', line: i, format: 'generic', reason: 'wrong_column_count', detail: 'expected 5 fields', raw, at: 1_800_000_000_000 });
const linesOf = (file: string) => readFileSync(file, 'utf8');

describe('what a rejected record keeps', () => {
  it('property: no number of 7 or more digits, however written, survives masking; short digit groups and dates do', () => {
    fc.assert(
      fc.property(lineArb, (parts) => {
        // Separate the parts by a comma, as CSV fields are: two numbers written side by side are one longer number.
        const text = parts.map((x) => ('p' in x ? x.p.text : x.f)).join(',');
        const out = maskDigits(text);
        expect(out).not.toMatch(/[0-9]{7}/);
        for (const x of parts) if ('p' in x) expect(out).not.toContain(x.p.text);
        expect(out.replace(/<digits:\d+>|2026-11-20 14:09:25/g, ' ')).not.toMatch(/\d(?:\)?[ .\-/]?\(?\d){6}/);
        for (const x of parts) if ('f' in x && /^(,\d+,|2026-11-20 14:09:25)$/.test(x.f)) expect(out).toContain(x.f.replace(/,/g, ''));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps dates, IPv4 addresses and short numbers readable', () => {
    expect(maskDigits('2026-11-20 14:09:25,src_ip=192.168.100.200,131,115,"ANSWERED"')).toBe('2026-11-20 14:09:25,src_ip=192.168.100.200,131,115,"ANSWERED"');
    expect(maskDigits('"+12025550101","+13105551001",tel:+1-312-555-0123,(312) 555-0123')).toBe('"+<digits:11>","+<digits:11>",tel:+<digits:11>,(<digits:10>');
  });

  it('cuts a long line or detail and says how much was cut', () => {
    expect(keptText('x'.repeat(5000), 100)).toBe(`${'x'.repeat(100)}…[4,900 more characters cut]`);
    const b = new Batch(60_000, undefined, { quarantine: { maxRawChars: 64, maxDetailChars: 32, maxPerStep: 3 } });
    for (let i = 0; i < 10; i++) b.reject({ ...entry(i, `+13125550123,${'y'.repeat(1000)}`), detail: `Column 5 (${'Z'.repeat(100_000)}) opens a quote` });
    expect(b.rejected).toBe(10); // every one counted
    expect(b.quarantine).toHaveLength(3); // the first three kept
    expect(b.quarantineDropped).toBe(7);
    expect(b.quarantine[0].raw.startsWith('+<digits:11>,yyy')).toBe(true);
    expect(b.quarantine[0].raw.length).toBeLessThan(64 + 40);
    expect(b.quarantine[0].detail.length).toBeLessThan(32 + 40);
    expect(b.counters.get('generic\u0000rejected\u0000wrong_column_count')?.count).toBe(10);
  });
});

describe('the quarantine table', () => {
  it('keeps the newest db_max_rows rows, and counts those it let go', () => {
    const store = new Store(':memory:', { quarantineMaxRows: 100 });
    for (let k = 0; k < 10; k++) {
      store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: Array.from({ length: 50 }, (_, i) => entry(k * 50 + i)) });
    }
    const rows = store.quarantined(1000);
    expect(rows).toHaveLength(100);
    expect(rows[0].line).toBe(499);
    expect(rows[99].line).toBe(400);
    expect(store.quarantinePruned).toBe(400);
    store.close();
  });
});

describe('quarantine.jsonl', () => {
  it('is rotated at file_max_bytes keeping file_keep old files, and counts the lines that fell off', () => {
    const dir = tmp();
    const path = join(dir, 'quarantine.jsonl');
    const logs: string[] = [];
    const q = new QuarantineFile({ path, maxBytes: 65_536, keep: 2, mode: 0o600, log: (m) => logs.push(m) });
    const n = 3000; // ~130 B a line: ~6 files' worth
    for (let i = 0; i < n; i += 100) q.append(Array.from({ length: 100 }, (_, k) => entry(i + k)));
    q.close();
    expect(existsSync(`${path}.1`) && existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    let kept = 0;
    for (const f of [path, `${path}.1`, `${path}.2`]) {
      expect(statSync(f).size).toBeLessThanOrEqual(65_536);
      const text = linesOf(f);
      expect(text.endsWith('\n')).toBe(true);
      for (const l of text.trimEnd().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
      kept += text.trimEnd().split('\n').length;
    }
    expect(kept + q.droppedRotated).toBe(n);
    expect(q.written).toBe(n);
    expect(JSON.parse(linesOf(path).trimEnd().split('\n').at(-1)!).line).toBe(n - 1); // the newest are in the current file
    expect(logs).toEqual([]);
  });

  it('on a full disk writes whole lines only, counts the rest, says so once, and goes on when there is room again', () => {
    const dir = tmp();
    const path = join(dir, 'quarantine.jsonl');
    const logs: string[] = [];
    let room = 1000; // bytes the "disk" still takes
    // A write as the kernel does it on a full disk: part of the buffer, then ENOSPC.
    const write = (fd: number, buf: Buffer, off: number, len: number) => {
      if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const n = writeSync(fd, buf, off, Math.min(len, room));
      room -= n;
      return n;
    };
    const q = new QuarantineFile({ path, maxBytes: 1 << 20, keep: 1, mode: 0o600, log: (m) => logs.push(m), write });
    for (let k = 0; k < 5; k++) q.append(Array.from({ length: 20 }, (_, i) => entry(k * 20 + i)));
    const text = linesOf(path);
    expect(text.endsWith('\n')).toBe(true); // never half a line
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.length).toBe(q.written);
    expect(q.written + q.droppedDiskFull).toBe(100);
    expect(q.droppedDiskFull).toBeGreaterThan(80);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('cannot write rejected lines (ENOSPC');
    room = 1 << 20;
    q.append([entry(1000)]);
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatch(/writing again; \d+ rejected line\(s\) were not written/);
    expect(JSON.parse(linesOf(path).trimEnd().split('\n').at(-1)!).line).toBe(1000);
    q.close();
  });

  it('cuts a torn last line (left by an older version) before appending', () => {
    const dir = tmp();
    const path = join(dir, 'quarantine.jsonl');
    writeFileSync(path, JSON.stringify(entry(1)) + '\n' + '{"file":"/in/x.csv","li');
    const q = new QuarantineFile({ path, maxBytes: 1 << 20, keep: 1, mode: 0o600, log: () => undefined });
    q.append([entry(2)]);
    q.close();
    expect(linesOf(path).trimEnd().split('\n').map((l) => JSON.parse(l).line)).toEqual([1, 2]);
  });

  it('is created 0600 (0640 when group-readable), and an existing one is narrowed', () => {
    const dir = tmp();
    const a = new QuarantineFile({ path: join(dir, 'a.jsonl'), maxBytes: 1 << 20, keep: 1, mode: 0o600, log: () => undefined });
    const b = new QuarantineFile({ path: join(dir, 'b.jsonl'), maxBytes: 1 << 20, keep: 1, mode: 0o640, log: () => undefined });
    writeFileSync(join(dir, 'c.jsonl'), '');
    chmodSync(join(dir, 'c.jsonl'), 0o644);
    const c = new QuarantineFile({ path: join(dir, 'c.jsonl'), maxBytes: 1 << 20, keep: 1, mode: 0o600, log: () => undefined });
    for (const q of [a, b, c]) {
      q.append([entry(1)]);
      q.close();
    }
    expect(statSync(join(dir, 'a.jsonl')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'b.jsonl')).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, 'c.jsonl')).mode & 0o777).toBe(0o600);
  });
});

// A real full disk: a tiny tmpfs (needs root and mount, as the probe had).
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = tmp('numrep-mnt-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('quarantine.jsonl on a real full disk (tmpfs)', () => {
  let mnt: string | undefined;
  afterEach(() => {
    if (mnt) execFileSync('umount', [mnt], { stdio: 'ignore' });
    mnt = undefined;
  });

  it('fills it up without a torn line, and counts what did not fit', () => {
    mnt = tmp('numrep-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    const path = join(mnt, 'quarantine.jsonl');
    const logs: string[] = [];
    const q = new QuarantineFile({ path, maxBytes: 1 << 20, keep: 1, mode: 0o600, log: (m) => logs.push(m) });
    // Long lines (~1.1 KB each), in batches: the disk fills in the middle of one.
    for (let k = 0; k < 20; k++) q.append(Array.from({ length: 10 }, (_, i) => entry(k * 10 + i, 'x'.repeat(1000))));
    q.close();
    const text = linesOf(path);
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.trimEnd().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    expect(q.droppedDiskFull).toBeGreaterThan(0);
    expect(q.written + q.droppedDiskFull).toBe(200);
    expect(logs).toHaveLength(1);
  });
});

describe('files numrep creates are private', () => {
  it('database, WAL, SHM and secret are 0600; serve narrows an existing world-readable database', () => {
    const dir = tmp();
    const db = join(dir, 'numrep.db');
    const store = new Store(db);
    store.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [entry(1)] });
    secretFor(db);
    for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.secret`]) expect({ f, mode: statSync(f).mode & 0o777 }).toEqual({ f, mode: 0o600 });
    store.close();

    const old = join(dir, 'old.db');
    writeFileSync(old, '');
    chmodSync(old, 0o644);
    const narrowed = new Store(old, { fileMode: 0o600 });
    expect(narrowed.narrowed).toEqual([old]);
    expect(statSync(old).mode & 0o777).toBe(0o600);
    narrowed.close();
    const group = new Store(join(dir, 'group.db'), { fileMode: 0o640 });
    group.commit({ buckets: [], seen: [], totals: [], blocks: [], counters: [], quarantine: [] });
    expect(statSync(join(dir, 'group.db')).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, 'group.db-wal')).mode & 0o777).toBe(0o640);
    group.close();
  });
});

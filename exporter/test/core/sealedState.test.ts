import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/db.js';
import { newSourceState } from '../../src/ingest/fileSource.js';
import { StateSealer } from '../../src/store/sealed.js';
import { tmp } from './helpers.js';

// A reader's state holds calls in flight, consumers' numbers among them (store/sealed.ts).
const STATE = { dialogs: { v: 1, open: [{ callId: 'c1', caller: '+12025550101', called: '+13125559876' }] } };
const CONSUMER = '13125559876';

function dbBytes(db: string): string {
  return Buffer.concat([db, `${db}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
}

function rawState(db: string): string {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT reader_state FROM sources').get() as { reader_state: string }).reader_state;
  } finally {
    d.close();
  }
}

function saveOne(db: string, readerState: unknown): void {
  const store = new Store(db, { bucketMs: 60_000 });
  const src = newSourceState('/var/log/calls.log', 1, 2);
  src.readerState = readerState;
  store.saveSource(src);
  store.close();
}

describe('reader state is sealed at rest', () => {
  it('round-trips through a restart and leaves no consumer number in the database file', () => {
    const db = join(tmp('numrep-sealed-'), 'numrep.db');
    saveOne(db, STATE);
    expect(rawState(db).startsWith('s1:')).toBe(true);
    expect(dbBytes(db).includes(CONSUMER)).toBe(false);
    const store = new Store(db, { bucketMs: 60_000 });
    expect(store.sources()[0].readerState).toEqual(STATE);
    expect(store.sources({ readerState: false })[0].readerState).toBeUndefined();
    expect(store.unreadableStates).toBe(0);
    store.close();
  });

  it('reads a state stored in clear by an older numrep, and seals it at its next save', () => {
    const db = join(tmp('numrep-sealed-'), 'numrep.db');
    saveOne(db, { x: 1 });
    const d = new Database(db);
    d.prepare('UPDATE sources SET reader_state = ?').run(JSON.stringify(STATE));
    d.close();
    const store = new Store(db, { bucketMs: 60_000 });
    const [src] = store.sources();
    expect(src.readerState).toEqual(STATE);
    store.saveSource(src);
    store.close();
    expect(rawState(db).startsWith('s1:')).toBe(true);
  });

  it('under another secret (the secret file replaced) the state is dropped and counted, the source kept', () => {
    const db = join(tmp('numrep-sealed-'), 'numrep.db');
    saveOne(db, STATE);
    writeFileSync(`${db}.secret`, 'ab'.repeat(16) + '\n', { mode: 0o600 });
    const store = new Store(db, { bucketMs: 60_000 });
    const [src] = store.sources();
    expect(src.path).toBe('/var/log/calls.log');
    expect(src.readerState).toBeUndefined();
    expect(store.unreadableStates).toBe(1);
    store.close();
  });

  it('a sealed text is authenticated: a flipped byte opens to nothing, not to other JSON', () => {
    const s = new StateSealer(new Uint8Array(16).fill(3));
    const sealed = s.seal(JSON.stringify(STATE));
    expect(s.open(sealed)).toBe(JSON.stringify(STATE));
    const b = Buffer.from(sealed.slice(3), 'base64');
    b[b.length - 1] ^= 1;
    expect(s.open(`s1:${b.toString('base64')}`)).toBeNull();
    expect(new StateSealer(new Uint8Array(16).fill(4)).open(sealed)).toBeNull();
    expect(s.seal('x')).not.toBe(s.seal('x')); // a fresh IV each time
  });

  it('a database in memory keeps its state as JSON (it never reaches a disk)', () => {
    const store = new Store(':memory:', { bucketMs: 60_000 });
    const src = newSourceState('/x', 1, 3);
    src.readerState = STATE;
    store.saveSource(src);
    expect((store.db.prepare('SELECT reader_state FROM sources').get() as { reader_state: string }).reader_state).toBe(JSON.stringify(STATE));
    store.close();
  });
});

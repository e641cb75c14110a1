import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/db.js';
import { tmp } from '../core/helpers.js';
import { CLI } from '../support/proc.js';

// `numrep backup <target>`, the real CLI: where it refuses to write, and what it says.

function backup(target: string, db: string) {
  const r = spawnSync(process.execPath, [CLI, 'backup', target, '--db', db], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

function database(dir: string): string {
  const db = join(dir, 'numrep.db');
  new Store(db).close();
  return db;
}

describe('numrep backup', () => {
  it('copies the database to a new file', () => {
    const dir = tmp();
    const r = backup(join(dir, 'copy.db'), database(dir));
    expect(r).toMatchObject({ code: 0 });
    expect(lstatSync(join(dir, 'copy.db')).isFile()).toBe(true);
  });

  it('refuses a target that is a symbolic link, dangling or not, with exit 2, and writes nothing through it', () => {
    const dir = tmp();
    const db = database(dir);
    const dangling = join(dir, 'dangling.db');
    symlinkSync(join(dir, 'elsewhere.db'), dangling);
    const r = backup(dangling, db);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`backup: ${dangling} is a symbolic link; refusing to write through it`);
    expect(existsSync(join(dir, 'elsewhere.db'))).toBe(false);

    const toFile = join(dir, 'to-file.db');
    writeFileSync(join(dir, 'victim'), 'keep me');
    symlinkSync(join(dir, 'victim'), toFile);
    expect(backup(toFile, db)).toMatchObject({ code: 2, stderr: expect.stringContaining(`backup: ${toFile} is a symbolic link`) });
  });

  it('names the directory that does not exist', () => {
    const dir = tmp();
    const r = backup(join(dir, 'missing', 'copy.db'), database(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`backup: directory ${join(dir, 'missing')} does not exist`);
  });

  it('names the database file when it is not a database, and leaves no target behind', () => {
    const dir = tmp();
    const notDb = join(dir, 'notes.txt');
    writeFileSync(notDb, 'not a database, just text\n'.repeat(200));
    const target = join(dir, 'copy.db');
    const r = backup(target, notDb);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`backup: ${notDb}: file is not a database`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(target)).toBe(false);
  });
});

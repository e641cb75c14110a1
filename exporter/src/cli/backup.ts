import { chmodSync, closeSync, constants, copyFileSync, existsSync, lstatSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { fail } from './log.js';

/** SQLite's online backup: a consistent copy even while `serve` writes (WAL). */
export async function backup(db: string, target: string): Promise<void> {
  if (!existsSync(db)) fail(`backup: ${db}: no such database`, 2);
  const existing = lstatSync(target, { throwIfNoEntry: false }); // lstat: a symlink, even a dangling one, counts
  if (existing?.isSymbolicLink()) fail(`backup: ${target} is a symbolic link; refusing to write through it`, 2);
  if (existing) fail(`backup: ${target} exists; refusing to overwrite`, 2);
  const dir = dirname(resolve(target));
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (!dirStat) fail(`backup: directory ${dir} does not exist`, 2);
  if (!dirStat.isDirectory()) fail(`backup: ${dir} is not a directory`, 2);

  // Create the target ourselves, exclusively: nothing (no symlink planted since the checks) is written through.
  try {
    closeSync(openSync(target, 'wx', 0o600)); // like the database: it holds the quarantined lines
  } catch (err) {
    fail(`backup: cannot create ${target}: ${(err as Error).message}`, 2);
  }
  let src: Database.Database | undefined;
  try {
    src = new Database(db, { readonly: true, fileMustExist: true });
    await src.backup(target);
  } catch (err) {
    rmSync(target, { force: true });
    fail(`backup: ${db}: ${(err as Error).message}`);
  } finally {
    src?.close();
  }
  // The secret the call keys in it are hashed with goes along: a copy restored without it would not know the
  // calls it counted, and would count a re-sent export again.
  const secret = `${db}.secret`;
  if (existsSync(secret)) {
    try {
      copyFileSync(secret, `${target}.secret`, constants.COPYFILE_EXCL);
      chmodSync(`${target}.secret`, 0o600);
    } catch (err) {
      fail(`backup: copied the database to ${target}, but not its secret ${secret}: ${(err as Error).message}`);
    }
  }
  process.stderr.write(`numrep: backed up ${db} to ${target}${existsSync(secret) ? ` (and its secret to ${target}.secret)` : ''}\n`);
}

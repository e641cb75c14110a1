import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { fail } from './log.js';

/** SQLite's online backup: a consistent copy even while `serve` writes (WAL). */
export async function backup(db: string, target: string): Promise<void> {
  if (!existsSync(db)) fail(`${db}: no such database`, 2);
  if (existsSync(target)) fail(`${target} exists; refusing to overwrite`, 2);
  const src = new Database(db, { readonly: true, fileMustExist: true });
  try {
    await src.backup(target);
  } finally {
    src.close();
  }
  process.stderr.write(`numrep: backed up ${db} to ${target}\n`);
}

import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The secret call keys are hashed with (classify/callKeys.ts): 16 random bytes in a file beside the
 * database (`<db>.secret`, mode 0600), created on first start. It is never exported; without it the
 * hashed keys in the database cannot be checked against a guessed number. A one-shot run into
 * `:memory:` gets a fresh secret that dies with it.
 */
export function secretFor(db: string): Uint8Array {
  if (db === ':memory:') return randomBytes(16);
  const file = `${db}.secret`;
  try {
    return parseSecret(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(16);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return parseSecret(readFileSync(file, 'utf8'), file);
    throw new Error(`cannot create ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, secret.toString('hex') + '\n');
  } finally {
    closeSync(fd);
  }
  return secret;
}

function parseSecret(text: string, file: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`${file}: not a numrep secret (32 hex digits); move it aside to make a new one (calls already counted may then count again)`);
  return Buffer.from(hex, 'hex');
}

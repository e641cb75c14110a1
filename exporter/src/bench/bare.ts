// Baselines for ingest: a bare Node line split of the same file, run as its own process like
// `numrep report`, counting non-empty lines and doing nothing else.
//   readline  fs.createReadStream + readline (Node's own line splitter)
//   split     fs.readSync in 4 MiB chunks, Buffer.toString, String.split('\n') (the floor)
// Usage: node bare.js FILE [readline|split]  → prints {"lines": N}
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

export function chunkSplit(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 * 1_048_576);
  let carry = '';
  let lines = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const parts = (carry + buf.toString('utf8', 0, n)).split('\n');
    carry = parts.pop() ?? '';
    for (const l of parts) if (l.length > 0) lines++;
  }
  if (carry.length > 0) lines++;
  closeSync(fd);
  return lines;
}

export async function readlineSplit(path: string): Promise<number> {
  let lines = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const l of rl) if (l.length > 0) lines++;
  return lines;
}

if (process.argv[1] && /bare\.js$/.test(process.argv[1])) {
  const mode = process.argv[3] ?? 'readline';
  const lines = mode === 'split' ? chunkSplit(process.argv[2]) : await readlineSplit(process.argv[2]);
  process.stdout.write(JSON.stringify({ lines }) + '\n');
}

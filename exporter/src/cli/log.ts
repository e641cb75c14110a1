/** Operational log lines on stderr: one line each, ISO time first, never a called number. */
export type Log = (msg: string) => void;

export function makeLog(quiet = false): Log {
  return (msg: string) => {
    if (!quiet) process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
  };
}

export function fail(msg: string, code = 1): never {
  process.stderr.write(`numrep: ${msg}\n`);
  process.exit(code);
}

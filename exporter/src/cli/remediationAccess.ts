import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../config.js';
import { Store } from '../store/db.js';
import { DatabaseLockedError, DbLock } from '../store/lock.js';
import { Remediations, RemediationError, caseJson, createRemediationTables } from '../store/remediation.js';
import { fail } from './log.js';

/**
 * How the `numrep remediation` commands reach the cases (shared by them; not a command). A change is written by
 * the database's one writer: into the database directly when no serve holds it (taking its lock meanwhile,
 * store/lock.ts), else sent to that serve's /api/v1/remediations, which writes it. Listing only reads, so it
 * reads the database (read-only) whoever holds it.
 */

export interface AccessFlags {
  db?: string;
  config?: string;
  /** A file holding serve's bearer token (default: the config's auth.bearer_token_file). */
  tokenFile?: string;
  /** serve's base URL (default: http:// + the listen address serve recorded in the lock). */
  url?: string;
  json?: boolean;
}

type CaseOut = ReturnType<typeof caseJson>;

function settings(flags: AccessFlags): { db: string; tokenFile?: string; benign?: string[] } {
  let db = flags.db;
  let tokenFile = flags.tokenFile;
  let benign: string[] | undefined;
  if (flags.config) {
    try {
      const c = loadConfig(flags.config);
      db ??= c.db;
      tokenFile ??= c.auth.bearer_token_file;
      benign = (c.reputation as { labels?: { benign?: string[] } }).labels?.benign;
    } catch (err) {
      fail((err as Error).message, 2);
    }
  }
  return { db: resolve(db ?? './var/numrep.db'), tokenFile, benign };
}

/** Run `direct` against the database, or send `api` to the serve that holds it. */
export async function changeCase(
  flags: AccessFlags,
  command: string,
  direct: (r: Remediations, now: number) => ReturnType<Remediations['open']>,
  api: { method: 'POST' | 'PATCH'; path: string; body: Record<string, unknown> },
): Promise<CaseOut> {
  const s = settings(flags);
  let lock: DbLock | null = null;
  if (flags.url === undefined && !existsSync(s.db)) fail(`no database ${s.db} (--db, or --config with db:): cases are about the numbers in it`, 2);
  if (flags.url === undefined) {
    try {
      lock = await DbLock.acquire(s.db, { command, inbox: null, listen: null });
    } catch (err) {
      if (!(err instanceof DatabaseLockedError)) fail(`cannot lock database ${s.db}: ${(err as Error).message}`);
      const listen = err.owner?.command === 'serve' ? err.owner.listen : null;
      if (!listen) fail(`${err.message}; run this again once it has stopped, or give --url of the serve that writes this database`, 2);
      // An all-interfaces listen address is reachable on loopback, which also passes serve's Host check.
      return viaApi(`http://${listen.replace(/^(0\.0\.0\.0|\[::\]|::)?:/, '127.0.0.1:')}`, s.tokenFile, api, err.message);
    }
  } else return viaApi(flags.url.replace(/\/+$/, ''), s.tokenFile, api, null);
  try {
    const store = new Store(s.db, { benignLabels: s.benign });
    try {
      return caseJson(direct(store.remediations, Date.now()));
    } catch (err) {
      if (err instanceof RemediationError) fail(err.message, err.status === 404 || err.status === 409 ? 1 : 2);
      throw err;
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

async function viaApi(base: string, tokenFile: string | undefined, api: { method: string; path: string; body: Record<string, unknown> }, heldBy: string | null): Promise<CaseOut> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (tokenFile) {
    try {
      headers.Authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
    } catch (err) {
      fail(`--token-file ${tokenFile}: ${(err as Error).message}`, 2);
    }
  }
  const url = `${base}${api.path}`;
  const why = heldBy ? `${heldBy}, which writes it: ` : '';
  let res: Response;
  try {
    res = await fetch(url, { method: api.method, headers, body: JSON.stringify(api.body), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    fail(`${why}cannot reach ${url} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}); give --url of that serve`, 1);
  }
  const text = await res.text();
  let body: { error?: string } & Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: said below by status
  }
  if (res.status === 401) fail(`${why}${url} asks for credentials: give --token-file (or --config with auth.bearer_token_file)`, 2);
  if (!res.ok) fail(`${url}: ${res.status} ${body.error ?? res.statusText}`, res.status === 404 || res.status === 409 ? 1 : 2);
  return body as unknown as CaseOut;
}

/** The cases, read-only (serve may be writing the database meanwhile: WAL lets both). */
export function readCases<T>(flags: AccessFlags, read: (r: Remediations) => T): T {
  const s = settings(flags);
  if (!existsSync(s.db)) fail(`no database ${s.db} (--db, or --config with db:)`, 2);
  let db: Database.Database;
  try {
    db = new Database(s.db, { readonly: true, fileMustExist: true });
  } catch (err) {
    fail(`cannot open database ${s.db}: ${(err as Error).message}`);
  }
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'remediation_cases'").get();
    if (!has) return read(emptyRemediations());
    return read(new Remediations(db));
  } finally {
    db.close();
  }
}

/** A database from before remediation cases: the tables, empty, in memory, so the same reads answer "none". */
function emptyRemediations(): Remediations {
  const mem = new Database(':memory:');
  createRemediationTables(mem);
  return new Remediations(mem);
}

/** One case as a line for people. */
export function caseLine(c: CaseOut): string {
  return [`case ${c.id}`, c.number, c.engine, c.state, c.ticket ? `ticket ${c.ticket}` : '', c.note ? `note: ${c.note}` : ''].filter(Boolean).join('  ');
}

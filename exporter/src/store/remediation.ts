import type Database from 'better-sqlite3';
import { maskDigits } from '../ingest/redact.js';

/**
 * Remediation cases: the recovery layer as data (docs/remediation.md). A case asks one analytics engine
 * (Hiya, TNS, First Orion) to take a label off one of our numbers. It lives in the same SQLite database as
 * everything else, so it survives restarts and is written by the database's one writer (store/lock.ts).
 *
 *   suggested ──open──▶ open ──update──▶ submitted ──update──▶ resolved | rejected
 *       └──────────────────┴──update──────────┘
 *
 * A case is `suggested` by numrep itself when an engine labels a number (the latest label of that engine is
 * not benign) and no case for that number and engine is active; `numrep remediation open` turns it into an
 * `open` one (the same id) or opens a new one. `resolved` and `rejected` are final: a number labelled again
 * later gets a new case. A resolved case whose engine flags the number again within 30 days is `reflagged`.
 */

export const REMEDIATION_ENGINES = ['hiya', 'tns', 'first_orion'] as const;
/** An engine label as stored (store/db.ts LabelSnapshot has these fields). */
export interface LabelSeen {
  number: string;
  engine: string;
  label: string;
  checkedAt: number;
}

export type RemediationEngine = (typeof REMEDIATION_ENGINES)[number];
export const CASE_STATES = ['suggested', 'open', 'submitted', 'resolved', 'rejected'] as const;
export type CaseState = (typeof CASE_STATES)[number];
/** States `update` may set. */
export const UPDATE_STATES = ['submitted', 'resolved', 'rejected'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
const ACTIVE: CaseState[] = ['suggested', 'open', 'submitted'];
const FINAL: CaseState[] = ['resolved', 'rejected'];
/** A resolved case's number flagged again by its engine within this long counts as re-flagged. */
export const REFLAG_WINDOW_MS = 30 * 86_400_000;
/** Longest ticket and note kept (they are free text from an operator). */
export const MAX_TICKET_CHARS = 200;
export const MAX_NOTE_CHARS = 2000;

export interface RemediationCase {
  id: number;
  number: string;
  engine: RemediationEngine;
  state: CaseState;
  /** The engine's (or the portal's) ticket id, when there is one. */
  ticket: string | null;
  note: string | null;
  /** The label that made numrep suggest the case (null for a case an operator opened first). */
  label: string | null;
  /** Epoch ms: suggested or opened, the last state change, submitted, resolved/rejected, flagged again. */
  createdAt: number;
  updatedAt: number;
  submittedAt: number | null;
  closedAt: number | null;
  reflaggedAt: number | null;
}

export type CaseEventKind = 'suggested' | 'opened' | 'submitted' | 'resolved' | 'rejected' | 'reflagged' | 'noted';

export interface CaseEvent {
  caseId: number;
  number: string;
  engine: RemediationEngine;
  at: number;
  event: CaseEventKind;
  /** The case's state after the event. */
  state: CaseState;
  detail: string;
}

/** A refused request: `status` is the HTTP answer (400 bad input, 404 no such case, 409 not in a state for it). */
export class RemediationError extends Error {
  constructor(message: string, readonly status: 400 | 404 | 409) {
    super(message);
  }
}

export function isRemediationEngine(e: string): e is RemediationEngine {
  return (REMEDIATION_ENGINES as readonly string[]).includes(e);
}

export function createRemediationTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS remediation_cases (id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT NOT NULL, engine TEXT NOT NULL,
      state TEXT NOT NULL, ticket TEXT, note TEXT, label TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      submitted_at INTEGER, closed_at INTEGER, reflagged_at INTEGER);
    CREATE INDEX IF NOT EXISTS remediation_cases_by_number ON remediation_cases (number, engine);
    CREATE TABLE IF NOT EXISTS remediation_events (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, number TEXT NOT NULL, engine TEXT NOT NULL,
      at INTEGER NOT NULL, event TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS remediation_events_by_number ON remediation_events (number, at);
  `);
}

function rowToCase(r: Record<string, unknown>): RemediationCase {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(r.id),
    number: String(r.number),
    engine: String(r.engine) as RemediationEngine,
    state: String(r.state) as CaseState,
    ticket: (r.ticket as string | null) ?? null,
    note: (r.note as string | null) ?? null,
    label: (r.label as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    submittedAt: n(r.submitted_at),
    closedAt: n(r.closed_at),
    reflaggedAt: n(r.reflagged_at),
  };
}

function rowToEvent(r: Record<string, unknown>): CaseEvent {
  return {
    caseId: Number(r.case_id),
    number: String(r.number),
    engine: String(r.engine) as RemediationEngine,
    at: Number(r.at),
    event: String(r.event) as CaseEventKind,
    state: String(r.state) as CaseState,
    detail: String(r.detail),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** Free text from an operator: control characters out, bounded. */
function cleanText(v: string | null | undefined, max: number, what: string): string | null {
  if (v === undefined || v === null) return null;
  const s = v.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (s.length > max) throw new RemediationError(`${what} is longer than ${max} characters`, 400);
  return s === '' ? null : s;
}

/**
 * A note is free text an operator may paste a consumer's number into ("complaint from +1312…"): it is kept with
 * every run of 7+ digits masked (`<digits:10>`, as the quarantine keeps rejected lines), so no such number is
 * stored in clear. Ticket ids go in `ticket`, which is kept as given.
 */
function noteText(v: string | null | undefined): string | null {
  const s = cleanText(v, MAX_NOTE_CHARS, 'note');
  return s === null ? null : maskDigits(s);
}

export interface CaseFilter {
  number?: string;
  engine?: RemediationEngine;
  state?: CaseState;
}

/** Cases and their events over one SQLite connection (the Store's). Writes only by the database's writer. */
export class Remediations {
  constructor(private readonly db: Database.Database) {}

  private event(c: RemediationCase, at: number, event: CaseEventKind, detail: string): void {
    this.db
      .prepare('INSERT INTO remediation_events (case_id, number, engine, at, event, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.number, c.engine, at, event, c.state, detail);
  }

  get(id: number): RemediationCase | null {
    const r = this.db.prepare('SELECT * FROM remediation_cases WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? rowToCase(r) : null;
  }

  /** Cases, newest first. */
  list(f: CaseFilter = {}): RemediationCase[] {
    const where: string[] = [];
    const args: string[] = [];
    if (f.number) (where.push('number = ?'), args.push(f.number));
    if (f.engine) (where.push('engine = ?'), args.push(f.engine));
    if (f.state) (where.push('state = ?'), args.push(f.state));
    const sql = `SELECT * FROM remediation_cases${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    return (this.db.prepare(sql).all(...args) as Record<string, unknown>[]).map(rowToCase);
  }

  /** Events of one case, or of every case of one number, oldest first. */
  events(f: { caseId?: number; number?: string; from?: number; to?: number }): CaseEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.caseId !== undefined) (where.push('case_id = ?'), args.push(f.caseId));
    if (f.number !== undefined) (where.push('number = ?'), args.push(f.number));
    if (f.from !== undefined) (where.push('at >= ?'), args.push(f.from));
    if (f.to !== undefined) (where.push('at <= ?'), args.push(f.to));
    const sql = `SELECT * FROM remediation_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at, id`;
    return (this.db.prepare(sql).all(...args) as Record<string, unknown>[]).map(rowToEvent);
  }

  private active(number: string, engine: string): RemediationCase | null {
    const r = this.db
      .prepare(`SELECT * FROM remediation_cases WHERE number = ? AND engine = ? AND state IN (${ACTIVE.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT 1`)
      .get(number, engine, ...ACTIVE) as Record<string, unknown> | undefined;
    return r ? rowToCase(r) : null;
  }

  /** One of our numbers: in the inventory, seen placing calls, or labelled by an engine. */
  isOurNumber(number: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM inventory WHERE number = ? UNION ALL SELECT 1 FROM numbers WHERE number = ? UNION ALL SELECT 1 FROM labels WHERE number = ? LIMIT 1')
        .get(number, number, number) !== undefined
    );
  }

  /**
   * Open a case for `number` with `engine`: a `suggested` one for them becomes `open` (same id, ticket and
   * note added); an open or submitted one is a conflict; else a new case.
   */
  open(o: { number: string; engine: string; ticket?: string | null; note?: string | null }, now: number): RemediationCase {
    if (!isRemediationEngine(o.engine)) throw new RemediationError(`engine "${String(o.engine).slice(0, 40)}" is not one of ${REMEDIATION_ENGINES.join(', ')}`, 400);
    const ticket = cleanText(o.ticket, MAX_TICKET_CHARS, 'ticket');
    const note = noteText(o.note);
    // A case keeps its number in clear: never a consumer's typed by mistake (and the error does not repeat it).
    if (!this.isOurNumber(o.number)) throw new RemediationError('that number is not one of ours (not in the inventory, never seen placing a call, never labelled)', 404);
    return this.db.transaction(() => {
      const cur = this.active(o.number, o.engine);
      if (cur && cur.state !== 'suggested') throw new RemediationError(`case ${cur.id} for ${o.number} with ${o.engine} is already ${cur.state}`, 409);
      let id: number;
      if (cur) {
        this.db
          .prepare("UPDATE remediation_cases SET state = 'open', ticket = coalesce(?, ticket), note = coalesce(?, note), updated_at = ? WHERE id = ?")
          .run(ticket, note, now, cur.id);
        id = cur.id;
      } else {
        id = Number(
          this.db
            .prepare("INSERT INTO remediation_cases (number, engine, state, ticket, note, created_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?)")
            .run(o.number, o.engine, ticket, note, now, now).lastInsertRowid,
        );
      }
      const c = this.get(id)!;
      this.event(c, now, 'opened', [cur ? `from suggestion` : 'opened', ticket ? `ticket ${ticket}` : ''].filter(Boolean).join(', '));
      return c;
    })();
  }

  /** Move a case to submitted, resolved or rejected (ticket and note may come along). */
  update(id: number, o: { state?: string; ticket?: string | null; note?: string | null }, now: number): RemediationCase {
    const ticket = cleanText(o.ticket, MAX_TICKET_CHARS, 'ticket');
    const note = noteText(o.note);
    if (o.state !== undefined && !(UPDATE_STATES as readonly string[]).includes(o.state)) {
      throw new RemediationError(`state "${String(o.state).slice(0, 40)}" is not one of ${UPDATE_STATES.join(', ')}`, 400);
    }
    if (o.state === undefined && ticket === null && note === null) throw new RemediationError('nothing to update: give a state, a ticket or a note', 400);
    return this.db.transaction(() => {
      const cur = this.get(id);
      if (!cur) throw new RemediationError(`no remediation case ${id}`, 404);
      if (FINAL.includes(cur.state)) throw new RemediationError(`case ${id} is ${cur.state}, which is final; open a new case`, 409);
      const state = (o.state as UpdateState | undefined) ?? cur.state;
      if (o.state !== undefined && o.state === cur.state) throw new RemediationError(`case ${id} is already ${cur.state}`, 409);
      this.db
        .prepare(
          `UPDATE remediation_cases SET state = ?, ticket = coalesce(?, ticket), note = coalesce(?, note), updated_at = ?,
           submitted_at = CASE WHEN ? = 'submitted' THEN ? ELSE submitted_at END,
           closed_at = CASE WHEN ? IN ('resolved', 'rejected') THEN ? ELSE closed_at END WHERE id = ?`,
        )
        .run(state, ticket, note, now, state, now, state, now, id);
      const c = this.get(id)!;
      const detail = [ticket ? `ticket ${ticket}` : '', note ? 'note updated' : ''].filter(Boolean).join(', ');
      this.event(c, now, o.state === undefined ? 'noted' : (state as CaseEventKind), detail);
      return c;
    })();
  }

  /**
   * Engine labels just stored (inside the Store's commit transaction): a flag within 30 days of a resolved case
   * of the same number and engine marks that case re-flagged; a flag as the latest label of a number and
   * engine with no active case suggests one. `benign` labels (config labels.benign) flag nothing.
   */
  onLabels(labels: readonly LabelSeen[], benign: ReadonlySet<string>, now: number): void {
    const latest = new Map<string, LabelSeen>();
    for (const l of labels) {
      if (!isRemediationEngine(l.engine)) continue;
      const k = `${l.number}\u0000${l.engine}`;
      const cur = latest.get(k);
      if (!cur || l.checkedAt >= cur.checkedAt) latest.set(k, l);
      if (benign.has(l.label)) continue;
      const resolved = this.db
        .prepare(
          "SELECT * FROM remediation_cases WHERE number = ? AND engine = ? AND state = 'resolved' AND reflagged_at IS NULL AND closed_at <= ? AND closed_at >= ?",
        )
        .all(l.number, l.engine, l.checkedAt, l.checkedAt - REFLAG_WINDOW_MS) as Record<string, unknown>[];
      for (const r of resolved) {
        this.db.prepare('UPDATE remediation_cases SET reflagged_at = ? WHERE id = ?').run(l.checkedAt, Number(r.id));
        this.event(rowToCase(r), now, 'reflagged', `${l.engine} labelled it ${l.label} on ${iso(l.checkedAt)}, ${Math.floor((l.checkedAt - Number(r.closed_at)) / 86_400_000)} day(s) after the case was resolved`);
      }
    }
    for (const l of latest.values()) {
      if (benign.has(l.label)) continue;
      // The batch's label is the number's latest for this engine unless the database already holds a newer one.
      const newer = this.db.prepare('SELECT 1 FROM labels WHERE number = ? AND engine = ? AND checked_at > ? LIMIT 1').get(l.number, l.engine, l.checkedAt);
      if (newer || this.active(l.number, l.engine)) continue;
      const id = Number(
        this.db
          .prepare("INSERT INTO remediation_cases (number, engine, state, label, created_at, updated_at) VALUES (?, ?, 'suggested', ?, ?, ?)")
          .run(l.number, l.engine, l.label, now, now).lastInsertRowid,
      );
      this.event(this.get(id)!, now, 'suggested', `${l.engine} labelled it ${l.label} on ${iso(l.checkedAt)}`);
    }
  }
}

/** The JSON of one case (GET/POST /api/v1/remediations, `numrep remediation … --json`). */
export function caseJson(c: RemediationCase, events?: CaseEvent[]) {
  const t = (ms: number | null) => (ms === null ? null : iso(ms));
  return {
    id: c.id,
    number: c.number,
    engine: c.engine,
    state: c.state,
    ticket: c.ticket,
    note: c.note,
    label: c.label,
    created_at: t(c.createdAt),
    updated_at: t(c.updatedAt),
    submitted_at: t(c.submittedAt),
    closed_at: t(c.closedAt),
    reflagged_at: t(c.reflaggedAt),
    ...(events ? { events: events.map(eventJson) } : {}),
  };
}

export function eventJson(e: CaseEvent) {
  return { case_id: e.caseId, engine: e.engine, at: iso(e.at), event: e.event, state: e.state, detail: e.detail };
}

/** What /metrics says about the cases: a pure function of them and the clock. */
export interface RemediationStats {
  /** engine → state → cases. */
  cases: Map<RemediationEngine, Map<CaseState, number>>;
  /** Seconds from submitted (or opened, when never submitted) to resolved/rejected, per closed case. */
  reviews: { engine: RemediationEngine; outcome: 'resolved' | 'rejected'; seconds: number }[];
  /** Resolved cases whose number the same engine flagged again within 30 days, per engine. */
  reflagged: Map<RemediationEngine, number>;
  /** Age in seconds of the oldest case waiting on its engine (submitted), per engine. */
  oldestSubmittedSeconds: Map<RemediationEngine, number>;
}

export function remediationStats(cases: readonly RemediationCase[], now: number): RemediationStats {
  const s: RemediationStats = { cases: new Map(), reviews: [], reflagged: new Map(), oldestSubmittedSeconds: new Map() };
  for (const e of REMEDIATION_ENGINES) {
    s.cases.set(e, new Map(CASE_STATES.map((st) => [st, 0])));
    s.reflagged.set(e, 0);
  }
  for (const c of cases) {
    const byState = s.cases.get(c.engine);
    if (!byState) continue;
    byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
    if ((c.state === 'resolved' || c.state === 'rejected') && c.closedAt !== null) {
      s.reviews.push({ engine: c.engine, outcome: c.state, seconds: Math.max(0, c.closedAt - (c.submittedAt ?? c.createdAt)) / 1000 });
    }
    if (c.state === 'resolved' && c.reflaggedAt !== null) s.reflagged.set(c.engine, s.reflagged.get(c.engine)! + 1);
    if (c.state === 'submitted' && c.submittedAt !== null) {
      const age = Math.max(0, now - c.submittedAt) / 1000;
      if (age > (s.oldestSubmittedSeconds.get(c.engine) ?? -1)) s.oldestSubmittedSeconds.set(c.engine, age);
    }
  }
  return s;
}

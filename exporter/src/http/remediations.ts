import express, { type Request, type Response } from 'express';
import { toE164 } from '../model/phone.js';
import {
  CASE_STATES,
  REMEDIATION_ENGINES,
  RemediationError,
  caseJson,
  isRemediationEngine,
  type CaseFilter,
  type CaseState,
  type Remediations,
} from '../store/remediation.js';

/**
 * /api/v1/remediations (docs/remediation.md#the-api): list, open, read and update remediation cases. Mounted
 * behind the same credential, Host and cross-site checks as every other /api route; serve is the database's
 * one writer, so `numrep remediation open|update` send their change here while it runs.
 *
 *   GET   /api/v1/remediations[?number=&engine=&state=]   → { remediations: [case…] }
 *   POST  /api/v1/remediations  {number, engine, ticket?, note?}   → 201 case
 *   GET   /api/v1/remediations/:id   → case with its events
 *   PATCH /api/v1/remediations/:id  {state?, ticket?, note?}   → case (POST too, for clients without PATCH)
 */
export function remediationRouter(o: { remediations: () => Remediations; defaultCountryCode: string; now: () => number; onChange?: () => void }): express.Router {
  const r = express.Router();
  const body = express.json({ limit: '16kb', strict: true });
  const refuse = (res: Response, err: unknown) => {
    if (err instanceof RemediationError) return res.status(err.status).json({ error: err.message });
    throw err;
  };
  /** The JSON object a change came with, or the 400 to answer. */
  const objectBody = (req: Request, res: Response): Record<string, unknown> | null => {
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'send a JSON object with Content-Type: application/json' });
      return null;
    }
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      res.status(400).json({ error: 'the body must be a JSON object' });
      return null;
    }
    return req.body as Record<string, unknown>;
  };
  const text = (v: unknown, what: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new RemediationError(`${what} must be a string`, 400);
    return v;
  };

  r.get('/', (req, res) => {
    const f: CaseFilter = {};
    const q = req.query;
    for (const k of Object.keys(q)) if (!['number', 'engine', 'state'].includes(k)) return res.status(400).json({ error: `unknown parameter ${k.slice(0, 40)} (number, engine, state)` });
    if (typeof q.number === 'string') {
      const n = toE164(q.number, o.defaultCountryCode);
      if (!n) return res.status(400).json({ error: 'number: not a phone number' });
      f.number = n;
    }
    if (typeof q.engine === 'string') {
      if (!isRemediationEngine(q.engine)) return res.status(400).json({ error: `engine: one of ${REMEDIATION_ENGINES.join(', ')}` });
      f.engine = q.engine;
    }
    if (typeof q.state === 'string') {
      if (!(CASE_STATES as readonly string[]).includes(q.state)) return res.status(400).json({ error: `state: one of ${CASE_STATES.join(', ')}` });
      f.state = q.state as CaseState;
    }
    res.json({ remediations: o.remediations().list(f).map((c) => caseJson(c)) });
  });

  r.post('/', body, (req, res) => {
    const b = objectBody(req, res);
    if (!b) return;
    try {
      const raw = text(b.number, 'number');
      if (raw === undefined) throw new RemediationError('number is required', 400);
      const number = toE164(raw, o.defaultCountryCode);
      if (!number) throw new RemediationError('number: not a phone number', 400);
      const engine = text(b.engine, 'engine');
      if (engine === undefined) throw new RemediationError(`engine is required (${REMEDIATION_ENGINES.join(', ')})`, 400);
      const c = o.remediations().open({ number, engine, ticket: text(b.ticket, 'ticket'), note: text(b.note, 'note') }, o.now());
      o.onChange?.();
      res.status(201).json(caseJson(c));
    } catch (err) {
      refuse(res, err);
    }
  });

  const caseId = (req: Request, res: Response): number | null => {
    if (!/^\d{1,15}$/.test(req.params.id)) {
      res.status(400).json({ error: 'a case id is a whole number' });
      return null;
    }
    return Number(req.params.id);
  };

  r.get('/:id', (req, res) => {
    const id = caseId(req, res);
    if (id === null) return;
    const rem = o.remediations();
    const c = rem.get(id);
    if (!c) return res.status(404).json({ error: `no remediation case ${id}` });
    res.json(caseJson(c, rem.events({ caseId: id })));
  });

  const update = (req: Request, res: Response) => {
    const id = caseId(req, res);
    if (id === null) return;
    const b = objectBody(req, res);
    if (!b) return;
    try {
      const c = o.remediations().update(id, { state: text(b.state, 'state'), ticket: text(b.ticket, 'ticket'), note: text(b.note, 'note') }, o.now());
      o.onChange?.();
      res.json(caseJson(c));
    } catch (err) {
      refuse(res, err);
    }
  };
  r.patch('/:id', body, update);
  r.post('/:id', body, update);
  // A body that is not JSON: said without repeating it (it may hold a number) and without a log line.
  r.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: express.NextFunction) => {
    if (err.type === 'entity.parse.failed') return res.status(400).json({ error: 'the body is not valid JSON' });
    if (err.type === 'entity.too.large') return res.status(413).json({ error: 'the body is larger than 16 KiB' });
    next(err);
  });
  return r;
}

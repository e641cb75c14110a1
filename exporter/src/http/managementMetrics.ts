import client from 'prom-client';
import { flatString } from '../model/flatString.js';
import { placeOf } from '../model/geo.js';
import { CASE_STATES, REMEDIATION_ENGINES, remediationStats, type RemediationCase } from '../store/remediation.js';
import { registrationOf } from './json.js';
import { labels } from './exposition.js';

/** Buckets of numrep_remediation_review_seconds: an hour to two months (engines answer in days to weeks). */
export const REVIEW_BUCKETS_SECONDS = [3600, 6 * 3600, 86_400, 2 * 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 60 * 86_400];

/**
 * The remediation families serve adds to the exporter's registry, read from the cases at scrape time (a
 * handful to a few thousand rows): cases by engine and state, time in review, re-flagged cases, the oldest
 * case waiting on its engine.
 */
export function registerRemediationMetrics(registry: client.Registry, o: { cases: () => RemediationCase[]; now: () => number }): void {
  // Each family reads the cases itself (one small query), so none depends on the order prom-client collects in.
  const read = () => remediationStats(o.cases(), o.now());
  new client.Gauge({
    name: 'numrep_remediation_cases',
    help: 'Remediation cases by engine and state (suggested, open, submitted, resolved, rejected).',
    labelNames: ['engine', 'state'],
    registers: [registry],
    collect() {
      const stats = read();
      this.reset();
      for (const e of REMEDIATION_ENGINES) for (const s of CASE_STATES) this.set({ engine: e, state: s }, stats.cases.get(e)?.get(s) ?? 0);
    },
  });
  new client.Histogram({
    name: 'numrep_remediation_review_seconds',
    help: 'Time from submitted (or opened, when never marked submitted) to resolved or rejected, per closed case.',
    labelNames: ['engine', 'outcome'],
    buckets: REVIEW_BUCKETS_SECONDS,
    registers: [registry],
    collect() {
      const stats = read();
      this.reset();
      for (const r of stats.reviews) this.observe({ engine: r.engine, outcome: r.outcome }, r.seconds);
    },
  });
  new client.Counter({
    name: 'numrep_remediation_reflagged_total',
    help: 'Resolved remediation cases whose number the same engine flagged again within 30 days.',
    labelNames: ['engine'],
    registers: [registry],
    collect() {
      const stats = read();
      this.reset();
      for (const e of REMEDIATION_ENGINES) this.inc({ engine: e }, stats.reflagged.get(e) ?? 0);
    },
  });
  new client.Gauge({
    name: 'numrep_remediation_oldest_submitted_age_seconds',
    help: 'Age of the oldest case submitted to the engine and not yet resolved or rejected; absent when none waits.',
    labelNames: ['engine'],
    registers: [registry],
    collect() {
      const stats = read();
      this.reset();
      for (const [e, age] of stats.oldestSubmittedSeconds) this.set({ engine: e }, age);
    },
  });
}

/**
 * numrep_number_info{number, pool, country, area, registration} 1 for each tracked number: where it lives and
 * whether it is registered, on one series per number rather than as labels on every family (join it with
 * `* on (number, pool) group_left (area) numrep_number_info`). Rendered as text like the per-number families
 * (MetricsOptions.extraChunks): the body is kept while the snapshot's numbers and the side data stay the same,
 * and each number's line is kept while its pool and registration do (10k numbers through prom-client took
 * ~100 ms a scrape).
 */
export function numberInfoFamily(o: { registration: ReadonlyMap<string, boolean | null>; sideVersion: () => number }): (snap: { numbers: ReadonlyMap<string, { number: string; pool: string }> }) => Buffer[] {
  let lines = new Map<string, { pool: string; registration: string; line: string }>();
  let last: { numbers: unknown; version: number; body: Buffer } | null = null;
  const head = '# HELP numrep_number_info Where each tracked number lives (ISO country, area of its prefix from libphonenumber) and its inventory registration; always 1.\n# TYPE numrep_number_info gauge\n';
  return (snap) => {
    const version = o.sideVersion();
    if (last && last.numbers === snap.numbers && last.version === version) return [last.body];
    const next = new Map<string, { pool: string; registration: string; line: string }>();
    const out: string[] = [head];
    for (const n of snap.numbers.values()) {
      const registration = registrationOf(o.registration.get(n.number));
      let l = lines.get(n.number);
      if (!l || l.pool !== n.pool || l.registration !== registration) {
        const p = placeOf(n.number);
        // Flat: kept across scrapes, the concatenations behind one line were ~17 string nodes (~0.5 KB a number).
        l = { pool: n.pool, registration, line: flatString(`numrep_number_info{${labels({ number: n.number, pool: n.pool, country: p.country ?? '', area: p.area ?? '', registration })}} 1\n`) };
      }
      next.set(n.number, l);
      out.push(l.line);
    }
    lines = next;
    last = { numbers: snap.numbers, version, body: Buffer.from(out.join('')) };
    return [last.body];
  };
}

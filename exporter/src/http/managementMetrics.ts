import client from 'prom-client';
import { placeOf } from '../model/geo.js';
import { CASE_STATES, REMEDIATION_ENGINES, remediationStats, type RemediationCase } from '../store/remediation.js';
import { registrationOf } from './json.js';

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
 * `* on (number) group_left (area) numrep_number_info`).
 */
export function registerNumberInfo(
  registry: client.Registry,
  o: { numbers: () => Iterable<{ number: string; pool: string }>; registration: ReadonlyMap<string, boolean | null> },
): void {
  new client.Gauge({
    name: 'numrep_number_info',
    help: 'Where each tracked number lives (ISO country, area of its prefix from libphonenumber) and its inventory registration; always 1.',
    labelNames: ['number', 'pool', 'country', 'area', 'registration'],
    registers: [registry],
    collect() {
      this.reset();
      for (const n of o.numbers()) {
        const p = placeOf(n.number);
        this.set({ number: n.number, pool: n.pool, country: p.country ?? '', area: p.area ?? '', registration: registrationOf(o.registration.get(n.number)) }, 1);
      }
    },
  });
}

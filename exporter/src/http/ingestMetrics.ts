import client from 'prom-client';
import type { Stall } from '../ingest/tailer.js';

/**
 * The ingest health families serve adds to the exporter's registry (MetricsExporter.registry): which sources
 * are stalled and why, and what the quarantine could not keep. Read at scrape time.
 */
export interface IngestHealth {
  stalled(): Stall[];
  /** Rejected lines not kept, by reason (`over_step_cap`, `db_pruned`, `file_rotated`, `file_disk_full`, `file_write_error`). */
  quarantineDropped(): Record<string, number>;
}

export const QUARANTINE_DROP_REASONS = ['over_step_cap', 'db_pruned', 'file_rotated', 'file_disk_full', 'file_write_error'] as const;

export function registerIngestMetrics(registry: client.Registry, h: IngestHealth): void {
  new client.Gauge({
    name: 'numrep_source_stalled',
    help: 'A source that has made no progress for stall_after_seconds, by reason (unreadable, not_regular, commit_failed, disk_full, no_progress, error); 1 while stalled, absent otherwise.',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of h.stalled()) this.set({ source: s.source, reason: s.reason }, 1);
    },
  });
  new client.Counter({
    name: 'numrep_quarantine_dropped_total',
    help: 'Rejected lines counted but not kept (or no longer kept) in the quarantine, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const d = h.quarantineDropped();
      for (const r of QUARANTINE_DROP_REASONS) this.inc({ reason: r }, d[r] ?? 0);
    },
  });
}

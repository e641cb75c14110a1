// Live sources (the HEP collector, pushed CDRs): rows that arrive over the network instead of from a
// file. Each has a source row in the store like a file's — its name, its reader state (the HEP dialog
// tracker), its account of rows — and commits exactly as a file step does: the rows through the
// classification stage, then buckets, counters, call keys and the source state in one SQLite
// transaction (docs/architecture.md#durability).

import type { RawCall } from '../model/types.js';
import type { BatchCommit, SourceState, Store } from '../store/db.js';
import type { Classifier, ClassifySink } from '../classify/classifier.js';
import { Batch } from './batch.js';
import { newSourceState } from './fileSource.js';

/** What a live source needs of the runtime. */
export interface LiveRuntime {
  store: Store;
  classifier: Classifier;
  bucketMs: number;
  now(): number;
  /** Rows starting further than this ahead of the clock are rejected (`future_timestamp`). */
  futureToleranceMs?: number;
  /** After a commit: the windows, seen numbers and the serve log (Runtime.liveCommitted). */
  committed(batch: Batch, src: SourceState): void;
}

/** A rejection a live source found itself (a packet's INVITE with an unusable caller, a malformed CDR body). */
export interface LiveReject {
  format: string;
  reason: string;
  detail: string;
}

/** Device name of live sources' rows (files have a real device number): never matches a file. */
export const LIVE_DEVICE = 'live';

export class LiveSource {
  readonly state: SourceState;

  /** `name`: e.g. `hep`, `push:twilio` (the source's path in /api/v1/sources and the quarantine). */
  constructor(private readonly rt: LiveRuntime, readonly name: string, format: string) {
    const found = rt.store.sources().find((s) => s.dev === LIVE_DEVICE && s.path === name);
    this.state = found ?? { ...newSourceState(name, 0, 0), dev: LIVE_DEVICE, ino: name };
    if (!found) {
      this.state.format = format;
      rt.store.saveSource(this.state);
    }
  }

  /** Reader state committed with the last batch (the HEP dialog tracker's snapshot). */
  get readerState(): unknown {
    return this.state.readerState;
  }

  /**
   * Commit rows (and rejections) in one transaction with `readerState`. Throws when the commit fails:
   * nothing of it stands then (the caller answers 5xx, or keeps the rows for the next try). `dialogs`: the HEP
   * tracker's changes since its last commit, in the same transaction.
   */
  commit(rows: RawCall[], rejects: LiveReject[] = [], readerState?: unknown, dialogs?: Omit<NonNullable<BatchCommit['dialogs']>, 'sourceId'>): Batch {
    const rt = this.rt;
    const st = this.state;
    const saved = { ...st, counts: { ...st.counts } };
    const now = rt.now();
    const batch = new Batch(rt.bucketMs, undefined, { callLog: rt.store.memoryBuckets });
    const latest = rt.futureToleranceMs === undefined ? Infinity : now + rt.futureToleranceMs;
    const keep: RawCall[] = [];
    const lines: number[] = [];
    let line = st.line;
    for (const r of rows) {
      line++;
      if (r.ts > latest) {
        batch.reject({
          file: this.name, line, format: r.source, reason: 'future_timestamp',
          detail: `call start ${new Date(r.ts).toISOString()} is more than ${Math.round((rt.futureToleranceMs ?? 0) / 1000)}s ahead of the clock`, raw: '', at: now,
        });
        continue;
      }
      keep.push(r);
      lines.push(line);
    }
    for (const j of rejects) {
      line++;
      // Never the payload: a live source's raw input holds the called number.
      batch.reject({ file: this.name, line, format: j.format, reason: j.reason, detail: j.detail, raw: '', at: now });
    }
    if (keep.length > 0) {
      const sink: ClassifySink = {
        count: (raw, carrier) => batch.addCall(raw, carrier),
        skip: (raw, reason) => batch.skip(raw.source, reason),
        reject: (i, reason, detail) => batch.reject({ file: this.name, line: lines[i], format: keep[i].source, reason, detail, raw: '', at: now }),
        remember: (hi, lo, source, tsSec) => batch.rememberKey(hi, lo, source, tsSec),
        dial: (caller, hi, lo, tsSec) => batch.addDial(caller, hi, lo, tsSec),
      };
      rt.classifier.step(keep, st.id, sink);
    }
    st.line = line;
    st.lastReadAt = now;
    for (const c of batch.counters.values()) {
      const k = `${c.result}:${c.reason}`;
      st.counts[k] = (st.counts[k] ?? 0) + c.count;
    }
    if (batch.newestTs !== null && (st.newestTs === null || batch.newestTs > st.newestTs)) st.newestTs = batch.newestTs;
    if (readerState !== undefined) st.readerState = readerState;
    try {
      rt.store.commit({ ...batch.toCommit(), source: st, dialogs: dialogs && { ...dialogs, sourceId: st.id } });
    } catch (err) {
      Object.assign(st, saved);
      throw err;
    }
    rt.classifier.committed(batch.callKeys);
    rt.committed(batch, st);
    return batch;
  }
}

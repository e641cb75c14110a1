// The classification stage: between the readers and the windows, every row becomes exactly one of
//   outbound        an attempt from our presented caller ID to an outside number: counted;
//   inbound         someone called us;
//   internal        both ends extensions, short codes or dialplan names;
//   leg             a further row of an attempt already counted (classify/legs.ts);
//   duplicate_call  the same call seen before in another file or format (classify/callKeys.ts);
//   not_ours        `track: inventory` and the caller is not in the inventory;
//   no_caller_id    an extension dialling out with no presentable caller ID and no caller-map entry;
//   numbers_over_cap a new caller while `max_tracked_numbers` numbers are already tracked;
//   other_shard     `--shard i/n` and the caller belongs to another shard;
// or is rejected when it is malformed (a caller or called field that is no number at all).
// Only `outbound` rows reach the windows. The called (consumer) number is used for the carrier
// lookup and, hashed, for the call's fingerprint; it never leaves this stage in clear.

import type { Direction, RawCall } from '../model/types.js';
import { PhoneNormalizer, type NumberPlan, type PartyKind } from '../model/phone.js';
import { directionOf, type DirectionContext } from './direction.js';
import { LegGroups, OUTCOME_RANK } from './legs.js';
import { CallKeySet, sipHash, type HashKey } from './callKeys.js';
import type { CallerMap } from './callerMap.js';
import { shardOf } from './shard.js';

export const SKIP_REASONS = ['inbound', 'internal', 'leg', 'duplicate_call', 'not_ours', 'no_caller_id', 'numbers_over_cap', 'other_shard'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type Track = 'all' | 'inventory';

/** Where the stage's verdicts go (a Batch, through the file ingestor). */
export interface ClassifySink {
  /** An outbound attempt, its carrier resolved. */
  count(raw: RawCall, carrier: string): void;
  skip(raw: RawCall, reason: SkipReason): void;
  /** Row `index` of the step is malformed. */
  reject(index: number, reason: string, detail: string): void;
  /** A key to remember durably with the batch (committed in its transaction, then `Classifier.committed`). */
  remember(hi: number, lo: number, source: number, tsSec: number): void;
}

export interface ClassifierOptions {
  plan: NumberPlan;
  callerMap?: CallerMap;
  track: Track;
  /** Our numbers (the inventory), read at each step: it may change while serve runs. */
  inventory(): { has(number: string): boolean; readonly size: number };
  /** The trunk map, when there is one. */
  isTrunk?(trunk: string): boolean;
  resolveCarrier(raw: RawCall): string;
  /** Numbers already tracked (seen with calls, moved by each commit); new ones beyond the cap are skipped. */
  tracked: { has(number: string): boolean; readonly size: number };
  maxTrackedNumbers: number;
  /** The memory of counted calls and the secret their keys are hashed with. */
  keys: CallKeySet;
  secret: HashKey;
  /** `--shard i/n`: only callers of shard i are this exporter's. */
  shard?: { index: number; count: number };
}

/** What one row is, before the attempt it belongs to is looked at. */
type RowVerdict =
  | { kind: 'countable'; caller: string; fingerprint: string }
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'reject'; reason: string; detail: string };

const FIELDS = { caller: 'caller', called: 'called number' };

export class Classifier {
  private readonly parties: PhoneNormalizer;
  private readonly hash = new Uint32Array(2);

  constructor(readonly opts: ClassifierOptions) {
    this.parties = new PhoneNormalizer(opts.plan, 4096);
  }

  private kindOf(text: string | undefined): PartyKind {
    const r = this.parties.normalize(text ?? '');
    return r.ok ? 'number' : r.kind;
  }

  /** One row on its own: its direction, its presented caller, whether it could be an attempt of ours. */
  private verdict(raw: RawCall, ctx: DirectionContext): RowVerdict {
    let caller = raw.caller;
    let callerKind: PartyKind = caller !== '' ? 'number' : this.kindOf(raw.callerText);
    if (caller === '' && raw.callerText !== undefined && this.opts.callerMap) {
      const mapped = this.opts.callerMap.get(raw.callerText.trim());
      if (mapped !== undefined) {
        caller = mapped;
        callerKind = 'number';
      }
    }
    const calledKind: PartyKind = raw.called !== '' ? 'number' : this.kindOf(raw.calledText);
    const { direction } = directionOf(raw, { caller, callerKind, calledKind }, ctx);
    if (direction !== 'outbound') return { kind: 'skip', reason: direction satisfies Exclude<Direction, 'outbound'> };

    const names = raw.fields ?? FIELDS;
    if (calledKind === 'extension' || calledKind === 'service') return { kind: 'skip', reason: 'internal' };
    if (calledKind === 'anonymous') return { kind: 'reject', reason: 'missing_field', detail: `${names.called} is empty.` };
    if (calledKind === 'invalid') return { kind: 'reject', reason: 'invalid_number', detail: `${names.called} ${this.why(raw.calledText)}.` };
    if (callerKind === 'invalid') return { kind: 'reject', reason: 'invalid_number', detail: `${names.caller} ${this.why(raw.callerText)}.` };
    if (callerKind !== 'number') return { kind: 'skip', reason: 'no_caller_id' };
    return { kind: 'countable', caller, fingerprint: `fp|${caller}|${raw.called}|${Math.floor(raw.ts / 1000)}` };
  }

  private why(text: string | undefined): string {
    const r = this.parties.normalize(text ?? '');
    return r.ok ? 'is not usable' : r.why;
  }

  /** The source that counted any of these keys, -1 when none did. */
  private seenBy(keys: string[]): number {
    for (const k of keys) {
      sipHash(this.opts.secret, k, this.hash);
      const s = this.opts.keys.sourceOf(this.hash[0], this.hash[1]);
      if (s >= 0) return s;
    }
    return -1;
  }

  /**
   * Classify the rows one read step of one source produced (in file order). `source` identifies
   * the file, so a key met again in the same file is a further leg and in another a duplicate.
   */
  step(rows: RawCall[], source: number, sink: ClassifySink): void {
    const o = this.opts;
    const inventory = o.inventory();
    const ctx: DirectionContext = {};
    if (inventory.size > 0) ctx.isOurs = (n) => inventory.has(n);
    if (o.isTrunk) ctx.isTrunk = o.isTrunk;

    const verdicts: RowVerdict[] = new Array(rows.length);
    const legs = new LegGroups();
    for (let i = 0; i < rows.length; i++) {
      const raw = rows[i];
      const v = this.verdict(raw, ctx);
      verdicts[i] = v;
      legs.add();
      if (raw.keys) for (const k of raw.keys) legs.join(i, k);
      if (v.kind === 'countable') legs.join(i, v.fingerprint);
    }

    // Callers new in this step: the tracked set itself moves only once the step is committed.
    const admitted = new Set<string>();
    for (const group of legs.groups()) {
      let best = -1;
      for (const i of group) {
        const v = verdicts[i];
        if (v.kind !== 'countable') continue;
        if (best < 0 || OUTCOME_RANK[rows[i].outcome] > OUTCOME_RANK[rows[best].outcome]) best = i;
      }
      if (best < 0) {
        // No attempt of ours among these rows: each says what it is.
        for (const i of group) {
          const v = verdicts[i];
          if (v.kind === 'skip') sink.skip(rows[i], v.reason);
          else if (v.kind === 'reject') sink.reject(i, v.reason, v.detail);
        }
        continue;
      }
      const rec = rows[best];
      const caller = (verdicts[best] as { caller: string }).caller;
      const keys: string[] = [];
      let ts = rec.ts;
      for (const i of group) {
        if (rows[i].ts < ts) ts = rows[i].ts;
        const v = verdicts[i];
        if (v.kind === 'countable') keys.push(v.fingerprint);
        const ids = rows[i].keys;
        if (ids) for (const k of ids) keys.push(k);
      }
      let reason: SkipReason | null = null;
      if (o.shard && shardOf(caller, o.shard.count) !== o.shard.index) reason = 'other_shard';
      else if (o.track === 'inventory' && !inventory.has(caller)) reason = 'not_ours';
      else {
        const by = this.seenBy(keys);
        if (by >= 0) reason = by === source ? 'leg' : 'duplicate_call';
        else if (!o.tracked.has(caller) && !admitted.has(caller) && !inventory.has(caller)) {
          if (o.tracked.size + admitted.size >= o.maxTrackedNumbers) reason = 'numbers_over_cap';
          else admitted.add(caller);
        }
      }
      if (reason !== null) {
        for (const i of group) sink.skip(rows[i], reason);
        continue;
      }
      const counted: RawCall = caller === rec.caller && ts === rec.ts ? rec : { ...rec, caller, ts };
      sink.count(counted, o.resolveCarrier(counted));
      for (const i of group) if (i !== best) sink.skip(rows[i], 'leg');
      const tsSec = Math.floor(ts / 1000);
      for (const k of keys) {
        sipHash(o.secret, k, this.hash);
        sink.remember(this.hash[0], this.hash[1], source, tsSec);
      }
    }
  }

  /** A step's keys, once its batch is committed (a failed commit leaves no trace here, so its rows are judged afresh). */
  committed(keys: ArrayLike<number>): void {
    for (let i = 0; i + 3 < keys.length; i += 4) this.opts.keys.add(keys[i], keys[i + 1], keys[i + 2], keys[i + 3]);
  }
}

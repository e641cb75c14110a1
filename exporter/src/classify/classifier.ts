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
import { PhoneNormalizer, partyText, type NumberPlan, type PartyKind } from '../model/phone.js';
import { directionOf, isPhoneChannel, trunkTaught, type DirectionContext, type DirectionFacts } from './direction.js';
import { LegGroups, OUTCOME_RANK } from './legs.js';
import { CallKeySet, keyHash, sipHash64, type HashKey } from './callKeys.js';
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
  /** The counted attempt's dial: our number, the consumer's keyed hash and the start second (stats/fatigue.ts). */
  dial?(caller: string, hi: number, lo: number, tsSec: number): void;
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
  /**
   * The memory of counted calls and the secret their keys are hashed with before they are remembered. No
   * secret: the fast hashes are remembered as they are (a one-shot run into memory, where nothing is stored).
   */
  keys: CallKeySet;
  secret: HashKey | null;
  /**
   * The secret the consumer's number is hashed with for recipient fatigue (the database's): each counted attempt
   * then gives the sink a dial. null: the fast hash as it is (a one-shot run into memory, where nothing is stored,
   * as for `secret`). Absent: no dials.
   */
  consumerSecret?: HashKey | null;
  /** `--shard i/n`: only callers of shard i are this exporter's. */
  shard?: { index: number; count: number };
  /**
   * Outside-line prefixes a PBX leaves in the dialled number (`9`, `8`): a called field that is no number
   * as written but is one without the prefix (`918005551212` → +18005551212) is read without it.
   */
  dialPrefixes?: string[];
}

/** What one row is, before the attempt it belongs to is looked at. */
type RowVerdict =
  | { kind: 'countable'; caller: string }
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'reject'; reason: string; detail: string };

/** A countable row whose caller field is its presented number (the common case): one shared object. */
const COUNTABLE_AS_IS: RowVerdict = { kind: 'countable', caller: '' };

/** The skip verdicts, one object each (rows share them: nothing allocated per skipped row). */
const SKIP_VERDICT = Object.fromEntries(SKIP_REASONS.map((r) => [r, { kind: 'skip', reason: r }])) as Record<SkipReason, RowVerdict>;

const FIELDS = { caller: 'caller', called: 'called number' };

/** The row of a group that started first (the first read, on a tie). */
function earliest(group: number[], rows: RawCall[]): number {
  let e = group[0];
  for (const i of group) if (rows[i].ts < rows[e].ts) e = i;
  return e;
}

/** The kind the consumer's number is hashed under (keyHash's first part): apart from every call-id kind. */
export const CONSUMER_KIND = 'numrep:consumer';

/**
 * What the steps of a transaction still being filled remembered (FileIngestor commits several read steps in one
 * SQLite transaction): their calls' keys and the callers they admitted. Looked up like committed ones, so a leg or
 * duplicate in the next step is still found; forgotten whole when the transaction rolls back.
 */
export class Uncommitted {
  readonly keys = new PendingKeys();
  readonly callers = new Set<string>();
}

/**
 * The keys a transaction's steps remembered, as (hi, lo, source, start second) quads in the order they were added;
 * a key set is made of them only when a later step of the same transaction looks one up. A transaction that
 * commits after its one step (report's 16 MiB steps, serve's steps of a live file) never builds it: inserting
 * every key a second time, into a table that grew by rehashing from empty in every step, was ~5 % of report's CPU.
 */
export class PendingKeys {
  private quads = new Uint32Array(1024);
  private n = 0;
  private set: CallKeySet | null = null;
  /** Quads already in `set`. */
  private inSet = 0;

  add(hi: number, lo: number, source: number, tsSec: number): void {
    if (this.n + 4 > this.quads.length) {
      const more = new Uint32Array(this.quads.length * 2);
      more.set(this.quads);
      this.quads = more;
    }
    const q = this.quads;
    q[this.n] = hi;
    q[this.n + 1] = lo;
    q[this.n + 2] = source;
    q[this.n + 3] = tsSec;
    this.n += 4;
  }

  /** Where the step being classified began adding (its own keys are never looked up: see sourceOf). */
  private stepStart = 0;

  /** Whether a lookup has made the key set (tests: a transaction of one step never does). */
  get built(): boolean {
    return this.set !== null;
  }

  /** A step of this transaction starts. */
  beginStep(): void {
    this.stepStart = this.n;
  }

  /**
   * As CallKeySet.sourceOf over the keys added so far (added to the set in order: the same answers). `inStep`: the
   * lookup comes from a step of this transaction, and the keys that step added are left out — it never needs them:
   * a key it remembered is one its rows were joined by (LegGroups), so no other group of the step carries it.
   */
  sourceOf(hi: number, lo: number, inStep: boolean): number {
    const end = inStep ? this.stepStart : this.n;
    if (end === 0) return -1;
    const set = (this.set ??= new CallKeySet(end / 4));
    const q = this.quads;
    for (let i = this.inSet; i < end; i += 4) set.add(q[i], q[i + 1], q[i + 2], q[i + 3]);
    if (end > this.inSet) this.inSet = end;
    return set.sourceOf(hi, lo);
  }
}

/** At most this many learned trunk peers (a switch has a handful). */
const MAX_LEARNED_TRUNKS = 256;

/**
 * The last rows of a step whose calls are left open for the next step (with every row of those calls), when the
 * step ends before the file does: a call's legs written up to this many rows apart are then judged together.
 */
export const OPEN_TAIL_ROWS = 256;

/**
 * Where the calls still open at the end of a step begin: the first row of every group with a row among the last
 * OPEN_TAIL_ROWS (at most a quarter of the step). `firstRowOf(i)` is the first row of row i's group; the rows from
 * the answer on are whole groups. `n` (nothing left open) when that would start before `lowest` or leave more
 * than half the step for the next one (each step must move on).
 */
export function openTailStart(n: number, lowest: number, firstRowOf: (i: number) => number): number {
  let start = n - Math.min(OPEN_TAIL_ROWS, n >> 2);
  for (let i = n - 1; i >= start; i--) start = Math.min(start, firstRowOf(i));
  return start < lowest || start < n - (n >> 1) ? n : start;
}

export class Classifier {
  private readonly parties: PhoneNormalizer;
  private readonly hash = new Uint32Array(2);
  /** Trunks learned from phones' outbound calls (DirectionContext.learnedTrunks), kept across steps. */
  private readonly learned = new Set<string>();
  private readonly legs = new LegGroups();
  /** Transactions being filled (one per file being read): every step looks keys and callers up in all of them. */
  private readonly open = new Set<Uncommitted>();
  private readonly facts: DirectionFacts = { caller: '', callerKind: 'number', calledKind: 'number' };

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
      const mapped = this.opts.callerMap.get(partyText(raw.callerText));
      if (mapped !== undefined) {
        caller = mapped;
        callerKind = 'number';
      }
    }
    let calledKind: PartyKind = raw.called !== '' ? 'number' : this.kindOf(raw.calledText);
    if (calledKind === 'invalid' && this.opts.dialPrefixes) {
      const stripped = this.withoutPrefix(raw.calledText ?? '');
      if (stripped !== null) {
        raw.called = stripped;
        delete raw.calledText;
        calledKind = 'number';
      }
    }
    // An endpoint named by its caller ID (SIP/123654987-… calling as 123654987) is a phone, not a number.
    if (callerKind === 'invalid' && raw.inTrunk !== undefined && isPhoneChannel(raw.inTrunk, raw.callerText)) callerKind = 'extension';
    const facts = this.facts; // one object for every row (directionOf keeps nothing of it)
    facts.caller = caller;
    facts.callerKind = callerKind;
    facts.calledKind = calledKind;
    const { direction } = directionOf(raw, facts, ctx);
    if (direction !== 'outbound') return SKIP_VERDICT[direction satisfies Exclude<Direction, 'outbound'>];

    const names = raw.fields ?? FIELDS;
    if (calledKind === 'extension' || calledKind === 'service') return SKIP_VERDICT.internal;
    if (calledKind === 'anonymous') return { kind: 'reject', reason: 'missing_field', detail: `${names.called} is empty.` };
    if (calledKind === 'invalid') return { kind: 'reject', reason: 'invalid_number', detail: `${names.called} ${this.why(raw.calledText)}${this.prefixHint(raw.calledText)}.` };
    if (callerKind === 'invalid') return { kind: 'reject', reason: 'invalid_number', detail: `${names.caller} ${this.why(raw.callerText)}.` };
    if (callerKind !== 'number') return SKIP_VERDICT.no_caller_id;
    // A call "from" the very number it dials: the switch set the caller ID to the destination (an originate); not ours.
    if (caller === raw.called) return SKIP_VERDICT.no_caller_id;
    return caller === raw.caller ? COUNTABLE_AS_IS : { kind: 'countable', caller };
  }

  /** The called text as a number once an outside-line prefix is taken off, or null. */
  private withoutPrefix(text: string): string | null {
    const t = text.trim();
    for (const p of this.opts.dialPrefixes ?? []) {
      if (p === '' || !t.startsWith(p)) continue;
      const r = this.parties.normalize(t.slice(p.length));
      if (r.ok) return r.e164;
    }
    return null;
  }

  /** When the number would be one without its first digit: the switch left an outside-line prefix in it. */
  private prefixHint(text: string | undefined): string {
    const t = (text ?? '').trim();
    if (!/^[0-9]{8,}$/.test(t) || this.opts.dialPrefixes?.includes(t[0])) return '';
    return this.parties.normalize(t.slice(1)).ok ? ` (without its first digit it is one: if your PBX dials ${t[0]} for an outside line, set dial_prefixes: ["${t[0]}"])` : '';
  }

  private why(text: string | undefined): string {
    const r = this.parties.normalize(text ?? '');
    return r.ok ? 'is not usable' : r.why;
  }

  /**
   * Classify the rows one read step of one source produced (in file order). `source` identifies
   * the file, so a key met again in the same file is a further leg and in another a duplicate.
   *
   * `openTailFrom`: the step ends before its file does, and rows from this index on may be left for the next step
   * (the caller reads them again there): the calls among the last rows are not judged yet (openTailStart), so a
   * further leg in the next step still picks the call's best leg, as within one step. Returns how many rows, from
   * the first, were judged (all, without `openTailFrom`); the rest gave the sink nothing.
   */
  step(rows: RawCall[], source: number, sink: ClassifySink, pending?: Uncommitted, openTailFrom?: number): number {
    const o = this.opts;
    pending?.keys.beginStep();
    let openCallers = 0;
    for (const u of this.open) openCallers += u.callers.size;
    const inventory = o.inventory();
    const ctx: DirectionContext = {};
    if (inventory.size > 0) ctx.isOurs = (n) => inventory.has(n);
    if (o.isTrunk) ctx.isTrunk = o.isTrunk;
    else {
      // No trunk map: learn the trunks from this step's phone-to-outside calls first, so an inbound call read
      // before them is judged with them too.
      for (const raw of rows) {
        if (this.learned.size >= MAX_LEARNED_TRUNKS) break;
        const t = raw.outChannel !== undefined ? trunkTaught(raw, raw.called !== '' ? 'number' : this.kindOf(raw.calledText)) : null;
        if (t !== null) this.learned.add(t);
      }
      ctx.learnedTrunks = this.learned;
    }

    // Each row's verdict, then its keys: every key (its fast hash) joins rows; a countable row's keys are what its
    // call is remembered and looked up by (their secret hashes, row i's at [memoStart[i], memoStart[i + 1])), so a
    // further leg read in a later step — by any of its ids, or the same caller, called number and second — is known.
    const n = rows.length;
    const verdicts: RowVerdict[] = new Array(n);
    let keyCount = 0;
    for (let i = 0; i < n; i++) keyCount += (rows[i].keys?.length ?? 0) / 2 + 1;
    const memoStart = new Int32Array(n + 1);
    const sh = new Uint32Array(keyCount * 2);
    const h = this.hash;
    const legs = this.legs;
    legs.reset(n, keyCount);
    let m = 0;
    const memo = (hi: number, lo: number) => {
      if (o.secret !== null) {
        sipHash64(o.secret, hi, lo, h);
        sh[m++] = h[0];
        sh[m++] = h[1];
      } else {
        sh[m++] = hi;
        sh[m++] = lo;
      }
    };
    for (let i = 0; i < n; i++) {
      const raw = rows[i];
      const v = this.verdict(raw, ctx);
      verdicts[i] = v;
      memoStart[i] = m;
      const keys = raw.keys;
      const countable = v.kind === 'countable';
      if (keys !== undefined) {
        for (let j = 0; j + 1 < keys.length; j += 2) {
          legs.join(i, keys[j], keys[j + 1]);
          if (countable) memo(keys[j], keys[j + 1]);
        }
      }
      if (countable) {
        // The fingerprint: caller, called and start second. Also what joins the same call across formats.
        keyHash(h, v === COUNTABLE_AS_IS ? raw.caller : v.caller, raw.called, Math.floor(raw.ts / 1000));
        legs.join(i, h[0], h[1]);
        memo(h[0], h[1]);
      }
    }
    memoStart[n] = m;
    const judged = openTailFrom === undefined || openTailFrom >= n ? n : openTailStart(n, openTailFrom, (i) => legs.root(i));

    // Callers new in this step: the tracked set itself moves only once the step is committed.
    const admitted = new Set<string>();
    const keySet = o.keys;
    legs.forEachGroup((group) => {
      if (group[0] >= judged) return; // left open for the next step (its first row is the group's first)
      // A call that began as an inbound one (its earliest row came in: a Twilio outbound-dial child of an inbound
      // call, a forward on the same linkedid) is inbound as a whole: the legs it made out are not attempts of ours.
      // An outbound call whose later rows look inbound (a transfer bridging the consumer to another phone) is not.
      if (group.length > 1 && verdicts[earliest(group, rows)] === SKIP_VERDICT.inbound) {
        for (const i of group) {
          const v = verdicts[i];
          if (v.kind === 'countable' || v === SKIP_VERDICT.inbound) sink.skip(rows[i], 'inbound');
          else if (v.kind === 'skip') sink.skip(rows[i], v.reason);
          else sink.reject(i, v.reason, v.detail);
        }
        return;
      }
      let best = -1;
      for (let g = 0; g < group.length; g++) {
        const i = group[g];
        if (verdicts[i].kind !== 'countable') continue;
        if (best < 0 || OUTCOME_RANK[rows[i].outcome] > OUTCOME_RANK[rows[best].outcome]) best = i;
      }
      if (best < 0) {
        // No attempt of ours among these rows: each says what it is.
        for (const i of group) {
          const v = verdicts[i];
          if (v.kind === 'skip') sink.skip(rows[i], v.reason);
          else if (v.kind === 'reject') sink.reject(i, v.reason, v.detail);
        }
        return;
      }
      const rec = rows[best];
      const caller = verdicts[best] === COUNTABLE_AS_IS ? rec.caller : (verdicts[best] as { caller: string }).caller;
      let ts = rec.ts;
      let reason: SkipReason | null = null;
      let by = -1;
      for (let g = 0; g < group.length; g++) {
        const i = group[g];
        if (rows[i].ts < ts) ts = rows[i].ts;
        for (let x = memoStart[i]; by < 0 && x < memoStart[i + 1]; x += 2) by = this.sourceOf(keySet, sh[x], sh[x + 1], pending);
      }
      if (o.shard && shardOf(caller, o.shard.count) !== o.shard.index) reason = 'other_shard';
      else if (o.track === 'inventory' && !inventory.has(caller)) reason = 'not_ours';
      else if (by >= 0) reason = by === source ? 'leg' : 'duplicate_call';
      else if (!o.tracked.has(caller) && !admitted.has(caller) && !inventory.has(caller) && !this.openHas(caller)) {
        if (o.tracked.size + admitted.size + openCallers >= o.maxTrackedNumbers) reason = 'numbers_over_cap';
        else admitted.add(caller);
      }
      if (reason !== null) {
        for (const i of group) sink.skip(rows[i], reason);
        return;
      }
      const counted: RawCall = caller === rec.caller && ts === rec.ts ? rec : { ...rec, caller, ts };
      sink.count(counted, o.resolveCarrier(counted));
      const tsSec = Math.floor(ts / 1000);
      if (o.consumerSecret !== undefined && sink.dial !== undefined) {
        // Only the keyed hash of the consumer's number leaves this stage (docs/metrics.md#privacy-of-recipient-fatigue).
        keyHash(h, CONSUMER_KIND, rec.called);
        if (o.consumerSecret !== null) sipHash64(o.consumerSecret, h[0], h[1], h);
        sink.dial(caller, h[0], h[1], tsSec);
      }
      for (let g = 0; g < group.length; g++) {
        const i = group[g];
        if (i !== best) sink.skip(rows[i], 'leg');
        for (let x = memoStart[i]; x < memoStart[i + 1]; x += 2) {
          sink.remember(sh[x], sh[x + 1], source, tsSec);
          pending?.keys.add(sh[x], sh[x + 1], source, tsSec);
        }
      }
    });
    if (pending !== undefined) for (const c of admitted) pending.callers.add(c);
    return judged;
  }

  /** The source that counted a key: committed, or remembered by a transaction still being filled; -1 if none. */
  private sourceOf(keySet: CallKeySet, hi: number, lo: number, stepping?: Uncommitted): number {
    const by = keySet.sourceOf(hi, lo);
    if (by >= 0 || this.open.size === 0) return by;
    for (const u of this.open) {
      const s = u.keys.sourceOf(hi, lo, u === stepping);
      if (s >= 0) return s;
    }
    return -1;
  }

  private openHas(caller: string): boolean {
    if (this.open.size === 0) return false;
    for (const u of this.open) if (u.callers.has(caller)) return true;
    return false;
  }

  /** A transaction starts: its steps' keys and callers are held here until `committed` or `rolledBack`. */
  begin(): Uncommitted {
    const u = new Uncommitted();
    this.open.add(u);
    return u;
  }

  /** A transaction that will not be committed: what its steps remembered is forgotten (they are read again). */
  rolledBack(pending: Uncommitted): void {
    this.open.delete(pending);
  }

  /** A step's keys, once its batch is committed (a failed commit leaves no trace here, so its rows are judged afresh). */
  committed(keys: ArrayLike<number>, pending?: Uncommitted): void {
    if (pending !== undefined) this.open.delete(pending);
    for (let i = 0; i + 3 < keys.length; i += 4) this.opts.keys.add(keys[i], keys[i + 1], keys[i + 2], keys[i + 3]);
  }
}

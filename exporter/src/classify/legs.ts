// One attempt, one count: the rows of one call joined into a group.
//
// Rows sharing any key (an id such as Asterisk's linkedid or uniqueid, a Local channel's base,
// FreeSWITCH uuid/bleg_uuid, a Call-ID, a generic call_id — or the same caller, called number and
// start second) are one attempt. Rows are joined within one read step (up to 4 MiB of a file in
// `serve`, 16 MiB in `report`: in practice every row a switch writes when a call hangs up). A step
// that ends before its file does leaves the calls of its last rows (OPEN_TAIL_ROWS, classify/
// classifier.ts) to the next step, so legs written near each other are joined wherever the step
// ends. A row of the same attempt read in a later step is still recognised by its key
// (classify/callKeys.ts) and skipped as `leg`, but no longer changes the attempt's outcome.

import type { Outcome } from '../model/types.js';

/** Which leg's outcome an attempt takes: the one that got furthest (answered beats voicemail beats …). */
export const OUTCOME_RANK: Record<Outcome, number> = {
  answered: 7,
  voicemail: 6,
  blocked: 5,
  rejected: 4,
  busy: 3,
  cancelled: 2,
  no_answer: 1,
  failed: 0,
};

/**
 * Union-find over the rows of a step, joined by shared keys (a key is its 64-bit hash, hi and lo). The
 * key table is open addressing over typed arrays, reused from step to step: a step joins tens of
 * thousands of rows, nearly all of them alone.
 */
export class LegGroups {
  private parent = new Int32Array(1024);
  private n = 0;
  private hi = new Int32Array(4096);
  private lo = new Int32Array(4096);
  /** row + 1 per slot, 0 = empty */
  private row = new Int32Array(4096);
  private keys = 0;

  /** Start a step of `rows` rows carrying at most `keys` keys in all. */
  reset(rows: number, keys: number): void {
    if (this.parent.length < rows) this.parent = new Int32Array(rows * 2);
    for (let i = 0; i < rows; i++) this.parent[i] = i;
    this.n = rows;
    let cap = 4096;
    while (cap < keys * 2) cap *= 2;
    if (this.row.length < cap) {
      this.hi = new Int32Array(cap);
      this.lo = new Int32Array(cap);
      this.row = new Int32Array(cap);
    } else if (this.keys > 0) this.row.fill(0);
    this.keys = 0;
  }

  /** Join row `i` with every earlier row that carried the key hashed to (hi, lo). */
  join(i: number, hi: number, lo: number): void {
    const mask = this.row.length - 1;
    let s = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const r = this.row[s];
      if (r === 0) {
        this.hi[s] = hi;
        this.lo[s] = lo;
        this.row[s] = i + 1;
        this.keys++;
        return;
      }
      if (this.hi[s] === (hi | 0) && this.lo[s] === (lo | 0)) {
        this.union(i, r - 1);
        return;
      }
      s = (s + 1) & mask;
    }
  }

  /** The first row of row i's group (a union keeps the earlier root). */
  root(i: number): number {
    const p = this.parent;
    while (p[i] !== i) {
      p[i] = p[p[i]];
      i = p[i];
    }
    return i;
  }

  private union(a: number, b: number): void {
    const ra = this.root(a);
    const rb = this.root(b);
    // The earlier row stays the root, so groups come out in the order their first row was read.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  /**
   * The groups, in the order of their first row: each as the row indexes in `out` (reused) passed to `each`.
   * Rows alone (nearly all) cost no allocation.
   */
  forEachGroup(each: (rows: number[]) => void): void {
    const n = this.n;
    const members = new Map<number, number[]>();
    let joined = false;
    for (let i = 0; i < n; i++) {
      const r = this.root(i);
      if (r !== i) {
        joined = true;
        const m = members.get(r);
        if (m) m.push(i);
        else members.set(r, [r, i]);
      }
    }
    const one = [0];
    for (let i = 0; i < n; i++) {
      if (this.parent[i] !== i) continue; // a later member of an earlier root's group
      const m = joined ? members.get(i) : undefined;
      if (m) each(m);
      else {
        one[0] = i;
        each(one);
      }
    }
  }
}

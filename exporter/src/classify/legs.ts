// One attempt, one count: the rows of one call joined into a group.
//
// Rows sharing any key (an id such as Asterisk's linkedid or uniqueid, a Local channel's base,
// FreeSWITCH uuid/bleg_uuid, a Call-ID, a generic call_id — or the same caller, called number and
// start second) are one attempt. Rows are joined within one read step (up to 4 MiB of a file in
// `serve`, 16 MiB in `report`: in practice every row a switch writes when a call hangs up); a row
// of the same attempt read in a later step is still recognised by its key (classify/callKeys.ts)
// and skipped as `leg`, but no longer changes the attempt's outcome.

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

/** Union-find over row indexes, joined by shared string keys. */
export class LegGroups {
  private readonly parent: number[] = [];
  private readonly byKey = new Map<string, number>();

  /** A new row; returns its index. */
  add(): number {
    const i = this.parent.length;
    this.parent.push(i);
    return i;
  }

  /** Join row `i` with every earlier row that carried `key`. */
  join(i: number, key: string): void {
    const j = this.byKey.get(key);
    if (j === undefined) this.byKey.set(key, i);
    else this.union(i, j);
  }

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

  /** Row indexes per group, groups in the order of their first row. */
  groups(): number[][] {
    const out = new Map<number, number[]>();
    for (let i = 0; i < this.parent.length; i++) {
      const r = this.root(i);
      const g = out.get(r);
      if (g) g.push(i);
      else out.set(r, [i]);
    }
    return [...out.values()];
  }
}

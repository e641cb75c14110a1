import type { WindowName } from '../model/types.js';
import type { NumberSeen } from '../store/db.js';
import { addInto, emptyVector, type Vector } from './vector.js';
import type { WindowSet } from './windows.js';

/** Per-number and per-carrier sums of every window, at one instant: what /metrics and the JSON are made of. */
export interface NumberView {
  number: string;
  pool: string;
  windows: Record<WindowName, Vector>;
  carriers: Map<string, Record<WindowName, Vector>>;
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface Snapshot {
  at: number;
  numbers: Map<string, NumberView>;
  carriers: Map<string, Record<WindowName, Vector>>;
}

function emptyWindows(names: WindowName[]): Record<WindowName, Vector> {
  const r = {} as Record<WindowName, Vector>;
  for (const n of names) r[n] = emptyVector();
  return r;
}

/**
 * `known` lists numbers to show even without calls in any window (the inventory);
 * numbers with no call in the widest window and not in the inventory are not tracked.
 */
export function takeSnapshot(
  windows: WindowSet,
  seen: Map<string, NumberSeen>,
  poolOf: (number: string) => string,
  known: Iterable<string> = [],
): Snapshot {
  const names = windows.names();
  const numbers = new Map<string, NumberView>();
  const carriers = new Map<string, Record<WindowName, Vector>>();
  const view = (number: string): NumberView => {
    let n = numbers.get(number);
    if (!n) {
      const s = seen.get(number);
      n = {
        number,
        pool: poolOf(number),
        windows: emptyWindows(names),
        carriers: new Map(),
        firstSeen: s ? s.first : null,
        lastSeen: s ? s.last : null,
      };
      numbers.set(number, n);
    }
    return n;
  };
  for (const number of known) view(number);
  for (const name of names) {
    for (const kv of windows.get(name).values()) {
      const n = view(kv.number);
      addInto(n.windows[name], kv.v);
      let c = n.carriers.get(kv.carrier);
      if (!c) n.carriers.set(kv.carrier, (c = emptyWindows(names)));
      addInto(c[name], kv.v);
      let pc = carriers.get(kv.carrier);
      if (!pc) carriers.set(kv.carrier, (pc = emptyWindows(names)));
      addInto(pc[name], kv.v);
    }
  }
  return { at: windows.at, numbers, carriers };
}

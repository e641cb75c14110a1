import { describe, expect, it } from 'vitest';
import { SlabWindows, takeSnapshot, updateSnapshot, type Snapshot } from '../../src/stats/snapshot.js';
import { WINDOWS, type WindowName } from '../../src/model/types.js';
import { F_CALLS, FIELDS } from '../../src/stats/vector.js';
import type { PairVisitor, WindowSet } from '../../src/stats/windows.js';
import { mulberry32 } from '../../src/sim/rng.js';

// A snapshot's per-number and per-pair sums are rows of shared slabs, and a window's Float64Array is made when it is
// read (stats/snapshot.ts SlabWindows). Every read must equal the eager model: the window's pairs summed per number
// and per number × carrier, each window its own row, untracked windows absent.

const ALL = Object.keys(WINDOWS) as WindowName[];

interface Pair {
  number: string;
  carrier: string;
  sums: Partial<Record<WindowName, Float64Array>>;
}

/** What takeSnapshot reads of a WindowSet: names(), forEach() in a fixed order, at. */
function fakeWindows(names: WindowName[], pairs: Pair[]): WindowSet {
  return {
    at: 1_700_000_000_000,
    names: () => names,
    forEach(name: WindowName, visit: PairVisitor) {
      for (const p of pairs) {
        const v = p.sums[name];
        if (v) visit(p.number, p.carrier, v, 0);
      }
    },
  } as unknown as WindowSet;
}

function randomPairs(seed: number, names: WindowName[]): Pair[] {
  const r = mulberry32(seed);
  const pairs: Pair[] = [];
  for (let n = 0; n < 40; n++) {
    for (const carrier of ['att', 'tmobile', 'verizon', 'lumen']) {
      if (r() < 0.4) continue;
      const sums: Pair['sums'] = {};
      for (const w of names) {
        if (r() < 0.2) continue;
        const v = new Float64Array(FIELDS);
        for (let i = 0; i < FIELDS; i++) v[i] = Math.floor(r() * 50);
        v[F_CALLS] += 1;
        sums[w] = v;
      }
      pairs.push({ number: `+1202555${1000 + n}`, carrier, sums });
    }
  }
  return pairs;
}

/** The eager model: sums per number and per number × carrier, by window. */
function model(pairs: Pair[], names: WindowName[]) {
  const numbers = new Map<string, Record<string, number[]>>();
  const carriers = new Map<string, Record<string, number[]>>();
  const add = (m: Map<string, Record<string, number[]>>, k: string, w: WindowName, v: Float64Array) => {
    let e = m.get(k);
    if (!e) m.set(k, (e = Object.fromEntries(names.map((x) => [x, new Array(FIELDS).fill(0)]))));
    for (let i = 0; i < FIELDS; i++) e[w][i] += v[i];
  };
  for (const p of pairs) {
    for (const w of names) {
      const v = p.sums[w];
      if (!v) continue;
      add(numbers, p.number, w, v);
      add(carriers, `${p.number}/${p.carrier}`, w, v);
    }
  }
  return { numbers, carriers };
}

function checkAgainstModel(snap: Snapshot, pairs: Pair[], names: WindowName[]): void {
  const m = model(pairs, names);
  expect(snap.numbers.size).toBe(m.numbers.size);
  for (const [number, view] of snap.numbers) {
    expect(view.windows).toBeInstanceOf(SlabWindows);
    for (const w of ALL) {
      if (!names.includes(w)) expect(view.windows[w], `${number} ${w}`).toBeUndefined();
      else expect([...view.windows[w]], `${number} ${w}`).toEqual(m.numbers.get(number)![w]);
    }
    for (const [carrier, cw] of view.carriers) {
      const row = cw as Partial<Record<WindowName, Float64Array>>;
      for (const w of ALL) {
        // Per carrier every tracked window but 1h (nothing reads it there).
        if (!names.includes(w) || w === '1h') expect(row[w]).toBeUndefined();
        else expect([...row[w]!], `${number}/${carrier} ${w}`).toEqual(m.carriers.get(`${number}/${carrier}`)![w]);
      }
    }
  }
}

describe('snapshot sums as slab rows (SlabWindows)', () => {
  for (const names of [ALL, ['24h', '7d'] as WindowName[], ['7d', '1h', '48h'] as WindowName[]]) {
    it(`read as the eager sums, windows ${names.join(',')}`, () => {
      const pairs = randomPairs(names.length, names);
      const snap = takeSnapshot(fakeWindows(names, pairs), new Map(), () => 'default');
      checkAgainstModel(snap, pairs, names);
      // An update of a few numbers cuts their rows from small slabs: same sums.
      const changed = new Set([...snap.numbers.keys()].filter((_, i) => i % 7 === 0));
      for (const p of pairs) if (changed.has(p.number)) for (const v of Object.values(p.sums)) v![F_CALLS] += 3;
      const next = updateSnapshot(snap, fakeWindows(names, pairs), new Map(), () => 'default', () => [], changed);
      checkAgainstModel(next, pairs, names);
    });
  }

  it('gives each window of each number and pair its own row, and a fresh view per read', () => {
    const pairs = randomPairs(9, ALL);
    const snap = takeSnapshot(fakeWindows(ALL, pairs), new Map(), () => 'default');
    const rows = [...snap.numbers.values()].flatMap((v) => [v.windows, ...v.carriers.values()]) as Partial<Record<WindowName, Float64Array>>[];
    let mark = 0;
    for (const r of rows) for (const w of ALL) if (r[w]) r[w][0] = ++mark; // written through the views, into the slab
    mark = 0;
    for (const r of rows) for (const w of ALL) if (r[w]) expect(r[w][0]).toBe(++mark);
    expect(mark).toBe(snap.numbers.size * 5 + rows.length * 4 - snap.numbers.size * 4); // 5 rows a number, 4 a pair
    const v = rows[0];
    expect(v['24h']).not.toBe(v['24h']);
    expect([...v['24h']!]).toEqual([...v['24h']!]);
  });
});

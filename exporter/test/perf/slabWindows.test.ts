import { describe, expect, it } from 'vitest';
import { SlabWindows, takeSnapshot, updateSnapshot, type Snapshot } from '../../src/stats/snapshot.js';
import { WINDOWS, type WindowName } from '../../src/model/types.js';
import { F_CALLS, FIELDS } from '../../src/stats/vector.js';
import type { PairVisitor, WindowSet } from '../../src/stats/windows.js';
import { mulberry32 } from '../../src/sim/rng.js';
import { numberJson } from '../../src/http/json.js';
import { assessView, snapshotBaselines, snapshotEvents } from '../../src/reputation/evaluate.js';
import { assessNumber } from '../../src/reputation/assess.js';
import { DEFAULT_REPUTATION_CONFIG } from '../../src/reputation/config.js';
import { OTHER_CARRIER } from '../../src/stats/snapshot.js';
import { attestationOf, dispositionWindows, kpisOf } from '../../src/stats/vector.js';

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

describe('what reads a snapshot\'s windows reads each once and gets what plain sums give', () => {
  it('numberJson and assessView of slab rows equal those of the same sums as plain records', () => {
    const pairs = randomPairs(23, ALL);
    const snap = takeSnapshot(fakeWindows(ALL, pairs), new Map(), () => 'default');
    // Every window read once into a plain record: what a reader of the getters must see.
    const plain = <W extends string>(w: object, names: readonly W[]) => {
      const out: Partial<Record<W, Float64Array>> = {};
      for (const n of names) {
        const v = (w as Record<W, Float64Array | undefined>)[n];
        if (v) out[n] = Float64Array.from(v);
      }
      return out;
    };
    let views = 0;
    for (const v of snap.numbers.values()) {
      const copy = {
        ...v,
        windows: plain(v.windows, ALL),
        carriers: new Map([...v.carriers].map(([c, w]) => [c, plain(w, ['24h', '48h', '72h', '7d'] as const)])),
      } as unknown as typeof v;
      expect(JSON.stringify(numberJson(v))).toBe(JSON.stringify(numberJson(copy)));
      expect(JSON.stringify(assessView(v, snap))).toBe(JSON.stringify(assessView(copy, snap)));
      // And what they read is the right window: the entry's and the engine's inputs made here from the plain sums.
      const w = copy.windows as Partial<Record<WindowName, Float64Array>>;
      const kpis = (x: object, names: readonly WindowName[]) =>
        Object.fromEntries(names.filter((n) => (x as Record<string, unknown>)[n]).map((n) => [n, kpisOf((x as Record<string, Float64Array>)[n])]));
      const entry = numberJson(v);
      expect(entry.windows).toEqual(kpis(w, ['24h', '7d']));
      for (const [c, cw] of copy.carriers) expect(entry.carriers[c]).toEqual({ ...kpis(cw, ['24h', '7d']), attestation: attestationOf(cw['7d']) });
      const engine = assessNumber(
        {
          number: v.number,
          windows: { '1h': kpisOf(w['1h']!), '24h': kpisOf(w['24h']!), '48h': w['48h'] ? kpisOf(w['48h']) : null, '72h': w['72h'] ? kpisOf(w['72h']) : null, '7d': kpisOf(w['7d']!) },
          carriers: Object.fromEntries([...copy.carriers].map(([c, cw]) => [c, kpis(cw, ['24h', '48h', '72h', '7d'])])),
          foldedCarrier: v.foldedCarriers ? OTHER_CARRIER : null,
          firstSeen: v.firstSeen,
          lastSeen: v.lastSeen,
          engines: undefined,
          dispositions: dispositionWindows(w),
        },
        { now: snap.at, config: DEFAULT_REPUTATION_CONFIG, baselines: snapshotBaselines(snap.carriers), events: snapshotEvents(snap.carriers, DEFAULT_REPUTATION_CONFIG) },
      );
      expect(JSON.stringify(assessView(v, snap))).toBe(JSON.stringify(engine));
      views++;
    }
    expect(views).toBeGreaterThan(20);
  });
});

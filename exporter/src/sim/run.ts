// Running the model: a backfill into files (every format at once if asked), and a live feed that
// appends calls to an inbox file as they end, stamped with the wall clock.

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Simulator, type GroundTruth, type Scenario, type SimCall } from './model.js';
import { WRITERS, compareEvents, prefixMapCsv, trunkMapCsv, type SimEvent, type SimFormat } from './formats.js';

const HOUR = 3_600_000;

/** Buffered appends to one file descriptor. */
class Out {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export interface BackfillOptions {
  scenario: Scenario;
  seed: number;
  /** UTC ms of scenario hour 0 (aligned to the hour). */
  start: number;
  formats: SimFormat[];
  /** Output directory: DIR/<format>/<file>, DIR/truth.json, DIR/trunk-map.csv, DIR/prefix-map.csv. */
  out: string;
  /** Calls whose last event falls after this time are not written (a backfill that ends "now"). */
  notAfter?: number;
  /** Write these paths instead of DIR/<format>/<file> (the demo's inbox file). */
  fileFor?: (f: SimFormat) => string;
  /** Skip the truth and map files. */
  dataOnly?: boolean;
  progress?: (hour: number, hours: number) => void;
}

export interface BackfillResult {
  sim: Simulator;
  truth: GroundTruth;
  calls: number;
  files: Record<string, string[]>;
}

/** Path of a format's file in a backfill directory. */
export function dataFile(out: string, f: SimFormat): string {
  return join(out, f, WRITERS[f].file);
}

/** Run the scenario hour by hour and write every call in each format, events in time order. */
export function backfill(o: BackfillOptions): BackfillResult {
  const sim = new Simulator(o.scenario, o.seed, o.start);
  const files: Record<string, string[]> = {};
  const outs = o.formats.map((f) => {
    const path = o.fileFor?.(f) ?? dataFile(o.out, f);
    mkdirSync(join(path, '..'), { recursive: true });
    const out = new Out(openSync(path, 'w'));
    out.write(WRITERS[f].header);
    files[f] = [path];
    return { f, out, pending: [] as SimEvent[] };
  });
  let calls = 0;
  const limit = o.notAfter ?? Number.POSITIVE_INFINITY;
  const flush = (before: number) => {
    for (const x of outs) {
      if (x.pending.length === 0) continue;
      x.pending.sort(compareEvents);
      let i = 0;
      while (i < x.pending.length && x.pending[i].t < before) {
        x.out.write(x.pending[i].text + '\n');
        i++;
      }
      x.pending = x.pending.slice(i);
    }
  };
  const onCall = (c: SimCall) => {
    const per = outs.map((x) => WRITERS[x.f].events(c));
    if (per.some((evs) => evs.some((e) => e.t > limit))) return; // still in progress at the end
    calls++;
    per.forEach((evs, i) => outs[i].pending.push(...evs));
  };
  for (let h = 0; h < o.scenario.hours; h++) {
    sim.runHour(onCall);
    flush(sim.now); // later calls start at or after sim.now
    o.progress?.(h + 1, o.scenario.hours);
  }
  flush(Number.POSITIVE_INFINITY);
  for (const x of outs) x.out.close();
  const truth = sim.truth({ files });
  if (!o.dataOnly) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, 'trunk-map.csv'), trunkMapCsv());
    writeFileSync(join(o.out, 'prefix-map.csv'), prefixMapCsv());
    writeFileSync(join(o.out, 'truth.json'), JSON.stringify(truth, null, 1) + '\n');
  }
  return { sim, truth, calls, files };
}

export interface LiveOptions {
  sim: Simulator;
  format: SimFormat;
  /** File appended to (created with the format's header when new). */
  file: string;
  /** Mean calls per second across the pool. */
  rate: number;
  /** Optional rate by elapsed milliseconds since the start (overrides `rate`). */
  rateAt?: (elapsedMs: number) => number;
  /** Real seconds per model hour of the hidden reputation (3600 = real time). */
  stepSeconds: number;
  now: () => number;
  log?: (msg: string) => void;
  /** Called after each model hour with the hidden state. */
  onStep?: (sim: Simulator) => void;
}

/**
 * Live feed: every tick, the calls due at the configured rate are drawn from the model and start
 * at the wall clock; each of their log events (CDR line at hang-up, SIP messages, acc lines) is
 * appended once the wall clock reaches its time, so every event time is honest. The hidden
 * reputation advances one model hour per `stepSeconds`. Calls still in progress at stop() are
 * not written.
 */
export function startLive(o: LiveOptions): { stop(): void; calls(): number } {
  const sim = o.sim;
  const w = WRITERS[o.format];
  const isNew = !existsSync(o.file) || statSync(o.file).size === 0;
  const fd = openSync(o.file, 'a');
  if (isNew && w.header) writeSync(fd, w.header);
  let written = 0;
  let lastStep = o.now();
  let owed = 0;
  let lastTick = o.now();
  const t0 = lastTick;
  /** Pending events by whole second; seconds before `nextSec` are written. */
  const pending = new Map<number, SimEvent[]>();
  let nextSec = Math.floor(o.now() / 1000);
  const tickMs = Math.max(20, Math.min(250, Math.round(1000 / Math.max(o.rate, 0.001))));
  const tick = () => {
    const now = o.now();
    while (now - lastStep >= o.stepSeconds * 1000) {
      sim.endHour(true);
      lastStep += o.stepSeconds * 1000;
      o.onStep?.(sim);
    }
    owed += ((now - lastTick) / 1000) * (o.rateAt ? o.rateAt(now - t0) : o.rate);
    lastTick = now;
    while (owed >= 1) {
      owed -= 1;
      const c = sim.liveCall(now);
      if (!c) break;
      for (const e of w.events(c)) {
        const k = Math.max(nextSec, Math.floor(e.t / 1000));
        const list = pending.get(k);
        if (list) list.push(e);
        else pending.set(k, [e]);
      }
    }
    const upTo = Math.floor(now / 1000); // whole seconds before this one are complete
    const out: string[] = [];
    for (; nextSec < upTo; nextSec++) {
      const list = pending.get(nextSec);
      if (!list) continue;
      pending.delete(nextSec);
      list.sort(compareEvents);
      for (const e of list) {
        out.push(e.text + '\n');
        if (e.k === 0) written++;
      }
    }
    if (out.length) writeSync(fd, out.join(''));
  };
  const timer = setInterval(tick, tickMs);
  return {
    stop() {
      clearInterval(timer);
      closeSync(fd);
    },
    calls: () => written,
  };
}

export { HOUR };

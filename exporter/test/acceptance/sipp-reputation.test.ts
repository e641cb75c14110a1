import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmp } from '../core/helpers.js';
import { SCENARIOS, exitOf, freeUdpPort, kill, passport, sipp, waitUdpBound, type SippProcess } from '../sip/harness.js';

// Acceptance of issue 4 ("Done when") on realistic traffic: real sipp UAC/UAS pairs on loopback produce
// -trace_msg logs for a small pool of numbers (calls start now, wall clock), and an Asterisk cdr_csv
// Master.csv written here gives some of them six days of older history. Both go through the built
// `numrep report --json` with a prefix map and a trunk map, and every clause is asserted on its JSON:
//
//   H  healthy: mostly answered, 15 s talks, a few no-answers and 487s, 6 days of steady history → healthy, keep
//   B  blocked by two carriers: 608 (Call-Info, hiya redress) on att, 603+ "Network Blocked" on verizon
//      → spam, score < 50, not keep
//   C  487 spike on tmobile only (16 of 24 calls cancelled there; answered on att and verizon)
//      → tmobile warning/flagged, att and verizon clean, not healthy
//   I  8 calls → in_progress
//   S  mostly short calls (24 of 28 answered calls talk 2 s) → engagement poor or very_poor
//   D  answer rate drops in the last 24h (70 % over the prior 6 days in the CDRs → 25 % in the sipp traffic),
//      against DC, the same history with a steady 24h (71 %): D's connection and score are lower.
//
// The sipp run is kept short: every leg starts all its calls within a few seconds (-r 40, no call limit
// below the leg's size) and the longest talk is 15 s. Processes are killed in finally; waits are bounded.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const DAY = 86_400_000;

const H = '+12025550121';
const B = '+12025550122';
const C = '+12025550123';
const I = '+12025550124';
const S = '+12025550125';
const D = '+12025550126';
const DC = '+12025550127';

type Carrier = 'att' | 'verizon' | 'tmobile';
const PREFIX: Record<Carrier, string> = { att: '+1212555', verizon: '+1310555', tmobile: '+1415555' };
const TRUNK: Record<Carrier, string> = { att: 'att-trunk', verizon: 'vz-trunk', tmobile: 'tmo-trunk' };

interface Call {
  caller: string;
  called: string;
  attest: 'A' | 'B' | 'C';
}

let seq = 0;
/** n calls from `caller` to fresh called numbers on `carrier` (carrier resolved by the prefix map). */
function to(caller: string, carrier: Carrier, n: number, attest: Call['attest'] = 'A'): Call[] {
  return Array.from({ length: n }, () => ({ caller, called: `${PREFIX[carrier]}${String(2000 + seq++).padStart(4, '0')}`, attest }));
}

/** Interleave the lists the way a dialler spreads its numbers over time. */
function mix(...lists: Call[][]): Call[] {
  const out: Call[] = [];
  const max = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < max; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

interface Leg {
  name: string;
  uac: string;
  uas: string;
  keys?: string[];
  /** The UAC's -d pause: talk time for answered calls. */
  talkMs?: number;
  calls: Call[];
}

const PLAIN = ['-key', 'hdr', 'X-Numrep: plain'];

const LEGS: Leg[] = [
  {
    name: 'answered-15s',
    uac: 'uac-answer.xml',
    uas: 'uas-answer.xml',
    talkMs: 15_000,
    calls: mix(
      to(H, 'att', 10), to(H, 'verizon', 10), to(H, 'tmobile', 10, 'B'),
      to(B, 'tmobile', 8),
      to(C, 'att', 20), to(C, 'verizon', 4), to(C, 'tmobile', 8),
      to(I, 'att', 4), to(I, 'verizon', 4),
      to(S, 'att', 2), to(S, 'tmobile', 2),
      to(D, 'att', 2), to(D, 'verizon', 2), to(D, 'tmobile', 2),
      to(DC, 'att', 6), to(DC, 'verizon', 6), to(DC, 'tmobile', 5),
    ),
  },
  {
    name: 'answered-2s',
    uac: 'uac-answer.xml',
    uas: 'uas-answer.xml',
    talkMs: 2_000,
    calls: mix(to(S, 'att', 8), to(S, 'verizon', 8), to(S, 'tmobile', 8)),
  },
  {
    name: 'cancel-487',
    uac: 'uac-cancel.xml',
    uas: 'uas-ring-cancel.xml',
    calls: mix(to(C, 'tmobile', 16), to(H, 'att', 2)),
  },
  {
    name: 'block-608',
    uac: 'uac-reject.xml',
    uas: 'uas-reject-608.xml',
    keys: ['-key', 'reason', 'Rejected', '-key', 'hdr', 'Call-Info: <https://redress.hiya.example/report?id=42>;purpose=jwt'],
    calls: to(B, 'att', 12),
  },
  {
    name: 'block-603plus',
    uac: 'uac-reject.xml',
    uas: 'uas-reject-603.xml',
    keys: ['-key', 'reason', 'Network Blocked', '-key', 'hdr', 'Reason: SIP;cause=603;text="v=analytics1;url=https://redress.tns.example/dispute"'],
    calls: to(B, 'verizon', 12),
  },
  {
    name: 'noanswer-480',
    uac: 'acceptance-uac-noanswer.xml',
    uas: 'acceptance-uas-noanswer-480.xml',
    keys: PLAIN,
    calls: mix(to(D, 'att', 6), to(D, 'verizon', 6), to(D, 'tmobile', 6), to(H, 'verizon', 2), to(H, 'tmobile', 2), to(DC, 'att', 2), to(DC, 'verizon', 3), to(DC, 'tmobile', 2)),
  },
];

/** One sipp UAS + UAC pair on loopback; resolves to the UAC's -trace_msg file. Both are killed in finally. */
async function runLeg(dir: string, leg: Leg): Promise<string> {
  const inf = join(dir, `calls-${leg.name}.csv`);
  writeFileSync(inf, 'SEQUENTIAL\n' + leg.calls.map((c) => `${c.caller};${c.called};Identity;${passport(c.attest, c.caller, c.called)}\n`).join(''));
  const trace = join(dir, `trace_${leg.name}.log`);
  const n = String(leg.calls.length);
  const uasPort = await freeUdpPort();
  const uacPort = await freeUdpPort();
  let uas: SippProcess | undefined;
  let uac: SippProcess | undefined;
  try {
    uas = sipp(['-sf', join(SCENARIOS, leg.uas), '-i', '127.0.0.1', '-p', String(uasPort), '-m', n, '-timeout', '75s', ...(leg.keys ?? [])], dir);
    await waitUdpBound(uasPort, uas, 20_000);
    uac = sipp(
      [
        '-sf', join(SCENARIOS, leg.uac), `127.0.0.1:${uasPort}`,
        '-i', '127.0.0.1', '-p', String(uacPort),
        '-m', n, '-r', '40', '-l', String(leg.calls.length),
        '-inf', inf,
        '-d', String(leg.talkMs ?? 0),
        '-trace_msg', '-message_file', trace,
        '-timeout', '60s', '-timeout_error',
      ],
      dir,
    );
    const code = await exitOf(uac, 75_000);
    if (code !== 0) throw new Error(`sipp UAC ${leg.name} exited ${code}: ${uac.log()}\nUAS: ${uas.log()}`);
    return trace;
  } finally {
    kill(uac);
    kill(uas);
  }
}

// ---------- six days of older history: Asterisk cdr_csv Master.csv (18 columns, usegmtime) ----------

type HistOutcome = 'ANSWERED' | 'NO ANSWER' | 'BUSY';
const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

function masterCsv(now: number): { text: string; calls: Record<string, { calls: number; answered: number }> } {
  const rows: { ts: number; line: string }[] = [];
  const calls: Record<string, { calls: number; answered: number }> = {};
  const carriers: Carrier[] = ['att', 'verizon', 'tmobile'];
  let uid = 0;
  // n calls spread evenly from 6.75 to 1.25 days before now (the prior 6 days, none in the last 24h).
  const history = (caller: string, n: number, pattern: HistOutcome[]) => {
    calls[caller] ??= { calls: 0, answered: 0 };
    for (let i = 0; i < n; i++) {
      const ts = Math.floor((now - 6.75 * DAY + (i + 0.5) * ((5.5 * DAY) / n) + (caller.charCodeAt(11) % 7) * 97_000) / 1000) * 1000;
      const carrier = carriers[(i + caller.charCodeAt(11)) % 3]!;
      const disp = pattern[i % pattern.length]!;
      const talk = disp === 'ANSWERED' ? 40 + ((i * 37) % 160) : 0;
      const ring = disp === 'ANSWERED' ? 6 : disp === 'BUSY' ? 2 : 30;
      const called = `${PREFIX[carrier]}${String(7000 + uid).padStart(4, '0')}`.slice(1); // Asterisk writes dst without '+'
      const src = caller.slice(2); // national format: the reader normalises it to E.164
      const id = uid++;
      calls[caller].calls++;
      if (disp === 'ANSWERED') calls[caller].answered++;
      const line = [
        q(''), q(src), q(called), q('outbound-dialer'), q(`"Acme Reminders" <${src}>`),
        q(`Local/${called}@outbound-${(0x2a + id).toString(16).padStart(8, '0')};2`), q(`SIP/${TRUNK[carrier]}-${(0x63a + id).toString(16).padStart(8, '0')}`),
        q('Dial'), q(`SIP/${TRUNK[carrier]}/${called},45,tT`),
        q(wall(ts)), disp === 'ANSWERED' ? q(wall(ts + ring * 1000)) : '', q(wall(ts + (ring + talk) * 1000)),
        String(ring + talk), String(talk), q(disp), q('DOCUMENTATION'), q(`${ts / 1000}.${id}`), q(''),
      ].join(',');
      rows.push({ ts, line });
    }
  };
  // 60 % answered, 35 % no answer, 5 % busy.
  const steady: HistOutcome[] = ['ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'BUSY',
    'ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'NO ANSWER'];
  // 70 % answered.
  const good: HistOutcome[] = ['ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED', 'ANSWERED', 'NO ANSWER', 'ANSWERED'];
  history(H, 48, steady);
  history(D, 60, good);
  history(DC, 60, good);
  rows.sort((a, b) => a.ts - b.ts);
  return { text: rows.map((r) => r.line).join('\r\n') + '\r\n', calls };
}

// ---------- the report ----------

interface Kpis {
  calls: number;
  answered: number;
  answer_ratio: number | null;
  cancel_ratio: number | null;
  block_ratio: number | null;
  short_call_ratio: number | null;
  avg_talk_seconds: number | null;
}
interface NumberJson {
  number: string;
  status: string;
  score: number;
  subscores: Record<string, number>;
  ratings: Record<string, string>;
  recommendation: { action: string; reason: string; until: string | null };
  windows: Record<'24h' | '7d', Kpis>;
  carriers: Record<string, { flag: string; reason: string; '24h': Kpis; '7d': Kpis }>;
}

function report(args: string[]): Promise<{ numbers: NumberJson[]; evaluated_at: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'report', '--json', ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`numrep report failed: ${err.message}\n${stderr}`));
      else {
        try {
          resolve(JSON.parse(stdout));
        } catch (e) {
          reject(new Error(`numrep report printed no JSON: ${(e as Error).message}\n${stdout.slice(0, 500)}\n${stderr}`));
        }
      }
    });
  });
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
function describeNumber(n: NumberJson): string {
  const w = n.windows;
  const car = Object.entries(n.carriers)
    .map(([c, v]) => `${c}:${v.flag}(${v['7d']?.calls ?? 0} calls)`)
    .join(' ');
  return (
    `${n.number} status=${n.status} score=${n.score} action=${n.recommendation.action} ` +
    `subscores=${JSON.stringify(n.subscores)} ratings=${JSON.stringify(n.ratings)} ` +
    `24h: ${w['24h'].calls} calls, answer ${pct(w['24h'].answer_ratio)}, 487 ${pct(w['24h'].cancel_ratio)}, block ${pct(w['24h'].block_ratio)}, short ${pct(w['24h'].short_call_ratio)}; ` +
    `7d: ${w['7d'].calls} calls, answer ${pct(w['7d'].answer_ratio)}; carriers ${car}; reason: ${n.recommendation.reason}`
  );
}

describe('issue 4 acceptance: reputation on real sipp traffic and real-format CDRs', () => {
  let dir = '';
  let numbers = new Map<string, NumberJson>();
  let history: ReturnType<typeof masterCsv>['calls'] = {};
  const get = (n: string): NumberJson => {
    const v = numbers.get(n);
    if (!v) throw new Error(`${n} missing from the report (numbers: ${[...numbers.keys()].join(', ')})`);
    return v;
  };
  const why = (n: string) => describeNumber(get(n));

  beforeAll(async () => {
    expect(existsSync(CLI), 'build the exporter first (npm run build -w @numrep/exporter)').toBe(true);
    dir = tmp('numrep-acceptance-sipp-');
    const t0 = Date.now();
    // allSettled: every pair has finished (or been killed) before a failure is reported and the dir removed.
    const legs = await Promise.allSettled(LEGS.map((l) => runLeg(dir, l)));
    const failed = legs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const traces = legs.map((r) => (r as PromiseFulfilledResult<string>).value);
    const sippSec = (Date.now() - t0) / 1000;
    const cdr = masterCsv(t0);
    history = cdr.calls;
    writeFileSync(join(dir, 'Master.csv'), cdr.text);
    writeFileSync(join(dir, 'prefix-map.csv'), 'prefix,carrier\n' + Object.entries(PREFIX).map(([c, p]) => `${p.slice(0, 5)},${c}`).join('\n') + '\n');
    writeFileSync(join(dir, 'trunk-map.csv'), 'trunk,carrier\n' + Object.entries(TRUNK).map(([c, t]) => `${t},${c}`).join('\n') + '\n');
    const json = await report(['--prefix-map', join(dir, 'prefix-map.csv'), '--trunk-map', join(dir, 'trunk-map.csv'), ...traces, join(dir, 'Master.csv')]);
    numbers = new Map(json.numbers.map((n) => [n.number, n]));
    console.log(
      `[sipp acceptance] sipp ran ${LEGS.reduce((s, l) => s + l.calls.length, 0)} calls in ${sippSec.toFixed(1)} s; report evaluated at ${json.evaluated_at}\n  ` +
        [H, B, C, I, S, D, DC].filter((n) => numbers.has(n)).map(why).join('\n  '),
    );
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every sipp call and every CDR row (no call lost, none rejected)', () => {
    const planned = new Map<string, number>();
    for (const l of LEGS) for (const c of l.calls) planned.set(c.caller, (planned.get(c.caller) ?? 0) + 1);
    for (const [n, count] of planned) {
      expect(get(n).windows['24h'].calls, why(n)).toBe(count);
      expect(get(n).windows['7d'].calls, why(n)).toBe(count + (history[n]?.calls ?? 0));
    }
  });

  it('a plainly healthy number is healthy with keep', () => {
    const h = get(H);
    expect(h.windows['24h'].answer_ratio!, why(H)).toBeGreaterThan(0.8);
    expect(h.windows['24h'].short_call_ratio, why(H)).toBe(0); // 15 s talks
    expect(h.status, why(H)).toBe('healthy');
    expect(h.recommendation.action, why(H)).toBe('keep');
  });

  it('a number blocked by two carriers (608 on att, 603+ on verizon) is spam, scores below 50 and is not kept', () => {
    const b = get(B);
    expect(b.carriers.att!['24h'].block_ratio, why(B)).toBe(1);
    expect(b.carriers.verizon!['24h'].block_ratio, why(B)).toBe(1);
    expect(b.carriers.att!.flag, why(B)).toBe('flagged');
    expect(b.carriers.verizon!.flag, why(B)).toBe('flagged');
    expect(b.status, why(B)).toBe('spam');
    expect(b.score, why(B)).toBeLessThan(50);
    expect(b.recommendation.action, why(B)).not.toBe('keep');
  });

  it('a number whose 487s spike on one carrier only is warning/flagged there, clean elsewhere, and not healthy', () => {
    const c = get(C);
    expect(c.carriers.tmobile!['24h'].cancel_ratio!, why(C)).toBeCloseTo(16 / 24, 6);
    expect(['warning', 'flagged'], why(C)).toContain(c.carriers.tmobile!.flag);
    expect(c.carriers.att!.flag, why(C)).toBe('clean');
    expect(c.carriers.verizon!.flag, why(C)).toBe('clean');
    expect(c.status, why(C)).not.toBe('healthy');
  });

  it('a number with 8 calls is in_progress', () => {
    const i = get(I);
    expect(i.windows['7d'].calls, why(I)).toBe(8);
    expect(i.status, why(I)).toBe('in_progress');
  });

  it('a drop in answer rate in the last 24h lowers connection and score (against the same history without the drop)', () => {
    const d = get(D);
    const dc = get(DC);
    // Same six days before (CDRs), same 24 calls in the last 24h (sipp): only the 24h answer rate differs.
    expect(history[D]).toEqual(history[DC]);
    expect(d.windows['24h'].calls).toBe(dc.windows['24h'].calls);
    const prior = (n: NumberJson) => (n.windows['7d'].answered - n.windows['24h'].answered) / (n.windows['7d'].calls - n.windows['24h'].calls);
    expect(prior(d), why(D)).toBeCloseTo(0.7, 6);
    expect(d.windows['24h'].answer_ratio!, why(D)).toBeLessThan(prior(d) - 0.1); // more than 10 points: a drop
    expect(dc.windows['24h'].answer_ratio!, why(DC)).toBeGreaterThanOrEqual(prior(dc) - 0.05); // steady
    expect(d.subscores.connection, `${why(D)}\n${why(DC)}`).toBeLessThan(dc.subscores.connection);
    expect(d.score, `${why(D)}\n${why(DC)}`).toBeLessThan(dc.score);
  });

  it('mostly short calls rate engagement poor or very poor', () => {
    const s = get(S);
    expect(s.windows['24h'].short_call_ratio!, why(S)).toBeGreaterThan(0.5);
    expect(['poor', 'very_poor'], why(S)).toContain(s.ratings.engagement);
  });
});

// Held-out traffic for the early-warning acceptance test (issue 16). Written from the description
// before any tuning, independent of the simulator in src/sim/ (no code or constant shared with it). Every
// magnitude is listed in docs/early-warning.md ("The held-out acceptance model") with where it comes from.
//
// 60 healthy numbers and 20 degrading ones dial consumers on three carriers for 21 days (7 days of history,
// then the 14 days that are evaluated). A healthy number's answer propensity is its own (lists differ) and
// moves from day to day; one day is a pool-wide holiday. A degrading number's consumers on ONE carrier answer
// less, let it ring out, decline and hang up fast for the 72 h before that carrier starts blocking it, and the
// carrier then blocks every call.

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The model's magnitudes (docs/early-warning.md states each and its source). */
export const HELDOUT = {
  historyDays: 7,
  evaluatedDays: 14,
  healthyNumbers: 60,
  degradingNumbers: 20,
  /** Calls per number per day (issue: 40–70). */
  dailyCalls: [40, 70] as const,
  /** Saturday volume share; no calls on Sunday. */
  saturday: 0.5,
  /** Terminating carriers and their share of the consumers dialled. */
  carriers: [
    { id: 'att', name: 'AT&T', share: 0.38, block: { code: 608, reason: 'Rejected' } },
    { id: 'verizon', name: 'Verizon', share: 0.35, block: { code: 603, reason: 'Network Blocked' } },
    { id: 'tmobile', name: 'T-Mobile', share: 0.27, block: { code: 603, reason: 'Network Blocked' } },
  ] as const,
  /** Per-number answer rate (share of calls a person answers); REFERENCE: > 40 % healthy, 25–40 % watch. */
  answerRate: [0.3, 0.55] as const,
  /** Day-to-day multiplicative noise on a number's answer rate (standard deviation). */
  dailyNoise: 0.1,
  voicemail: 0.12,
  busy: 0.03,
  /** 603/607 declines; REFERENCE: rejection < 5 % normal. */
  decline: 0.03,
  failed: 0.02,
  /** Of the calls nobody answered and that did not fail otherwise: share the dialer gave up on (487). */
  ringOutShare: 0.45,
  /** Answered calls shorter than 10 s; REFERENCE: above 15 % reads as low trust. */
  shortShare: 0.07,
  /** The pool-wide holiday: evaluated day 8 (a Tuesday); everyone answers less and fewer calls are made. */
  holiday: { day: 7 + 8, answerFactor: 0.55, volumeFactor: 0.7 },
  /** Degradation for the 72 h before the first block on the carrier (a step, as the issue describes). */
  degraded: {
    hours: 72,
    /** Answer rate falls this many points (REFERENCE: a drop of > 10 points signals reputation). */
    answerDropPoints: 0.15,
    /** Of the answers lost: rings out (487), or declined (603/607); the rest are not distinguishable (480). */
    lostToRingOut: 0.5,
    lostToDecline: 0.3,
    /** Short calls among the answered (REFERENCE: > 15 % reads as low trust). */
    shortShare: 0.25,
  },
  /** First block between these evaluated days (so the 72 h before it and a day of blocks are evaluated). */
  blockDay: [4, 12] as const,
} as const;

export interface HeldoutNumber {
  number: string;
  degrading: boolean;
  /** Degrading numbers: the carrier that degrades, then blocks. */
  carrier: string | null;
  /** Degrading numbers: first block (UTC ms). */
  blockAt: number | null;
  /** The number's own answer rate (before day-to-day noise). */
  answerRate: number;
}

export interface HeldoutTraffic {
  start: number;
  /** First evaluated instant (after the history). */
  evalStart: number;
  end: number;
  numbers: HeldoutNumber[];
  csv: string;
}

/** A small seeded generator of our own (xorshift128+ style via splitmix32). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const poisson = (l: number) => {
    // Normal approximation above 30 (hourly means here are below 10).
    if (l > 30) return Math.max(0, Math.round(l + Math.sqrt(l) * normal()));
    const L = Math.exp(-l);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= next();
    } while (p > L);
    return k - 1;
  };
  return { next, normal, poisson, uniform: (a: number, b: number) => a + (b - a) * next() };
}

/** Local business hours 09–20 (UTC−5), weighted flat: the hour's share of a day's calls. */
function hourShare(t: number): number {
  const local = new Date(t - 5 * HOUR);
  const h = local.getUTCHours();
  const dow = local.getUTCDay();
  const day = dow === 0 ? 0 : dow === 6 ? HELDOUT.saturday : 1;
  return h >= 9 && h < 20 ? day / 11 : 0;
}

type Outcome = 'long' | 'short' | 'voicemail' | 'ringout' | 'noanswer' | 'busy' | 'decline' | 'failed' | 'blocked';

export function heldoutTraffic(seed: number, start = Date.parse('2026-09-07T05:00:00Z')): HeldoutTraffic {
  const M = HELDOUT;
  const r = rng(seed * 7919 + 17);
  const evalStart = start + M.historyDays * DAY;
  const end = evalStart + M.evaluatedDays * DAY;
  const total = M.healthyNumbers + M.degradingNumbers;
  const numbers: Array<HeldoutNumber & { daily: number; answer: number }> = [];
  for (let i = 0; i < total; i++) {
    const degrading = i % 4 === 3; // 20 of 80, spread over the pool
    let carrier: string | null = null;
    let blockAt: number | null = null;
    if (degrading) {
      let x = r.next();
      carrier = M.carriers.find((c) => (x -= c.share) < 0)?.id ?? M.carriers[0].id;
      // A block starts in local business hours on the chosen day.
      blockAt = evalStart + Math.floor(r.uniform(M.blockDay[0], M.blockDay[1])) * DAY + Math.floor(r.uniform(5, 13)) * HOUR;
    }
    numbers.push({
      number: `+1312555${String(2000 + i).padStart(4, '0')}`,
      degrading,
      carrier,
      blockAt,
      daily: r.uniform(M.dailyCalls[0], M.dailyCalls[1]),
      answer: r.uniform(M.answerRate[0], M.answerRate[1]),
      answerRate: 0,
    });
    numbers[numbers.length - 1]!.answerRate = numbers[numbers.length - 1]!.answer;
  }
  const rows: Array<[number, string]> = [];
  const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const n of numbers) {
    let dayNoise = 1;
    for (let t = start; t < end; t += HOUR) {
      const day = Math.floor((t - start) / DAY);
      if ((t - start) % DAY === 0) dayNoise = Math.max(0.5, 1 + M.dailyNoise * r.normal());
      const holiday = day === M.holiday.day;
      const calls = r.poisson(n.daily * hourShare(t) * (holiday ? M.holiday.volumeFactor : 1));
      for (let k = 0; k < calls; k++) {
        const ts = t + Math.floor(r.next() * HOUR);
        let x = r.next();
        const car = M.carriers.find((c) => (x -= c.share) < 0) ?? M.carriers[M.carriers.length - 1];
        const onCarrier = n.degrading && car.id === n.carrier && n.blockAt !== null;
        const blocked = onCarrier && ts >= n.blockAt!;
        const degraded = onCarrier && !blocked && ts >= n.blockAt! - M.degraded.hours * HOUR;
        let answer = Math.min(0.8, n.answer * dayNoise * (holiday ? M.holiday.answerFactor : 1));
        let ringout = 0;
        let decline = M.decline;
        let shortShare = M.shortShare;
        if (degraded) {
          const lost = Math.min(answer, M.degraded.answerDropPoints);
          answer -= lost;
          ringout = lost * M.degraded.lostToRingOut;
          decline += lost * M.degraded.lostToDecline;
          shortShare = M.degraded.shortShare;
        }
        let outcome: Outcome;
        if (blocked) outcome = 'blocked';
        else {
          const u = r.next();
          const rest = Math.max(0, 1 - answer - M.voicemail - M.busy - decline - M.failed - ringout);
          const cuts: Array<[Outcome, number]> = [
            ['long', answer],
            ['voicemail', M.voicemail],
            ['busy', M.busy],
            ['decline', decline],
            ['failed', M.failed],
            ['ringout', ringout + rest * M.ringOutShare],
            ['noanswer', rest * (1 - M.ringOutShare)],
          ];
          let acc = 0;
          outcome = 'noanswer';
          for (const [o, p] of cuts) {
            acc += p;
            if (u < acc) {
              outcome = o;
              break;
            }
          }
          if (outcome === 'long' && r.next() < shortShare) outcome = 'short';
        }
        const called = `+1${['212', '646', '917', '415'][Math.floor(r.next() * 4)]}555${String(Math.floor(r.next() * 10000)).padStart(4, '0')}`;
        const ring = 3 + Math.floor(r.next() * 15);
        let answerAt = '';
        let endAt = ts + ring * 1000;
        let billsec = 0;
        let code = 480;
        let reason = 'Temporarily Unavailable';
        switch (outcome) {
          case 'long':
          case 'short':
          case 'voicemail':
            billsec = outcome === 'short' ? 1 + Math.floor(r.next() * 8) : outcome === 'voicemail' ? 20 + Math.floor(r.next() * 20) : 15 + Math.floor(r.next() * 300);
            answerAt = iso(ts + ring * 1000);
            endAt = ts + (ring + billsec) * 1000;
            code = 200;
            reason = 'OK';
            break;
          case 'ringout':
            code = 487;
            reason = 'Request Terminated';
            endAt = ts + 30_000;
            break;
          case 'busy':
            code = 486;
            reason = 'Busy Here';
            break;
          case 'decline':
            code = r.next() < 0.8 ? 603 : 607;
            reason = code === 603 ? 'Decline' : 'Unwanted';
            break;
          case 'failed':
            code = 503;
            reason = 'Service Unavailable';
            break;
          case 'blocked':
            code = car.block.code;
            reason = car.block.reason;
            endAt = ts + 500;
            break;
          default:
            break;
        }
        const amd = outcome === 'voicemail' ? 'MACHINE' : '';
        rows.push([ts, [n.number, called, iso(ts), answerAt, iso(endAt), String(billsec), String(code), reason, car.name, amd].join(',')]);
      }
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  const csv = ['caller,called,start,answer,end,billsec,sip_code,reason,carrier,amd', ...rows.map((x) => x[1])].join('\n') + '\n';
  return { start, evalStart, end, numbers: numbers.map(({ number, degrading, carrier, blockAt, answer }) => ({ number, degrading, carrier, blockAt, answerRate: answer })), csv };
}

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/sim/demo.js';
import { tmp } from '../core/helpers.js';

// Acceptance for `numrep report`: realistic Asterisk, FreeSWITCH and Kamailio files are written from a
// ground-truth list of calls; the expected KPIs are computed from that list with plain loops (no exporter
// code), and the report's JSON must match for every number, window and carrier.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const AT = Date.parse('2026-11-20T17:30:00Z');
const H = 3_600_000;
type Outcome = 'answered' | 'voicemail' | 'cancelled' | 'no_answer' | 'busy' | 'rejected' | 'blocked' | 'failed';
const OUTCOMES: Outcome[] = ['answered', 'voicemail', 'cancelled', 'no_answer', 'busy', 'rejected', 'blocked', 'failed'];

interface Truth {
  ts: number;
  caller: string;
  called: string;
  carrier: string;
  outcome: Outcome;
  talk: number;
  format: 'asterisk' | 'freeswitch' | 'kamailio';
}

const CALLERS = ['+12025550101', '+12025550102', '+12025550103', '+12025550104'];
// prefix map: the carrier of a called number when no trunk says otherwise
const PREFIXES: [string, string][] = [['+1312', 'verizon'], ['+1415', 'tmobile'], ['+1646', 'att']];
const TRUNKS: [string, string][] = [['att-trunk', 'att'], ['vz-gw', 'verizon'], ['sip.att.example', 'att'], ['sip.tmo.example', 'tmobile']];

function generate(n: number, seed: number): Truth[] {
  const rand = mulberry32(seed);
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const out: Truth[] = [];
  for (let i = 0; i < n; i++) {
    const format = pick(['asterisk', 'freeswitch', 'kamailio'] as const);
    // mostly inside 8 days before --at, some after it (must be left out)
    const ts = Math.floor((AT - 8 * 24 * H + rand() * (8 * 24 * H + 2 * H)) / 1000) * 1000;
    const prefix = pick([...PREFIXES.map((p) => p[0]), '+1713']);
    const called = `${prefix}555${String(Math.floor(rand() * 10000)).padStart(4, '0')}`;
    const viaPrefix = PREFIXES.find((p) => called.startsWith(p[0]))?.[1] ?? 'unknown';
    let outcome: Outcome;
    let carrier = viaPrefix;
    let talk = 0;
    if (format === 'asterisk') outcome = pick(['answered', 'answered', 'no_answer', 'busy', 'failed'] as const);
    else if (format === 'freeswitch') outcome = pick(['answered', 'answered', 'cancelled', 'rejected', 'busy', 'no_answer', 'failed'] as const);
    else outcome = pick(['answered', 'answered', 'cancelled', 'rejected', 'blocked', 'blocked', 'busy', 'no_answer', 'failed'] as const);
    if (outcome === 'answered') talk = rand() < 0.2 ? 1 + Math.floor(rand() * 9) : 10 + Math.floor(rand() * 300);
    // trunks override the prefix for some calls
    if (format === 'asterisk' && rand() < 0.6) carrier = pick(['att', 'verizon']);
    if (format === 'kamailio' && rand() < 0.7) carrier = pick(['att', 'tmobile']);
    out.push({ ts, caller: pick(CALLERS), called, carrier, outcome, talk, format });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

function asterisk(calls: Truth[]): string {
  const disp: Partial<Record<Outcome, string>> = { answered: 'ANSWERED', no_answer: 'NO ANSWER', busy: 'BUSY', failed: 'FAILED' };
  return calls
    .map((c, i) => {
      const ring = 5_000;
      const answer = c.outcome === 'answered' ? q(wall(c.ts + ring)) : '';
      const end = c.ts + ring + c.talk * 1000;
      const trunk = c.carrier === 'att' ? 'SIP/att-trunk' : c.carrier === 'verizon' ? 'SIP/vz-gw' : '';
      // calls whose carrier came from the prefix map leave on a trunk the map does not know
      const dstchannel = trunk && !PREFIXES.some((p) => c.called.startsWith(p[0]) && p[1] === c.carrier) ? `${trunk}-${(i + 0x1000).toString(16)}` : `SIP/pstn-${(i + 0x1000).toString(16)}`;
      const src = c.caller.slice(2); // national format: normalised to E.164 by the reader
      const clid = `"Collections" <${src}>`;
      return [q(''), q(src), q(c.called.slice(1)), q('outbound'), q(clid), q(`SIP/agent${i % 7}-${(i + 0x2000).toString(16)}`), q(dstchannel), q('Dial'),
        q(`SIP/${c.called.slice(1)}@trunk,60`), q(wall(c.ts)), answer, q(wall(end)), String(Math.round((end - c.ts) / 1000)), String(c.talk),
        q(disp[c.outcome]!), q('DOCUMENTATION'), q(`${c.ts / 1000}.${i}`), q(i % 5 === 0 ? 'campaign "fall", batch 3' : '')].join(',');
    })
    .join('\n') + '\n';
}

function freeswitch(calls: Truth[]): string {
  const cause: Partial<Record<Outcome, string>> = { answered: 'NORMAL_CLEARING', cancelled: 'ORIGINATOR_CANCEL', rejected: 'CALL_REJECTED', busy: 'USER_BUSY', no_answer: 'NO_ANSWER', failed: 'UNALLOCATED_NUMBER' };
  return calls
    .map((c, i) => {
      const answered = c.outcome === 'answered';
      const ring = 4_000;
      const end = c.ts + ring + c.talk * 1000;
      return [q('Outbound Call'), q(c.caller), q(c.called), q('default'), q(wall(c.ts)), q(answered ? wall(c.ts + ring) : ''), q(wall(end)),
        q(String(Math.round((end - c.ts) / 1000))), q(String(c.talk)), q(cause[c.outcome]!), q(`a1b2c3d4-${i}`), q(''), q('')].join(',');
    })
    .join('\n') + '\n';
}

function kamailio(calls: Truth[]): string {
  const lines: [number, string][] = [];
  const reason: Partial<Record<Outcome, [number, string]>> = {
    cancelled: [487, 'Request Terminated'], rejected: [603, 'Decline'], busy: [486, 'Busy Here'], no_answer: [480, 'Temporarily Unavailable'], failed: [404, 'Not Found'],
  };
  calls.forEach((c, i) => {
    const domain = c.carrier === 'att' && !PREFIXES.some((p) => c.called.startsWith(p[0]) && p[1] === 'att') ? 'sip.att.example'
      : c.carrier === 'tmobile' && !c.called.startsWith('+1415') ? 'sip.tmo.example' : 'pstn.example';
    const extra = (dstUser: string) => `src_user=${c.caller};src_domain=pbx.example;src_ip=10.0.0.5;dst_ouser=${dstUser};dst_user=${dstUser};dst_domain=${domain}`;
    const head = (t: number) => `${new Date(t).toUTCString().slice(8, 11)} ${String(new Date(t).getUTCDate()).padStart(2, ' ')} ${new Date(t).toISOString().slice(11, 19)} sbc1 /usr/sbin/kamailio[10814]: NOTICE: acc [acc.c:287]: acc_log_request(): `;
    const callId = `${(i * 7919).toString(36)}-${i}@10.0.0.5`;
    if (c.outcome === 'answered') {
      lines.push([c.ts, `${head(c.ts)}ACC: transaction answered: timestamp=${c.ts / 1000};method=INVITE;from_tag=f${i};to_tag=t${i};call_id=${callId};code=200;reason=OK;${extra(c.called)}`]);
      const bye = c.ts + c.talk * 1000;
      lines.push([bye + 1, `${head(bye)}ACC: transaction answered: timestamp=${bye / 1000};method=BYE;from_tag=f${i};to_tag=t${i};call_id=${callId};code=200;reason=OK;${extra('')}`]);
    } else if (c.outcome === 'blocked') {
      const [code, why] = i % 2 ? [608, 'Rejected'] : [603, 'Network Blocked'];
      lines.push([c.ts, `${head(c.ts)}ACC: call missed: timestamp=${c.ts / 1000};method=INVITE;from_tag=f${i};to_tag=t${i};call_id=${callId};code=${code};reason=${why};${extra(c.called)}`]);
    } else {
      const [code, why] = reason[c.outcome]!;
      lines.push([c.ts, `${head(c.ts)}ACC: call missed: timestamp=${c.ts / 1000};method=INVITE;from_tag=f${i};to_tag=t${i};call_id=${callId};code=${code};reason=${why};${extra(c.called)}`]);
    }
  });
  return lines.sort((a, b) => a[0] - b[0]).map((l) => l[1]).join('\n') + '\n';
}

/** Hand computation of docs/architecture.md#kpis, straight from the ground truth. */
function expected(calls: Truth[], widthMs: number) {
  const inWindow = calls.filter((c) => c.ts > AT - widthMs && c.ts <= AT);
  const kpis = (cs: Truth[]) => {
    const count = (o: Outcome) => cs.filter((c) => c.outcome === o).length;
    const n = cs.length;
    const answered = cs.filter((c) => c.outcome === 'answered');
    const r = (x: number, d: number) => (d === 0 ? null : x / d);
    return {
      calls: n,
      answered: answered.length,
      answer_ratio: r(answered.length, n),
      cancel_ratio: r(count('cancelled'), n),
      rejection_ratio: r(count('rejected') + count('busy'), n),
      block_ratio: r(count('blocked'), n),
      voicemail_ratio: r(count('voicemail'), n),
      short_call_ratio: r(answered.filter((c) => c.talk < 10).length, answered.length),
      avg_talk_seconds: r(answered.reduce((s, c) => s + c.talk, 0), answered.length),
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, count(o)])),
    };
  };
  const byNumber = new Map<string, Truth[]>();
  const byPair = new Map<string, Truth[]>();
  const byCarrier = new Map<string, Truth[]>();
  for (const c of inWindow) {
    byNumber.set(c.caller, [...(byNumber.get(c.caller) ?? []), c]);
    byPair.set(`${c.caller} ${c.carrier}`, [...(byPair.get(`${c.caller} ${c.carrier}`) ?? []), c]);
    byCarrier.set(c.carrier, [...(byCarrier.get(c.carrier) ?? []), c]);
  }
  return { kpis, byNumber, byPair, byCarrier };
}

function close(actual: unknown, want: unknown, path: string): void {
  if (typeof want === 'number' && typeof actual === 'number') {
    expect(actual, path).toBeCloseTo(want, 9);
  } else if (want && typeof want === 'object') {
    for (const [k, v] of Object.entries(want)) close((actual as Record<string, unknown>)?.[k], v, `${path}.${k}`);
  } else expect(actual, path).toEqual(want);
}

describe('numrep report reproduces hand-computed KPIs', () => {
  it('on Asterisk + FreeSWITCH + Kamailio files with trunk and prefix maps, at --at', () => {
    const dir = tmp();
    const calls = generate(3000, 42);
    writeFileSync(join(dir, 'Master.csv'), asterisk(calls.filter((c) => c.format === 'asterisk')));
    writeFileSync(join(dir, 'freeswitch.csv'), freeswitch(calls.filter((c) => c.format === 'freeswitch')));
    writeFileSync(join(dir, 'kamailio-acc.log'), kamailio(calls.filter((c) => c.format === 'kamailio')));
    writeFileSync(join(dir, 'prefix-map.csv'), 'prefix,carrier\n' + PREFIXES.map((p) => p.join(',')).join('\n') + '\n');
    writeFileSync(join(dir, 'trunk-map.csv'), 'trunk,carrier\n' + TRUNKS.map((p) => p.join(',')).join('\n') + '\n');
    const out = execFileSync(process.execPath, [CLI, 'report', '--json', '--at', '2026-11-20T17:30:00Z',
      '--prefix-map', join(dir, 'prefix-map.csv'), '--trunk-map', join(dir, 'trunk-map.csv'),
      join(dir, 'Master.csv'), join(dir, 'freeswitch.csv'), join(dir, 'kamailio-acc.log')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const json = JSON.parse(out);
    expect(json.evaluated_at).toBe('2026-11-20T17:30:00Z');
    for (const [win, width] of [['24h', 24 * H], ['7d', 7 * 24 * H]] as const) {
      const e = expected(calls, width);
      for (const caller of CALLERS) {
        const n = json.numbers.find((x: { number: string }) => x.number === caller);
        close(n.windows[win], e.kpis(e.byNumber.get(caller) ?? []), `${caller}.${win}`);
        for (const carrier of ['att', 'verizon', 'tmobile', 'unknown']) {
          const want = e.byPair.get(`${caller} ${carrier}`) ?? [];
          const got = n.carriers[carrier]?.[win];
          if (want.length === 0) expect(got?.calls ?? 0, `${caller}.${carrier}.${win}`).toBe(0);
          else close(got, e.kpis(want), `${caller}.${carrier}.${win}`);
        }
      }
      for (const [carrier, cs] of e.byCarrier) {
        const c = json.carriers.find((x: { carrier: string }) => x.carrier === carrier);
        close(c[win], e.kpis(cs), `carrier ${carrier}.${win}`);
      }
    }
    // the consumer numbers never leave the exporter
    for (const c of calls.slice(0, 200)) expect(out).not.toContain(c.called);
  });
});

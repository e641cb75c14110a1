import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/sim/demo.js';
import { createReader } from '../../src/ingest/formats/index.js';
import { dispositionInText, dispositionMap, dispositionOf } from '../../src/model/disposition.js';
import { tmp } from '../core/helpers.js';

// The dialer's dispositions (model/disposition.ts): read from a generic `result` column and the Asterisk userfield,
// counted per number, pool and campaign; the report's conversion and abandoned ratios must equal a plain loop over
// the calls written.

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const AT = Date.parse('2026-11-20T17:30:00Z');
const H = 3_600_000;
const CALLERS = ['+12025550101', '+12025550102', '+12025550103', '+12025550104'];
const POOL: Record<string, string> = { '+12025550101': 'collections', '+12025550102': 'collections', '+12025550103': 'sales' };
const CAMPAIGN: Record<string, string> = { '+12025550101': 'early', '+12025550102': 'late', '+12025550103': 'late' };
type Category = 'conversion' | 'connected_human' | 'abandoned' | null;
const VALUES: [string, Category][] = [
  ['SALE', 'conversion'], ['Promise to pay', 'conversion'], ['NI', 'connected_human'], ['HUMAN', 'connected_human'],
  ['DNC', 'connected_human'], ['ABANDON', 'abandoned'], ['drop', 'abandoned'], ['AM', null], ['', null], ['NOANSWER', null],
];

interface Truth {
  ts: number;
  caller: string;
  called: string;
  value: string;
  category: Category;
  format: 'generic' | 'asterisk';
}

function generate(n: number, seed: number): Truth[] {
  const rand = mulberry32(seed);
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const out: Truth[] = [];
  for (let i = 0; i < n; i++) {
    const [value, category] = pick(VALUES);
    // Distinct seconds: the same caller, consumer and second would be one call.
    const ts = Math.floor((AT - 8 * 24 * H + rand() * 8.05 * 24 * H) / 1000) * 1000 + (i % 1000);
    out.push({ ts, caller: pick(CALLERS), called: `+1312555${String(1000 + i).slice(-4)}`, value, category, format: rand() < 0.5 ? 'generic' : 'asterisk' });
  }
  return out;
}

const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const q = (v: string) => `"${v.replace(/"/g, '""')}"`;

function asteriskRow(t: Truth, i: number): string {
  const answered = t.category !== null;
  // A bare value now and then (never an AMD word: HUMAN alone is machine detection), else a RESULT= pair.
  const userfield = i % 3 === 0 && t.value !== 'HUMAN' ? t.value : `AMDSTATUS=HUMAN;RESULT=${t.value}`;
  return [q(''), q(t.caller), q(t.called), q('from-dialer'), q(`"Agent" <${t.caller}>`), q('SIP/101-0000'), q(`SIP/att-trunk-${i}`), q('Dial'), q(''),
    q(wall(t.ts)), answered ? q(wall(t.ts)) : '', q(wall(t.ts + 60_000)), answered ? '60' : '0', answered ? '60' : '0', q(answered ? 'ANSWERED' : 'NO ANSWER'),
    q('DOCUMENTATION'), q(`${t.ts / 1000}.${i}`), q(t.value === '' ? '' : userfield)].join(',');
}

interface Figures {
  connected_human: number;
  conversions: number;
  abandoned: number;
  conversion_ratio: number | null;
  abandoned_ratio: number | null;
}

/** The plain loop: per key and window, the categories counted. */
function expected(truth: Truth[], keyOf: (t: Truth) => string | undefined): Map<string, Partial<Record<'24h' | '7d', Figures>>> {
  const out = new Map<string, Partial<Record<'24h' | '7d', Figures>>>();
  for (const [w, width] of [['24h', 24 * H], ['7d', 7 * 24 * H]] as const) {
    const counts = new Map<string, { human: number; conv: number; ab: number }>();
    for (const t of truth) {
      const k = keyOf(t);
      if (k === undefined || t.ts <= AT - width || t.ts > AT) continue;
      const c = counts.get(k) ?? { human: 0, conv: 0, ab: 0 };
      counts.set(k, c);
      if (t.category === 'conversion') {
        c.human++;
        c.conv++;
      } else if (t.category === 'connected_human') c.human++;
      else if (t.category === 'abandoned') c.ab++;
    }
    for (const [k, c] of counts) {
      if (c.human + c.ab === 0) continue;
      const e = out.get(k) ?? {};
      out.set(k, e);
      e[w] = { connected_human: c.human, conversions: c.conv, abandoned: c.ab, conversion_ratio: c.human > 0 ? c.conv / c.human : null, abandoned_ratio: c.ab / (c.human + c.ab) };
    }
  }
  return out;
}

describe('dialer dispositions', () => {
  it('values and free-text fields map to the three categories; config adds values', () => {
    expect(dispositionOf('Sale')).toBe('conversion');
    expect(dispositionOf('not-interested')).toBe('connected_human');
    expect(dispositionOf('ABANDON')).toBe('abandoned');
    expect(dispositionOf('AM')).toBeUndefined();
    expect(dispositionInText('AMDSTATUS=HUMAN;AMDCAUSE=HUMAN-1000;RESULT=SALE')).toBe('conversion');
    expect(dispositionInText('AMDSTATUS=MACHINE')).toBeUndefined();
    expect(dispositionInText('dispo:DROP')).toBe('abandoned');
    expect(dispositionInText('PTP')).toBe('conversion');
    // AMD's words alone in a userfield are machine detection, not the dialer's result; in a result column they count.
    expect(dispositionInText('HUMAN')).toBeUndefined();
    expect(dispositionInText('RESULT=HUMAN')).toBe('connected_human');
    expect(dispositionOf('HUMAN')).toBe('connected_human');
    const m = dispositionMap({ conversion: ['Payment Plan'], abandoned: ['NI'] });
    expect(dispositionOf('PAYMENT_PLAN', m)).toBe('conversion');
    expect(dispositionOf('ni', m)).toBe('abandoned');
  });

  it('FreeSWITCH: a dialer_result variable in a custom template', () => {
    const r = createReader('freeswitch', { defaultCountryCode: '1', timezone: 'UTC', template: ['caller_id_number', 'destination_number', 'start_epoch', 'answer_epoch', 'end_epoch', 'billsec', 'hangup_cause', 'dialer_result'] });
    const out = r.parseLine('"+12025550101","+13125551234","1790000000","1790000005","1790000065","60","NORMAL_CLEARING","SALE"', { file: 'x', line: 1 });
    expect(out.kind === 'records' && out.records[0].disposition).toBe('conversion');
    const none = r.parseLine('"+12025550101","+13125551234","1790000000","0","1790000020","0","NO_ANSWER",""', { file: 'x', line: 2 });
    expect(none.kind === 'records' && none.records[0].disposition).toBeUndefined();
  });

  it('Asterisk: the byte fast path reads the userfield as parseLine does', () => {
    const r = createReader('asterisk', { defaultCountryCode: '1', timezone: 'UTC' });
    for (const [i, t] of generate(40, 5).entries()) {
      const row = asteriskRow({ ...t, format: 'asterisk' }, i);
      const slow = r.parseLine(row, { file: 'x', line: i + 1 });
      const fast = r.parseBytes!(Buffer.from(row), 0, row.length, true);
      const want = t.category ?? undefined;
      expect(slow.kind === 'records' && slow.records[0].disposition).toBe(want);
      if (fast !== null && fast !== 'skip') expect(fast.disposition).toBe(want);
    }
  });

  it('report --json: conversion and abandoned ratios per number, pool and campaign equal the plain loop', () => {
    const dir = tmp('numrep-dispositions-');
    const truth = generate(600, 20261120);
    const generic = truth.filter((t) => t.format === 'generic');
    writeFileSync(join(dir, 'dialer.csv'), ['caller,called,start,billsec,disposition,dialer_result',
      ...generic.map((t) => [t.caller, t.called, new Date(t.ts).toISOString(), t.category ? 60 : 0, t.category ? 'answered' : 'no_answer', t.value].join(','))].join('\n') + '\n');
    writeFileSync(join(dir, 'Master.csv'), truth.filter((t) => t.format === 'asterisk').map((t, i) => asteriskRow(t, i)).join('\n') + '\n');
    const inventory = join(dir, 'inventory.csv');
    writeFileSync(inventory, 'number,pool,campaign,registered\n' + Object.keys(POOL).map((n) => `${n},${POOL[n]},${CAMPAIGN[n]},yes`).join('\n') + '\n');
    const stdout = execFileSync(process.execPath, [CLI, 'report', '--json', '--at', new Date(AT).toISOString(), '--inventory', inventory, join(dir, 'dialer.csv'), join(dir, 'Master.csv')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const json = JSON.parse(stdout) as {
      numbers: { number: string; dispositions?: Record<string, Figures> }[];
      pools: { pool: string; dispositions?: Record<string, Figures> }[];
      campaigns: { campaign: string; dispositions: Record<string, Figures>; abandoned_limit: number; over_abandoned_limit: boolean }[];
    };
    const near = (got: unknown, want: unknown) => expect(JSON.parse(JSON.stringify(got))).toEqual(JSON.parse(JSON.stringify(want)));
    const perNumber = expected(truth, (t) => t.caller);
    expect(perNumber.size).toBe(4);
    for (const n of json.numbers) near(n.dispositions, perNumber.get(n.number));
    const perPool = expected(truth, (t) => POOL[t.caller] ?? 'default');
    expect(json.pools.map((p) => p.pool)).toEqual(['collections', 'default', 'sales']);
    for (const p of json.pools) near(p.dispositions, perPool.get(p.pool));
    const perCampaign = expected(truth, (t) => CAMPAIGN[t.caller]);
    expect(json.campaigns.map((c) => c.campaign)).toEqual(['early', 'late']);
    for (const c of json.campaigns) {
      near(c.dispositions, perCampaign.get(c.campaign));
      expect(c.abandoned_limit).toBe(0.03);
      expect(c.over_abandoned_limit).toBe(perCampaign.get(c.campaign)!['7d']!.abandoned_ratio! > 0.03);
    }
  });
});

describe('report --explain', () => {
  it('names the number\'s fatigue and dispositions, and the reason names the consumers over the cap', () => {
    const dir = tmp('numrep-explain-');
    const rows = ['caller,called,start,billsec,disposition,dialer_result'];
    for (let k = 0; k < 5; k++) rows.push(`+12025550101,+13125550142,2026-11-20T0${k}:00:00Z,40,answered,${k === 4 ? 'SALE' : 'NI'}`);
    writeFileSync(join(dir, 'calls.csv'), rows.join('\n') + '\n');
    const out = execFileSync(process.execPath, [CLI, 'report', '--explain', '+12025550101', join(dir, 'calls.csv')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('1 consumer called more than 3 times in 24h (2 calls over the cap): recipient fatigue, dial them less');
    expect(out).toContain('fatigue 24h: 1 consumers, repeat dials 80.0%, 1 over the 3/24h cap (2 calls beyond it)');
    expect(out).toContain('dispositions 7d: 5 reached a person, 1 converted (20.0%), 0 abandoned (0.0%)');
    expect(out).not.toContain('3125550142');
  });
});

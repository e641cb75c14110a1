import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CarrierResolver,
  MapFileError,
  carrierId,
  loadPrefixMap,
  parsePrefixMap,
  parseTrunkMap,
  peerFromChannel,
  trunkCandidates,
} from '../../src/model/carrier.js';

describe('peerFromChannel', () => {
  it.each([
    ['SIP/att-trunk-0000063a', 'att-trunk'],
    ['PJSIP/att-0001', 'att'],
    ['PJSIP/verizon-00000011', 'verizon'],
    ['IAX2/verizon-4242', 'verizon'],
    ['SIP/tmo-gw', 'tmo-gw'],
    ['Local/+12125550142@outbound-0000002a;2', '+12125550142@outbound'],
    ['att-trunk', 'att-trunk'],
  ])('%s → %s', (ch, want) => expect(peerFromChannel(ch)).toBe(want));
});

describe('trunkCandidates', () => {
  it('tries the value, the channel peer, the URI host, the host without port', () => {
    expect(trunkCandidates('SIP/att-trunk-0000063a')).toEqual(['sip/att-trunk-0000063a', 'att-trunk']);
    expect(trunkCandidates('sip:+12125550142@198.51.100.20:5060;transport=udp')).toEqual([
      'sip:+12125550142@198.51.100.20:5060;transport=udp',
      '198.51.100.20:5060',
      '198.51.100.20',
    ]);
    expect(trunkCandidates('att.sip.example.net')).toEqual(['att.sip.example.net']);
  });
});

describe('carrierId', () => {
  it.each([
    ['AT&T', 'att'], ['T-Mobile', 'tmobile'], ['Verizon Wireless', 'verizon'], [' Verizon ', 'verizon'],
    ['US Cellular', 'us_cellular'], ['tmobile', 'tmobile'], ['&&', ''],
  ])('%s → %s', (v, want) => expect(carrierId(v)).toBe(want));
});

describe('map files', () => {
  it('parses a trunk map with header, comments, CRLF and quotes', () => {
    const m = parseTrunkMap('trunk,carrier\r\n# peers\r\natt-trunk,AT&T\r\n"gw,1",Verizon\r\n\r\n');
    expect([...m]).toEqual([['att-trunk', 'att'], ['gw,1', 'verizon']]);
  });
  it('parses a prefix map in either spelling', () => {
    const m = parsePrefixMap('prefix,carrier\n+1212,att\n1310,verizon\n+1 (415),tmobile\n');
    expect([...m]).toEqual([['1212', 'att'], ['1310', 'verizon'], ['1415', 'tmobile']]);
  });
  it('names file, line and reason on errors', () => {
    const cases: Array<[string, RegExp]> = [
      ['prefix,carrier\n+1212,att,extra\n', /f\.csv:2: expected 2 columns/],
      ['+12x2,att\n', /f\.csv:1: prefix "\+12x2" is not digits/],
      ['+1212,\n', /f\.csv:1: empty carrier/],
      ['+1212,att\n1212,verizon\n', /f\.csv:2: prefix "1212" already mapped to "att"/],
      ['"+1212,att\n', /f\.csv:1: unterminated/],
    ];
    for (const [text, re] of cases) {
      expect(() => parsePrefixMap(text, 'f.csv')).toThrow(re);
      try {
        parsePrefixMap(text, 'f.csv');
      } catch (e) {
        expect(e).toBeInstanceOf(MapFileError);
      }
    }
    expect(() => parseTrunkMap(',att\n', 't.csv')).toThrow(/t\.csv:1: empty trunk/);
    expect(() => loadPrefixMap('/nonexistent/prefix-map.csv')).toThrow(/prefix-map\.csv: cannot read/);
  });
  it('loads files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'numrep-carrier-'));
    writeFileSync(join(dir, 'p.csv'), 'prefix,carrier\n+1212,att\n');
    writeFileSync(join(dir, 't.csv'), 'trunk,carrier\nvz-gw,verizon\n');
    const r = CarrierResolver.fromFiles({ prefixMap: join(dir, 'p.csv'), trunkMap: join(dir, 't.csv') });
    expect(r.resolve({ called: '+12125550142', trunk: 'vz-gw' })).toBe('verizon');
    expect(r.resolve({ called: '+12125550142' })).toBe('att');
  });
});

describe('CarrierResolver', () => {
  const r = new CarrierResolver({
    trunks: { 'att-trunk': 'att', '198.51.100.20': 'verizon', 'tmo.sip.example.net': 'tmobile' },
    prefixes: { '+1212': 'att', '1310': 'verizon', '+1212555': 'tmobile', '1415': 'tmobile' },
  });
  it('explicit carrier first', () => expect(r.resolve({ carrier: 'Verizon', trunk: 'SIP/att-trunk-0001', called: '+12125550142' })).toBe('verizon'));
  it('then trunk (channel peer, host:port, domain)', () => {
    expect(r.resolve({ trunk: 'SIP/att-trunk-0000063a', called: '+13105550100' })).toBe('att');
    expect(r.resolve({ trunk: '198.51.100.20:5060', called: '+12125550100' })).toBe('verizon');
    expect(r.resolve({ trunk: 'TMO.SIP.EXAMPLE.NET', called: '+12125550100' })).toBe('tmobile');
  });
  it('then the longest prefix', () => {
    expect(r.resolve({ called: '+12125550142' })).toBe('tmobile');
    expect(r.resolve({ called: '+12129990142' })).toBe('att');
    expect(r.resolve({ trunk: 'unknown-gw', called: '+13105550142' })).toBe('verizon');
  });
  it('else unknown', () => {
    expect(r.resolve({ called: '+16175550100' })).toBe('unknown');
    expect(new CarrierResolver().resolve({ called: '+12125550142', trunk: 'x' })).toBe('unknown');
  });
  it('blank explicit carrier falls through', () => expect(r.resolve({ carrier: '  ', called: '+13105550100' })).toBe('verizon'));
  it('toRecord drops the trunk and sets the carrier', () => {
    const rec = r.toRecord({ ts: 1, caller: '+12025550101', called: '+13105550100', outcome: 'answered', talkSec: 5, attestation: 'A', source: 'x', trunk: 'att-trunk' });
    expect(rec).toEqual({ ts: 1, caller: '+12025550101', called: '+13105550100', outcome: 'answered', talkSec: 5, attestation: 'A', source: 'x', carrier: 'att' });
  });
});

describe('CarrierResolver caches give what a fresh resolver gives', () => {
  it('for channels with per-call suffixes, peers that look alike, and exact suffixed map keys', () => {
    const maps = [
      { 'att-trunk': 'att', verizon: 'verizon', 'tmo-gw': 'tmobile', 'sip/odd-peer': 'att', 'att-trunk-00ab': 'verizon' },
      { 'att-trunk': 'att', 'SIP/att-trunk-0000063a': 'verizon' }, // a map key that itself carries a suffix
    ];
    const peer = fc.constantFrom('SIP/att-trunk', 'PJSIP/verizon', 'SIP/tmo-gw', 'SIP/odd-peer', 'SIP/att-trunk-00ab', 'IAX2/att-trunk', 'Local/x@y', 'att-trunk');
    const suffix = fc.constantFrom('', '-0000063a', '-00000011', '-0001;2', '-1', '-zz', '-123456789', ';2');
    for (const trunks of maps) {
      const cached = new CarrierResolver({ trunks });
      fc.assert(
        fc.property(fc.array(fc.tuple(peer, suffix), { minLength: 1, maxLength: 60 }), (calls) => {
          for (const [p, s] of calls) expect(cached.byTrunk(p + s), p + s).toBe(new CarrierResolver({ trunks }).byTrunk(p + s));
        }),
        { numRuns: 300 },
      );
    }
  });
});

import { describe, expect, it } from 'vitest';
import { directionOf, parseDirection, trunkTaught, type DirectionContext, type DirectionFacts } from '../../src/classify/direction.js';
import type { RawCall } from '../../src/model/types.js';
import { normalizePhone } from '../../src/model/phone.js';
import { CarrierResolver } from '../../src/model/carrier.js';

// Every direction rule, first that applies, with the examples docs/formats.md gives. A row is built the
// way the readers build it: numbers in E.164, anything else kept as text.

function row(caller: string, called: string, hints: Partial<RawCall> = {}): RawCall {
  const r: RawCall = { ts: 0, caller: '', called: '', outcome: 'answered', talkSec: 0, attestation: 'none', source: 'asterisk', ...hints };
  const a = normalizePhone(caller, '1');
  if (a.ok) r.caller = a.e164;
  else r.callerText = caller;
  const b = normalizePhone(called, '1');
  if (b.ok) r.called = b.e164;
  else r.calledText = called;
  return r;
}

function facts(r: RawCall): DirectionFacts {
  const kind = (e164: string, text?: string) => (e164 !== '' ? 'number' : (normalizePhone(text ?? '', '1') as { kind: DirectionFacts['callerKind'] }).kind);
  return { caller: r.caller, callerKind: kind(r.caller, r.callerText), calledKind: kind(r.called, r.calledText) };
}

const dir = (r: RawCall, ctx: DirectionContext = {}) => directionOf(r, facts(r), ctx);

const trunks = new CarrierResolver({ trunks: { 'att-trunk': 'att', verizon: 'verizon' } });
const withTrunks: DirectionContext = { isTrunk: (t) => trunks.isTrunk(t) };
const ours = new Set(['+12025550101', '+12025550102']);
const withInventory: DirectionContext = { isOurs: (n) => ours.has(n) };

describe('direction rules, first that applies', () => {
  it('1 field: a direction column or variable wins over everything else', () => {
    expect(dir(row('+13105551234', '+12025550101', { direction: 'outbound', context: 'from-trunk' }), withInventory)).toEqual({ direction: 'outbound', rule: 'field' });
    expect(dir(row('+12025550101', '+13105551234', { direction: 'inbound' }), withInventory)).toEqual({ direction: 'inbound', rule: 'field' });
  });

  it('parses the direction words switches and exports write', () => {
    for (const w of ['inbound', 'IN', 'Incoming', 'received', 'trunking-terminating']) expect(parseDirection(w)).toBe('inbound');
    for (const w of ['outbound', 'OUT', 'Outgoing', 'outbound-api', 'outbound-dial', 'Outgoing Dial', 'trunking-originating']) expect(parseDirection(w)).toBe('outbound');
    for (const w of ['internal', 'Local', 'INTERNAL']) expect(parseDirection(w)).toBe('internal');
    for (const w of ['', 'DIAL', 'ANSWERED', undefined]) expect(parseDirection(w)).toBeUndefined();
  });

  it('2 inventory: our caller → outbound, our called number → inbound, both → internal', () => {
    expect(dir(row('+12025550101', '+13105551234'), withInventory)).toEqual({ direction: 'outbound', rule: 'inventory' });
    expect(dir(row('+13105551234', '+12025550101'), withInventory)).toEqual({ direction: 'inbound', rule: 'inventory' });
    expect(dir(row('+12025550101', '+12025550102'), withInventory)).toEqual({ direction: 'internal', rule: 'inventory' });
    // Neither ours: the next rules decide.
    expect(dir(row('+13105551234', '+14155550000'), withInventory).rule).toBe('shape');
  });

  it('3 trunk map: in on a known trunk → inbound (even when it leaves on another: a forward); out on one → outbound', () => {
    expect(dir(row('+13105551234', '+12025550101', { inTrunk: 'SIP/att-trunk-0000063a', outChannel: 'SIP/101-00000001', trunk: 'SIP/101-00000001' }), withTrunks)).toEqual({ direction: 'inbound', rule: 'trunk_map' });
    expect(dir(row('+13105551234', '+19175550000', { inTrunk: 'SIP/att-trunk-0000063a', outChannel: 'PJSIP/verizon-00000002', trunk: 'PJSIP/verizon-00000002' }), withTrunks)).toEqual({ direction: 'inbound', rule: 'trunk_map' });
    expect(dir(row('+12025550101', '+13105551234', { inTrunk: 'Local/+13105551234@out-0000002a;2', outChannel: 'PJSIP/verizon-00000600', trunk: 'PJSIP/verizon-00000600' }), withTrunks)).toEqual({ direction: 'outbound', rule: 'trunk_map' });
    // A FreeSWITCH gateway or Kamailio domain is a trunk too (no channel it came in on).
    expect(dir(row('+12025550101', '+13105551234', { trunk: 'verizon', source: 'freeswitch' }), withTrunks)).toEqual({ direction: 'outbound', rule: 'trunk_map' });
  });

  it('3 learned trunks: without a trunk map, a call in on the trunk the phones dial out on is inbound', () => {
    const out = row('1115', '2485261900', { inTrunk: 'PJSIP/1115-00000001', outChannel: 'PJSIP/VIOrig-00000002', trunk: 'PJSIP/VIOrig-00000002' });
    expect(trunkTaught(out, 'number')).toBe('viorig');
    const learnedTrunks = new Set(['viorig']);
    expect(dir(row('+13022662555', '+12484363600', { inTrunk: 'PJSIP/VIOrig-0000000e', context: 'VIOrig' }), { learnedTrunks })).toEqual({ direction: 'inbound', rule: 'trunk_map' });
    // An internal call teaches nothing; neither does a call to a Local channel.
    expect(trunkTaught(row('1101', '1115', { inTrunk: 'PJSIP/1101-00000015', outChannel: 'PJSIP/1115-00000016' }), 'extension')).toBeNull();
    expect(trunkTaught(row('1115', '2485261900', { inTrunk: 'PJSIP/1115-00000001', outChannel: 'Local/1142@stasis-dial-00000003;1' }), 'number')).toBeNull();
  });

  it('4 context: contexts that name where a call came from are inbound; the way out is not', () => {
    for (const context of ['from-trunk', 'from-pstn', 'from-did-direct', 'ext-did-0001', 'ext-did', 'stadion-pstn', 'from-external', 'incoming', 'public', 'from-pstn-route1']) {
      expect(dir(row('+13105551234', '+12025550101', { context, source: 'freeswitch' }))).toEqual({ direction: 'inbound', rule: 'context' });
    }
    for (const context of ['from-internal', 'macro-dialout-trunk', 'outbound-allroutes', 'default', 'from-dialer', 'outbound-route-4']) {
      expect(dir(row('+12025550101', '+13105551234', { context })).rule).not.toBe('context');
    }
  });

  it('5 channel: a call from a phone went out (or stayed in); a call that reached a phone from elsewhere came in', () => {
    expect(dir(row('101', '+13105551234', { inTrunk: 'SIP/101-0000063b', outChannel: 'SIP/provider-0000063c' }))).toEqual({ direction: 'outbound', rule: 'channel' });
    expect(dir(row('101', '102', { inTrunk: 'SIP/101-0000063b', outChannel: 'SIP/102-0000063c' }))).toEqual({ direction: 'internal', rule: 'channel' });
    expect(dir(row('+13105551234', '+12025550101', { inTrunk: 'SIP/provider-0000063a', outChannel: 'SIP/101-0000063b' }))).toEqual({ direction: 'inbound', rule: 'channel' });
    // An endpoint named by its caller ID (SIP/123654987 calling as 123654987) is a phone.
    expect(dir(row('123654987', '+18105881377', { inTrunk: 'SIP/123654987-00000000', outChannel: 'SIP/sipus1-00000001' }))).toEqual({ direction: 'outbound', rule: 'channel' });
  });

  it('6 shape: the ends themselves', () => {
    expect(dir(row('101', '102'))).toEqual({ direction: 'internal', rule: 'shape' });
    expect(dir(row('101', '*97'))).toEqual({ direction: 'internal', rule: 'shape' });
    expect(dir(row('s', 'h'))).toEqual({ direction: 'internal', rule: 'shape' });
    expect(dir(row('+13105551234', 's'))).toEqual({ direction: 'inbound', rule: 'shape' });
    expect(dir(row('anonymous', '7001'))).toEqual({ direction: 'inbound', rule: 'shape' });
    expect(dir(row('+12025550101', '+13105551234'))).toEqual({ direction: 'outbound', rule: 'shape' });
    expect(dir(row('101', '+13105551234'))).toEqual({ direction: 'outbound', rule: 'shape' });
  });
});

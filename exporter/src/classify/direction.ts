// Which way a row's call went, first rule that applies (docs/formats.md, "Classification"):
//
//  1. field      the row says so: a direction column (inbound/outbound/internal, in/out,
//                incoming/outgoing, local), FreeSWITCH call_direction, a Kamailio log_extra key,
//                a SIP log's sent INVITEs.
//  2. inventory  the caller is one of our numbers → outbound; the called number is → inbound
//                (both → internal).
//  3. trunk_map  the call came in on a known trunk (Asterisk channel, Kamailio src_ip) → inbound;
//                it left on one (Asterisk dstchannel, FreeSWITCH gateway, Kamailio dst_domain) → outbound.
//                Without a trunk map, the trunks the switch's own outbound calls use (a phone's call to
//                an outside number bridged to SIP/provider-…) are learned from the same file, and a call
//                that came in on one of them is inbound.
//  4. context    switch conventions: Asterisk/FreePBX contexts that name a trunk, the PSTN, a DID or
//                incoming calls (from-trunk, from-pstn, from-did-direct, ext-did-0001, stadion-pstn) but
//                not the way out (macro-dialout-trunk); FreeSWITCH context `public` → inbound.
//  5. channel    Asterisk channels: a call from a phone (SIP/101-…, a numbered peer) went out or
//                stayed inside; a call that reached a phone from anything else came in.
//  6. shape      the ends themselves: both extensions, short codes or dialplan names → internal;
//                an outside number calling an extension or `s` → inbound; a call to an outside
//                number → outbound.

import type { Direction, RawCall } from '../model/types.js';
import type { PartyKind } from '../model/phone.js';
import { peerFromChannel } from '../model/carrier.js';

export type DirectionRule = 'field' | 'inventory' | 'trunk_map' | 'context' | 'channel' | 'shape';

export interface DirectionFacts {
  /** What the caller and called fields hold (after the caller map: an extension mapped to a DID is a number). */
  callerKind: PartyKind;
  calledKind: PartyKind;
  /** E.164 of the presented caller, or '' when it is not a number. */
  caller: string;
}

export interface DirectionContext {
  /** Is this E.164 number ours (in the inventory)? Absent when there is no inventory. */
  isOurs?(number: string): boolean;
  /** Is this trunk value (channel, gateway, host) in the trunk map? Absent without a trunk map. */
  isTrunk?(trunk: string): boolean;
  /** Channel peers seen carrying a phone's calls out (learnTrunk): trunks, when there is no trunk map. */
  learnedTrunks?: ReadonlySet<string>;
}

/**
 * The peer of the channel a phone's call to an outside number left on (`PJSIP/VIOrig-00000002` → `viorig`),
 * or null: what `learnedTrunks` is built from.
 */
export function trunkTaught(row: RawCall, calledKind: PartyKind): string | null {
  if (calledKind !== 'number' || !isPhoneChannel(row.inTrunk, row.callerText)) return null;
  const out = row.outChannel;
  if (!out || !out.includes('/') || isLocalChannel(out) || isPhoneChannel(out)) return null;
  return peerFromChannel(out);
}

// Dialplan contexts that name where a call came from: from-trunk, from-pstn, from-did-direct, ext-did-0001,
// stadion-pstn, incoming…; FreeSWITCH's `public`. Not when they name the way out (macro-dialout-trunk).
const INBOUND_CONTEXT = /(^|[-_])(pstn|trunk|did|incoming|inbound|external)([-_]|\d|$)|^public$/i;
const OUTBOUND_CONTEXT = /(^|[-_])(out|outbound|outgoing|dialout|dial)([-_]|\d|$)|dialout/i;

/** A direction word as switches and exports write it, or undefined. */
export function parseDirection(text: string | undefined): Direction | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if (/^(in|inbound|incoming|inc|received|terminating|trunking[-_ ]terminating)$/.test(t)) return 'inbound';
  if (/^(out|outbound|outgoing|outgoing[-_ ]?(api|dial)|outbound[-_ ](api|dial)|originating|trunking[-_ ]originating|placed|dialed|dialled)$/.test(t)) return 'outbound';
  if (/^(internal|local|intern|extension|ext|inside)$/.test(t)) return 'internal';
  return undefined;
}

/**
 * A phone channel: `SIP/101-0000abcd`, `PJSIP/2001-00000007` — a peer named by 1–6 digits, or by the
 * caller's own text (an endpoint whose name is its caller ID, `SIP/123654987-…` calling as 123654987).
 */
export function isPhoneChannel(channel: string | undefined, callerText?: string): boolean {
  if (channel === undefined) return false;
  const slash = channel.indexOf('/');
  if (slash < 0 || isLocalChannel(channel)) return false;
  // The peer: after the technology, up to the per-call suffix (`-0000abcd`, `;2`). Digits only, 1–6 of them?
  let i = slash + 1;
  while (i < channel.length && channel.charCodeAt(i) >= 48 && channel.charCodeAt(i) <= 57) i++;
  const digits = i - slash - 1;
  if (digits >= 1 && digits <= 6 && (i === channel.length || channel.charCodeAt(i) === 45 /* - */ || channel.charCodeAt(i) === 59 /* ; */)) {
    return peerFromChannel(channel).length === digits;
  }
  return callerText !== undefined && callerText !== '' && peerFromChannel(channel) === callerText.trim().toLowerCase();
}

function isLocalChannel(channel: string | undefined): boolean {
  return channel !== undefined && channel.length >= 6 && channel.charCodeAt(5) === 47 && /^local\//i.test(channel);
}

const NOT_A_NUMBER_INSIDE = (k: PartyKind) => k === 'extension' || k === 'service';

export interface DirectionDecision {
  readonly direction: Direction;
  readonly rule: DirectionRule;
}

const RULES: readonly DirectionRule[] = ['field', 'inventory', 'trunk_map', 'context', 'channel', 'shape'];
// Every decision is one of these eighteen: shared and frozen, so judging a row allocates nothing (a million rows a file).
const DECISIONS = Object.fromEntries(
  (['inbound', 'outbound', 'internal'] as const).map((direction) => [direction, Object.fromEntries(RULES.map((rule) => [rule, Object.freeze({ direction, rule })]))]),
) as Record<Direction, Record<DirectionRule, DirectionDecision>>;

function decided(direction: Direction, rule: DirectionRule): DirectionDecision {
  return DECISIONS[direction][rule];
}

/** The direction of a row and the rule that decided it. */
export function directionOf(row: RawCall, facts: DirectionFacts, ctx: DirectionContext): DirectionDecision {
  if (row.direction) return decided(row.direction, 'field');

  if (ctx.isOurs) {
    const callerOurs = facts.caller !== '' && ctx.isOurs(facts.caller);
    const calledOurs = row.called !== '' && ctx.isOurs(row.called);
    if (callerOurs && calledOurs) return decided('internal', 'inventory');
    if (callerOurs) return decided('outbound', 'inventory');
    if (calledOurs) return decided('inbound', 'inventory');
  }

  if (ctx.isTrunk) {
    // `trunk` is where the call left; when a reader only knew the channel it came in on, the two are the same value.
    // In from a trunk first: a call that came in on one and left on another is a forwarded inbound call (it presents the outside caller).
    if (row.inTrunk !== undefined && ctx.isTrunk(row.inTrunk)) return decided('inbound', 'trunk_map');
    const out = row.trunk !== undefined && row.trunk !== row.inTrunk ? row.trunk : undefined;
    if (out !== undefined && ctx.isTrunk(out)) return decided('outbound', 'trunk_map');
  }

  if (ctx.learnedTrunks && ctx.learnedTrunks.size > 0 && row.inTrunk && row.inTrunk.includes('/') && !isLocalChannel(row.inTrunk) && ctx.learnedTrunks.has(peerFromChannel(row.inTrunk))) {
    return decided('inbound', 'trunk_map');
  }

  if (row.context !== undefined && INBOUND_CONTEXT.test(row.context.trim()) && !OUTBOUND_CONTEXT.test(row.context)) return decided('inbound', 'context');

  if (row.inTrunk !== undefined) {
    if (isPhoneChannel(row.inTrunk, row.callerText)) {
      return decided(facts.calledKind === 'number' || facts.calledKind === 'invalid' ? 'outbound' : 'internal', 'channel');
    }
    if (isPhoneChannel(row.outChannel) && !isLocalChannel(row.inTrunk)) return decided('inbound', 'channel');
  }

  const { callerKind, calledKind } = facts;
  if (calledKind === 'number' || calledKind === 'invalid') return decided('outbound', 'shape');
  if (NOT_A_NUMBER_INSIDE(callerKind) && NOT_A_NUMBER_INSIDE(calledKind)) return decided('internal', 'shape');
  if (NOT_A_NUMBER_INSIDE(calledKind) || calledKind === 'anonymous') {
    // An outside (or withheld) number reaching an extension, `s` or an empty destination.
    return decided(callerKind === 'number' || callerKind === 'anonymous' || callerKind === 'invalid' ? 'inbound' : 'internal', 'shape');
  }
  return decided('outbound', 'shape');
}

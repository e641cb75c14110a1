// Every row of the docs/architecture.md#outcomes outcome table, per column.
import { describe, expect, it } from 'vitest';
import {
  blockEngineFrom,
  isMachine,
  outcomeFromAsterisk,
  outcomeFromDisposition,
  outcomeFromHangupCause,
  outcomeFromSip,
} from '../../src/model/outcome.js';
import type { Outcome } from '../../src/model/types.js';

describe('SIP column', () => {
  const rows: Array<[number, Parameters<typeof outcomeFromSip>[1], Outcome]> = [
    [200, undefined, 'answered'],
    [200, { amd: 'MACHINE' }, 'voicemail'],
    [200, { amd: 'HUMAN' }, 'answered'],
    [487, undefined, 'cancelled'],
    [480, undefined, 'no_answer'],
    [408, undefined, 'no_answer'],
    [486, undefined, 'busy'],
    [600, undefined, 'busy'],
    [603, undefined, 'rejected'],
    [603, { reasonPhrase: 'Decline' }, 'rejected'],
    [607, undefined, 'rejected'],
    [403, undefined, 'rejected'],
    [608, undefined, 'blocked'],
    [603, { reasonPhrase: 'Network Blocked' }, 'blocked'],
    [603, { reasonText: 'SIP;cause=603;text="v=analytics1;url=https://redress.hiya.com/r"' }, 'blocked'],
    [603, { reasonText: 'v=analytics1' }, 'blocked'],
    [404, undefined, 'failed'],
    [500, undefined, 'failed'],
    [502, undefined, 'failed'],
    [503, undefined, 'failed'],
    [504, undefined, 'failed'],
    [410, undefined, 'failed'],
    [484, undefined, 'failed'],
    [488, undefined, 'failed'],
    [302, undefined, 'failed'],
  ];
  for (const [code, detail, want] of rows) {
    it(`${code} ${JSON.stringify(detail ?? {})} → ${want}`, () => expect(outcomeFromSip(code, detail).outcome).toBe(want));
  }
  it('names the engine of a 603+ block', () => {
    expect(outcomeFromSip(603, { reasonText: 'SIP;cause=603;text="v=analytics1;url=https://redress.hiya.com/r"' }).blockEngine).toBe('redress.hiya.com');
    expect(outcomeFromSip(608, { reasonText: '<https://redress.firstorion.com/x>;purpose=jwscallinfo' }).blockEngine).toBe('redress.firstorion.com');
    expect(outcomeFromSip(608).blockEngine).toBeUndefined();
    expect(blockEngineFrom(undefined)).toBeUndefined();
  });
});

describe('FreeSWITCH hangup_cause column', () => {
  const rows: Array<[string, Parameters<typeof outcomeFromHangupCause>[1], Outcome]> = [
    ['NORMAL_CLEARING', { billsec: 82 }, 'answered'],
    ['NORMAL_CLEARING', { billsec: 0, answered: true }, 'answered'],
    ['NORMAL_CLEARING', { billsec: 0 }, 'failed'],
    ['NORMAL_CLEARING', { billsec: 20, amd: 'MACHINE' }, 'voicemail'],
    ['NORMAL_CLEARING', { billsec: 20, amd: 'true' }, 'voicemail'],
    ['ORIGINATOR_CANCEL', { billsec: 0 }, 'cancelled'],
    ['NO_ANSWER', { billsec: 0 }, 'no_answer'],
    ['NO_USER_RESPONSE', { billsec: 0 }, 'no_answer'],
    ['USER_BUSY', { billsec: 0 }, 'busy'],
    ['CALL_REJECTED', { billsec: 0 }, 'rejected'],
    ['UNALLOCATED_NUMBER', { billsec: 0 }, 'failed'],
    ['NORMAL_TEMPORARY_FAILURE', { billsec: 0 }, 'failed'],
    ['RECOVERY_ON_TIMER_EXPIRE', { billsec: 0 }, 'failed'],
    ['DESTINATION_OUT_OF_ORDER', { billsec: 0 }, 'failed'],
    // billsec > 0 means answered whatever ended the call
    ['ALLOTTED_TIMEOUT', { billsec: 3600, answered: true }, 'answered'],
    ['MEDIA_TIMEOUT', { billsec: 45, answered: true, amd: 'MACHINE' }, 'voicemail'],
    // sip_term_status wins, and carries the SIP column's blocked rows
    ['CALL_REJECTED', { billsec: 0, sipTermStatus: 608 }, 'blocked'],
    ['CALL_REJECTED', { billsec: 0, sipTermStatus: 603, reasonPhrase: 'Network Blocked' }, 'blocked'],
    ['CALL_REJECTED', { billsec: 0, sipTermStatus: 603 }, 'rejected'],
    ['CALL_REJECTED', { billsec: 0, sipTermStatus: 607 }, 'rejected'],
    ['NORMAL_CLEARING', { billsec: 30, sipTermStatus: 200, amd: 'MACHINE' }, 'voicemail'],
    ['ORIGINATOR_CANCEL', { billsec: 0, sipTermStatus: 487 }, 'cancelled'],
    // sip_hangup_disposition=send_cancel: we cancelled
    ['NORMAL_CLEARING', { billsec: 0, sipHangupDisposition: 'send_cancel' }, 'cancelled'],
  ];
  for (const [cause, d, want] of rows) {
    it(`${cause} ${JSON.stringify(d)} → ${want}`, () => expect(outcomeFromHangupCause(cause, d)?.outcome).toBe(want));
  }
  it('refuses a value that is not a cause name', () => {
    expect(outcomeFromHangupCause('', { billsec: 0 })).toBeNull();
    expect(outcomeFromHangupCause('hung up?', { billsec: 0 })).toBeNull();
  });
});

describe('Asterisk disposition column', () => {
  const rows: Array<[string, string | undefined, Outcome]> = [
    ['ANSWERED', undefined, 'answered'],
    ['ANSWERED', 'MACHINE', 'voicemail'],
    ['ANSWERED', 'AMDSTATUS=MACHINE;AMDCAUSE=LONGGREETING-1500-1500', 'voicemail'],
    ['ANSWERED', 'AMDSTATUS=HUMAN', 'answered'],
    ['ANSWERED', 'campaign 7', 'answered'],
    ['NO ANSWER', undefined, 'no_answer'],
    ['BUSY', undefined, 'busy'],
    ['FAILED', undefined, 'failed'],
    ['CONGESTION', undefined, 'failed'],
  ];
  for (const [disp, amd, want] of rows) {
    it(`${disp} ${amd ?? ''} → ${want}`, () => expect(outcomeFromAsterisk(disp, amd)?.outcome).toBe(want));
  }
  it('refuses anything else', () => expect(outcomeFromAsterisk('MAYBE')).toBeNull());
});

describe('generic dispositions', () => {
  const rows: Array<[string, Outcome]> = [
    ['answered', 'answered'], ['voicemail', 'voicemail'], ['cancelled', 'cancelled'], ['canceled', 'cancelled'],
    ['no_answer', 'no_answer'], ['No Answer', 'no_answer'], ['busy', 'busy'], ['rejected', 'rejected'],
    ['blocked', 'blocked'], ['failed', 'failed'], ['CONGESTION', 'failed'], ['ORIGINATOR_CANCEL', 'cancelled'],
    ['USER_BUSY', 'busy'],
  ];
  for (const [v, want] of rows) it(`${v} → ${want}`, () => expect(outcomeFromDisposition(v, 10)?.outcome).toBe(want));
  it('answered + AMD machine is voicemail', () => expect(outcomeFromDisposition('answered', 10, 'yes')?.outcome).toBe('voicemail'));
  it('refuses free text', () => expect(outcomeFromDisposition('left a note', 0)).toBeNull());
});

describe('isMachine', () => {
  it.each(['MACHINE', 'machine', 'TRUE', 'voicemail', 'yes', '1', 'AMDSTATUS=MACHINE'])('%s is a machine', (v) => expect(isMachine(v)).toBe(true));
  it.each(['HUMAN', 'NOTSURE', 'HANGUP', 'false', '', undefined, '0', 'no'])('%s is not', (v) => expect(isMachine(v)).toBe(false));
});

describe('dispositions of exports', () => {
  it('final states of CPaaS exports map to outcomes; states that are not final are no outcome', async () => {
    const { outcomeFromDisposition } = await import('../../src/model/outcome.js');
    expect(outcomeFromDisposition('completed', 30)?.outcome).toBe('answered');
    expect(outcomeFromDisposition('no-answer', 0)?.outcome).toBe('no_answer');
    expect(outcomeFromDisposition('canceled', 0)?.outcome).toBe('cancelled');
    expect(outcomeFromDisposition('normal_clearing', 20)?.outcome).toBe('answered'); // Telnyx: a Q.850 name in lower case
    expect(outcomeFromDisposition('user_busy', 0)?.outcome).toBe('busy');
    for (const notFinal of ['ringing', 'queued', 'in-progress', 'initiated']) expect(outcomeFromDisposition(notFinal, 0)).toBeNull();
  });
});

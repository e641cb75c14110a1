import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runReport } from '../../src/cli/report.js';
import { keptText, DEFAULT_QUARANTINE_LIMITS } from '../../src/ingest/redact.js';
import { tmp } from '../core/helpers.js';

// A row the classification stage rejects (a called field that is no number) is quarantined with its line's text.
// Rows of a step that is clean ASCII keep only where their bytes lie and the text is read again from the step's
// buffer; any other step keeps each row's decoded text (UTF-8, or Latin-1 when the bytes are not UTF-8). Either way
// the quarantined text must be the line as it was read.

const acc = (ts: number, id: string, called: string, reason = 'Busy Here') =>
  `Nov 20 10:00:00 sbc1 /usr/sbin/kamailio[2200]: NOTICE: acc [acc.c:287]: acc_log_request(): ACC: call missed: timestamp=${ts};method=INVITE;from_tag=f${id};to_tag=t${id};call_id=${id}@10.0.0.5;code=486;reason=${reason};src_user=+12025550101;src_domain=10.0.0.5;src_ip=10.0.0.5;dst_ouser=${called};dst_user=${called};dst_domain=sip.carrier.example.com`;

async function quarantined(file: string): Promise<Array<{ line: number; reason: string; raw: string }>> {
  const quarantine = `${file}.rejected.jsonl`;
  await runReport([file], { format: 'kamailio', timezone: 'UTC', at: '2026-11-21T00:00:00Z', quarantine });
  return readFileSync(quarantine, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('the text of a row rejected when classified', () => {
  const t = Date.UTC(2026, 10, 20, 10, 0, 0) / 1000;
  const lines = [acc(t, 'a1', '+13125550199'), acc(t + 1, 'a2', 'not?a#number'), acc(t + 2, 'a3', '+13125550177'), acc(t + 3, 'a4', '+99')];

  it('a clean ASCII step: the text read again from its bytes', async () => {
    const file = join(tmp('numrep-rowtext-'), 'acc.log');
    writeFileSync(file, lines.join('\n') + '\n');
    const q = await quarantined(file);
    expect(q.map((r) => [r.line, r.reason])).toEqual([[2, 'invalid_number'], [4, 'invalid_number']]);
    expect(q.map((r) => r.raw)).toEqual([lines[1], lines[3]].map((l) => keptText(l, DEFAULT_QUARANTINE_LIMITS.maxRawChars)));
  });

  it('a step with UTF-8 and with bytes that are not UTF-8: each row keeps the text it was decoded to', async () => {
    const file = join(tmp('numrep-rowtext-'), 'acc.log');
    const utf8 = acc(t + 1, 'a2', 'not?a#number', 'Occupé');
    const latin1Bytes = Buffer.from(acc(t + 3, 'a4', '+99', 'Occup\u00e9'), 'latin1'); // é as one byte: not UTF-8
    writeFileSync(file, Buffer.concat([Buffer.from([lines[0], utf8, lines[2]].join('\n') + '\n'), latin1Bytes, Buffer.from('\n')]));
    const q = await quarantined(file);
    expect(q.map((r) => r.raw)).toEqual([utf8, acc(t + 3, 'a4', '+99', 'Occup\u00e9')].map((l) => keptText(l, DEFAULT_QUARANTINE_LIMITS.maxRawChars)));
    expect(q[1].raw).toContain('Occupé'); // not U+FFFD: the Latin-1 reading of the line, as the reader saw it
  });
});

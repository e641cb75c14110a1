import { toE164 } from '../model/phone.js';
import { CASE_STATES, REMEDIATION_ENGINES, caseJson, isRemediationEngine, type CaseState } from '../store/remediation.js';
import { readCases, type AccessFlags } from './remediationAccess.js';
import { fail } from './log.js';

/** `numrep remediation list [--state S] [--engine E] [--number N] [--json]`: the cases, newest first. */
export function remediationList(flags: AccessFlags & { state?: string; engine?: string; number?: string; countryCode?: string }): void {
  if (flags.state !== undefined && !(CASE_STATES as readonly string[]).includes(flags.state)) fail(`--state ${flags.state}: one of ${CASE_STATES.join(', ')}`, 2);
  if (flags.engine !== undefined && !isRemediationEngine(flags.engine)) fail(`--engine ${flags.engine}: one of ${REMEDIATION_ENGINES.join(', ')}`, 2);
  let number: string | undefined;
  if (flags.number !== undefined) {
    number = toE164(flags.number, flags.countryCode ?? '1') ?? undefined;
    if (!number) fail('--number: not a phone number', 2);
  }
  const cases = readCases(flags, (r) => r.list({ state: flags.state as CaseState | undefined, engine: flags.engine as never, number }).map((c) => caseJson(c)));
  if (flags.json) {
    process.stdout.write(JSON.stringify({ remediations: cases }, null, 2) + '\n');
    return;
  }
  if (cases.length === 0) {
    process.stdout.write('no remediation cases\n');
    return;
  }
  const rows = [['id', 'number', 'engine', 'state', 'ticket', 'updated', 'label', 'note']];
  for (const c of cases) rows.push([String(c.id), c.number, c.engine, c.state, c.ticket ?? '', c.updated_at ?? '', c.label ?? '', (c.note ?? '').slice(0, 40)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n');
}

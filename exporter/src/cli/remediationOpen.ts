import { toE164 } from '../model/phone.js';
import { caseLine, changeCase, type AccessFlags } from './remediationAccess.js';
import { fail } from './log.js';

/**
 * `numrep remediation open NUMBER --engine hiya|tns|first_orion [--ticket ID] [--note TEXT]`: open a case (or
 * turn the case numrep suggested for that number and engine into an open one). Prints the case.
 */
export async function remediationOpen(number: string, flags: AccessFlags & { engine: string; ticket?: string; note?: string; countryCode?: string }): Promise<void> {
  const e164 = toE164(number, flags.countryCode ?? '1');
  if (!e164) fail('NUMBER: not a phone number', 2);
  const c = await changeCase(
    flags,
    'remediation open',
    (r, now) => r.open({ number: e164, engine: flags.engine, ticket: flags.ticket, note: flags.note }, now),
    { method: 'POST', path: '/api/v1/remediations', body: { number: e164, engine: flags.engine, ticket: flags.ticket, note: flags.note } },
  );
  process.stdout.write(flags.json ? JSON.stringify(c, null, 2) + '\n' : caseLine(c) + '\n');
}

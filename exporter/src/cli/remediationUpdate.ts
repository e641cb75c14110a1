import { caseLine, changeCase, type AccessFlags } from './remediationAccess.js';
import { fail } from './log.js';

/** `numrep remediation update ID --state submitted|resolved|rejected [--ticket ID] [--note TEXT]`. Prints the case. */
export async function remediationUpdate(id: string, flags: AccessFlags & { state?: string; ticket?: string; note?: string }): Promise<void> {
  if (!/^\d{1,15}$/.test(id)) fail(`ID ${id.slice(0, 20)}: a case id is a whole number (numrep remediation list)`, 2);
  const c = await changeCase(
    flags,
    'remediation update',
    (r, now) => r.update(Number(id), { state: flags.state, ticket: flags.ticket, note: flags.note }, now),
    { method: 'PATCH', path: `/api/v1/remediations/${id}`, body: { state: flags.state, ticket: flags.ticket, note: flags.note } },
  );
  process.stdout.write(flags.json ? JSON.stringify(c, null, 2) + '\n' : caseLine(c) + '\n');
}

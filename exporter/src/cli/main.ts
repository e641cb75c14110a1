#!/usr/bin/env node
import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { serve } from './serve.js';
import { runReport, reportCsv, reportTable } from './report.js';
import { backup } from './backup.js';
import { importSide } from './importSide.js';

const program = new Command();
program.name('numrep').description('Number reputation from CDRs and SIP logs: Prometheus metrics, scores, actions').version(VERSION);

const common = (c: Command) =>
  c
    .option('--config <file>', 'YAML config file')
    .option('--prefix-map <file>', 'CSV prefix,carrier: carrier by longest prefix of the called number')
    .option('--trunk-map <file>', 'CSV trunk,carrier: carrier by gateway/host/domain of the record')
    .addOption(new Option('--format <format>', 'force a format instead of detecting it').choices(['asterisk', 'freeswitch', 'kamailio', 'generic', 'sipp', 'sofia']))
    .option('--timezone <zone>', 'IANA zone of local timestamps in CDRs (default UTC)')
    .option('--country-code <cc>', 'default country calling code for national numbers (default 1)');

common(
  program
    .command('serve')
    .description('watch an inbox and tail files; serve /metrics and /api/v1 (defaults: 127.0.0.1:9847, ./var/numrep.db, ./var/inbox)')
    .option('--listen <host:port>', 'address to listen on')
    .option('--inbox <dir>', 'drop folder for CDR / SIP log files')
    .option('--db <file>', 'SQLite database')
    .option('--source <glob...>', 'live files to tail, e.g. /var/log/asterisk/cdr-csv/Master.csv')
    .option('--demo', 'write realistic sample traffic into the inbox')
    .option('--quiet', 'no log lines'),
).action(async (opts) => serve(opts));

common(
  program
    .command('report')
    .description('one-shot assessment of CDR / SIP log files or directories')
    .argument('<paths...>', 'files or directories')
    .option('--at <iso>', 'evaluate windows at this time (default: the newest record)')
    .option('--json', 'DESIGN §7 JSON on stdout')
    .option('--csv', 'CSV on stdout')
    .option('--quarantine <file>', 'write every rejected line (JSON lines) to this file'),
).action(async (paths: string[], opts) => {
  const { json } = await runReport(paths, opts);
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else if (opts.csv) process.stdout.write(reportCsv(json));
  else process.stdout.write(reportTable(json));
});

program
  .command('backup')
  .description('online copy of the SQLite database (safe while serve runs)')
  .argument('<target>', 'file to write')
  .option('--db <file>', 'SQLite database', './var/numrep.db')
  .action(async (target: string, opts) => backup(opts.db, target));

for (const kind of ['labels', 'inventory'] as const) {
  program
    .command(kind)
    .description(kind === 'labels' ? 'engine-label snapshots (number,engine,label,checked_at[,reports])' : 'number inventory (number,pool,campaign,registered)')
    .command('import')
    .argument('<file>', 'CSV file')
    .option('--db <file>', 'SQLite database', './var/numrep.db')
    .option('--country-code <cc>', 'default country calling code', '1')
    .action((file: string, opts) => importSide(kind, file, opts));
}

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`numrep: ${err.message}\n`);
  process.exit(1);
});

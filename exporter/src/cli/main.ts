#!/usr/bin/env node
import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
// Each command loads its own modules when it runs: `report` does not pay for the HTTP server and
// prom-client, `--help` and `--version` for nothing.

const program = new Command();
program.name('numrep').description('Number reputation from CDRs and SIP logs: Prometheus metrics, scores, actions').version(VERSION);
// Exit codes (README): 0 ok, 1 a runtime failure, 2 a usage or configuration error — commander's own usage
// errors (an unknown option, a missing argument, a bad choice) included; --help and --version exit 0.
program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
// A reader that stops early (`numrep report … | head`) closes the pipe: stop quietly, as a Unix filter does,
// instead of an unhandled EPIPE and its stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const common = (c: Command) =>
  c
    .option('--config <file>', 'YAML config file')
    .option('--prefix-map <file>', 'CSV prefix,carrier: carrier by longest prefix of the called number')
    .option('--trunk-map <file>', 'CSV trunk,carrier: carrier by gateway/host/domain of the record')
    .addOption(new Option('--format <format>', 'force a format instead of detecting it').choices(['asterisk', 'freeswitch', 'kamailio', 'generic', 'sipp', 'sofia']))
    .option('--timezone <zone>', 'IANA zone of local timestamps in CDRs (default UTC)')
    .option('--country-code <cc>', 'default country calling code for national numbers (default 1)')
    .option('--region <cc>', 'ISO 3166 region for national numbers, e.g. UZ (sets the country code; trunk prefix 0/8 and international prefix of that country)')
    .option('--caller-map <file>', 'CSV extension,number: the number an extension presents when it dials out')
    .addOption(new Option('--track <what>', 'all: every caller of an outbound call; inventory: only numbers in the inventory (recommended in production)').choices(['all', 'inventory']));

common(
  program
    .command('serve')
    .description('watch an inbox and tail files; serve /metrics and /api/v1 (defaults: 127.0.0.1:9847, ./var/numrep.db, ./var/inbox)')
    .option('--listen <host:port>', 'address to listen on (:PORT: every interface)')
    .option('--inbox <dir>', 'drop folder for CDR / SIP log files')
    .option('--db <file>', 'SQLite database')
    .option('--source <glob...>', 'live files to tail, e.g. /var/log/asterisk/cdr-csv/Master.csv')
    .option('--demo', 'write realistic sample traffic into the inbox')
    .option('--quiet', 'no log lines')
    .option('--allowed-host <host[:port]>', 'also answer to this Host (like web.allowed_hosts; repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--web.config.file <file>', 'exporter-toolkit web config: TLS, client certificates, basic_auth_users, headers (docs/operations.md)')
    .option('--shard <i/n>', 'keep only caller numbers with hash mod n = i (0 ≤ i < n); run n exporters over the same sources')
    .option('--hep-listen <host:port>', 'HEPv3 collector on UDP and TCP (Kamailio siptrace, OpenSIPS, FreeSWITCH, Asterisk, heplify); like hep.listen'),
).action(async (opts) => (await import('./serve.js')).serve(opts));

common(
  program
    .command('report')
    .description('one-shot assessment of CDR / SIP log files or directories')
    .argument('<paths...>', 'files or directories (a directory: its files, not its subfolders; - : standard input; .gz files are read through gunzip)')
    .option('--at <iso>', 'evaluate windows at this time (default: the newest record)')
    .option('--json', 'the JSON of GET /api/v1/numbers on stdout, with an "ingest" account of every row')
    .option('--csv', 'CSV on stdout')
    .option('--quarantine <file>', 'write every rejected line (JSON lines) to this file')
    .option('--allow-rejects', 'exit 0 even when some rows were rejected (still 1 when no call was counted)')
    .option('--wide', 'the table with every KPI column and whole reasons')
    .option('--explain <number>', 'everything the report knows about one number: verdict, reason, sub-scores, windows, carriers')
    .option('--inventory <file>', 'number inventory CSV (number,pool,campaign,registered): our numbers and their pools')
    .option('--labels <file>', 'engine-label snapshots CSV (number,engine,label,checked_at[,reports])')
    .option('--shard <i/n>', 'assess only caller numbers with hash mod n = i (0 ≤ i < n)'),
).action(async (paths: string[], opts) => {
  const { runReport, runReportStreamed, reportCsv, reportTable, reportExitCode, explainNumber } = await import('./report.js');
  if (opts.json && opts.csv) {
    process.stderr.write('numrep: --json and --csv: choose one\n');
    process.exit(2);
  }
  if (opts.json && opts.explain === undefined) {
    // Each number's entry is made as it is written, and then let go (cli/report.ts runReportStreamed).
    const result = await runReportStreamed(paths, opts);
    const { indentedJsonChunks, writePiecesUtf8 } = await import('./jsonChunks.js');
    writePiecesUtf8(indentedJsonChunks(result.json), (chunk) => process.stdout.write(chunk));
    process.stdout.write('\n');
    process.exitCode = reportExitCode(result, { allowRejects: opts.allowRejects === true });
    return;
  }
  const result = await runReport(paths, opts);
  const { json } = result;
  if (opts.explain !== undefined) {
    const { toE164 } = await import('../model/phone.js');
    const text = explainNumber(json, toE164(opts.explain, opts.countryCode ?? '1') ?? opts.explain);
    if (text === null) {
      process.stderr.write(`numrep: --explain ${opts.explain}: not a number of this report (${json.numbers.length} numbers; see the table)\n`);
      process.exit(1);
    }
    process.stdout.write(text);
  } else if (opts.json) {
    const { indentedJsonChunks, writePiecesUtf8 } = await import('./jsonChunks.js');
    writePiecesUtf8(indentedJsonChunks(json), (chunk) => process.stdout.write(chunk));
    process.stdout.write('\n');
  } else if (opts.csv) process.stdout.write(reportCsv(json));
  else process.stdout.write(reportTable(json, { wide: opts.wide === true, width: process.stdout.isTTY ? process.stdout.columns : 100 }));
  process.exitCode = reportExitCode(result, { allowRejects: opts.allowRejects === true });
});

program
  .command('backup')
  .description('online copy of the SQLite database (safe while serve runs)')
  .argument('<target>', 'file to write')
  .option('--db <file>', 'SQLite database', './var/numrep.db')
  .action(async (target: string, opts) => (await import('./backup.js')).backup(opts.db, target));

for (const kind of ['labels', 'inventory'] as const) {
  program
    .command(kind)
    .description(kind === 'labels' ? 'engine-label snapshots (number,engine,label,checked_at[,reports])' : 'number inventory (number,pool,campaign,registered)')
    .command('import')
    .argument('<file>', 'CSV file')
    .option('--db <file>', 'SQLite database', './var/numrep.db')
    .option('--country-code <cc>', 'default country calling code', '1')
    .action(async (file: string, opts) => (await import('./importSide.js')).importSide(kind, file, opts));
}

// Remediation cases (docs/remediation.md): one file per command; a change goes to the serve that holds the database.
const remediation = program.command('remediation').description('remediation cases with the analytics engines (hiya, tns, first_orion): open, update, list');
const caseAccess = (c: Command) =>
  c
    .option('--db <file>', 'SQLite database (default ./var/numrep.db, or db: of --config)')
    .option('--config <file>', 'YAML config: its db, auth.bearer_token_file and labels.benign')
    .option('--url <url>', "serve's base URL to send the change to (default: the listen address of the serve holding the database)")
    .option('--token-file <file>', "file with serve's bearer token (default: auth.bearer_token_file of --config)")
    .option('--json', 'the case as JSON');
caseAccess(
  remediation
    .command('open')
    .description('open a case (or the one numrep suggested for the number and engine)')
    .argument('<number>', 'one of our numbers')
    .addOption(new Option('--engine <engine>', 'the engine that labels the number').choices(['hiya', 'tns', 'first_orion']).makeOptionMandatory())
    .option('--ticket <id>', "the engine's or portal's ticket id")
    .option('--note <text>', 'free text')
    .option('--country-code <cc>', 'default country calling code for a national NUMBER', '1'),
).action(async (number: string, opts) => (await import('./remediationOpen.js')).remediationOpen(number, opts));
caseAccess(
  remediation
    .command('update')
    .description('move a case on: submitted to the engine, then resolved or rejected')
    .argument('<id>', 'case id (numrep remediation list)')
    .addOption(new Option('--state <state>', 'the new state').choices(['submitted', 'resolved', 'rejected']))
    .option('--ticket <id>', "the engine's or portal's ticket id")
    .option('--note <text>', 'free text (replaces the note)'),
).action(async (id: string, opts) => (await import('./remediationUpdate.js')).remediationUpdate(id, opts));
remediation
  .command('list')
  .description('the cases, newest first (reads the database, also while serve runs)')
  .option('--db <file>', 'SQLite database (default ./var/numrep.db, or db: of --config)')
  .option('--config <file>', 'YAML config (its db)')
  .addOption(new Option('--state <state>', 'only cases in this state').choices(['suggested', 'open', 'submitted', 'resolved', 'rejected']))
  .addOption(new Option('--engine <engine>', 'only cases with this engine').choices(['hiya', 'tns', 'first_orion']))
  .option('--number <number>', 'only cases of this number')
  .option('--country-code <cc>', 'default country calling code for a national --number', '1')
  .option('--json', '{ "remediations": [...] } as GET /api/v1/remediations')
  .action(async (opts) => (await import('./remediationList.js')).remediationList(opts));

program
  .command('export')
  .description('files for other systems')
  .command('registry')
  .description('CSV of the numbers to register with the free caller registration portals (inventory + registry: business fields of --config); docs/remediation.md')
  .option('--config <file>', 'YAML config with the registry: section (business name, contact, call purpose)')
  .option('--db <file>', 'SQLite database whose inventory to export (default: db: of --config)')
  .option('--inventory <file>', 'an inventory CSV (number,pool,campaign,registered) instead of the database')
  .option('--out <file>', 'write here instead of standard output')
  .option('--all', 'also the numbers the inventory says are registered')
  .option('--country-code <cc>', 'default country calling code for national numbers in --inventory')
  .action(async (opts) => (await import('./exportRegistry.js')).exportRegistry(opts));

program
  .command('simulate')
  .description('seeded outbound traffic with a hidden carrier reputation: a backfill (--days D --out DIR) or live into an inbox (--live --inbox DIR); docs/simulation.md')
  .option('--days <n>', 'days of backfill (default 30; with --live, days written before the live feed, default 0)')
  .option('--out <dir>', 'backfill directory: <format>/<file>, truth.json, trunk-map.csv, prefix-map.csv')
  .option('--format <format>', 'generic, asterisk, freeswitch, kamailio, sipp, sofia, a comma list, or all (backfill) (default generic)')
  .option('--scenario <name>', 'pool, velocity, ramp, engagement, healthy, small (default pool)')
  .option('--numbers <n>', 'numbers in the pool (default 60; small: 12)')
  .option('--seed <n>', 'random seed (default 1)')
  .option('--start <iso>', 'backfill start (default: --days before 00:00 UTC today)')
  .option('--live', 'write calls into --inbox as they happen')
  .option('--inbox <dir>', 'live: the folder numrep serve watches')
  .option('--rate <n>', 'live: calls per second across the pool (default 1)')
  .option('--step <seconds>', 'live: real seconds per model hour of the hidden reputation (default 3600: real time)')
  .option('--reaction <share>', 'share of would-be answers that change behaviour just before the label (default 0.6)')
  .option('--quiet', 'no log lines')
  .action(async (opts) => (await import('./simulate.js')).simulate(opts));

program
  .command('evaluate')
  .description('replay simulated traffic hour by hour through the engine: lead time from warning to carrier label, false warnings; docs/early-warning.md')
  .argument('[dirs...]', 'numrep simulate --out directories (default: simulate the scenarios first)')
  .option('--scenario <names>', 'comma list (default pool,velocity,ramp,engagement,healthy,low_volume,holiday,carrier_ramp,heterogeneous)')
  .option('--days <n>', 'days per scenario (default 30)')
  .option('--numbers <n>', 'numbers per scenario (default 60)')
  .option('--seed <n>', 'random seed (default 1)')
  .option('--seeds <list>', 'several seeds, comma-separated: every scenario once per seed (e.g. 1,2,3 to tune, 101,102,103 to report)')
  .option('--start <iso>', 'scenario start (default 2026-10-05T00:00:00Z)')
  .option('--format <format>', 'format the traffic is written in and read back from (default kamailio)')
  .option('--config <file>', 'YAML config: its reputation: section tunes the engine')
  .option('--warmup <hours>', 'hours of history before the first evaluation (default 48)')
  .option('--reaction <share>', 'simulated consumers: share of would-be answers that change behaviour just before the label (default 0.6)')
  .option('--keep <dir>', 'keep the simulated files here')
  .option('--json', 'JSON instead of Markdown tables')
  .option('--out <file>', 'write the result to a file')
  .option('--quiet', 'no log lines')
  .action(async (dirs: string[], opts) => {
    await (await import('./evaluate.js')).evaluate(dirs, opts);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`numrep: ${err.message}\n`);
  process.exit(1);
});

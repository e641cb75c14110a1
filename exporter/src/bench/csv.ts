// CSV splitter + Asterisk reader throughput on an 18-column Master.csv line: the string path
// (splitCsvLine, parseLine) and the byte fast path (CsvFields.scan, parseBytes) over the same lines.
// Run: npm run build -w exporter && node exporter/dist/bench/csv.js
import { splitCsvLine } from '../ingest/csv.js';
import { AsteriskReader } from '../ingest/formats/asterisk.js';
import { CsvFields } from '../ingest/bytes.js';

const lines: string[] = [];
for (let i = 0; i < 200_000; i++) {
  const n = String(100 + (i % 900)).padStart(4, '0');
  lines.push(
    `"","+1202555${n}","+1212555${String(i % 10000).padStart(4, '0')}","from-dialer","""Acme Health"" <+1202555${n}>","SIP/att-trunk-0000${(i % 65536).toString(16)}","","Dial","SIP/att-trunk/+12125550142,60,tT","2026-11-20 09:15:02","2026-11-20 09:15:09","2026-11-20 09:16:31",89,82,"ANSWERED","DOCUMENTATION","1763630102.${i}",""`,
  );
}

function run(label: string, fn: (l: string, i: number) => void, rounds = 5): void {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) fn(lines[i], i);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    best = Math.min(best, ms);
  }
  console.log(`${label}: ${Math.round(lines.length / (best / 1000)).toLocaleString('en-US')} rows/s (best of ${rounds}, ${lines.length} rows)`);
}

const out: string[] = [];
let sink = 0;
run('splitCsvLine (18 columns)', (l) => {
  sink += splitCsvLine(l, out);
});
const reader = new AsteriskReader({ timezone: 'America/New_York' });
run('AsteriskReader.parseLine (split + E.164 + time zone + outcome)', (l, i) => {
  const r = reader.parseLine(l, { file: 'bench', line: i + 1 });
  if (r.kind === 'records') sink += r.records.length;
});
// The same lines as one buffer, as the ingestor hands them to the byte path.
const buf = Buffer.from(lines.join('\n'), 'latin1');
const starts: number[] = [];
for (let p = 0, i = 0; i < lines.length; i++) {
  starts.push(p);
  p += lines[i].length + 1;
}
const fields = new CsvFields();
run('CsvFields.scan (18 columns, bytes)', (l, i) => {
  if (fields.scan(buf, starts[i], starts[i] + l.length, true)) sink += fields.count;
});
const fast = new AsteriskReader({ timezone: 'America/New_York' });
run('AsteriskReader.parseBytes (byte fast path: fields + E.164 + time zone + outcome)', (l, i) => {
  if (fast.parseBytes(buf, starts[i], starts[i] + l.length, true) !== null) sink++;
});
if (sink === 42) console.log('');

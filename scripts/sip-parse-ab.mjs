#!/usr/bin/env node
// sipFromBytes of two builds on the same messages in one process (docs/performance.md, issue 19): the bench's
// 183,333 HEP payloads parsed by each in turn, four rounds, µs a message.
// usage: node scripts/sip-parse-ab.mjs <exporter dist dir before> <exporter dist dir after>
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [before, after] = process.argv.slice(2);
const load = (dist, file) => import(pathToFileURL(resolve(dist, file)).href);
const { benchHepPackets } = await load(after, 'bench/hep.js');
const { decodeHep } = await load(after, 'ingest/hep/hep.js');
const oldP = await load(before, 'ingest/sip/packet.js');
const newP = await load(after, 'ingest/sip/packet.js');
const payloads = benchHepPackets(50000).map((p) => decodeHep(p).packet.payload);
for (let round = 0; round < 4; round++) for (const [name, f] of [['before', oldP.sipFromBytes], ['after', newP.sipFromBytes]]) {
  const t = performance.now(); let n = 0;
  for (const p of payloads) n += f(p, 0, p.length).headers.size;
  console.log(name, ((performance.now() - t) * 1000 / payloads.length).toFixed(3), 'µs/message', n);
}

#!/usr/bin/env node
// Before `npm test`: the suite talks to real peers (Prometheus, Alertmanager, sipp, Kamailio, Chromium, curl,
// openssl, htpasswd, tcpdump, tshark).
// On a fresh Debian machine as root, install the missing ones from Debian's packages; otherwise say
// exactly what to install and stop, rather than letting dozens of tests fail one by one.
import { execFileSync, spawnSync } from 'node:child_process';

const PEERS = [
  ['prometheus', 'prometheus'],
  ['promtool', 'prometheus'],
  ['prometheus-alertmanager', 'prometheus-alertmanager'],
  ['amtool', 'prometheus-alertmanager'],
  ['sipp', 'sip-tester'],
  ['kamailio', 'kamailio'],
  ['chromium', 'chromium'],
  // TLS and basic auth tests: certificates, bcrypt hashes, HTTPS requests
  ['openssl', 'openssl'],
  ['htpasswd', 'apache2-utils'],
  ['curl', 'curl'],
  ['tcpdump', 'tcpdump'],
  ['tshark', 'tshark'],
  ['dumpcap', 'tshark'],
];

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [...new Set(PEERS.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (root && has('apt-get')) {
  console.error(`numrep tests: installing Debian packages ${missing.join(' ')} (the real peers the tests talk to)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  // Debian may start the daemons it installs; the tests start their own on loopback.
  for (const d of ['prometheus', 'alertmanager', 'prometheus-alertmanager', 'kamailio']) spawnSync('pkill', ['-x', d], { stdio: 'ignore' });
  process.exit(0);
}
console.error(`numrep tests need real peers that are not installed: ${missing.join(' ')}.\n` +
  `Install them (Debian/Ubuntu): sudo apt-get install ${missing.join(' ')}\nor run: bash .ci/run`);
process.exit(1);

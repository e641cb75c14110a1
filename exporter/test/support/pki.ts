// Certificates for the TLS tests, made by the real openssl in a temporary directory: a CA, a server certificate
// for localhost / 127.0.0.1, client certificates from that CA and from another one.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Signed by `ca`, SAN DNS:prometheus.internal. */
  clientCert: string;
  clientKey: string;
  /** Signed by `ca`, SAN DNS:someone.else. */
  otherClientCert: string;
  otherClientKey: string;
  /** A CA the server does not know, and a client certificate it signed. */
  rogueCa: string;
  rogueClientCert: string;
  rogueClientKey: string;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A key and a certificate `name` signed by CA `ca` (both in `dir`), with these v3 extensions. */
export function makeLeaf(dir: string, name: string, ca: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export function makePki(dir: string): Pki {
  makeCa(dir, 'ca');
  makeCa(dir, 'rogue-ca');
  makeLeaf(dir, 'server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeLeaf(dir, 'client', 'ca', 'subjectAltName=DNS:prometheus.internal\nextendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'other-client', 'ca', 'subjectAltName=DNS:someone.else\nextendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'rogue-client', 'rogue-ca', 'subjectAltName=DNS:prometheus.internal\nextendedKeyUsage=clientAuth\n');
  const f = (n: string) => join(dir, n);
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherClientCert: f('other-client.crt'),
    otherClientKey: f('other-client.key'),
    rogueCa: f('rogue-ca.crt'),
    rogueClientCert: f('rogue-client.crt'),
    rogueClientKey: f('rogue-client.key'),
  };
}

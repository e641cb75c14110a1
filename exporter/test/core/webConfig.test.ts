import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadWebConfig } from '../../src/http/webConfig.js';
import { makePki, type Pki } from '../support/pki.js';
import { tmp } from './helpers.js';

// The exporter-toolkit web config file as numrep reads it: what it accepts, and what it refuses with the file and key.

let pki: Pki;
beforeAll(() => {
  pki = makePki(tmp('numrep-pki-'));
});

/** A web config file in the PKI directory (so relative names resolve there), loaded. */
function load(yaml: string, dir = pki.dir) {
  const file = join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return { file, load: () => loadWebConfig(file) };
}
const refused = (yaml: string): string => {
  const { file, load: l } = load(yaml);
  try {
    l();
  } catch (err) {
    return (err as Error).message.replaceAll(file, '<file>');
  }
  throw new Error('accepted');
};
const hash = () => spawnSync('htpasswd', ['-nbBC', '10', 'u', 'p'], { encoding: 'utf8' }).stdout.trim().split(':')[1];

describe('web config file (exporter-toolkit format)', () => {
  it('reads TLS files relative to the web config file, not the working directory', () => {
    const c = load('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n').load();
    expect(process.cwd()).not.toBe(pki.dir);
    expect(c.tls?.options.cert).toBe(readFileSync(pki.serverCert, 'utf8'));
    expect(c.tls?.clientAuth).toBe('NoClientCert');
    expect(c.tls?.options).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestCert: false, rejectUnauthorized: false, honorCipherOrder: true });
    // a sub-directory: ../ from the config file
    const sub = join(pki.dir, 'conf');
    mkdirSync(sub, { recursive: true });
    expect(load('tls_server_config:\n  cert_file: ../server.crt\n  key_file: ../server.key\n', sub).load().tls).toBeDefined();
  });

  it('maps client_auth_type, versions, Go cipher suite and curve names to Node', () => {
    const c = load(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n' +
        '  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP256]\n  prefer_server_cipher_suites: false\n',
    ).load();
    expect(c.tls?.options).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', ecdhCurve: 'X25519:P-256', honorCipherOrder: false });
    expect(String(c.tls?.options.ciphers)).toMatch(/^TLS_AES_256_GCM_SHA384:.*:ECDHE-ECDSA-AES128-GCM-SHA256$/);
    expect(c.tls?.options.ca).toBe(readFileSync(pki.ca, 'utf8'));
    expect(load('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireClientCert\n').load().tls?.clientAuth).toBe('RequireAnyClientCert');
  });

  it('takes an empty file, an empty tls_server_config (plain HTTP, as the toolkit does) and http2 (noted as ignored)', () => {
    expect(load('').load()).toMatchObject({ tls: undefined, headers: {}, ignored: [] });
    expect(load('tls_server_config:\nhttp_server_config:\n  http2: true\n').load()).toMatchObject({ tls: undefined, ignored: ['http_server_config.http2 (numrep serves HTTP/1.1)'] });
    expect(load(`basic_auth_users:\n  alice: '${hash()}'\n`).load().users.get('alice')).toMatch(/^\$2y\$10\$/);
  });

  it('refuses unknown keys and bad values, naming the file and the key', () => {
    const tls = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';
    const cases: [string, string][] = [
      ['colour: blue\n', '<file>: (top level): unknown key "colour"'],
      [`${tls}  client_auth: RequireAndVerifyClientCert\n`, '<file>: tls_server_config: unknown key "client_auth"'],
      ['http_server_config:\n  http3: true\n', '<file>: http_server_config: unknown key "http3"'],
      [`${tls}  client_auth_type: Sometimes\n`, "<file>: tls_server_config.client_auth_type: Invalid enum value. Expected 'NoClientCert'"],
      [`${tls}  min_version: TLS14\n`, '<file>: tls_server_config.min_version: Invalid enum value'],
      [`${tls}  min_version: TLS13\n  max_version: TLS12\n`, '<file>: tls_server_config.min_version: TLS13 is above max_version TLS12'],
      [`${tls}  cipher_suites: [TLS_FANCY_NEW]\n`, '<file>: tls_server_config.cipher_suites: unknown cipher suite TLS_FANCY_NEW'],
      ['tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n', `<file>: tls_server_config.cert_file: cannot read ${join(pki.dir, 'missing.crt')}: ENOENT`],
      ['tls_server_config:\n  cert_file: server.crt\n', '<file>: tls_server_config: TLS needs key_file (or key)'],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n', '<file>: tls_server_config: cannot use the certificate and key'],
      [`${tls}  client_ca_file: ca.crt\n`, '<file>: tls_server_config.client_auth_type: a client CA is configured but client_auth_type is NoClientCert'],
      [`${tls}  client_auth_type: RequireAndVerifyClientCert\n`, '<file>: tls_server_config.client_ca_file: RequireAndVerifyClientCert verifies client certificates against client_ca_file'],
      [`${tls}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  client_allowed_sans: [a]\n`, '<file>: tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert'],
      [`${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.key\n`, '<file>: tls_server_config.client_ca_file: not a PEM certificate'],
      ['http_server_config:\n  headers:\n    X-Powered-By: numrep\n', '<file>: http_server_config.headers.X-Powered-By: this header cannot be configured'],
      ['http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n', '<file>: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin, got "allow-from x"'],
      ['basic_auth_users:\n  alice: plaintext\n', '<file>: basic_auth_users.alice: not a bcrypt hash'],
      ['rate_limit:\n  interval: 1s\n  burst: 5\n', '<file>: rate_limit: not supported by numrep'],
      ['tls_server_config: [\n', '<file>: not valid YAML'],
    ];
    for (const [yaml, msg] of cases) expect(refused(yaml), yaml).toContain(msg);
    expect(refused('basic_auth_users:\n  alice: plaintext\n')).not.toContain('plaintext'); // a secret is never echoed
    expect(() => loadWebConfig(join(pki.dir, 'nope.yml'))).toThrow(/nope\.yml: cannot read web config: ENOENT/);
  });
});

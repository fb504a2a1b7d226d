import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a private certificate authority and the certificates it signed, all in one folder. */
export type TestCertificates = Readonly<{
  /** The authority's certificate (what clients trust) and key. */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, and its key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate (for mutual TLS), and its key. */
  clientCert: string;
  clientKey: string;
  /** A second authority, unrelated: a client trusting only it must refuse the server. */
  otherCa: string;
}>;

/**
 * Makes a throwaway private CA and certificates with `openssl` (P-256 keys, valid two days) in `dir`. Loopback
 * only: the server certificate names 127.0.0.1 and localhost.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const authority = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      ...newKeyArgs,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
    );
  const signed = (name: string, cn: string, extensions: string) => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'req',
      ...newKeyArgs,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
    );
  };
  authority('ca', 'Backroom test CA');
  authority('other-ca', 'Some other CA');
  signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'store-test', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    otherCa: path('other-ca.pem'),
  };
}

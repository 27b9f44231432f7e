// Each test process makes its own CA and certificates (tests never turn verification off).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeDevCerts, issueLeaf, type CertPaths } from '../../src/tls/dev-certs.ts';

let certs: Promise<CertPaths> | undefined;

export function testCerts(): Promise<CertPaths> {
  return (certs ??= writeDevCerts(mkdtempSync(join(tmpdir(), 'pg-certs-'))));
}

export const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `pg-${prefix}-`));

/**
 * A server certificate for localhost from the test CA with the given validity (RULES 36 tests:
 * expired, over-long, expiring soon). Returns the paths of the PEM files.
 */
export async function testCertWithValidity(label: string, valid: { notBefore: Date; notAfter: Date }, usage: 'server' | 'client' = 'server'): Promise<{ cert: string; key: string }> {
  const c = await testCerts();
  const der = Buffer.from(readFileSync(c.caKey, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const ca = { cert: new x509.X509Certificate(readFileSync(c.ca, 'utf8')), key };
  const leaf = await issueLeaf(ca, `partner-gateway test ${label}`, usage, undefined, valid);
  const dir = tmp(`cert-${label}`);
  const paths = { cert: join(dir, `${label}.crt`), key: join(dir, `${label}.key`) };
  writeFileSync(paths.cert, leaf.certPem);
  writeFileSync(paths.key, leaf.keyPem, { mode: 0o600 });
  return paths;
}

const DAY = 86_400_000;
/** Validity windows by days relative to now. */
export const validFor = (startDaysAgo: number, endInDays: number) => ({
  notBefore: new Date(Date.now() - startDaysAgo * DAY), notAfter: new Date(Date.now() + endInDays * DAY),
});

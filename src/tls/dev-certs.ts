// Dev CA and leaf certificates for every hop (RULES 36: EC P-256, SHA-256, short-lived).
import { webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
// RULES 36 (Mozilla intermediate): at most 366 days; start-up refuses anything over 398 (CA/B ceiling).
export const DEV_CERT_VALID_DAYS = 366;
const LOCAL_NAMES: x509.JsonGeneralName[] = [
  { type: 'dns', value: 'localhost' },
  { type: 'ip', value: '127.0.0.1' },
  { type: 'ip', value: '::1' },
];

/** The files written, by role. Servers: gateway, core-store, redis. Clients: partner, gateway-client. */
export const CERT_NAMES = ['gateway', 'core-store', 'redis', 'partner', 'gateway-client'] as const;
export type CertName = (typeof CERT_NAMES)[number];

export interface CertPaths {
  ca: string;
  caKey: string;
  cert: (name: CertName) => string;
  key: (name: CertName) => string;
}

export function certPaths(dir: string): CertPaths {
  return {
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: (name) => join(dir, `${name}.crt`),
    key: (name) => join(dir, `${name}.key`),
  };
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

const keyPair = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

export interface Validity { notBefore: Date; notAfter: Date }

function validity(): Validity {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + DEV_CERT_VALID_DAYS * 86_400_000) };
}

export interface IssuedCert { certPem: string; keyPem: string }

/** Issue one leaf certificate from a CA; `names` defaults to localhost, 127.0.0.1 and ::1. */
export async function issueLeaf(
  ca: { cert: x509.X509Certificate; key: CryptoKey },
  cn: string,
  usage: 'server' | 'client' | 'server-client',
  names: x509.JsonGeneralName[] = LOCAL_NAMES,
  valid: Validity = validity(),
): Promise<IssuedCert> {
  const keys = await keyPair();
  const eku = usage === 'server' ? [x509.ExtendedKeyUsage.serverAuth] : usage === 'client' ? [x509.ExtendedKeyUsage.clientAuth]
    : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${cn}`,
    issuer: ca.cert.subject,
    ...valid,
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(eku),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await pemKey(keys.privateKey) };
}

export async function createCa(cn = 'partner-gateway dev CA'): Promise<{ cert: x509.X509Certificate; key: CryptoKey; keyPem: string }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cn}`,
    ...validity(),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, keyPem: await pemKey(keys.privateKey) };
}

/**
 * Write a CA and every leaf into `dir`; private keys get mode 0600. `hosts`: more names the server
 * certificates (gateway, core-store, redis) carry besides localhost, e.g. a compose file's service
 * names, so host names are verified between containers too (RULES 34; deploy/compose).
 */
export async function writeDevCerts(dir: string, opts: { force?: boolean; hosts?: readonly string[] } = {}): Promise<CertPaths> {
  const paths = certPaths(dir);
  if (existsSync(paths.ca) && !opts.force) return paths;
  mkdirSync(dir, { recursive: true });
  const extra: x509.JsonGeneralName[] = (opts.hosts ?? []).map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }));
  const ca = await createCa();
  writeFileSync(paths.ca, ca.cert.toString('pem') + '\n');
  writeFileSync(paths.caKey, ca.keyPem, { mode: 0o600 });
  for (const name of CERT_NAMES) {
    // A Redis node is also a client, with its certificate, of its primary and of the other Sentinels
    // (tls-replication, tls-auth-clients yes): OpenSSL refuses a client certificate without clientAuth.
    const usage = name === 'partner' || name === 'gateway-client' ? 'client' : name === 'redis' ? 'server-client' : 'server';
    const leaf = await issueLeaf(ca, `partner-gateway ${name}`, usage, usage === 'client' ? LOCAL_NAMES : [...LOCAL_NAMES, ...extra]);
    writeFileSync(paths.cert(name), leaf.certPem);
    writeFileSync(paths.key(name), leaf.keyPem, { mode: 0o600 });
  }
  return paths;
}

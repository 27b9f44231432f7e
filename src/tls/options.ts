// One place for the TLS settings of every hop (RULES 32–34, 37).
import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions, ConnectionOptions } from 'node:tls';

// RULES 33: TLS 1.3 AES-GCM suites and the NIST ∩ Mozilla-intermediate ECDHE-AEAD suites for 1.2.
// Node's default list includes CBC and `HIGH`, so it is never relied on.
export const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'] as const;
export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
] as const;

// RULES 32: floor TLS 1.2, ceiling TLS 1.3 on every listener and client.
export const tlsBase = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  ecdhCurve: 'X25519:P-256:P-384',
} as const satisfies SecureContextOptions;

export interface TlsFiles {
  cert?: string | null | undefined;
  key?: string | null | undefined;
  ca?: string | null | undefined;
}

const read = (path: string | null | undefined): Buffer | undefined => (path ? readFileSync(path) : undefined);

/**
 * Server side. With `requestClientCert` and a CA, clients are asked for a certificate;
 * createHttpsServer drops a connection whose presented certificate does not verify.
 */
export function serverTlsOptions(files: TlsFiles & { requestClientCert?: boolean }): TlsOptions {
  const mtls = Boolean(files.requestClientCert && files.ca);
  return {
    ...tlsBase,
    // Mozilla intermediate: server order off; every listed suite is AEAD with forward secrecy.
    honorCipherOrder: false,
    cert: read(files.cert),
    key: read(files.key),
    ...(mtls
      ? {
          ca: read(files.ca),
          requestCert: true,
          // The certificate is optional (client_secret_basic partners have none); a presented
          // one is checked in createHttpsServer, which drops the connection if it fails.
          rejectUnauthorized: false,
        }
      : {}),
  };
}

/**
 * The control-plane listener (RULES 43): the same floor and suites. With `requireClientCert`, staff
 * mTLS: a certificate chaining to `ca` is demanded and anything else fails the handshake.
 */
export function adminTlsOptions(files: TlsFiles & { requireClientCert: boolean }): TlsOptions {
  // loadConfig fills a null admin.tls.cert/key from server.tls; a listener without a certificate is a bug.
  if (!files.cert || !files.key) throw new Error('admin.tls.cert and admin.tls.key are required');
  const base = serverTlsOptions({ cert: files.cert, key: files.key });
  if (!files.requireClientCert) return base;
  if (!files.ca) throw new Error('admin.tls.ca is required when admin.tls.requireClientCert is true');
  return { ...base, ca: read(files.ca), requestCert: true, rejectUnauthorized: true };
}

/** Client side (upstream, Redis, webhooks): certificate and host name always verified. */
export function clientTlsOptions(files: TlsFiles): ConnectionOptions {
  return {
    ...tlsBase,
    ca: read(files.ca),
    cert: read(files.cert),
    key: read(files.key),
    rejectUnauthorized: true, // RULES 34: never turned off, not even in tests
  };
}

// RULES 36: the certificates the gateway presents are checked at start-up. Expired (or not yet
// valid) or issued for longer than 398 days (the CA/Browser Forum ceiling) refuses start-up naming
// the setting; expiring within 30 days is allowed but reported (log, metric, /readyz).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.ts';

const DAY_MS = 86_400_000;
export const MAX_LIFETIME_DAYS = 398;
export const EXPIRY_WARNING_DAYS = 30;

/** A configured certificate file, by the setting that names it. */
export interface CertificateSetting { setting: string; path: string }

/** What is kept of a certificate: dates only, nothing from its subject. */
export interface CertificateValidity { setting: string; notBefore: Date; notAfter: Date }

export const daysLeft = (c: CertificateValidity, now: Date): number => Math.floor((c.notAfter.getTime() - now.getTime()) / DAY_MS);

export const expiringSoon = (certs: readonly CertificateValidity[], now: Date): CertificateValidity[] =>
  certs.filter((c) => daysLeft(c, now) < EXPIRY_WARNING_DAYS);

function read(s: CertificateSetting): CertificateValidity {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(s.path)); // the first certificate of the file: the leaf
  } catch (e) {
    throw new ConfigError(`${s.setting}: not a readable PEM certificate (${(e as Error).message.split('\n')[0]})`);
  }
  return { setting: s.setting, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Reads every certificate and throws, naming the first setting that breaks the policy. */
export function checkCertificates(settings: readonly CertificateSetting[], now: Date): CertificateValidity[] {
  const out: CertificateValidity[] = [];
  for (const s of settings) {
    const c = read(s);
    const lifetime = (c.notAfter.getTime() - c.notBefore.getTime()) / DAY_MS;
    if (c.notAfter.getTime() <= now.getTime()) throw new ConfigError(`${s.setting}: the certificate expired on ${c.notAfter.toISOString()} (RULES 36)`);
    if (c.notBefore.getTime() > now.getTime()) throw new ConfigError(`${s.setting}: the certificate is not valid before ${c.notBefore.toISOString()} (RULES 36)`);
    if (lifetime > MAX_LIFETIME_DAYS) {
      throw new ConfigError(`${s.setting}: the certificate is valid for ${Math.round(lifetime)} days, more than ${MAX_LIFETIME_DAYS} (RULES 36: short-lived certificates)`);
    }
    out.push(c);
  }
  return out;
}

interface TlsCertPaths { cert?: string | null | undefined }

/** The certificates the gateway itself presents: both listeners and its client certificates. */
export function gatewayCertificateSettings(cfg: {
  server: { tls: TlsCertPaths }; admin: { tls: TlsCertPaths }; upstream: { tls: TlsCertPaths }; redis: { tls: TlsCertPaths };
}): CertificateSetting[] {
  const all: Array<[string, string | null | undefined]> = [
    ['server.tls.cert', cfg.server.tls.cert],
    ['admin.tls.cert', cfg.admin.tls.cert],
    ['upstream.tls.cert', cfg.upstream.tls.cert],
    ['redis.tls.cert', cfg.redis.tls.cert],
  ];
  // Every setting is reported under its own name, even when two share a file (admin.tls.cert
  // defaults to server.tls.cert; Redis and upstream often share a client certificate).
  return all.flatMap(([setting, path]) => (path ? [{ setting, path }] : []));
}

// RULES 36: the gateway alerts 30 days before a certificate expires. Days left are computed when
// scraped or asked, so a long-running process reports the approach of expiry, not its start-up view.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import { daysLeft, expiringSoon, EXPIRY_WARNING_DAYS, type CertificateValidity } from './certificate-validity.ts';

/** gateway_tls_certificate_days_left{setting}: the label is a setting name, never anything from the certificate. */
export function registerCertificateGauge(registry: Registry, certs: readonly CertificateValidity[], now: () => Date = () => new Date()): void {
  new Gauge({
    name: 'gateway_tls_certificate_days_left',
    help: `whole days until each configured certificate expires, by setting (RULES 36: alert below ${EXPIRY_WARNING_DAYS})`,
    labelNames: ['setting'] as const,
    registers: [registry],
    // Issue 17 item 2: the same certificates in every worker; across workers, the fewest days.
    aggregator: 'min',
    collect() {
      const at = now();
      for (const c of certs) this.set({ setting: c.setting }, daysLeft(c, at));
    },
  });
}

/** One warning per certificate that expires within the warning window. */
export function warnExpiring(log: Logger, certs: readonly CertificateValidity[], now: Date): void {
  for (const c of expiringSoon(certs, now)) {
    log.warn({ setting: c.setting, daysLeft: daysLeft(c, now), notAfter: c.notAfter.toISOString() }, 'TLS certificate expires soon; renew it (RULES 36)');
  }
}

/** The /readyz detail: settings whose certificate expires within the window (readiness does not fail on it). */
export function expiryDetail(certs: readonly CertificateValidity[], now: Date): Array<{ setting: string; daysLeft: number; notAfter: string }> {
  return expiringSoon(certs, now).map((c) => ({ setting: c.setting, daysLeft: daysLeft(c, now), notAfter: c.notAfter.toISOString() }));
}

// Prometheus metrics (CONTRACT 8). Labels carry route templates, codes and partner ids only.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import { createBackendMetrics } from './metrics-backends.ts';
import { RetentionHygiene } from './retention-hygiene.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // RULES 21: data hygiene, not a denial count (gateway_decisions_total has those): each user past
  // retention that this process met in the core store, once per UTC day. No labels: a user id,
  // even hashed, never becomes a label. Alert on increase(gateway_store_retention_expired_total[1d]) > 0.
  const storeRetentionExpired = new Counter({
    name: 'gateway_store_retention_expired_total',
    help: 'users met in the core store past retention (user agreement end + retention.afterTerminationDays), each once per UTC day; the record should already have been destroyed (RULES 21)',
    registers: [registry],
  });
  let hygiene: RetentionHygiene | undefined;
  const today = new Gauge({
    name: 'gateway_store_retention_expired_users_today',
    help: 'distinct users past retention met in the core store since 00:00 UTC today (RULES 21)',
    registers: [registry],
    collect() { hygiene?.refresh(new Date()); },
  });
  hygiene = new RetentionHygiene(storeRetentionExpired, today);
  return {
    /** RULES 21: call observe(userId, now) for every retention_expired decision on a stored user. */
    retentionHygiene: hygiene,
    registry,
    httpRequests: new Counter({
      name: 'gateway_http_requests_total', help: 'HTTP requests by route template and status',
      labelNames: ['route', 'status'] as const, registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'gateway_http_request_duration_seconds', help: 'HTTP request duration',
      labelNames: ['route'] as const, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry],
    }),
    decisions: new Counter({
      name: 'gateway_decisions_total', help: 'transfer decisions by partner, decision and reason',
      labelNames: ['partner', 'decision', 'reason'] as const, registers: [registry],
    }),
    egressGuardHits: new Counter({
      name: 'gateway_egress_guard_hits_total', help: 'records aborted by the correspondence egress guard (RULES 9)',
      labelNames: ['partner'] as const, registers: [registry],
    }),
    ...createBackendMetrics(registry),
    accessDenials: new Counter({
      name: 'gateway_access_denials_total', help: 'refusals before a partner is known, by reason (RULES 48); client ids are in the access-denial record, not here',
      labelNames: ['reason'] as const, registers: [registry],
    }),
    accessDenialsUnrecorded: new Counter({
      name: 'gateway_access_denials_unrecorded_total', help: 'refusals whose access-denial record could not be written (Redis unavailable)', registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

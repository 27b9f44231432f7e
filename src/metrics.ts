// Prometheus metrics (CONTRACT 8). Labels carry route templates, codes and partner ids only.
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client';
import { createBackendMetrics } from './metrics-backends.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
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

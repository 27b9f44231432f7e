// GET /metrics (CONTRACT 8) on the control-plane listener only (RULES 43, CONTRACT 11 [1/6]): the
// counters name every partner with its released/denied counts, so they are not public. Prometheus
// scrapes with a `metrics` role token; auditors and admins may read them too.
import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { AdminAuth } from '../auth/admin-auth.ts';
import type { ApiDoc } from './openapi.ts';
import { ROLE_ERRORS } from './openapi-responses.ts';

/**
 * Where the exposition comes from: this process's registry, or in a `serve --workers N` worker the
 * primary's aggregate of every worker (issue 17 item 2), asked for after the role check below.
 */
export type MetricsSource = Pick<Registry, 'contentType' | 'metrics'>;

export function metricsRouter(registry: MetricsSource, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/metrics', {
    summary: 'Prometheus metrics (no personal data; partner ids and counts): a metrics, auditor or admin role token. '
      + 'Data hygiene (RULES 21): gateway_store_retention_expired_total counts each user met in the core store past retention once per UTC day, '
      + 'gateway_store_retention_expired_users_today the distinct such users since 00:00 UTC; either above 0 means the store kept a record it should have destroyed. '
      + 'With serve --workers N, every worker\'s metrics aggregated by the primary: counters and histograms summed over workers',
    auth: 'metrics | auditor | admin',
    responses: { 200: { description: 'the Prometheus text exposition format (version 0.0.4)', media: 'text/plain' }, ...ROLE_ERRORS },
  });
  r.get('/metrics', auth.requireRole('metrics', 'auditor', 'admin'), async (_req, res) => {
    res.set('cache-control', 'no-store').type(registry.contentType).send(await registry.metrics());
  });
  return r;
}

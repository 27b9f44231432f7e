// Operations routes (CONTRACT 8) served on both listeners: liveness, readiness over TLS, and the
// listener's own OpenAPI document. /metrics is on the control plane only (http/metrics-route.ts).
import { Router } from 'express';
import type { Deps } from '../deps.ts';
import { redisUp } from '../redis/health.ts';
import { deadline } from '../transfer-log/deadline.ts';
import type { ApiDoc } from './openapi.ts';
import { expiryDetail } from '../tls/certificate-expiry.ts';
import { health, openApiDocument, readiness } from './ops-responses.ts';

/** Issue 17 item 2: every worker's readiness, from the `serve --workers N` primary. */
export interface WorkersView {
  workers(): Promise<{ ready: number; total: number }>;
}

/** "ready/total", or null when the primary could not say (then not ready: fail closed). */
async function workersReady(view: WorkersView): Promise<{ ready: number; total: number } | null> {
  try {
    return await view.workers();
  } catch {
    return null;
  }
}

/** RULES 50: open incidents, or null when Redis could not say (readiness reports Redis itself). */
async function openIncidents(deps: Deps): Promise<number | null> {
  try {
    return await deadline(deps.incidents.openCount(), deps.config.redis.commandTimeoutMs);
  } catch {
    return null;
  }
}

export function opsRouter(deps: Deps, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/healthz', { summary: 'the process is up', auth: 'public', responses: { 200: { description: 'up', json: health, name: 'Health' } } });
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  doc.add('GET', '/readyz', {
    summary: 'Redis and the core user store are reachable over TLS; certificatesExpiringSoon lists settings whose certificate expires within 30 days; checks.workers ("ready/total", with serve --workers N) counts the workers ready, and any worker not ready (starting, restarting, draining) makes it 503; checks.incidents is "open" while an incident (RULES 50) awaits acknowledgement, with openIncidents counting them (both reported, not failing readiness)',
    auth: 'public', responses: {
      200: { description: 'ready: {status, checks: {redis, upstream, policyCaches, certificates, incidents: "none"|"open"|"unknown", workers?: "2/2"|"unknown"}, openIncidents?, certificatesExpiringSoon?: [{setting, daysLeft, notAfter}]}', json: readiness, name: 'Readiness' },
      503: { description: 'not ready (the same body, status not_ready)', json: readiness, name: 'Readiness' },
    },
  });
  r.get('/readyz', async (_req, res) => {
    const [redis, upstream, incidents, workers] = await Promise.all([
      redisUp(deps.redis, deps.config.redis.commandTimeoutMs), deps.upstream.healthy(), openIncidents(deps),
      deps.cluster ? workersReady(deps.cluster) : undefined,
    ]);
    // The in-memory policy caches (agreements, key versions, jurisdiction) refuse everything while
    // they (re)load, so the instance is not ready until they are live.
    const caches = deps.agreements.ready && deps.partnerKeys.ready && deps.jurisdiction.ready;
    // The service is ready only when every worker is: a load balancer must not send traffic that a
    // starting or restarting worker would refuse.
    const allWorkers = workers === undefined || (workers !== null && workers.ready === workers.total);
    const ready = redis && upstream && caches && allWorkers;
    // RULES 36: a certificate near expiry is a warning for operators, not a reason to stop serving.
    const expiring = expiryDetail(deps.certificates, new Date());
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      checks: {
        redis: redis ? 'ok' : 'down', upstream: upstream ? 'ok' : 'down', policyCaches: caches ? 'ok' : 'loading',
        certificates: expiring.length ? 'expiring_soon' : 'ok',
        // RULES 50: an open incident is for operators to act on; the instance still serves.
        incidents: incidents === null ? 'unknown' : incidents > 0 ? 'open' : 'none',
        ...(workers === undefined ? {} : { workers: workers ? `${workers.ready}/${workers.total}` : 'unknown' }),
      },
      ...(incidents ? { openIncidents: incidents } : {}),
      ...(expiring.length ? { certificatesExpiringSoon: expiring } : {}),
    });
  });

  doc.add('GET', '/openapi.json', { summary: 'this document: the routes of this listener', auth: 'public', responses: { 200: { description: 'OpenAPI 3.1', json: openApiDocument } } });
  r.get('/openapi.json', (_req, res) => {
    res.json(doc.json());
  });
  return r;
}

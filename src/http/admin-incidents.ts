// /admin/v1/incidents (RULES 50, the breach clock): incidents opened by an egress-guard hit, a failed
// verify or an anchor mismatch, each with detectedAt and its notification deadline (notifyBy).
// Admins and auditors list and read them (reads are logged, as the transfer log's are); only an
// admin acknowledges one, and that is written with its admin audit entry.
import { Router, type Response } from 'express';
import { z } from 'zod';
import { actorOf, type AdminAuth } from '../auth/admin-auth.ts';
import type { Logger } from '../log.ts';
import type { Incidents } from '../incidents/index.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { incident, incidentsPage } from './governance-responses.ts';
import { Problem, validationFailed } from './problem.ts';
import { dedupe, fieldErrors } from './field-errors.ts';
import { pathId } from './path-ids.ts';
import { CURSOR_HINT, CURSOR_PATTERN, openCursor, sealCursor, type Cursors } from './cursor-param.ts';

export const incidentsQuery = z.strictObject({
  status: z.enum(['open', 'acknowledged']).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional().describe('page size, default 50'),
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional().describe('the nextCursor of the previous page, with the same status filter'),
});

const one = (description: string) => ({ description, json: incident, name: 'Incident' });
const AUTH = ROLE_ERRORS;
const badId = problem(['validation_failed'], 'a malformed id');
const noIncident = problem(['not_found'], 'no such incident');
const notFound = () => new Problem({ status: 404, code: 'not_found', detail: 'no such incident' });

export interface IncidentsRouterDeps {
  incidents: Pick<Incidents, 'list' | 'get' | 'acknowledge'>;
  log: Logger;
  cursors: Cursors;
}

export function adminIncidentsRouter(d: IncidentsRouterDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  const readers = auth.requireRole('admin', 'auditor');
  const read = (res: Response, action: string, detail: Record<string, unknown>) =>
    d.log.info({ requestId: res.locals.requestId, actor: actorOf(res), action, ...detail }, 'incidents read');

  doc.add('GET', '/admin/v1/incidents', {
    summary: 'incidents (RULES 50), newest first: an egress-guard hit, a failed transfer log verify or an anchor mismatch opens one with detectedAt and notifyBy (detectedAt + incidents.notifyWithinHours); repeated detections of the same finding count on the open one',
    auth: 'admin or auditor', query: incidentsQuery,
    responses: { 200: { description: 'a page of incidents, newest first', json: incidentsPage }, 400: problem(['validation_failed'], 'status, limit, or a cursor of another filter or expired'), ...AUTH },
  });
  r.get('/admin/v1/incidents', readers, async (req, res) => {
    const p = incidentsQuery.safeParse(req.query ?? {});
    if (!p.success) throw validationFailed(dedupe(fieldErrors(p.error.issues)));
    const binding = [p.data.status ?? ''];
    const inner = openCursor(d.cursors, 'incidents', binding, p.data.cursor);
    const m = inner === null ? null : /^(\d{1,15}) (inc_[0-9a-f]{16})$/.exec(inner);
    if (inner !== null && !m) throw validationFailed([{ field: 'cursor', reason: 'not a position in this list' }]);
    read(res, 'incidents.list', { filter: { status: p.data.status ?? null } });
    const page = await d.incidents.list({ limit: p.data.limit ?? 50, ...(p.data.status ? { status: p.data.status } : {}), after: m ? { ms: Number(m[1]), id: m[2]! } : null });
    res.set('Cache-Control', 'no-store').json({ items: page.items, nextCursor: sealCursor(d.cursors, 'incidents', binding, page.next ? `${page.next.ms} ${page.next.id}` : null) });
  });

  doc.add('GET', '/admin/v1/incidents/:id', {
    summary: 'one incident', auth: 'admin or auditor',
    responses: { 200: one('the incident'), 400: badId, 404: noIncident, ...AUTH },
  });
  r.get('/admin/v1/incidents/:id', readers, async (req, res) => {
    const id = pathId(req, 'id', 'incident');
    read(res, 'incidents.get', { incidentId: id });
    const inc = await d.incidents.get(id);
    if (!inc) throw notFound();
    res.set('Cache-Control', 'no-store').json(inc);
  });

  doc.add('POST', '/admin/v1/incidents/:id/ack', {
    summary: 'acknowledge an open incident (admin only; written with its admin audit entry): it stops counting as open (/readyz, gateway_incidents_open, webhook retries); a new detection of the same finding opens a new incident',
    auth: 'admin', body: z.strictObject({}),
    responses: { 200: one('the incident, acknowledged'), 400: problem(['validation_failed'], 'a malformed id or a body with fields'), 404: noIncident, 409: problem(['conflict'], 'already acknowledged'), ...AUTH },
  });
  r.post('/admin/v1/incidents/:id/ack', auth.requireRole('admin'), async (req, res) => {
    const id = pathId(req, 'id', 'incident');
    // No free text: an incident holds ids and codes only (no personal data), so the body is empty.
    const body = z.strictObject({}).safeParse(req.body ?? {});
    if (!body.success) throw validationFailed(dedupe(fieldErrors(body.error.issues)));
    const out = await d.incidents.acknowledge(actorOf(res), id);
    if (out === 'not_found') throw notFound();
    if (out === 'not_open') throw new Problem({ status: 409, code: 'conflict', detail: 'the incident is already acknowledged' });
    res.json(await d.incidents.get(id));
  });
  return r;
}

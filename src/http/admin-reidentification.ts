// RULES 27 (CONTRACT 11, [2/6]): the only way from a partner's pseudonym back to a user id, for a
// complaint or a court order. Two admins: one requests with a reason, a different admin token
// identity approves and receives the user id in that response, once. Every step is in the admin
// audit with its reason; nothing here logs the user id, the pseudonym or the reason (RULES 24).
import { Router } from 'express';
import { z } from 'zod';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { Reidentifications } from '../reidentification/requests.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import { PARTNER_ID } from '../agreements/partner-schema.ts';
import { parseBody } from './field-errors.ts';
import { Problem } from './problem.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { reidReleased, reidRequest } from './admin-responses.ts';
import { pathId } from './path-ids.ts';

const AUTH_ERRORS = ROLE_ERRORS;
const badId = problem(['validation_failed'], 'a malformed id');

const requestSchema = z.strictObject({
  partnerId: z.string({ error: 'required' }).regex(PARTNER_ID, 'must be a partner id'),
  subject: z.string({ error: 'required' }).min(1, 'required').max(1024, 'at most 1024 characters')
    .describe('the pseudonym exactly as the partner received it (v<keyVersion>.…)'),
  reason: z.string({ error: 'required' }).trim().min(10, 'state the reason (a complaint or court order reference), at least 10 characters').max(500, 'at most 500 characters')
    .describe('why the user must be identified; kept in the admin audit with every step'),
});

export interface ReidRoutesDeps {
  reidentifications: Reidentifications;
  partnerExists(id: string): Promise<boolean>;
}

export function adminReidentificationRouter(d: ReidRoutesDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  const admin = auth.requireRole('admin');

  doc.add('POST', '/admin/v1/reidentifications', {
    summary: 'RULES 27: ask to turn a partner\'s pseudonym back into a user id (a complaint, a court order). Nothing is revealed yet: a different admin '
      + 'must approve (POST /admin/v1/reidentifications/{id}/approve) before the request expires (reidentification.requestTtlSeconds). Audited with the reason',
    auth: 'admin', body: requestSchema,
    responses: { 201: { description: 'the request, status pending', json: reidRequest, name: 'ReidentificationRequest' }, 400: problem(['validation_failed'], 'naming the field'), 404: problem(['not_found'], 'no such partner'), ...AUTH_ERRORS },
  });
  r.post('/admin/v1/reidentifications', admin, async (req, res) => {
    const body = parseBody(requestSchema, req.body);
    if (!(await d.partnerExists(body.partnerId))) throw notFoundPartner(body.partnerId);
    res.status(201).json(await d.reidentifications.request(actorOf(res), body));
  });

  doc.add('GET', '/admin/v1/reidentifications/:id', {
    summary: 'RULES 27: a re-identification request and its status (pending, released, not_found), for the approving admin to review; never the user id',
    auth: 'admin', responses: { 200: { description: 'the request (never the user id)', json: reidRequest, name: 'ReidentificationRequest' }, 400: badId, 404: problem(['not_found'], 'no such request, or it expired'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/reidentifications/:id', admin, async (req, res) => {
    const id = pathId(req, 'id', 'reidentification');
    const found = await d.reidentifications.get(id);
    if (!found) throw new Problem({ status: 404, code: 'not_found', detail: `no re-identification request ${id}, or it expired` });
    res.json(found);
  });

  doc.add('POST', '/admin/v1/reidentifications/:id/approve', {
    summary: 'RULES 27: approve a pending request. Only an admin other than the requester (another admin token identity) may; the approver receives the user id in '
      + 'this response, once, and it is never shown again. Audited with the reason and the subjectRef (never the user id), refused attempts too',
    auth: 'admin',
    responses: {
      200: { description: 'the request, status released, with the user id (once)', json: reidReleased }, 400: badId,
      403: problem(['second_admin_required', 'forbidden'], 'the caller requested it; or not an admin token'), 404: problem(['not_found', 'subject_not_found'], 'no such request (or expired); or the pseudonym does not resolve for that partner'),
      409: problem(['conflict'], 'already decided'), 401: ROLE_ERRORS[401],
    },
  });
  r.post('/admin/v1/reidentifications/:id/approve', admin, async (req, res) => {
    const id = pathId(req, 'id', 'reidentification');
    res.set('Cache-Control', 'no-store'); // the one response that carries a user id
    res.json(await d.reidentifications.approve(actorOf(res), id));
  });
  return r;
}

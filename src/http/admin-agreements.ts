// Agreements (CONTRACT 5): each POST is a new immutable version that supersedes the last; the
// agreement id (agr_<partnerId>) acts on the partner's current version. RULES 19 (CONTRACT 11,
// [2/6]): a version adding a processing country or a sub-processor waits in pending_review until
// another admin approves it; the version in force keeps answering partners meanwhile.
import { Router } from 'express';
import { z } from 'zod';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { AdminServices } from '../agreements/admin-services.ts';
import { agreementSchema } from '../agreements/agreement-schema.ts';
import { partnerOfAgreement } from '../agreements/redis-keys.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import type { Transition } from '../agreements/agreement-store.ts';
import { Problem } from './problem.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { agreementVersion, agreementVersions } from './admin-responses.ts';
import { pathId } from './path-ids.ts';
import { parseBody } from './field-errors.ts';

const approveSchema = z.strictObject({
  version: z.number({ error: 'required: the number of the version pending review' }).int().min(1),
});

const AUTH_ERRORS = ROLE_ERRORS;
const badId = problem(['validation_failed'], 'a malformed id in the path');
const notFound = problem(['not_found'], 'no such partner or agreement');

export function adminAgreementsRouter({ agreements, partners }: AdminServices, auth: AdminAuth, doc: ApiDoc, policyVersions: string[]): Router {
  const r = Router();
  const admin = auth.requireRole('admin');
  const version = (description: string) => ({ description, json: agreementVersion(policyVersions), name: 'AgreementVersion' });

  doc.add('POST', '/admin/v1/partners/:id/agreements', {
    summary: 'add an agreement version; it becomes active and supersedes the current one. RULES 19: a version that adds a processing country '
      + 'or a sub-processor over the version in force (not the first version) is stored as pending_review instead, with review.additions; '
      + 'the version in force keeps answering partners until another admin approves it (POST /admin/v1/agreements/{id}/approve; POST .../reject refuses it). '
      + 'A newer POST replaces a version still pending review (it becomes superseded without taking effect)',
    auth: 'admin', body: agreementSchema(policyVersions),
    responses: { 201: version('the new version: status active, or pending_review with review.additions (RULES 19)'), 400: problem(['validation_failed'], 'every offending field (a malformed id in the path too)'), 404: notFound, 409: problem(['conflict'], 'the agreement is terminated, or changing concurrently'), ...AUTH_ERRORS },
  });
  r.post('/admin/v1/partners/:id/agreements', admin, async (req, res) => {
    res.status(201).json(await agreements.create(actorOf(res), pathId(req, 'id', 'partner'), req.body));
  });

  doc.add('GET', '/admin/v1/partners/:id/agreements', {
    summary: 'every version, oldest first, with its status; inForce is the current version partners are served under (active; or suspended, terminated), '
      + 'pendingReview the version awaiting a second admin (RULES 19), each null when there is none. countriesSince: when a country added under review took effect '
      + '(a general cross-border consent given before then does not cover it)',
    auth: 'admin', responses: { 200: { description: 'every version, the one in force and the one pending review', json: agreementVersions(policyVersions) }, 400: badId, 404: notFound, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/partners/:id/agreements', admin, async (req, res) => {
    const id = pathId(req, 'id', 'partner');
    if (!(await partners.exists(id))) throw notFoundPartner(id);
    const items = await agreements.list(id);
    const inForce = items.findLast((a) => a.status === 'active' || a.status === 'suspended' || a.status === 'terminated') ?? null;
    res.json({ items, inForce, pendingReview: items.find((a) => a.status === 'pending_review') ?? null });
  });

  doc.add('POST', '/admin/v1/agreements/:id/approve', {
    summary: 'RULES 19: approve the version pending review, named by its number; it becomes active and supersedes the version in force. '
      + 'Only an admin other than the one who created that version (another admin token identity) may; the attempt is in the admin audit either way',
    auth: 'admin', body: approveSchema,
    responses: {
      200: version('the approved version, with review.approvedBy and review.approvedAt'), 400: problem(['validation_failed'], 'version, or a malformed id in the path'),
      403: problem(['second_admin_required', 'forbidden'], 'the caller created this version; or not an admin token'), 404: notFound,
      409: problem(['conflict'], 'nothing pending review, another version is, or the agreement is terminated'), 401: ROLE_ERRORS[401],
    },
  });
  doc.add('POST', '/admin/v1/agreements/:id/reject', {
    summary: 'RULES 19: refuse the version pending review, named by its number (any admin, its author included); it becomes rejected and the version in force stays',
    auth: 'admin', body: approveSchema,
    responses: { 200: version('the rejected version'), 400: problem(['validation_failed'], 'version, or a malformed id in the path'), 404: notFound, 409: problem(['conflict'], 'nothing pending review, or another version is'), ...AUTH_ERRORS },
  });
  for (const action of ['approve', 'reject'] as const) {
    r.post(`/admin/v1/agreements/:id/${action}`, admin, async (req, res) => {
      const partnerId = partnerOfAgreement(pathId(req, 'id', 'agreement'));
      const { version } = parseBody(approveSchema, req.body);
      if (!partnerId || !(await partners.exists(partnerId))) throw new Problem({ status: 404, code: 'not_found', detail: 'no such agreement' });
      res.json(await agreements[action](actorOf(res), partnerId, version));
    });
  }

  for (const action of ['suspend', 'resume', 'terminate'] as Transition[]) {
    doc.add('POST', `/admin/v1/agreements/:id/${action}`, {
      summary: `${action} the partner's current agreement version${action === 'terminate' ? ' (final); RULES 29: the partner\'s pseudonym key rotates at once (grace 0, audited as partner.keys.rotate with reason agreement.terminate), so its old pseudonyms stop resolving' : ''}; every instance enforces it within a second`,
      auth: 'admin', responses: { 200: version('the agreement version'), 400: badId, 404: notFound, 409: problem(['conflict'], 'not allowed from the current status'), ...AUTH_ERRORS },
    });
    r.post(`/admin/v1/agreements/:id/${action}`, admin, async (req, res) => {
      const partnerId = partnerOfAgreement(pathId(req, 'id', 'agreement'));
      if (!partnerId) throw new Problem({ status: 404, code: 'not_found', detail: 'no such agreement' });
      res.json(await agreements.transition(actorOf(res), partnerId, action));
    });
  }
  return r;
}

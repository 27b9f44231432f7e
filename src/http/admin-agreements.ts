// Agreements (CONTRACT 5): each POST is a new immutable version that supersedes the last; the
// agreement id (agr_<partnerId>) acts on the partner's current version.
import { Router } from 'express';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { AdminServices } from '../agreements/admin-services.ts';
import { agreementSchema } from '../agreements/agreement-schema.ts';
import { partnerOfAgreement } from '../agreements/redis-keys.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import type { Transition } from '../agreements/agreement-store.ts';
import { Problem } from './problem.ts';
import type { ApiDoc } from './openapi.ts';
import { pathId } from './path-ids.ts';

const AUTH_ERRORS = { 401: 'invalid_token', 403: 'forbidden' };

export function adminAgreementsRouter({ agreements, partners }: AdminServices, auth: AdminAuth, doc: ApiDoc, policyVersions: string[]): Router {
  const r = Router();
  const admin = auth.requireRole('admin');

  doc.add('POST', '/admin/v1/partners/:id/agreements', {
    summary: 'add an agreement version; it becomes active and supersedes the current one', auth: 'admin', body: agreementSchema(policyVersions),
    responses: { 201: '{id, partnerId, version, status: "active", ...terms}', 400: 'validation_failed: every offending field (a malformed id in the path too)', 404: 'not_found', 409: 'conflict: the agreement is terminated', ...AUTH_ERRORS },
  });
  r.post('/admin/v1/partners/:id/agreements', admin, async (req, res) => {
    res.status(201).json(await agreements.create(actorOf(res), pathId(req, 'id', 'partner'), req.body));
  });

  doc.add('GET', '/admin/v1/partners/:id/agreements', { summary: 'every version, oldest first, with its status', auth: 'admin', responses: { 200: '{items}', 400: 'validation_failed: a malformed id in the path', 404: 'not_found', ...AUTH_ERRORS } });
  r.get('/admin/v1/partners/:id/agreements', admin, async (req, res) => {
    const id = pathId(req, 'id', 'partner');
    if (!(await partners.exists(id))) throw notFoundPartner(id);
    res.json({ items: await agreements.list(id) });
  });

  for (const action of ['suspend', 'resume', 'terminate'] as Transition[]) {
    doc.add('POST', `/admin/v1/agreements/:id/${action}`, {
      summary: `${action} the partner's current agreement version${action === 'terminate' ? ' (final); RULES 29: the partner\'s pseudonym key rotates at once (grace 0, audited as partner.keys.rotate with reason agreement.terminate), so its old pseudonyms stop resolving' : ''}; every instance enforces it within a second`,
      auth: 'admin', responses: { 200: 'the agreement version', 400: 'validation_failed: a malformed id in the path', 404: 'not_found', 409: 'conflict: not allowed from the current status', ...AUTH_ERRORS },
    });
    r.post(`/admin/v1/agreements/:id/${action}`, admin, async (req, res) => {
      const partnerId = partnerOfAgreement(pathId(req, 'id', 'agreement'));
      if (!partnerId) throw new Problem({ status: 404, code: 'not_found', detail: 'no such agreement' });
      res.json(await agreements.transition(actorOf(res), partnerId, action));
    });
  }
  return r;
}

// /admin/v1/partners (CONTRACT 5): the partner registry, public JWKS and client credentials.
import { Router } from 'express';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { AdminServices } from '../agreements/admin-services.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import { credentialCreateSchema, jwksSchema, partnerCreateSchema } from '../agreements/partner-schema.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { credential, partner, partnerList } from './admin-responses.ts';
import { pathId } from './path-ids.ts';

const AUTH_ERRORS = ROLE_ERRORS;
const badId = problem(['validation_failed'], 'a malformed id in the path');
const noPartner = problem(['not_found'], 'no such partner');
const partnerBody = (description: string) => ({ description, json: partner, name: 'Partner' });

export function adminPartnersRouter({ partners, credentials }: AdminServices, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  const admin = auth.requireRole('admin');

  doc.add('POST', '/admin/v1/partners', {
    summary: 'register a partner (optionally with its public JWKS, client certificate thumbprint and legalEntity {name, country, registrationNumber?}: the receiving legal entity every transfer log entry names, the partner name when absent; RULES 48)', auth: 'admin', body: partnerCreateSchema,
    responses: { 201: partnerBody('the partner'), 400: problem(['validation_failed'], 'every offending field (a private key in the JWKS is refused)'), 409: problem(['conflict'], 'the id exists'), ...AUTH_ERRORS },
  });
  r.post('/admin/v1/partners', admin, async (req, res) => {
    res.status(201).json(await partners.create(actorOf(res), req.body));
  });

  doc.add('GET', '/admin/v1/partners', { summary: 'every partner', auth: 'admin', responses: { 200: { description: 'every partner', json: partnerList }, ...AUTH_ERRORS } });
  r.get('/admin/v1/partners', admin, async (_req, res) => {
    res.json({ items: await partners.list() });
  });

  doc.add('GET', '/admin/v1/partners/:id', { summary: 'one partner (client ids, never secrets)', auth: 'admin', responses: { 200: partnerBody('the partner'), 400: badId, 404: noPartner, ...AUTH_ERRORS } });
  r.get('/admin/v1/partners/:id', admin, async (req, res) => {
    const id = pathId(req, 'id', 'partner');
    const p = await partners.get(id);
    if (!p) throw notFoundPartner(id);
    res.json(p);
  });

  doc.add('PUT', '/admin/v1/partners/:id/jwks', {
    summary: 'replace the partner\'s public JWKS (ES256/PS256 signing, ECDH-ES+A256KW/RSA-OAEP-256 encryption keys)', auth: 'admin', body: jwksSchema,
    responses: { 200: partnerBody('the partner with its new JWKS'), 400: problem(['validation_failed'], 'a private key is refused; a malformed id in the path'), 404: noPartner, ...AUTH_ERRORS },
  });
  r.put('/admin/v1/partners/:id/jwks', admin, async (req, res) => {
    res.json(await partners.setJwks(actorOf(res), pathId(req, 'id', 'partner'), req.body));
  });

  doc.add('POST', '/admin/v1/partners/:id/credentials', {
    summary: 'issue a client credential; the secret is shown in this response only', auth: 'admin', body: credentialCreateSchema,
    responses: { 201: { description: 'the credential; the secret is never shown again', json: credential }, 400: problem(['validation_failed'], 'a bad label, or a malformed id in the path'), 404: noPartner, ...AUTH_ERRORS },
  });
  r.post('/admin/v1/partners/:id/credentials', admin, async (req, res) => {
    const c = await credentials.issue(actorOf(res), pathId(req, 'id', 'partner'), req.body);
    res.status(201).setHeader('cache-control', 'no-store').json(c);
  });

  doc.add('DELETE', '/admin/v1/partners/:id/credentials/:clientId', {
    summary: 'revoke a credential and every access token issued with it', auth: 'admin',
    responses: { 204: 'revoked (no body)', 400: badId, 404: problem(['not_found'], 'no such partner or credential'), ...AUTH_ERRORS },
  });
  r.delete('/admin/v1/partners/:id/credentials/:clientId', admin, async (req, res) => {
    await credentials.revoke(actorOf(res), pathId(req, 'id', 'partner'), pathId(req, 'clientId', 'credential'));
    res.status(204).end();
  });
  return r;
}

// /admin/v1/tokens and /admin/v1/audit (CONTRACT 5): minting and revoking role tokens, and the
// admin audit trail for auditors.
import { Router } from 'express';
import { z } from 'zod';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import { mintSchema } from '../auth/admin-tokens.ts';
import type { AdminServices } from '../agreements/admin-services.ts';
import { Problem } from './problem.ts';
import { parseBody } from './field-errors.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { auditPage, mintedToken } from './admin-responses.ts';
import { pathId } from './path-ids.ts';
import { CURSOR_HINT, CURSOR_PATTERN, openStreamCursor, sealCursor, type Cursors } from './cursor-param.ts';

const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional(),
});

export function adminTokensRouter({ tokens, audit }: AdminServices, auth: AdminAuth, doc: ApiDoc, cursors: Cursors): Router {
  const r = Router();

  doc.add('POST', '/admin/v1/tokens', {
    summary: 'mint a role token; the token is shown in this response only', auth: 'admin', body: mintSchema,
    responses: { 201: { description: 'the token, shown once', json: mintedToken }, 400: problem(['validation_failed'], 'role, label or ttlSeconds'), ...ROLE_ERRORS },
  });
  r.post('/admin/v1/tokens', auth.requireRole('admin'), async (req, res) => {
    const t = await tokens.mint(actorOf(res), req.body);
    res.status(201).setHeader('cache-control', 'no-store').json(t);
  });

  doc.add('DELETE', '/admin/v1/tokens/:id', {
    summary: 'revoke a role token at once, on every instance', auth: 'admin',
    responses: { 204: 'revoked (no body)', 400: problem(['validation_failed'], 'a malformed id in the path'), 404: problem(['not_found'], 'no such token'), ...ROLE_ERRORS },
  });
  r.delete('/admin/v1/tokens/:id', auth.requireRole('admin'), async (req, res) => {
    if (!(await tokens.revoke(actorOf(res), pathId(req, 'id', 'token')))) throw new Problem({ status: 404, code: 'not_found', detail: 'no such token' });
    res.status(204).end();
  });

  doc.add('GET', '/admin/v1/audit', {
    summary: 'the admin audit trail, newest first: who (token id and role), what, when, before/after', auth: 'auditor', query: auditQuery,
    responses: { 200: { description: 'a page of the audit trail, newest first', json: auditPage }, 400: problem(['validation_failed'], 'limit, or a cursor that is malformed, altered, expired or of another list'), ...ROLE_ERRORS },
  });
  r.get('/admin/v1/audit', auth.requireRole('auditor'), async (req, res) => {
    const q = parseBody(auditQuery, req.query);
    // DESIGN 9: the stream id is sealed for this list; an audit cursor opens nowhere else.
    const after = openStreamCursor(cursors, 'audit', [], q.cursor, 'before');
    const page = await audit.read(q.limit ?? 100, after ?? undefined);
    res.json({ ...page, nextCursor: sealCursor(cursors, 'audit', [], page.nextCursor) });
  });
  return r;
}

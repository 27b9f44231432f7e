// /admin/v1/jurisdiction (issue 7, RULES 17 and 20): the governed adequacy list and the country
// kill-switch. Admins change them; admins and auditors read the state and its history.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { JurisdictionService } from '../jurisdiction/service.ts';
import { adequacyBodySchema, blockBodySchema } from '../jurisdiction/entries.ts';
import { Problem } from './problem.ts';
import { parseBody } from './field-errors.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { adequacyChange, blockChange, jurisdictionHistory, jurisdictionVersion, jurisdictionView } from './governance-responses.ts';
import { CURSOR_HINT, CURSOR_PATTERN, openStreamCursor, sealCursor, type Cursors } from './cursor-param.ts';

const AUTH_ERRORS = ROLE_ERRORS;
const badCountry = problem(['validation_failed'], 'not an ISO 3166-1 alpha-2 country code in upper case');
const version = { description: 'the new version of the jurisdiction state', json: jurisdictionVersion };
const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional(),
});

/** RULES 43: the route still names its roles; a token of any other role gets 403. */
function adminOrAuditor(auth: AdminAuth): RequestHandler {
  const admin = auth.requireRole('admin');
  const auditor = auth.requireRole('auditor');
  const forbidden = (e: unknown) => e instanceof Problem && e.status === 403;
  return (req, res, next) => admin(req, res, (e?: unknown) => {
    if (!forbidden(e)) return next(e as Error);
    auditor(req, res, (e2?: unknown) => next(forbidden(e2) ? new Problem({ status: 403, code: 'forbidden', detail: 'this route needs the admin or auditor role' }) : (e2 as Error)));
  });
}

export function adminJurisdictionRouter(jurisdiction: JurisdictionService, auth: AdminAuth, doc: ApiDoc, cursors: Cursors): Router {
  const r = Router();
  const admin = auth.requireRole('admin');
  const reader = adminOrAuditor(auth);
  const country = (p: unknown) => String(p);

  doc.add('GET', '/admin/v1/jurisdiction', {
    summary: 'the jurisdiction state: version, home, adequacy entries (with `expired` past reviewBy) and blocked countries', auth: 'admin or auditor',
    responses: { 200: { description: 'the state in Redis now, each adequacy entry with its expiry as of now', json: jurisdictionView }, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/jurisdiction', reader, async (_req, res) => {
    res.json(await jurisdiction.view());
  });

  doc.add('GET', '/admin/v1/jurisdiction/history', {
    summary: 'every change to the jurisdiction state, newest first, with its version', auth: 'admin or auditor', query: historyQuery,
    responses: { 200: { description: 'a page of changes, newest first', json: jurisdictionHistory }, 400: problem(['validation_failed'], 'limit, or a cursor that is malformed, altered, expired or of another list'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/jurisdiction/history', reader, async (req, res) => {
    const q = parseBody(historyQuery, req.query);
    // DESIGN 9: the stream id is sealed for this list; a jurisdiction cursor opens nowhere else.
    const after = openStreamCursor(cursors, 'jurisdiction', [], q.cursor, 'before');
    const page = await jurisdiction.history(q.limit ?? 100, after ?? undefined);
    res.json({ ...page, nextCursor: sealCursor(cursors, 'jurisdiction', [], page.nextCursor) });
  });

  doc.add('PUT', '/admin/v1/jurisdiction/adequate/:country', {
    summary: 'put a country on the adequacy list (or re-approve it) until reviewBy; approvedBy is the calling token', auth: 'admin', body: adequacyBodySchema,
    responses: { 200: { description: 'the new version and the entry', json: adequacyChange }, 400: problem(['validation_failed'], 'unknown country, the home country, missing justification or reviewBy, reviewBy not in the future'), ...AUTH_ERRORS },
  });
  r.put('/admin/v1/jurisdiction/adequate/:country', admin, async (req, res) => {
    res.json(await jurisdiction.putAdequate(actorOf(res), country(req.params.country), req.body));
  });

  doc.add('DELETE', '/admin/v1/jurisdiction/adequate/:country', {
    summary: 'take a country off the adequacy list', auth: 'admin',
    responses: { 200: version, 400: badCountry, 404: problem(['not_found'], 'not on the list'), ...AUTH_ERRORS },
  });
  r.delete('/admin/v1/jurisdiction/adequate/:country', admin, async (req, res) => {
    res.json(await jurisdiction.removeAdequate(actorOf(res), country(req.params.country)));
  });

  doc.add('PUT', '/admin/v1/jurisdiction/blocked/:country', {
    summary: 'country kill-switch: refuse every transfer to partners processing there, on every instance within a second', auth: 'admin', body: blockBodySchema,
    responses: { 200: { description: 'the new version and the entry', json: blockChange }, 400: problem(['validation_failed'], 'unknown country or missing reason'), ...AUTH_ERRORS },
  });
  r.put('/admin/v1/jurisdiction/blocked/:country', admin, async (req, res) => {
    res.json(await jurisdiction.block(actorOf(res), country(req.params.country), req.body));
  });

  doc.add('DELETE', '/admin/v1/jurisdiction/blocked/:country', {
    summary: 'lift the kill-switch for a country', auth: 'admin',
    responses: { 200: version, 400: badCountry, 404: problem(['not_found'], 'not blocked'), ...AUTH_ERRORS },
  });
  r.delete('/admin/v1/jurisdiction/blocked/:country', admin, async (req, res) => {
    res.json(await jurisdiction.unblock(actorOf(res), country(req.params.country)));
  });
  return r;
}

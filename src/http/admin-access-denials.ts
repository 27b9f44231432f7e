// GET /admin/v1/access-denials (RULES 48, 49): the access-denial record for auditors — refusals
// before a partner is known, counted per UTC day, client id and reason, with sampled examples.
// Only the auditor role reads it, and every read is itself logged ('access denials read', as the
// transfer log's reads are), with a clientId filter naming no registered client logged as such.
import { Router } from 'express';
import { z } from 'zod';
import { actorOf, type AdminAuth } from '../auth/admin-auth.ts';
import type { Logger } from '../log.ts';
import type { AccessDenials } from '../access-denials/index.ts';
import { DENIAL_REASONS } from '../access-denials/reasons.ts';
import { DAY_MS, dayOf } from '../access-denials/record.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { accessDenialsPage } from './transfers-responses.ts';
import { validationFailed } from './problem.ts';
import { dedupe, fieldErrors } from './field-errors.ts';
import { CURSOR_HINT, CURSOR_PATTERN, openCursor, sealCursor, type Cursors } from './cursor-param.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const day = z.string().regex(DAY, 'must be a UTC day, YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && dayOf(new Date(`${d}T00:00:00Z`)) === d, 'must be a real calendar day');
const CLIENT_KEYS = ['unregistered', 'unknown'];

export const accessDenialsQuery = z.strictObject({
  from: day.optional().describe('first UTC day, inclusive (default: 30 days before `to`)'),
  to: day.optional().describe('last UTC day, inclusive (default: today)'),
  reason: z.enum(DENIAL_REASONS).optional(),
  clientId: z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, 'must be a client id, "unregistered" or "unknown"').optional()
    .describe('a registered client id; "unregistered" (client ids that are not registered, never stored verbatim) or "unknown" (none presented)'),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('rows per page (a page ends on a day boundary, so it may hold more), default 100'),
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional().describe('the nextCursor of the previous page, with the same filter'),
});

export interface AccessDenialsRouterDeps {
  accessDenials: Pick<AccessDenials, 'page'>;
  log: Logger;
  cursors: Cursors;
  /** Whether a client id is registered: an unregistered one is the caller's free text, not logged. */
  clientExists: (clientId: string) => Promise<boolean>;
  now?: () => Date;
}

export function adminAccessDenialsRouter(d: AccessDenialsRouterDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/admin/v1/access-denials', {
    summary: 'refusals before a partner is known (unknown client, bad secret or assertion, missing or bad token, 429, TLS floor or cipher), per UTC day, client id and reason, newest day first; '
      + 'examples are sampled (the first accessDenials.examplesPerKey of a day, then a reservoir sample) and hold time, reason, the caller\'s /24 or /48 and the request id. '
      + 'Kept as long as the transfer log (retention.transferLogDays)', auth: 'auditor', query: accessDenialsQuery,
    responses: {
      200: { description: 'rows per UTC day, client id and reason, newest day first, with sampled examples', json: accessDenialsPage },
      400: problem(['validation_failed'], 'every bad parameter (a cursor of another filter, or expired, too)'), ...ROLE_ERRORS,
    },
  });
  r.get('/admin/v1/access-denials', auth.requireRole('auditor'), async (req, res) => {
    const parsed = accessDenialsQuery.safeParse(req.query ?? {});
    if (!parsed.success) throw validationFailed(dedupe(fieldErrors(parsed.error.issues)));
    const q = parsed.data;
    const to = q.to ?? dayOf((d.now ?? (() => new Date()))());
    const from = q.from ?? dayOf(new Date(Date.parse(`${to}T00:00:00Z`) - 30 * DAY_MS));
    if (from > to) throw validationFailed([{ field: 'from', reason: 'must not be after to' }]);
    const filter = { from, to, ...(q.reason ? { reason: q.reason } : {}), ...(q.clientId ? { clientId: q.clientId } : {}) };
    const binding = [from, to, q.reason ?? '', q.clientId ?? ''];
    const startDay = openCursor(d.cursors, 'access_denials', binding, q.cursor);
    if (startDay !== null && !DAY.test(startDay)) throw validationFailed([{ field: 'cursor', reason: 'not a position in this list' }]);
    // RULES 49: reads are logged; RULES 24: a clientId that names no registered client is whatever was typed.
    const loggedClient = q.clientId === undefined ? undefined
      : CLIENT_KEYS.includes(q.clientId) || (await d.clientExists(q.clientId)) ? q.clientId : '(unregistered)';
    d.log.info({ requestId: res.locals.requestId, actor: actorOf(res), action: 'access_denials.list',
      filter: { from, to, ...(q.reason ? { reason: q.reason } : {}), ...(loggedClient ? { clientId: loggedClient } : {}) } }, 'access denials read');
    const page = await d.accessDenials.page(filter, { limit: q.limit ?? 100, startDay });
    res.set('Cache-Control', 'no-store').json({ items: page.items, nextCursor: sealCursor(d.cursors, 'access_denials', binding, page.nextDay) });
  });
  return r;
}

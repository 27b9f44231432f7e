// GET /v1/notifications (CONTRACT 4): the caller's notices, oldest first. Only the partner's own
// stream is ever read, so one partner can never see another's notices or pseudonyms.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { partnerTokenOf } from '../auth/partner-auth.ts';
import type { Notices } from '../notices/index.ts';
import { parseBody } from './field-errors.ts';
import type { ApiDoc } from './openapi.ts';
import { redisUnavailable } from './problem.ts';

export const notificationsQuery = z.strictObject({
  cursor: z.string().regex(/^\d{1,20}-\d{1,20}$/, 'must be a nextCursor from a previous answer').optional(),
  limit: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
});

export function partnerNotificationsRouter(d: { notices: Notices; requirePartner: RequestHandler }, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/v1/notifications', {
    summary: 'notices for subjects this partner received, oldest first: consent_withdrawn, subject_erased, cross_border_withdrawn, '
      + 'retention_expired (delete-by reached). `legalObligation: true`: data held under legal_obligation is kept, the rest deleted. '
      + 'Poll again with nextCursor (null only while there has never been a notice)',
    auth: 'partner', query: notificationsQuery,
    responses: { 200: '{items: [{id, type, subject, purposes, at, legalObligation?}], nextCursor}', 400: 'validation_failed', 401: 'invalid_token', 503: 'store_unavailable' },
  });
  r.get('/v1/notifications', d.requirePartner, async (req, res) => {
    const q = parseBody(notificationsQuery, req.query);
    const page = await d.notices.list(partnerTokenOf(res).partnerId, q.cursor ?? null, q.limit ?? 100).catch(() => { throw redisUnavailable(); });
    res.set('cache-control', 'no-store').json(page);
  });
  return r;
}

// GET /v1/notifications (CONTRACT 4): the caller's notices, oldest first. Only the partner's own
// stream is ever read, so one partner can never see another's notices or pseudonyms.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { partnerTokenOf } from '../auth/partner-auth.ts';
import type { Notices } from '../notices/index.ts';
import { parseBody } from './field-errors.ts';
import type { ApiDoc } from './openapi.ts';
import { noticeAck, noticesPage } from './partner-responses.ts';
import { PARTNER_EXAMPLES } from './partner-examples.ts';
import { Problem, redisUnavailable, validationFailed } from './problem.ts';
import { CURSOR_HINT, CURSOR_PATTERN, openStreamCursor, sealCursor, type Cursors } from './cursor-param.ts';

export const notificationsQuery = z.strictObject({
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional(),
  limit: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
});

/** Notice ids are `ntc_` and 24 base64url characters (notices/notice.ts noticeId). */
const NOTICE_ID = /^ntc_[A-Za-z0-9_-]{24}$/;
// RULES 47: an acknowledgement is partner input: it carries nothing, and anything else is refused.
export const ackBody = z.strictObject({});

export function partnerNotificationsRouter(d: { notices: Notices; requirePartner: RequestHandler; cursors: Cursors }, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/v1/notifications', {
    summary: 'notices for subjects this partner received, oldest first: consent_withdrawn, subject_erased, cross_border_withdrawn, '
      + 'retention_expired (delete-by reached). `legalObligation: true`: data held under legal_obligation is kept, the rest deleted. '
      + '`subject` is the pseudonym this partner received, under the key version of that release (not necessarily its current one): '
      + 'a partner that received the user under several key versions gets one notice per pseudonym, each with its own id. '
      + 'cross_border_withdrawn goes to a partner that received the user under a cross-border basis, by the countries of those '
      + 'releases, even when its agreement no longer names them. '
      + 'Poll again with nextCursor (null only while there has never been a notice). Every answer carries a fresh nextCursor, '
      + 'also when it has no items, so a partner that keeps polling never holds an old one; a cursor older than '
      + 'limits.cursorTtlSeconds answers 400 validation_failed (cursor: expired), and the partner starts again without a cursor '
      + '(notices then come again from the oldest kept; their ids tell the ones already handled). '
      + 'Confirm each notice once acted on with POST /v1/notifications/{id}/ack (RULES 23; a webhook 2xx confirms it too)',
    auth: 'partner', query: notificationsQuery,
    responses: { 200: { description: '{items: [{id, type, subject, purposes, at, legalObligation?}], nextCursor}', json: noticesPage, name: 'NoticesPage', example: PARTNER_EXAMPLES.notices }, 400: { description: 'validation_failed (also a cursor that is expired, altered or another partner\'s)', codes: ['validation_failed'] }, 401: { description: 'invalid_token', codes: ['invalid_token'] }, 503: { description: 'store_unavailable', codes: ['store_unavailable'] } },
  });
  r.get('/v1/notifications', d.requirePartner, async (req, res) => {
    const q = parseBody(notificationsQuery, req.query);
    const partnerId = partnerTokenOf(res).partnerId;
    // DESIGN 9, RULES 42: the stream id inside is sealed for this partner; checked before Redis sees it.
    const after = openStreamCursor(d.cursors, 'notifications', [partnerId], q.cursor, 'after');
    const page = await d.notices.list(partnerId, after, q.limit ?? 100).catch(() => { throw redisUnavailable(); });
    res.set('cache-control', 'no-store').json({ ...page, nextCursor: sealCursor(d.cursors, 'notifications', [partnerId], page.nextCursor) });
  });

  doc.add('POST', '/v1/notifications/:id/ack', {
    summary: 'confirm a notice: the partner has acted on it (deleted, or for legalObligation kept only that). RULES 23: a retention_expired '
      + 'or subject_erased notice must be confirmed within notices.confirmWithinSeconds of being queued (a 2xx from the webhook confirms it '
      + 'too), else it is overdue for the gateway\'s staff. Idempotent: a repeat answers the first confirmation. Only the partner the notice '
      + 'was sent to can confirm it; any other id, another partner\'s included, is 404 not_found (RULES 42). No body, or {}',
    auth: 'partner', body: ackBody,
    responses: { 200: { description: '{id, ackAt, via: "pull"|"webhook"}', json: noticeAck, name: 'NoticeAck' }, 400: { description: 'validation_failed: a malformed id, or a body with members', codes: ['validation_failed'] }, 401: { description: 'invalid_token', codes: ['invalid_token'] }, 404: { description: 'not_found: no such notice of this partner', codes: ['not_found'] }, 503: { description: 'store_unavailable', codes: ['store_unavailable'] } },
  });
  r.post('/v1/notifications/:id/ack', d.requirePartner, async (req, res) => {
    const id = String(req.params.id ?? '');
    // The value is never echoed (RULES 24): the reason names the parameter and its shape.
    if (!NOTICE_ID.test(id)) throw validationFailed([{ field: 'id', reason: 'must be a notice id (ntc_ and 24 base64url characters)' }]);
    parseBody(ackBody, req.body ?? {});
    const partnerId = partnerTokenOf(res).partnerId;
    // RULES 42: looked up under the caller's own partner id only, so another partner's notice is not found.
    const a = await d.notices.ack(partnerId, id).catch(() => { throw redisUnavailable(); });
    if (!a) throw new Problem({ status: 404, code: 'not_found', detail: 'no such notice' });
    res.set('cache-control', 'no-store').json({ id: a.noticeId, ackAt: a.ackAt, via: a.via });
  });
  return r;
}

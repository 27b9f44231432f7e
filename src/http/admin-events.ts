// POST /admin/v1/events (core_store) and the dead-letter list for ops (auditor): CONTRACT 5,
// RULES 12 and 23. The handler only validates; the fan-out is the notices use case.
import { Router } from 'express';
import { z } from 'zod';
import { actorOf, type AdminAuth } from '../auth/admin-auth.ts';
import { EVENT_ID, eventSchema, handleEvent, type EventDeps } from '../notices/events.ts';
import { parseBody } from './field-errors.ts';
import { pathId } from './path-ids.ts';
import { Problem, redisUnavailable, validationFailed } from './problem.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { deadLetterRetry, deadLetters, eventReply, overdue } from './governance-responses.ts';

const AUTH_ERRORS = ROLE_ERRORS;
const storeUnavailable = problem(['store_unavailable'], 'the store is unreachable (or the agreements are reloading); retry');
// Fail closed (DESIGN 1): Redis unreachable is a 503 the core store retries, never a half answer.
const storeDown = (e: unknown): never => { throw e instanceof Problem ? e : redisUnavailable(); };
const deadQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() });

export function adminEventsRouter(d: EventDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();

  doc.add('POST', '/admin/v1/events', {
    summary: 'a user event from the core store; notices go to every partner that received the user\'s data for an affected purpose, '
      + 'and only those (RULES 12), as the transfer log\'s recipients index records it: one notice per pseudonym the partner received '
      + '(per key version), cross_border_withdrawn by the cross-border releases whatever the agreement names today; `notices` counts them. '
      + 'Idempotent by `id` or the Idempotency-Key header: a repeat gets the first answer',
    auth: 'core_store', body: eventSchema,
    responses: { 202: { description: 'the notices are queued (a repeat of the event id: the first answer)', json: eventReply }, 400: problem(['validation_failed'], 'every offending field (the Idempotency-Key header too)'), 503: storeUnavailable, ...AUTH_ERRORS },
  });
  r.post('/admin/v1/events', auth.requireRole('core_store'), async (req, res) => {
    const header = req.get('idempotency-key');
    const body = parseBody(eventSchema, req.body);
    if (header !== undefined && !EVENT_ID.test(header)) throw validationFailed([{ field: 'Idempotency-Key', reason: 'must be 1-128 characters of A-Z a-z 0-9 . _ : -' }]);
    if (header !== undefined && body.id !== undefined && header !== body.id) throw validationFailed([{ field: 'id', reason: 'differs from the Idempotency-Key header' }]);
    res.status(202).json(await handleEvent(d, body, body.id ?? header).catch(storeDown));
  });

  doc.add('GET', '/admin/v1/notices/dead-letter', {
    summary: 'notices no partner acknowledged within notices.deadLetterAfterMs, newest first (RULES 23: escalation)',
    auth: 'auditor', query: deadQuery,
    responses: { 200: { description: 'dead letters, newest first', json: deadLetters }, 400: problem(['validation_failed'], 'limit'), 503: storeUnavailable, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/notices/dead-letter', auth.requireRole('auditor'), async (req, res) => {
    const q = parseBody(deadQuery, req.query);
    res.json({ items: await d.notices.deadLetters(q.limit ?? 100).catch(storeDown) });
  });

  doc.add('POST', '/admin/v1/notices/dead-letter/:partnerId/:noticeId/retry', {
    summary: 'send a dead letter again (issue 16): it leaves the dead-letter list and is due at once, with a fresh notices.deadLetterAfterMs window; '
      + 'delivered as any notice (signed, RULES 45 guard). Written with its admin audit entry',
    auth: 'admin', body: z.strictObject({}),
    responses: { 202: { description: 'queued again', json: deadLetterRetry }, 400: problem(['validation_failed'], 'a malformed partner or notice id, or a body with fields'), 404: problem(['not_found'], 'no such dead letter (never dead, or already retried)'), 503: storeUnavailable, ...AUTH_ERRORS },
  });
  r.post('/admin/v1/notices/dead-letter/:partnerId/:noticeId/retry', auth.requireRole('admin'), async (req, res) => {
    const partnerId = pathId(req, 'partnerId', 'partner');
    const noticeId = pathId(req, 'noticeId', 'notice');
    parseBody(z.strictObject({}), req.body ?? {});
    if (!(await d.notices.retryDead(actorOf(res), partnerId, noticeId).catch(storeDown))) {
      throw new Problem({ status: 404, code: 'not_found', detail: 'no such dead letter (never dead, or already retried)' });
    }
    res.status(202).json({ partnerId, noticeId, status: 'queued' });
  });

  doc.add('GET', '/admin/v1/notices/overdue', {
    summary: 'RULES 23 DELETE_UNCONFIRMED: deletion notices (retention_expired, subject_erased) not confirmed — by a webhook 2xx or '
      + 'POST /v1/notifications/{id}/ack — within notices.confirmWithinSeconds of being queued, oldest deadline first, at most `limit`; '
      + '`total` and `counts` (per partner and type, as gateway_notices_overdue) cover them all. A late confirmation removes a notice',
    auth: 'admin or auditor', query: deadQuery,
    responses: { 200: { description: 'overdue deletion notices, oldest deadline first, with the totals', json: overdue }, 400: problem(['validation_failed'], 'limit'), 503: storeUnavailable, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/notices/overdue', auth.requireRole('admin', 'auditor'), async (req, res) => {
    const q = parseBody(deadQuery, req.query);
    res.set('cache-control', 'no-store').json(await d.notices.overdue(q.limit ?? 100).catch(storeDown));
  });
  return r;
}

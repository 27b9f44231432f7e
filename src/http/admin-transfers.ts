// The transfer log for auditors (CONTRACT 5, issue 5): page, follow live (SSE), export (NDJSON),
// verify, and a subject's recipients. RULES 49: only the auditor role reads the log (401 without
// a valid admin token, 403 for admin and core_store), and every read is itself logged: who (token
// id), what, and the filter, with a subject only as its subjectRef (RULES 24: no personal data).
import { Router, type Response } from 'express';
import { actorOf, type AdminAuth } from '../auth/admin-auth.ts';
import type { Logger } from '../log.ts';
import type { TransferFilter, TransferLog } from '../transfer-log/index.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { exportLine, recipients, transferPage, verifyResult } from './transfers-responses.ts';
import { Problem, validationFailed } from './problem.ts';
import { streamSse, type SseEvent } from './sse.ts';
import { closeSignal, sendNdjson } from './stream-write.ts';
import { sendProblem } from './errors.ts';
import { filterBinding, filterQuery, lastEventId, listQuery, noQuery, parseTransferQuery } from './transfer-params.ts';
import { openStreamCursor, sealCursor, type Cursors } from './cursor-param.ts';
import { VerifyRunner, type VerifyBudget } from './verify-budget.ts';

const inProgress = new Problem({ status: 503, code: 'verify_in_progress', detail: 'verification still running; retry', headers: { 'Retry-After': '5' } });
const AUTH_ERRORS = ROLE_ERRORS;
const badQuery = (what: string) => problem(['validation_failed'], what);

export interface TransfersRouterDeps {
  transferLog: TransferLog; log: Logger; cursors: Cursors;
  /** Whether a partner id is registered: an unregistered one is the caller's free text, not logged. */
  partnerExists: (id: string) => Promise<boolean>;
}
export interface TransfersRouterOptions { heartbeatMs?: number; verify?: VerifyBudget }

export function adminTransfersRouter({ transferLog: tlog, log, cursors, partnerExists }: TransfersRouterDeps, auth: AdminAuth, doc: ApiDoc, opts: TransfersRouterOptions = {}): Router {
  const r = Router();
  const auditor = auth.requireRole('auditor');
  const compile = (f: TransferFilter) => tlog.query.compile(f);
  const verifier = new VerifyRunner(() => tlog.verify(), opts.verify);
  const accessed = async (res: Response, action: string, f: TransferFilter = {}) => {
    const { subject, partnerId, ...rest } = f;
    const filter: Record<string, unknown> = { ...rest };
    // RULES 24: a partnerId naming no registered partner is whatever was typed (found by the fuzzer).
    if (partnerId !== undefined) filter.partnerId = (await partnerExists(partnerId)) ? partnerId : '(unregistered)';
    if (subject !== undefined) filter.subjectRef = tlog.subjectRef(subject);
    log.info({ requestId: res.locals.requestId, actor: actorOf(res), action, filter }, 'transfer log read');
  };
  const failed = (res: Response) => (e: unknown) =>
    log.error({ requestId: res.locals.requestId, err: e instanceof Error ? { name: e.name, message: e.message } : undefined }, 'transfer log stream failed');

  doc.add('GET', '/admin/v1/transfers', {
    summary: 'transfer log entries, newest first, filtered; pass nextCursor back as cursor, with the same filter, for the next page (an opaque cursor, refused with another filter or once expired)', auth: 'auditor', query: listQuery,
    responses: { 200: { description: 'a page of entries; an entry is CONTRACT 7 plus policyVersion, keyVersion, tls, deleteBy and (RULES 48, issue [2/6]) legalEntity {name, country, registrationNumber} (country and number null when the partner registered none), consent {purpose, grantedAt} (the consent a consent-based release relied on), crossBorderConsent {grantedAt} (when that was the cross-border ground) and adequacyListVersion (the governed list version when adequacy was); null where not applicable', json: transferPage, name: 'TransferPage' }, 400: badQuery('every bad parameter (a cursor of another filter, or expired, too)'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/transfers', auditor, async (req, res) => {
    const { params, filter } = parseTransferQuery(listQuery, req.query, compile);
    await accessed(res, 'transfers.list', filter);
    const after = openStreamCursor(cursors, 'transfers', filterBinding(filter), params.cursor, 'before');
    const page = await tlog.query.page(filter, { limit: params.limit ?? 100, cursor: after });
    res.set('Cache-Control', 'no-store').json({ ...page, nextCursor: sealCursor(cursors, 'transfers', filterBinding(filter), page.nextCursor) });
  });

  doc.add('GET', '/admin/v1/transfers/stream', {
    summary: 'live entries as Server-Sent Events (event: transfer, id: stream id); resume with Last-Event-ID; heartbeat comments every 15 s', auth: 'auditor', query: filterQuery,
    responses: { 200: { description: 'event: transfer, id: the stream id, data: one entry as JSON (as in GET /admin/v1/transfers); `: keep-alive` comments between', media: 'text/event-stream' }, 400: badQuery('a bad filter, or a malformed Last-Event-ID'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/transfers/stream', auditor, async (req, res) => {
    // Everything is checked before the headers, so a bad filter is still a problem+json 400.
    const { filter } = parseTransferQuery(filterQuery, req.query, compile);
    const resume = lastEventId(req);
    // Read "now" before the headers go out: an entry appended once the client sees them is delivered.
    const after = resume ?? (await tlog.query.latestId());
    await accessed(res, 'transfers.stream', filter);
    const signal = closeSignal(res); // the client left: stop polling the log
    await streamSse(res, events(tlog.query.follow(filter, after, { signal })), {
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}), onError: failed(res),
    });
  });

  doc.add('GET', '/admin/v1/transfers/export', {
    summary: 'every matching entry of the range as NDJSON, oldest first, streamed as fast as the client reads', auth: 'auditor', query: filterQuery,
    responses: { 200: { description: 'one entry a line, oldest first; a last {"error","requestId"} line if the export was cut short', ndjson: exportLine, ndjsonName: 'TransferExportLine' }, 400: badQuery('every bad parameter'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/transfers/export', auditor, async (req, res) => {
    const { filter } = parseTransferQuery(filterQuery, req.query, compile);
    await accessed(res, 'transfers.export', filter);
    await sendNdjson(res, tlog.query.export(filter), { 'Content-Disposition': 'attachment; filename="transfers.ndjson"' }, failed(res));
  });

  doc.add('GET', '/admin/v1/transfers/verify', {
    summary: 'verify every checkpoint signature and hash chain, the links between each chain\'s batch checkpoints, the signed chain registry, and Redis against the gateway\'s anchors file (transferLog.anchors.file); then recompute the recipients index from the entries. ok:false names the first broken chain and seq (or checkpoint, or anchors file line) in brokenAt, '
      + 'or the drifting records in recipients.drift (by subjectRef: missing_record, missing_partner, extra_partner, count, first, last, missing_facets, extra_facets; after a trim only what the remaining entries prove is checked)', auth: 'auditor', query: noQuery,
    responses: { 200: { description: 'the verdict: ok, what was checked, and the first break (brokenAt) or the recipients drift; seams: chains closed after a failover or failed batch (where each ends, the highest seq released, how many seqs sent past the end are gone, none of them released; a released seq that is gone fails instead)', json: verifyResult }, 400: badQuery('a query parameter (this route takes none)'), 503: { ...problem(['verify_in_progress', 'store_unavailable'], 'the run outlived the time budget and goes on, retry after Retry-After; or the store is unreachable'), optionalHeaders: ['Retry-After'] }, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/transfers/verify', auditor, async (req, res) => {
    parseTransferQuery(noQuery, req.query, () => undefined);
    await accessed(res, 'transfers.verify');
    const out = await verifier.run();
    // Not a failure, so not thrown: the error handler would log it as one.
    if (!out) return sendProblem(res, inProgress, String(res.locals.requestId ?? ''));
    res.set({ 'Cache-Control': 'no-store', 'X-Verify-Started-At': out.startedAt.toISOString() }).json(out.result);
  });

  doc.add('GET', '/admin/v1/subjects/:userId/recipients', {
    summary: 'which partners received this user\'s data, for which purposes and categories, first and last time, how often', auth: 'auditor',
    responses: { 200: { description: 'one item per partner that received the user\'s data', json: recipients }, 400: badQuery('a user id over 256 characters, or a query parameter (this route takes none)'), ...AUTH_ERRORS },
  });
  r.get('/admin/v1/subjects/:userId/recipients', auditor, async (req, res) => {
    const userId = String(req.params.userId);
    if (userId.length > 256) throw validationFailed([{ field: 'userId', reason: 'must be a user id' }]);
    parseTransferQuery(noQuery, req.query, () => undefined);
    await accessed(res, 'subjects.recipients', { subject: userId });
    res.set('Cache-Control', 'no-store').json(await tlog.recipients(userId));
  });
  return r;
}

async function* events(entries: AsyncIterable<{ streamId: string; entry: unknown }>): AsyncGenerator<SseEvent> {
  for await (const { streamId, entry } of entries) yield { id: streamId, event: 'transfer', data: entry };
}

// The partner API (CONTRACT 4): one subject, bulk pages or an NDJSON stream, and the agreement.
// Auth is declared on the route; every decision is made by the pull use cases.
import { Router, type Request, type Response } from 'express';
import { tlsEvidence, acceptableProtocol } from '../tls/evidence.ts';
import { partnerTokenOf, partnerTokenHashOf } from '../auth/partner-auth.ts';
import { pullOne, agreementFor } from '../transfers/pull-one.ts';
import { pullBulk } from '../transfers/pull-bulk.ts';
import { streamNdjson } from '../transfers/ndjson.ts';
import type { PartnerCall } from '../transfers/evaluate.ts';
import type { PullServices } from '../transfers/services.ts';
import { openCursor, sealCursor, type Cursors } from './cursor-param.ts';
import { Problem, validationFailed } from './problem.ts';
import { subjectQuery, bulkQuerySchema, parseQuery } from './partner-query.ts';
import { respond } from './jose-negotiation.ts';
import type { RequestHandler } from 'express';
import type { JoseSealer } from '../transfers/jose-response.ts';
import type { ApiDoc } from './openapi.ts';
import type { Partners } from '../agreements/partners.ts';
import { REASONS } from '../policy/denial.ts';
import { withVolumeDefaults } from '../agreements/agreement-schema.ts';
import { bulkLine, bulkPage, partnerAgreement, pulledSubject } from './partner-responses.ts';
import { PARTNER_EXAMPLES } from './partner-examples.ts';

export interface PartnerRouterDeps {
  svc: PullServices;
  requirePartner: RequestHandler;
  /** RULES 44: the agreement's per-partner rate, after authentication. */
  rateLimit: RequestHandler;
  /** DESIGN 9: bulk cursors are sealed for the partner and purpose. */
  cursors: Cursors;
  partners: Partners;
  sealer: JoseSealer;
}

// Issue 19: the codes each status carries on the data routes (CONTRACT 6 order; RULES 44 for 429).
// Derived from the one table of reasons, so a new reason is documented with its status.
const reasonsWith = (status: number) => Object.entries(REASONS).filter(([, r]) => r.status === status).map(([code]) => code);
const DENIALS = [...reasonsWith(403).filter((c) => c !== 'bulk_not_allowed'), 'forbidden'];
const AUTH = {
  400: { description: 'validation_failed: a query parameter (named in errors[].field)', codes: ['validation_failed'] },
  401: { description: 'invalid_token (WWW-Authenticate: Bearer)', codes: ['invalid_token'] },
  403: { description: 'a CONTRACT 6 denial code', codes: DENIALS },
  429: { description: 'rate_limited (Retry-After)', codes: ['rate_limited', 'quota_exceeded'] },
  409: { description: 'agreement_changed: the agreement or pseudonym key version changed while the answer was decided; ask again', codes: reasonsWith(409) },
  503: { description: 'upstream_unavailable or audit_unavailable', codes: ['upstream_unavailable', 'audit_unavailable', 'store_unavailable'] },
};
/** Sent on every data answer while the agreement sets a rate limit (RULES 44). */
const RATE = ['RateLimit-Policy', 'RateLimit-Remaining'] as const;

async function callOf(svc: PullServices, req: Request, res: Response, purpose: string): Promise<PartnerCall> {
  const tls = tlsEvidence(req.socket);
  // RULES 35: nothing leaves over anything but TLS 1.2/1.3.
  if (!acceptableProtocol(tls)) throw new Problem({ status: 403, code: 'forbidden', detail: 'TLS 1.2 or 1.3 required' });
  const partnerId = partnerTokenOf(res).partnerId;
  return {
    partnerId, token: partnerTokenOf(res), tokenHash: partnerTokenHashOf(res), purpose, tls,
    requestId: String(res.locals.requestId), bindingRequired: svc.config.server.tls.requestClientCert,
    legalEntity: await svc.legalEntity(partnerId), // RULES 48: every entry names it
  };
}

export function partnerRouter(d: PartnerRouterDeps, doc: ApiDoc): Router {
  const r = Router();
  const { svc } = d;
  const bulkSchema = bulkQuerySchema(svc.config.limits.maxPageSize);

  doc.add('GET', '/v1/subjects/:subject', { summary: 'one subject for one purpose (Accept: application/jose for JWS-in-JWE)', auth: 'partner', query: subjectQuery,
    responses: { ...AUTH, 200: { json: pulledSubject, name: 'PulledSubject', jose: true, headers: ['Transfer-Receipt'], optionalHeaders: RATE, example: PARTNER_EXAMPLES.pulledSubject, description: '{subject, purpose, data, agreement, transferId, keyVersion}. Header Transfer-Receipt (also on application/jose answers): a compact JWS (ES256, '
      + 'kid of a key in /.well-known/jwks.json, typ "transfer-receipt") whose payload is {typ, v: 1, partnerId, purpose, requestId, iat, '
      + 'entry: {id, chain, seq, hash, at, subject}}: the transfer log entry of this release. Verify it with the JWKS alone; an auditor checks '
      + 'inclusion with POST /admin/v1/transfers/receipts/verify' }, 404: { description: 'subject_not_found or retention_expired', codes: reasonsWith(404) },
      406: { description: 'not_acceptable: application/jose asked for, but no encryption key registered', codes: ['not_acceptable'] },
      429: { description: 'rate_limited, or quota_exceeded: a subject not yet received today past the purpose\'s dailySubjectQuota (a subject already received today still answers); Retry-After: seconds to the next UTC day', codes: ['rate_limited', 'quota_exceeded'] } } });
  r.get('/v1/subjects/:subject', d.requirePartner, d.rateLimit, async (req, res) => {
    const q = parseQuery(subjectQuery, req.query);
    const call = await callOf(svc, req, res, q.purpose);
    await respond(d, req, res, call.partnerId, async () => {
      const { receipt, ...body } = await pullOne(svc, call, String(req.params.subject));
      // Issue 15 item 4: a header, so the body stays as CONTRACT 4 has it (and a JOSE answer carries it too).
      res.set('Transfer-Receipt', receipt);
      return body;
    });
  });

  doc.add('GET', '/v1/subjects', { summary: 'subjects page by page (JSON), or streamed with Accept: application/x-ndjson', auth: 'partner', query: bulkSchema,
    responses: {
      ...AUTH,
      200: { json: bulkPage, name: 'BulkPage', ndjson: bulkLine, ndjsonName: 'BulkLine', jose: true, optionalHeaders: RATE, example: PARTNER_EXAMPLES.bulkPage, description: '{items, nextCursor, omitted, receipts} or NDJSON lines ending with {nextCursor, omitted, receipts}. '
        + '`receipts` (issue 15 item 4): one compact JWS (ES256, kid of a key in /.well-known/jwks.json, typ "transfer-receipt") per store page '
        + 'of up to 1000 subjects that released any, in the order sent; payload {typ, v: 1, partnerId, purpose, requestId, iat, segments: '
        + '[{chain, from, to, hash, firstAt, lastAt, released}], subjects}: the page\'s transfer log entries are chain seqs from..to, `hash` is the hash '
        + 'of entry `to` (which commits to the whole run), `released` the seqs of the subjects sent as ranges ("5-9,11"), in item order, and '
        + '`subjects` base64url(SHA-256(the sent subjects joined by "\\n")). A stream\'s error line carries the receipts of the pages already sent. '
        + 'Permission is re-checked before each store page '
        + '(agreement status and version, token expiry and revocation, pseudonym key version, kill-switch): when it lapses, a stream ends with '
        + 'a last line {"error": code, "detail"} (agreement_inactive, invalid_token, country_blocked, agreement_changed, ...) and nothing more is released. '
        + 'When the purpose\'s dailySubjectQuota fills during a page, the subjects past it are omitted (counted in `omitted`, logged quota_exceeded); '
        + 'a stream then ends with {"error": "quota_exceeded"}, a JSON page is answered with what fit, and the next request gets 429. '
        + 'A stream whose reader takes nothing for limits.streamIdleTimeoutMs is cut.' },
      403: { description: 'a CONTRACT 6 denial code, or bulk_not_allowed (the agreement sets bulk: false for this purpose)', codes: [...DENIALS, 'bulk_not_allowed'] },
      406: { description: 'not_acceptable: application/jose asked for, but no encryption key registered', codes: ['not_acceptable'] },
      409: { description: 'agreement_changed: a JSON page whose agreement version or pseudonym key version changed while it was decided; ask again', codes: reasonsWith(409) },
      429: { description: 'rate_limited, or quota_exceeded: today\'s dailySubjectQuota for this purpose is full (Retry-After: seconds to the next UTC day)', codes: ['rate_limited', 'quota_exceeded'] },
    } });
  r.get('/v1/subjects', d.requirePartner, d.rateLimit, async (req, res) => {
    const q = parseQuery(bulkSchema, req.query);
    const call = await callOf(svc, req, res, q.purpose);
    const ndjson = req.accepts(['application/json', 'application/x-ndjson', 'application/jose']) === 'application/x-ndjson';
    if (!ndjson && q.limit !== undefined && q.limit > svc.config.limits.maxPageSize) {
      throw validationFailed([{ field: 'limit', reason: `must be at most ${svc.config.limits.maxPageSize}` }]);
    }
    const bound = [call.partnerId, q.purpose]; // RULES 42: another partner's or purpose's cursor is refused
    const cursor = openCursor(d.cursors, 'bulk', bound, q.cursor);
    const query = { limit: q.limit ?? (ndjson ? null : svc.config.limits.defaultPageSize), cursor, updatedSince: q.updatedSince ?? null };
    const wrap = (c: string | null) => sealCursor(d.cursors, 'bulk', bound, c);
    if (ndjson) return streamNdjson(res, (sink) => pullBulk(svc, call, query, sink), wrap, svc.config.limits.streamIdleTimeoutMs);
    await respond(d, req, res, call.partnerId, async () => {
      const items: unknown[] = [];
      const receipts: string[] = [];
      const out = await pullBulk(svc, call, query, { item: (i) => { items.push(i); }, receipt: (jws) => { receipts.push(jws); } });
      return { items, nextCursor: wrap(out.nextCursor), omitted: out.omitted, receipts };
    });
  });

  doc.add('GET', '/v1/agreement', { summary: 'the caller\'s active agreement, as the partner may see it; each purpose shows its bulk (default true) and dailySubjectQuota (default null: none)', auth: 'partner',
    responses: { 200: { description: 'the agreement', json: partnerAgreement(svc.config.policy.versions.map((v) => v.version)), name: 'PartnerAgreement' }, 403: { description: 'agreement_inactive: no agreement in force', codes: ['agreement_inactive'] }, 401: { description: 'invalid_token', codes: ['invalid_token'] }, 503: { description: 'store_unavailable: agreements are reloading', codes: ['store_unavailable'] } } });
  r.get('/v1/agreement', d.requirePartner, (_req, res) => {
    const a = agreementFor(svc, partnerTokenOf(res).partnerId);
    if (!a || a.status !== 'active') throw new Problem({ status: 403, code: 'agreement_inactive', detail: 'No agreement is in force for this partner' });
    // RULES 19: who wrote and who approved a version are control-plane facts, not the partner's.
    const { createdBy: _by, review: _review, ...shown } = a;
    res.json(withVolumeDefaults(shown));
  });
  return r;
}

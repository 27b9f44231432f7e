// POST /oauth/token (CONTRACT 4, RFC 6749 §4.4): client credentials with client_secret_basic or
// private_key_jwt (RULES 40); scope = purposes of the active agreement (RULES 41); with mTLS the
// token is bound to the presented certificate (RFC 8705, RULES 38). Errors per RFC 6749 §5.2.
import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import { timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../auth/oauth-error.ts';
import { ASSERTION_TYPE, verifyClientAssertion } from '../auth/client-assertion.ts';
import { claimJti } from '../auth/jti-cache.ts';
import { tlsEvidence } from '../tls/evidence.ts';
import { isPurpose } from '../policy/taxonomy.ts';
import type { PartnerTokens } from '../auth/partner-tokens.ts';
import { agreementsReloading } from './problem.ts';
import type { AdminServices } from '../agreements/admin-services.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { Redis } from '../deps.ts';
import type { ApiDoc } from './openapi.ts';
import type { DenialEvent } from '../access-denials/index.ts';
import type { DenialReason } from '../access-denials/reasons.ts';
import { oauthErrorBody, tokenResponse } from './partner-responses.ts';
import { PARTNER_EXAMPLES } from './partner-examples.ts';

export interface OAuthDeps {
  redis: Redis;
  admin: AdminServices;
  agreements: ActiveAgreements;
  tokens: PartnerTokens;
  /** The exact token endpoint URL, the only accepted client assertion `aud`. */
  tokenEndpoint: () => string;
  /** RULES 48: each refused client authentication goes to the access-denial record. */
  refused?: (ev: DenialEvent) => void;
}

/**
 * What a refused client authentication is recorded as (RULES 48): the reason, and the client id
 * only once it is known to be registered; what the caller typed otherwise is never kept (RULES 24).
 */
interface Attempt { reason: DenialReason; client: string | null }

const form = z.object({
  grant_type: z.string(),
  scope: z.string().max(2000).optional(),
  client_id: z.string().max(200).optional(),
  client_assertion_type: z.string().optional(),
  client_assertion: z.string().max(8000).optional(),
});

function basicCredentials(req: Request): { clientId: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const [id, ...rest] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
  try {
    return { clientId: decodeURIComponent(id ?? ''), secret: decodeURIComponent(rest.join(':')) };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials');
  }
}

async function authenticateClient(d: OAuthDeps, req: Request, body: z.infer<typeof form>, attempt: Attempt): Promise<{ clientId: string; partnerId: string }> {
  const basic = basicCredentials(req);
  const jwt = body.client_assertion !== undefined || body.client_assertion_type !== undefined;
  if (basic && jwt) throw new OAuthError('invalid_request', 'use exactly one client authentication method');
  if (basic) {
    const ok = await d.admin.credentials.authenticate(basic.clientId, basic.secret);
    if (!ok) {
      // Only on the refusal path: a registered client with a wrong secret is told apart for the record.
      if (await d.admin.credentials.partnerOf(basic.clientId)) Object.assign(attempt, { reason: 'bad_secret', client: basic.clientId });
      else attempt.client = 'unregistered';
      throw new OAuthError('invalid_client', 'unknown client or wrong secret');
    }
    return { clientId: basic.clientId, partnerId: ok.partnerId };
  }
  if (!jwt) throw new OAuthError('invalid_client', 'client authentication required (client_secret_basic or private_key_jwt)');
  if (body.client_assertion_type !== ASSERTION_TYPE || !body.client_assertion) throw new OAuthError('invalid_client', `client_assertion_type must be ${ASSERTION_TYPE}`);
  let iss: unknown;
  try {
    iss = JSON.parse(Buffer.from(body.client_assertion.split('.')[1] ?? '', 'base64url').toString()).iss;
  } catch { /* refused below */ }
  if (typeof iss !== 'string' || (body.client_id !== undefined && body.client_id !== iss)) throw new OAuthError('invalid_client', 'client assertion rejected: iss must be the client_id');
  const partnerId = await d.admin.credentials.partnerOf(iss);
  const partner = partnerId ? await d.admin.partners.get(partnerId) : undefined;
  if (!partnerId || !partner) {
    attempt.client = 'unregistered';
    throw new OAuthError('invalid_client', 'unknown client');
  }
  Object.assign(attempt, { reason: 'bad_assertion', client: iss });
  const { jti, exp } = await verifyClientAssertion(body.client_assertion, { clientId: iss, jwks: partner.jwks, audience: d.tokenEndpoint(), now: new Date() });
  await claimJti(d.redis, iss, jti, exp);
  return { clientId: iss, partnerId };
}

const sameThumbprint = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function oauthRouter(d: OAuthDeps, doc: ApiDoc): Router {
  const r = Router();
  doc.add('POST', '/oauth/token', {
    summary: 'client credentials grant (client_secret_basic or private_key_jwt); scope = purposes', auth: 'public', body: form,
    responses: {
      200: { description: '{access_token, token_type, expires_in, scope, cnf?}', json: tokenResponse, name: 'TokenResponse', example: PARTNER_EXAMPLES.token },
      // RFC 6749 §5.2 bodies, not problem+json: OAuth clients expect these.
      400: { description: 'RFC 6749 error: invalid_request, unsupported_grant_type, invalid_scope; or, for a body that cannot be parsed (bad JSON, a false Content-Encoding), problem+json validation_failed', json: oauthErrorBody, name: 'OAuthError', codes: ['validation_failed'] },
      401: { description: 'invalid_client (WWW-Authenticate: Basic)', json: oauthErrorBody, name: 'OAuthError' },
      503: { description: 'store_unavailable: agreements are reloading', codes: ['store_unavailable'] },
    },
  });
  r.post('/oauth/token', async (req: Request, res: Response, next: NextFunction) => {
    const attempt: Attempt = { reason: 'unknown_client', client: null };
    try {
      if (!req.is('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
      const parsed = form.safeParse(req.body ?? {});
      if (!parsed.success) throw new OAuthError('invalid_request', `malformed ${parsed.error.issues[0]?.path.join('.')}`);
      if (parsed.data.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported');
      const client = await authenticateClient(d, req, parsed.data, attempt);
      const tls = tlsEvidence(req.socket);
      const partner = await d.admin.partners.get(client.partnerId);
      // A partner registered with a certificate must present exactly that certificate.
      if (partner?.clientCertThumbprint && !(tls.clientCertThumbprint && sameThumbprint(partner.clientCertThumbprint, tls.clientCertThumbprint))) {
        Object.assign(attempt, { reason: 'bad_certificate', client: client.clientId });
        throw new OAuthError('invalid_client', 'the registered client certificate was not presented');
      }
      // Unsure is not "no agreement": while the cache reloads, say so instead of invalid_scope.
      if (!d.agreements.ready) throw agreementsReloading();
      const agreement = d.agreements.active(client.partnerId);
      const scope = (parsed.data.scope ?? '').split(' ').filter(Boolean);
      if (!scope.length) throw new OAuthError('invalid_scope', 'scope is required: the purposes this token is for');
      for (const p of scope) {
        if (!isPurpose(p) || !agreement || !Object.hasOwn(agreement.purposes, p)) throw new OAuthError('invalid_scope', `purpose ${p} is not in the active agreement`);
      }
      const issued = await d.tokens.issue({ partnerId: client.partnerId, clientId: client.clientId, scope: [...new Set(scope)], cnf: tls.clientCertThumbprint });
      res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache').json({
        access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.record.scope.join(' '),
        ...(issued.record.cnf ? { cnf: { 'x5t#S256': issued.record.cnf } } : {}),
      });
    } catch (e) {
      if (!(e instanceof OAuthError)) return next(e);
      if (e.status === 401) d.refused?.({ ...attempt, remoteAddress: req.socket.remoteAddress, requestId: String(res.locals.requestId) });
      if (e.status === 401) res.set('WWW-Authenticate', 'Basic realm="partner-gateway"');
      res.status(e.status).set('Cache-Control', 'no-store').json({ error: e.error, error_description: e.description });
    }
  });
  return r;
}

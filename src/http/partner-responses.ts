// Issue 19 item 1: the bodies of the partner API as zod schemas, the one source of the served
// document's schemas, the generated client's types and the tests' response checks. The builders
// (transfers/, notices/, oauth.ts) are on the partner hot path, so they are not parsed per request
// (issue 18: CPU per request); the type-level checks at the bottom fail the typecheck when a
// builder and its schema drift apart instead.
import { z } from 'zod';
import { CATEGORIES, PURPOSE_IDS } from '../policy/taxonomy.ts';
import { NOTICE_TYPES, type Notice } from '../notices/notice.ts';
import { agreementSchema } from '../agreements/agreement-schema.ts';
import type { Released } from '../transfers/pull-one.ts';
import type { BulkItem } from '../transfers/pull-bulk.ts';
import type { PublicJwk } from '../transfer-log/jwks.ts';
import type { OAuthError } from '../auth/oauth-error.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';

const jws = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/).describe('compact JWS (ES256, typ "transfer-receipt", kid in /.well-known/jwks.json)');
/** What a category carries after its treatment: any JSON value (CONTRACT 2). */
const data = z.partialRecord(z.enum(CATEGORIES), z.unknown()).describe('category -> JSON value after the agreement\'s treatment; a category not allowed is absent');
const cursor = z.string().nullable().describe('opaque, sealed for this partner and purpose; null: the end');
const purpose = z.enum(PURPOSE_IDS);

export const tokenResponse = z.object({
  access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int(), scope: z.string().describe('space-separated purposes'),
  cnf: z.object({ 'x5t#S256': z.string() }).optional().describe('RFC 8705: the token is bound to this client certificate'),
});
export const oauthErrorBody = z.object({
  error: z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']),
  error_description: z.string(),
});

export const pulledSubject = z.object({
  subject: z.string().describe('this partner\'s pseudonym of the user'), purpose, data,
  agreement: z.object({ id: z.string(), version: z.number().int() }),
  transferId: z.string().describe('the transfer log entry of this release'),
  keyVersion: z.number().int().describe('the pseudonym key version the subject is under (RULES 29)'),
});

export const bulkItem = z.object({ subject: z.string(), data });
export const bulkPage = z.object({
  items: z.array(bulkItem), nextCursor: cursor, omitted: z.number().int().describe('subjects that may not be released, counted, never half-sent'),
  receipts: z.array(jws).describe('one per store page that released any, in order'),
});
export const bulkFinalLine = z.object({ nextCursor: cursor, omitted: z.number().int(), receipts: z.array(jws) });
export const bulkErrorLine = z.object({
  error: z.string().describe('why the stream ended early (agreement_changed, agreement_inactive, invalid_token, quota_exceeded, ...); nothing after it was released'),
  detail: z.string().optional(), requestId: z.string(), receipts: z.array(jws).describe('of the pages already sent'),
});
export const bulkLine = z.union([bulkItem, bulkFinalLine, bulkErrorLine]).describe('an item; the last line is the final line or an error line');

export const notice = z.object({
  id: z.string(), type: z.enum(NOTICE_TYPES), subject: z.string(), purposes: z.array(z.string()), at: z.string(),
  legalObligation: z.literal(true).optional(),
});
export const noticesPage = z.object({ items: z.array(notice), nextCursor: cursor });
export const noticeAck = z.object({ id: z.string(), ackAt: z.string(), via: z.enum(['pull', 'webhook']) });

export const jwksResponse = z.object({
  keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig') })),
});

/** GET /v1/agreement: the version in force as the partner sees it (no createdBy, no review: RULES 19). */
export function partnerAgreement(policyVersions: readonly string[]) {
  return agreementSchema(policyVersions).extend({
    id: z.string(), partnerId: z.string(), version: z.number().int(), status: z.literal('active'),
    createdAt: z.string(), statusChangedAt: z.string(), countriesSince: z.record(z.string(), z.string()).optional(),
  });
}

// Type-level checks (no runtime cost): each builder's type and its schema's type are the same.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(): T => true as T;
check<Same<z.infer<typeof pulledSubject>['agreement'], Omit<Released, 'receipt'>['agreement']>>();
check<Same<keyof z.infer<typeof pulledSubject>, keyof Omit<Released, 'receipt'>>>();
check<Same<keyof z.infer<typeof bulkItem>, keyof BulkItem>>();
check<Same<z.infer<typeof notice>['type'], Notice['type']>>();
check<Same<keyof z.infer<typeof notice>, keyof Notice>>();
check<Same<z.infer<typeof jwksResponse>['keys'][number], PublicJwk>>();
check<Same<z.infer<typeof oauthErrorBody>['error'], OAuthError['error']>>();
check<Same<Exclude<keyof z.infer<ReturnType<typeof partnerAgreement>>, 'countriesSince'>, Exclude<keyof Omit<AgreementVersion, 'createdBy' | 'review'>, 'countriesSince'>>>();

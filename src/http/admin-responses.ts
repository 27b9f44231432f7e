// Issue 19 item 1: the control plane's partner, credential, token, audit, agreement, key and
// re-identification bodies as zod schemas, the one source of the admin document's schemas and the
// tests' response checks. Built from the request schemas where the body echoes them; the builders
// are not parsed per request, the type-level checks at the bottom fail the typecheck on drift.
import { z } from 'zod';
import { ROLES } from '../auth/roles.ts';
import { agreementSchema } from '../agreements/agreement-schema.ts';
import { subProcessorsSchema } from '../agreements/onward-transfer.ts';
import { legalEntitySchema } from '../agreements/partner-schema.ts';
import type { Partner } from '../agreements/partners.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import type { MintedToken } from '../auth/admin-tokens.ts';
import type { AuditEntry } from '../auth/admin-audit.ts';
import type { KeyVersionRecord } from '../keys/partner-key-store.ts';
import type { ReidRequest } from '../reidentification/requests.ts';
import type { Credentials } from '../agreements/credentials.ts';
import { check, type Fits, type Same } from './openapi-responses.ts';

const cursor = z.string().nullable().describe('opaque, sealed for this list and filter; expires after limits.cursorTtlSeconds; null: the end');

/** A registered public key (agreements/jwks.ts PublicJwk): its public members pass through. */
const publicJwk = z.looseObject({ kty: z.enum(['EC', 'RSA']), kid: z.string(), use: z.enum(['sig', 'enc']), alg: z.string() });
export const partner = z.object({
  id: z.string(), name: z.string(), contactEmail: z.string(), clientCertThumbprint: z.string().nullable(),
  legalEntity: legalEntitySchema.nullable().describe('RULES 48: the receiving legal entity; null: entries name the partner'),
  jwks: z.object({ keys: z.array(publicJwk) }).nullable(), createdAt: z.string(),
  clientIds: z.array(z.string()).describe('live credentials (never their secrets)'),
});
export const partnerList = z.object({ items: z.array(partner) });
export const credential = z.object({ clientId: z.string(), clientSecret: z.string().describe('shown in this response only') });

export const mintedToken = z.object({ id: z.string(), role: z.enum(ROLES), label: z.string().nullable(), expiresAt: z.string(), token: z.string().describe('shown in this response only') });
export const auditEntry = z.object({
  id: z.string(), at: z.string(), actor: z.object({ tokenId: z.string(), role: z.string() }), action: z.string(), target: z.string(),
  before: z.unknown(), after: z.unknown(),
});
export const auditPage = z.object({ items: z.array(auditEntry), nextCursor: cursor });

const review = z.object({
  additions: z.object({ countries: z.array(z.string()), subProcessors: subProcessorsSchema }),
  approvedBy: z.string().optional(), approvedAt: z.string().optional(),
}).describe('RULES 19: what the version adds over the one in force, and who let it in');
/** One agreement version as admins see it: the terms as posted plus its state (agreement-version.ts). */
export function agreementVersion(policyVersions: readonly string[]) {
  return agreementSchema(policyVersions).extend({
    id: z.string(), partnerId: z.string(), version: z.number().int(),
    status: z.enum(['active', 'suspended', 'terminated', 'superseded', 'pending_review', 'rejected']),
    createdAt: z.string(), statusChangedAt: z.string(), createdBy: z.string().optional(), review: review.optional(),
    countriesSince: z.record(z.string(), z.string()).optional(),
  });
}
export function agreementVersions(policyVersions: readonly string[]) {
  const v = agreementVersion(policyVersions);
  return z.object({ items: z.array(v), inForce: v.nullable(), pendingReview: v.nullable() });
}

const retired = z.object({ version: z.number().int(), retiredAt: z.string(), acceptedUntil: z.string() });
export const keyVersions = z.object({ partnerId: z.string(), current: z.number().int(), retired: z.array(retired) });
export const keyRotation = keyVersions.extend({ incidentId: z.string().optional().describe('compromised: true: the key_compromise incident') });

export const reidRequest = z.object({
  id: z.string(), partnerId: z.string(), subject: z.string(), reason: z.string(), status: z.enum(['pending', 'released', 'not_found']),
  requestedBy: z.string(), requestedAt: z.string(), expiresAt: z.string(), approvedBy: z.string().optional(), approvedAt: z.string().optional(),
});
export const reidReleased = reidRequest.extend({ userId: z.string().describe('shown to the approving admin in this response only') });

// Type-level checks (no runtime cost): each builder's type fits its schema, with the same fields.
type Out<S extends z.ZodType> = z.infer<S>;
type Version = Out<ReturnType<typeof agreementVersion>>;
check<Fits<Partner, Out<typeof partner>>>();
check<Same<keyof Partner, keyof Out<typeof partner>>>();
check<Fits<Awaited<ReturnType<Credentials['issue']>>, Out<typeof credential>>>();
check<Fits<MintedToken, Out<typeof mintedToken>>>();
check<Same<keyof MintedToken, keyof Out<typeof mintedToken>>>();
check<Fits<AuditEntry, Out<typeof auditEntry>>>();
check<Same<keyof AuditEntry, keyof Out<typeof auditEntry>>>();
check<Fits<AgreementVersion['status'], Version['status']>>();
check<Same<keyof AgreementVersion, keyof Version>>();
check<Fits<NonNullable<AgreementVersion['review']>, NonNullable<Version['review']>>>();
check<Same<keyof KeyVersionRecord['retired'][number] | 'acceptedUntil', keyof Out<typeof retired> | 'graceSeconds'>>();
check<Same<Exclude<keyof KeyVersionRecord, 'rev'>, keyof Out<typeof keyVersions>>>();
check<Fits<ReidRequest, Out<typeof reidRequest>>>();
check<Same<keyof ReidRequest, keyof Out<typeof reidRequest>>>();

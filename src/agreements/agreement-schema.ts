// The agreement body of CONTRACT 5, built from the taxonomy (CONTRACT 2) so the validator, the
// decision engine and /openapi.json agree. Strict objects: an unknown key is an error, not ignored.
import { z } from 'zod';
import { CATEGORIES, PURPOSE_IDS, QUASI_IDENTIFIERS, treatmentsFor, type Category, type Purpose, type Treatment } from '../policy/taxonomy.ts';
import type { CategoryTerm } from '../policy/category-term.ts';
import { isCountryCode } from '../config/countries.ts';
import { httpsUrlProblem } from '../notices/url-guard.ts';
import { subProcessorsSchema } from './onward-transfer.ts';

export const RATE_LIMIT_MAX = 100_000;

const orRequired = (reason: string) => (i: { input?: unknown }) => (i.input === undefined ? 'required' : reason);
const dateOrDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: orRequired('must be an ISO 8601 date (2026-01-10) or date-time with zone'),
});
const dateTime = z.iso.datetime({ offset: true, error: orRequired('must be an ISO 8601 date-time with zone (2026-01-15T00:00:00Z)') });

function treatment(c: Category) {
  const allowed = treatmentsFor(c);
  return z.enum(allowed as [Treatment, ...Treatment[]], {
    error: (i) => (i.input === 'generalise'
      ? `generalise is not defined for ${c} (CONTRACT 2); allowed: ${allowed.join(', ')}`
      : `must be one of ${allowed.join(', ')}`),
  });
}

export const JUSTIFICATION_MAX = 2000;

/**
 * RULES 30: a quasi-identifier's term is a treatment name except `clear`, or
 * {treatment, justification}; `clear` needs the written justification (else the error names the
 * category, or its `.justification`). Other categories keep the plain treatment name.
 */
function quasiIdentifierTerm(c: Category) {
  const allowed = treatmentsFor(c);
  const named = treatment(c);
  const justified = z.strictObject({
    treatment: named,
    justification: z.string({ error: 'must be a string' }).trim().min(1, 'must not be blank').max(JUSTIFICATION_MAX, `must be at most ${JUSTIFICATION_MAX} characters`).optional()
      .describe('RULES 30: why this partner needs the value as stored; required when treatment is clear'),
  });
  return z.union([named, justified], {
    error: (i) => (typeof i.input === 'string'
      ? `must be one of ${allowed.join(', ')}, or {treatment, justification}`
      : `must be one of ${allowed.join(', ')}, or {"treatment": one of them, "justification": text} with no other keys`),
  }).superRefine((v, ctx) => {
    if (v === 'clear') ctx.addIssue({ code: 'custom', message: `clear needs a written justification for ${c}: {"treatment": "clear", "justification": "…"} (RULES 30); otherwise generalise it` });
    else if (typeof v === 'object' && v.treatment === 'clear' && v.justification === undefined) {
      ctx.addIssue({ code: 'custom', path: ['justification'], message: `required: clear needs a written justification for ${c} (RULES 30)` });
    }
  }).describe(`RULES 30: quasi-identifier. A treatment name other than clear, or {treatment, justification}; clear needs the justification`);
}

const categoryTerm = (c: Category) => (QUASI_IDENTIFIERS.has(c) ? quasiIdentifierTerm(c) : treatment(c));

export type CategoryTreatments = Partial<Record<Category, CategoryTerm>>;
/**
 * RULES 6, 44: need-to-know volume, per purpose. `bulk` (default true) allows GET /v1/subjects at
 * all; `dailySubjectQuota` (absent or null: none) caps the distinct subjects a partner receives per
 * UTC day. Both optional, so agreements written before they existed keep today's behaviour.
 */
export interface VolumeTerms { bulk?: boolean; dailySubjectQuota?: number | null }
/** RULES 23: days the partner may keep what a release of this purpose gave it (absent: until validUntil). */
export interface RetentionTerms { retentionDays?: number }
export type PurposeTerms = Partial<Record<Purpose, { categories: CategoryTreatments } & VolumeTerms & RetentionTerms>>;

export const DAILY_SUBJECT_QUOTA_MAX = 100_000_000;

const categories = z
  .strictObject(Object.fromEntries(CATEGORIES.map((c) => [c, categoryTerm(c).optional()])))
  .refine((o) => Object.keys(o).length > 0, 'must name at least one category') as unknown as z.ZodType<CategoryTreatments>;

const purposes = z
  .strictObject(Object.fromEntries(PURPOSE_IDS.map((p) => [p, z.strictObject({
    categories,
    bulk: z.boolean({ error: 'must be true or false' }).optional()
      .describe('RULES 6: GET /v1/subjects (bulk) allowed for this purpose; default true. false: 403 bulk_not_allowed'),
    dailySubjectQuota: z.number({ error: 'must be a positive integer or null' }).int('must be a positive integer or null')
      .min(1, 'must be a positive integer or null').max(DAILY_SUBJECT_QUOTA_MAX, `must be at most ${DAILY_SUBJECT_QUOTA_MAX}`).nullable().optional()
      .describe('RULES 6, 44: distinct subjects the partner may receive per UTC day for this purpose; absent or null: no quota. Past it: 429 quota_exceeded'),
    retentionDays: z.number({ error: 'must be a whole number of days, 1 to 36500' }).int('must be a whole number of days, 1 to 36500')
      .min(1, 'must be a whole number of days, 1 to 36500').max(36_500, 'must be a whole number of days, 1 to 36500').optional()
      .describe('RULES 23: how long the partner may keep what it receives for this purpose, from each release; deleteBy is the earliest of this, validUntil and the user\'s retention end. Absent: validUntil'),
  }).optional()])))
  .refine((o) => Object.keys(o).length > 0, 'must name at least one purpose') as unknown as z.ZodType<PurposeTerms>;

const required = (what: string) => (i: { input?: unknown }) => (i.input === undefined ? `required: ${what}` : 'must be an object');

export function agreementSchema(policyVersions: readonly string[]) {
  return z.strictObject({
    // RULES 2: no transfer without a signed, unexpired confidentiality agreement on record.
    confidentiality: z.strictObject({
      documentRef: z.string().trim().min(1, 'required').max(200),
      signedAt: dateOrDateTime,
      expiresAt: dateOrDateTime,
      signatories: z.array(z.string().trim().min(1).max(200)).min(1, 'at least one signatory is required (RULES 2)').max(50),
    }, { error: required('the signed confidentiality agreement (RULES 2)') }),
    validFrom: dateTime,
    validUntil: dateTime,
    processingCountries: z
      .array(z.string().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code'))
      .min(1, 'must name at least one country (RULES 15)')
      .max(250),
    subProcessors: subProcessorsSchema.optional(),
    purposes,
    requiresPolicyVersion: z.enum(policyVersions as [string, ...string[]], {
      error: orRequired(`must be one of the configured policy versions: ${policyVersions.join(', ')}`),
    }),
    rateLimit: z.strictObject({
      requestsPerMinute: z.number().int().min(1, 'must be at least 1').max(RATE_LIMIT_MAX, `must be at most ${RATE_LIMIT_MAX}`),
    }, { error: required('rateLimit.requestsPerMinute (RULES 44)') }),
    // RULES 45: https only here; the address check (DNS) runs in validateAgreement.
    notifyUrl: z.string().max(2048).superRefine((u, ctx) => {
      const p = httpsUrlProblem(u);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    }).optional(),
  });
}

export type AgreementInput = z.output<ReturnType<typeof agreementSchema>>;

/** RULES 6: the agreement as served, each purpose with its volume terms spelled out (defaults filled). */
export function withVolumeDefaults<A extends { purposes: PurposeTerms }>(a: A): A {
  const purposes = Object.fromEntries(Object.entries(a.purposes).map(([p, t]) => [p, { ...t, bulk: t?.bulk ?? true, dailySubjectQuota: t?.dailySubjectQuota ?? null }]));
  return { ...a, purposes };
}

// What a caller passes to append (RULES 48: a missing field fails the schema check). The user id
// comes in and never goes out: the writer keeps only its subjectRef. Every other value is an id
// or a vocabulary code, so a record value or pseudonym has no field to travel in.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CATEGORIES, PURPOSE_IDS, type Purpose } from '../policy/taxonomy.ts';
import { POLICY_VERSION } from '../config/schema.ts';
import { isCountryCode } from '../config/countries.ts';
import type { EntryBody } from './entry.ts';
import type { SubjectRefFn } from './subject-ref.ts';

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be an id');
const purpose = z.enum(PURPOSE_IDS as [Purpose, ...Purpose[]]);
const code = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case code');

const legalEntity = z.strictObject({
  name: z.string().min(1).max(200),
  country: z.string().refine(isCountryCode, 'must be an ISO country code').nullable(),
  registrationNumber: z.string().min(1).max(64).nullable(),
});

const base = z.strictObject({
  requestId: id,
  partnerId: id.nullable(),
  agreementId: id.nullable(),
  agreementVersion: z.number().int().min(1).nullable(),
  purpose: purpose.nullable(),
  /** The raw user id: turned into subjectRef, never stored. null when no subject was resolved. */
  userId: z.string().min(1).max(256).nullable(),
  categories: z.array(z.enum(CATEGORIES)),
  destinationCountries: z.array(z.string().refine(isCountryCode, 'must be an ISO country code')),
  legalBasis: z.enum(['contract', 'consent', 'legal_obligation']).nullable(),
  crossBorderBasis: z.enum(['domestic', 'adequacy', 'consent']).nullable(),
  policyVersion: z.string().regex(POLICY_VERSION).nullable(),
  keyVersion: z.union([z.number().int().min(0), id]).nullable(),
  // RULES 35: evidence of the partner hop, as read from the socket (src/tls/evidence.ts).
  tls: z.strictObject({
    protocol: z.string().regex(/^[A-Za-z0-9.]{1,16}$/).nullable(),
    cipher: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).nullable(),
    clientCertThumbprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/).nullable(),
  }),
  // RULES 23: when the partner must have deleted what it got.
  deleteBy: z.iso.datetime({ offset: true }).nullable(),
  // RULES 48 (issue [2/6]): the recipient's legal entity, the consent relied on, the cross-border ground's record.
  legalEntity: legalEntity.nullable().default(null),
  consent: z.strictObject({ purpose, grantedAt: z.iso.datetime({ offset: true }).nullable() }).nullable().default(null),
  crossBorderConsent: z.strictObject({ grantedAt: z.iso.datetime({ offset: true }).nullable() }).nullable().default(null),
  adequacyListVersion: z.number().int().min(0).nullable().default(null),
});

const released = base.extend({
  decision: z.literal('released'),
  reason: z.null(),
  partnerId: id,
  agreementId: id,
  agreementVersion: z.number().int().min(1),
  purpose: purpose,
  userId: z.string().min(1).max(256),
  legalBasis: z.enum(['contract', 'consent', 'legal_obligation']),
  crossBorderBasis: z.enum(['domestic', 'adequacy', 'consent']),
  policyVersion: z.string().regex(POLICY_VERSION),
  deleteBy: z.iso.datetime({ offset: true }),
  // RULES 48: a release names the legal entity that received it.
  legalEntity,
  // RULES 35: nothing is released over anything but TLS 1.2/1.3.
  tls: z.strictObject({
    protocol: z.enum(['TLSv1.2', 'TLSv1.3']),
    cipher: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    clientCertThumbprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/).nullable(),
  }),
});

const denied = base.extend({ decision: z.literal('denied'), reason: code });

// RULES 48: a release on a ground names the record of that ground.
const grounded = released.superRefine((r, ctx) => {
  if (r.legalBasis === 'consent' && (r.consent === null || r.consent.purpose !== r.purpose)) ctx.addIssue({ code: 'custom', path: ['consent'], message: 'required: the consent this release relied on' });
  if (r.crossBorderBasis === 'adequacy' && r.adequacyListVersion === null) ctx.addIssue({ code: 'custom', path: ['adequacyListVersion'], message: 'required: the adequacy list version that gave the ground' });
  if (r.crossBorderBasis === 'consent' && r.crossBorderConsent === null) ctx.addIssue({ code: 'custom', path: ['crossBorderConsent'], message: 'required: the cross-border consent this release relied on' });
});

export const appendInputSchema = z.discriminatedUnion('decision', [grounded, denied]);
export type AppendInput = z.input<typeof appendInputSchema>;

/** A programming error in the caller: the entry cannot be written, so nothing may be released. */
export class InvalidEntry extends Error {
  override name = 'InvalidEntry';
}

export function parseAppendInput(input: unknown): z.output<typeof appendInputSchema> {
  const r = appendInputSchema.safeParse(input);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new InvalidEntry(`transfer log entry: ${i.path.join('.') || '(root)'} ${i.message}`);
}

/** The stored body of an input: validated, the user id replaced by its subjectRef. */
export function entryBody(input: AppendInput, subjectRef: SubjectRefFn, at: Date): EntryBody {
  const i = parseAppendInput(input);
  // Field by field, never a spread: the user id must not reach the entry (RULES 48).
  return {
    id: randomUUID(), at: at.toISOString(), requestId: i.requestId,
    partnerId: i.partnerId, agreementId: i.agreementId, agreementVersion: i.agreementVersion,
    purpose: i.purpose, subjectRef: i.userId === null ? null : subjectRef(i.userId),
    decision: i.decision, reason: i.reason, categories: [...new Set(i.categories)].sort(),
    destinationCountries: [...new Set(i.destinationCountries)].sort(), legalBasis: i.legalBasis,
    crossBorderBasis: i.crossBorderBasis, policyVersion: i.policyVersion, keyVersion: i.keyVersion,
    tls: { protocol: i.tls.protocol, cipher: i.tls.cipher, clientCertThumbprint: i.tls.clientCertThumbprint },
    deleteBy: i.deleteBy,
    legalEntity: i.legalEntity === null ? null : { name: i.legalEntity.name, country: i.legalEntity.country, registrationNumber: i.legalEntity.registrationNumber },
    consent: i.consent === null ? null : { purpose: i.consent.purpose, grantedAt: i.consent.grantedAt },
    crossBorderConsent: i.crossBorderConsent === null ? null : { grantedAt: i.crossBorderConsent.grantedAt }, adequacyListVersion: i.adequacyListVersion,
  };
}

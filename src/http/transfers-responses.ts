// Issue 19 item 1: the transfer log's answers for auditors (CONTRACT 5, 7) as zod schemas: an entry,
// a page, the NDJSON export's lines, verify, recipients, receipt verdicts and the access-denial
// record. The log writes and reads these values on hot paths, so they are not parsed per request;
// the type-level checks at the bottom fail the typecheck when a builder and its schema drift apart.
import { z } from 'zod';
import { DENIAL_REASONS } from '../access-denials/reasons.ts';
import type { TransferEntry, VerifyResult, Recipient, BrokenAt } from '../transfer-log/index.ts';
import type { RecipientsDrift } from '../transfer-log/recipients-reconcile.ts';
import type { ReceiptVerdict } from '../transfer-log/receipt-check.ts';
import type { DenialRow } from '../access-denials/index.ts';
import { check, type Fits, type Same } from './openapi-responses.ts';

const cursor = z.string().nullable().describe('opaque, sealed for this list and filter; expires after limits.cursorTtlSeconds; null: the end');
const nullable = (s: z.ZodType = z.string()) => s.nullable();

export const transferEntry = z.object({
  id: z.string(), at: z.string(), requestId: z.string(), partnerId: nullable(), agreementId: nullable(), agreementVersion: nullable(z.number().int()),
  purpose: nullable(), subjectRef: nullable().describe('ops-side keyed hash of the user id, never the id or a pseudonym'),
  decision: z.enum(['released', 'denied']), reason: nullable().describe('the denial code (CONTRACT 6); null on a release'),
  categories: z.array(z.string()), destinationCountries: z.array(z.string()),
  legalBasis: z.enum(['contract', 'consent', 'legal_obligation']).nullable(), crossBorderBasis: z.enum(['domestic', 'adequacy', 'consent']).nullable(),
  policyVersion: nullable(), keyVersion: z.union([z.number().int(), z.string()]).nullable(),
  tls: z.object({ protocol: nullable(), cipher: nullable(), clientCertThumbprint: nullable() }).describe('RULES 35: what the partner hop negotiated'),
  deleteBy: nullable(),
  legalEntity: z.object({ name: z.string(), country: nullable(), registrationNumber: nullable() }).nullable(),
  consent: z.object({ purpose: z.string(), grantedAt: nullable() }).nullable(),
  crossBorderConsent: z.object({ grantedAt: nullable() }).nullable(),
  adequacyListVersion: nullable(z.number().int()),
  chain: z.string(), seq: z.number().int(), prevHash: z.string(), hash: z.string(),
});
export const transferPage = z.object({ items: z.array(transferEntry), nextCursor: cursor });
/** sendNdjson (stream-write.ts): a store failure after the first line ends the export with this line. */
export const exportErrorLine = z.object({ error: z.string(), requestId: z.string() });
export const exportLine = z.union([transferEntry, exportErrorLine]).describe('an entry; a last {"error","requestId"} line if the export was cut short');

const brokenAt = z.object({
  reason: z.enum(['malformed', 'hash_mismatch', 'sequence_break', 'prev_hash_mismatch', 'checkpoint_mismatch', 'missing', 'head_mismatch', 'unknown_chain',
    'checkpoint_invalid', 'checkpoint_conflict', 'checkpoint_chain_break', 'registry_break', 'anchor_missing', 'anchor_invalid']),
  detail: z.string(), chain: nullable(), seq: nullable(z.number().int()), streamId: nullable(), id: nullable(),
  checkpoint: z.string().optional(), anchorLine: z.number().int().optional(),
});
const facet = z.union([z.string(), z.number(), z.array(z.string())]);
const drift = z.object({
  subjectRef: z.string(), partnerId: nullable(),
  problem: z.enum(['missing_record', 'missing_partner', 'extra_partner', 'count', 'first', 'last', 'missing_facets', 'extra_facets', 'unsettled']),
  expected: facet.optional(), found: facet.optional(),
});
export const verifyResult = z.object({
  ok: z.boolean(), entries: z.number().int(), chains: z.number().int(), checkpoints: z.number().int(), unsigned: z.number().int(), registry: z.number().int(),
  anchors: z.object({ lines: z.number().int(), pending: z.number().int() }).optional(),
  brokenAt: brokenAt.optional(),
  recipients: z.object({
    ok: z.boolean(), subjects: z.number().int(), trimmed: z.boolean(), driftCount: z.number().int(), drift: z.array(drift), repaired: z.number().int().optional(),
  }).optional(),
  // Issue [6/6] item 4: chains closed after a failover or failed batch, explained instead of reported as tampering.
  seams: z.array(z.object({ chain: z.string(), endSeq: z.number().int(), released: z.number().int(), lostUnreleased: z.number().int() })).optional(),
});

export const recipient = z.object({
  partnerId: z.string(), purposes: z.array(z.string()), categories: z.array(z.string()), firstAt: z.string(), lastAt: z.string(), count: z.number().int(),
  keyVersions: z.array(z.union([z.number().int(), z.string()])), crossBorderPurposes: z.array(z.string()), crossBorderCountries: z.array(z.string()),
});
export const recipients = z.object({ items: z.array(recipient) });

export const receiptVerdict = z.union([
  z.object({ ok: z.literal(true), tampering: z.literal(false), trimmed: z.literal(false), kid: z.string(), partnerId: z.string(), purpose: z.string(), requestId: z.string(), entries: z.number().int(), released: z.number().int(), subjectChecked: z.boolean() }),
  z.object({ ok: z.literal(false), tampering: z.literal(true), trimmed: z.literal(false), kid: z.string(), chain: z.string(), seq: z.number().int(), reason: z.string(), detail: z.string() }),
  z.object({ ok: z.literal(false), tampering: z.literal(false), trimmed: z.literal(true), kid: z.string(), chain: z.string(), seq: z.number().int(), detail: z.string() }),
]);

const denialRow = z.object({
  day: z.string(), clientId: z.string(), reason: z.string(), count: z.number().int(),
  examples: z.array(z.object({ at: z.string(), reason: z.enum(DENIAL_REASONS), remotePrefix: nullable(), requestId: nullable() })),
});
export const accessDenialsPage = z.object({ items: z.array(denialRow), nextCursor: cursor });

// Type-level checks (no runtime cost): each builder's type fits its schema, with the same fields.
type Out<S extends z.ZodType> = z.infer<S>;
check<Fits<TransferEntry, Out<typeof transferEntry>>>();
check<Same<keyof TransferEntry, keyof Out<typeof transferEntry>>>();
check<Fits<VerifyResult, Out<typeof verifyResult>>>();
check<Same<keyof VerifyResult, keyof Out<typeof verifyResult>>>();
check<Same<keyof BrokenAt, keyof Out<typeof brokenAt>>>();
check<Same<keyof RecipientsDrift, keyof Out<typeof drift>>>();
check<Fits<Recipient, Out<typeof recipient>>>();
check<Same<keyof Recipient, keyof Out<typeof recipient>>>();
check<Fits<ReceiptVerdict, Out<typeof receiptVerdict>>>();
check<Fits<DenialRow, Out<typeof denialRow>>>();
check<Same<keyof DenialRow, keyof Out<typeof denialRow>>>();

// Request bodies of the partner routes (CONTRACT 5). The same schemas validate requests and
// describe them in /openapi.json.
import { z } from 'zod';
import { isCountryCode } from '../config/countries.ts';

export const PARTNER_ID = /^[a-z0-9][a-z0-9_-]{1,62}$/;
export const partnerIdSchema = z.string().regex(PARTNER_ID, 'must be 2-63 characters: a-z, 0-9, _ and -, starting with a letter or digit');

export const SIG_ALGS = ['ES256', 'PS256'] as const; // RULES 40: none and HS* never
export const ENC_ALGS = ['ECDH-ES+A256KW', 'RSA-OAEP-256'] as const;

const jwk = z.looseObject({
  kty: z.enum(['EC', 'RSA'], { error: 'must be EC or RSA (public keys only)' }),
  kid: z.string({ error: 'required: every key needs a kid' }).min(1, 'required: every key needs a kid').max(128),
  use: z.enum(['sig', 'enc'], { error: 'must be sig or enc' }).optional(),
  alg: z.enum([...SIG_ALGS, ...ENC_ALGS], { error: `must be one of ${[...SIG_ALGS, ...ENC_ALGS].join(', ')}` }).optional(),
});
export const jwksSchema = z.strictObject({ keys: z.array(jwk).min(1, 'must hold at least one key').max(20) });
export type JwksInput = z.output<typeof jwksSchema>;

export const thumbprintSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the DER client certificate (43 characters)');

// RULES 48: the legal entity that receives data; transfer log entries name it (or the partner's name when absent).
export const legalEntitySchema = z.strictObject({
  name: z.string().trim().min(1, 'required').max(200),
  country: z.string().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code'),
  registrationNumber: z.string().trim().min(1).max(64).regex(/^[\p{L}\p{N} ./-]+$/u, 'must be a registration number (letters, digits, space . / -)').optional(),
});
export type LegalEntityInput = z.output<typeof legalEntitySchema>;

export const partnerCreateSchema = z.strictObject({
  id: partnerIdSchema.optional(),
  name: z.string().trim().min(1, 'required').max(200),
  contactEmail: z.email('must be an e-mail address'),
  jwks: jwksSchema.optional(),
  clientCertThumbprint: thumbprintSchema.optional(),
  legalEntity: legalEntitySchema.optional(),
});
export type PartnerCreate = z.output<typeof partnerCreateSchema>;

export const credentialCreateSchema = z.strictObject({ label: z.string().trim().max(100).optional() });

// CONTRACT 6 steps 1-5: the partner side of the decision (token, scope, agreement, confidentiality,
// purpose). Each check is pure and returns the first reason it fails for, or null.
import { timingSafeEqual } from 'node:crypto';
import { isPurpose } from './taxonomy.ts';
import { deny, type Denial } from './denial.ts';
import { parseInstant } from './instant.ts';
import type { AgreementView, TokenView } from './decision-context.ts';

const nonBlank = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Constant-time string equality (DESIGN: secrets compared with timingSafeEqual). */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Step 1. RULES 38: a bound token is only usable over the certificate it was bound to. */
export function checkToken(token: TokenView | undefined): Denial | null {
  if (!token || token.valid !== true || token.revoked !== false) return deny('invalid_token');
  const bound = token.boundThumbprint;
  if (bound === undefined || bound === null) return token.bindingRequired === true ? deny('invalid_token') : null;
  if (!nonBlank(bound) || !nonBlank(token.presentedThumbprint)) return deny('invalid_token');
  return sameSecret(bound, token.presentedThumbprint) ? null : deny('invalid_token');
}

/** Step 2. RULES 41: scopes map one-to-one to purposes; a non-purpose is never in scope. */
export function checkScope(token: TokenView, purpose: string): Denial | null {
  if (!isPurpose(purpose) || !Array.isArray(token.scope)) return deny('insufficient_scope');
  return token.scope.includes(purpose) ? null : deny('insufficient_scope');
}

/** Step 3. RULES 2: status active and validFrom <= now < validUntil. */
export function checkAgreement(agreement: AgreementView | undefined, now: Date): Denial | null {
  if (!agreement || agreement.status !== 'active') return deny('agreement_inactive');
  const t = now.getTime();
  const from = parseInstant(agreement.validFrom);
  const until = parseInstant(agreement.validUntil);
  if (from === null || until === null || !Number.isFinite(t)) return deny('agreement_inactive');
  return from <= t && t < until ? null : deny('agreement_inactive');
}

/** Step 4. RULES 3 / P3: a confidentiality agreement that is referenced, signed and not expired. */
export function checkConfidentiality(agreement: AgreementView, now: Date): Denial | null {
  const c = agreement.confidentiality;
  if (!c || !nonBlank(c.documentRef)) return deny('confidentiality_agreement_invalid');
  const signatories = c.signatories;
  if (!Array.isArray(signatories) || signatories.length === 0 || !signatories.every(nonBlank)) {
    return deny('confidentiality_agreement_invalid');
  }
  const signed = parseInstant(c.signedAt);
  const expires = parseInstant(c.expiresAt);
  const t = now.getTime();
  if (signed === null || expires === null) return deny('confidentiality_agreement_invalid');
  // Signed in the future is not signed yet; expiresAt is the first instant it no longer holds.
  return signed <= t && t < expires ? null : deny('confidentiality_agreement_invalid');
}

/** Step 5. RULES 3: the purpose is listed in the agreement, with a category table. */
export function checkPurpose(agreement: AgreementView, purpose: string): Denial | null {
  const purposes = agreement.purposes;
  if (typeof purposes !== 'object' || purposes === null || !Object.hasOwn(purposes, purpose)) {
    return deny('purpose_not_allowed');
  }
  const entry = purposes[purpose];
  const categories = entry?.categories;
  return typeof categories === 'object' && categories !== null && !Array.isArray(categories)
    ? null
    : deny('purpose_not_allowed');
}

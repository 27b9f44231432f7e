// CONTRACT 6 steps 6-8: the user side of the decision (subject, user agreement and retention,
// consent). Records come from the core store as JSON, so shapes are re-checked here.
import { PURPOSES, type Purpose } from './taxonomy.ts';
import { deny, type Denial } from './denial.ts';
import { DAY_MS, parseInstant } from './instant.ts';
import type { UserRecord } from '../core-store/record.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A consent that counts: granted, given at a real instant, never withdrawn. Any withdrawnAt, even
 * a malformed or future one, means withdrawn (RULES 11: withdrawal is effective at once).
 */
export function consentActive(state: unknown): boolean {
  if (!isObject(state) || state.granted !== true) return false;
  if (state.withdrawnAt !== null && state.withdrawnAt !== undefined) return false;
  return parseInstant(state.at) !== null;
}

/** Step 6. A record that is missing, or not even an object with an id, is no subject. */
export function checkSubject(record: UserRecord | undefined): Denial | null {
  if (!isObject(record) || typeof record.id !== 'string' || record.id === '') return deny('subject_not_found');
  return null;
}

/**
 * Step 7. RULES 21: past retention (terminatedAt + retention days) nothing is released, whatever
 * the purpose. RULES 22: a terminated user is archive-only, so only legal_obligation passes.
 * A terminated agreement without a valid terminatedAt cannot be placed in time: denied outright.
 */
export function checkUserAgreement(
  record: UserRecord, purpose: Purpose, now: Date, retentionDays: number,
): Denial | null {
  const ua: unknown = record.userAgreement;
  if (!isObject(ua)) return deny('user_agreement_terminated');
  if (ua.status === 'active') {
    // An active agreement carrying a termination date is contradictory: fail closed.
    return ua.terminatedAt === null || ua.terminatedAt === undefined ? null : deny('user_agreement_terminated');
  }
  if (ua.status !== 'terminated') return deny('user_agreement_terminated');
  const ended = parseInstant(ua.terminatedAt);
  if (ended === null) return deny('user_agreement_terminated');
  // A malformed retention setting cannot show data is still within retention.
  if (!Number.isFinite(retentionDays) || retentionDays < 0) return deny('retention_expired');
  if (now.getTime() > ended + retentionDays * DAY_MS) return deny('retention_expired');
  return purpose === 'legal_obligation' ? null : deny('user_agreement_terminated');
}

/** Step 8. RULES 10-11: a consent-based purpose needs that purpose's consent, live. */
export function checkConsent(record: UserRecord, purpose: Purpose): Denial | null {
  if (PURPOSES[purpose] !== 'consent') return null;
  const purposes: unknown = isObject(record.consents) ? record.consents.purposes : undefined;
  if (!isObject(purposes) || !Object.hasOwn(purposes, purpose)) return deny('consent_required');
  return consentActive(purposes[purpose]) ? null : deny('consent_required');
}

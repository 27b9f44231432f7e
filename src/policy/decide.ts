// DESIGN 5: the one decision function. CONTRACT 6 steps 1-10 in order, first failure wins; routes,
// bulk pulls and webhooks all call this, and nothing else re-implements these rules.
import { PURPOSES, isPurpose, type LegalBasis } from './taxonomy.ts';
import { deny, type Denial, type Reason } from './denial.ts';
import { checkAgreement, checkConfidentiality, checkPurpose, checkScope, checkToken } from './checks-partner.ts';
import { checkConsent, checkSubject, checkUserAgreement } from './checks-user.ts';
import { checkPolicyVersion } from './check-policy-version.ts';
import { checkCountryBlocked, crossBorderBasis, type CrossBorderBasis } from './cross-border.ts';
import type { DecisionContext } from './decision-context.ts';

export type { DecisionContext } from './decision-context.ts';
export type { CrossBorderBasis } from './cross-border.ts';

export type Decision =
  | { allow: true; legalBasis: LegalBasis; crossBorderBasis: CrossBorderBasis }
  | { allow: false; reason: Reason; status: Denial['status']; legalBasis?: LegalBasis; crossBorderBasis?: CrossBorderBasis };

/** The reasons in the order decide() tries them (CONTRACT 6; country_blocked just before step 10). */
export const DECISION_ORDER = [
  'invalid_token', 'insufficient_scope', 'agreement_inactive', 'confidentiality_agreement_invalid',
  'purpose_not_allowed', 'subject_not_found', 'user_agreement_terminated', 'consent_required',
  'policy_not_accepted', 'country_blocked', 'cross_border_not_permitted',
] as const satisfies readonly Reason[];
// retention_expired shares step 7 with user_agreement_terminated (it is checked first within it).

export function decide(ctx: DecisionContext): Decision {
  const { token, purpose, agreement, record, now, jurisdiction } = ctx;
  const refuse = (d: Denial): Decision => ({
    allow: false, reason: d.reason, status: d.status, ...(isPurpose(purpose) ? { legalBasis: PURPOSES[purpose] } : {}),
  });

  // Steps 1-2: who is asking, and for what.
  const caller = checkToken(token) ?? checkScope(token, purpose);
  if (caller) return refuse(caller);
  if (!isPurpose(purpose)) return refuse(deny('insufficient_scope')); // checkScope already denied; narrows the type
  // Steps 3-5: the partner's agreement covers this purpose today.
  if (!agreement) return refuse(deny('agreement_inactive'));
  const terms = checkAgreement(agreement, now) ?? checkConfidentiality(agreement, now) ?? checkPurpose(agreement, purpose);
  if (terms) return refuse(terms);
  // Steps 6-9 and the kill-switch: this user may be released for this purpose, to these countries.
  if (!record) return refuse(deny('subject_not_found'));
  const user =
    checkSubject(record) ??
    checkUserAgreement(record, purpose, now, ctx.retentionAfterTerminationDays) ??
    checkConsent(record, purpose) ??
    checkPolicyVersion(record, agreement.requiresPolicyVersion, ctx.policyVersions, now) ??
    checkCountryBlocked(agreement.processingCountries, jurisdiction);
  if (user) return refuse(user);
  // Step 10: the ground for any cross-border transfer.
  const basis = crossBorderBasis(record, agreement.processingCountries, jurisdiction, now, agreement.countriesSince);
  if (basis === null) return refuse(deny('cross_border_not_permitted'));
  return { allow: true, legalBasis: PURPOSES[purpose], crossBorderBasis: basis };
}

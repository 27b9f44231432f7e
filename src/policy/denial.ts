// The reason codes of CONTRACT 6 with their HTTP statuses, in one table the decision, the egress
// guard and the problem+json layer share. Codes are stable API: partners and auditors match on them.

export const REASONS = {
  invalid_token: { status: 401, title: 'The access token is invalid, revoked or not bound to this client' },
  insufficient_scope: { status: 403, title: 'The token does not cover this purpose' },
  agreement_inactive: { status: 403, title: 'No agreement is in force for this partner' },
  confidentiality_agreement_invalid: { status: 403, title: 'The confidentiality agreement is missing, unsigned or expired' },
  purpose_not_allowed: { status: 403, title: 'The agreement does not cover this purpose' },
  subject_not_found: { status: 404, title: 'No such subject' },
  retention_expired: { status: 404, title: 'The subject is past its retention period' },
  user_agreement_terminated: { status: 403, title: 'The user agreement has ended' },
  consent_required: { status: 403, title: 'This purpose needs the user\'s consent' },
  policy_not_accepted: { status: 403, title: 'The user has not accepted the required policy version' },
  country_blocked: { status: 403, title: 'Transfers to a processing country are blocked' },
  cross_border_not_permitted: { status: 403, title: 'No ground for a cross-border transfer' },
  // RULES 9: a correspondence string or canary in an outgoing payload; the transfer is aborted.
  egress_guard: { status: 403, title: 'The payload failed the egress guard' },
} as const satisfies Record<string, { status: 401 | 403 | 404; title: string }>;

export type Reason = keyof typeof REASONS;

export interface Denial {
  reason: Reason;
  status: 401 | 403 | 404;
}

export const deny = (reason: Reason): Denial => ({ reason, status: REASONS[reason].status });

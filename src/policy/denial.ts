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
  // DESIGN 8: the terms a bulk stream began under (agreement version, pseudonym key version) were
  // replaced mid-stream. 409, not 403: nothing is refused for good; the same request started again
  // runs under the new terms, whereas a 403 says "not allowed" and invites no retry.
  agreement_changed: { status: 409, title: 'The agreement or pseudonym key changed during the stream; start again under the new terms' },
  // RULES 6: the agreement does not allow bulk pulls for this purpose.
  bulk_not_allowed: { status: 403, title: 'The agreement does not allow bulk pulls for this purpose' },
  // RULES 6, 44: the purpose's daily quota of distinct subjects is reached (Retry-After: next UTC day).
  quota_exceeded: { status: 429, title: 'The daily quota of distinct subjects for this purpose is reached' },
} as const satisfies Record<string, { status: 401 | 403 | 404 | 409 | 429; title: string }>;

export type Reason = keyof typeof REASONS;

export interface Denial {
  reason: Reason;
  status: 401 | 403 | 404 | 409 | 429;
}

export const deny = (reason: Reason): Denial => ({ reason, status: REASONS[reason].status });

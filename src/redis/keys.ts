// Key layout for Redis Cluster (issue 18 item 3): a script or MULTI may only touch keys of one
// slot. Every admin change is one script with its audit entry (auth/admin-audit.ts), so every key
// an audited script touches shares the audit stream's slot: partners, credentials, partner tokens,
// agreements, admin tokens, jurisdiction, pseudonym key versions, re-identification requests,
// incidents and the notice queues all carry the control-plane hash tag below. They are small and
// their writes are rare; the data plane (transfer log chains, rate limits, quotas, jti, denials per
// day) keeps tags of its own and spreads over the shards.

/** Prefix of every control-plane key: one hash tag, one slot. */
export const CONTROL_PLANE = 'pg:{cp}:';

/** The notice queues' hash tag (notices/keys.ts): the control-plane slot, for the audited retry. */
export const NOTICES_TAG = 'cp';

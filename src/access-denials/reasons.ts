// The refusals recorded before (or without) a transfer decision (RULES 48, 35): stable codes that
// auditors filter on. A refusal after the partner is known goes to the transfer log instead.
export const DENIAL_REASONS = [
  'unknown_client', // token endpoint: no credentials, malformed ones, or a client id that is not registered
  'bad_secret', // client_secret_basic with a registered client id and a wrong secret
  'bad_assertion', // private_key_jwt assertion refused (RULES 40)
  'bad_certificate', // the partner's registered client certificate was not presented (RULES 38)
  'missing_token', // a partner route called without a bearer token
  'bad_token', // an unknown, expired or revoked bearer token
  'rate_limited', // 429 (RULES 44)
  'tls_floor', // a TLS 1.0/1.1 client hello refused by a listener (RULES 32, 35)
  'tls_cipher', // a client hello offering no listed suite (RULES 33)
] as const;

export type DenialReason = (typeof DENIAL_REASONS)[number];

export const isDenialReason = (s: string): s is DenialReason => (DENIAL_REASONS as readonly string[]).includes(s);

/** One sampled refusal: never a secret, token, full address or request value. */
export interface DenialExample {
  at: string;
  reason: DenialReason;
  /** IPv4 /24 or IPv6 /48 of the caller (RULES 30), null when unknown. */
  remotePrefix: string | null;
  requestId: string | null;
}

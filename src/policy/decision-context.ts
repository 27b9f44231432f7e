// What the decision function reads (CONTRACT 6). The callers build it from the access token, the
// agreement version, the store record and configuration; nothing here does I/O. Values come from
// JSON (Redis, the core store), so every check re-validates them at run time and treats anything
// malformed as a denial (DESIGN 1).
import type { UserRecord } from '../core-store/record.ts';

/** A strict ISO 8601 string (date, or date-time with zone) or a Date. */
export type Instant = string | Date;

export interface TokenView {
  valid: boolean;
  revoked: boolean;
  /** RFC 8705 cnf.x5t#S256 the token was issued for; absent for an unbound token. */
  boundThumbprint?: string | null;
  /** Thumbprint of the client certificate on this connection. */
  presentedThumbprint?: string | null;
  /** RULES 38: when the listener demands binding, an unbound token is invalid too. */
  bindingRequired?: boolean;
  scope: readonly string[];
}

export interface ConfidentialityView {
  documentRef: string;
  signedAt: Instant;
  expiresAt: Instant;
  signatories: readonly string[];
}

export interface AgreementView {
  status: string;
  validFrom: Instant;
  validUntil: Instant;
  confidentiality?: ConfidentialityView | null;
  /** purpose -> category -> treatment (CONTRACT 5). */
  purposes: Readonly<Record<string, { categories: Readonly<Record<string, unknown>> } | undefined>>;
  processingCountries: readonly string[];
  /**
   * RULES 19: for a country a reviewed version added, when that version took effect; a general
   * cross-border consent given before then does not cover it. Absent: no country was added later.
   */
  countriesSince?: Readonly<Record<string, Instant>>;
  requiresPolicyVersion: string;
}

/**
 * RULES 17: an adequacy entry may carry a review date; past it, the entry counts as absent.
 * A plain code has no review date (today's config shape).
 */
export type AdequacyEntry = string | { country: string; reviewBy: Instant };

export interface Jurisdiction {
  home: string;
  adequate: readonly AdequacyEntry[];
  /** RULES 20: the country kill-switch. */
  blocked?: readonly string[];
  /** RULES 48: the governed list's version, named by entries whose cross-border ground is adequacy (0: configuration only). */
  version?: number;
}

export interface PolicyVersion {
  version: string;
  publishedAt: Instant;
}

export interface DecisionContext {
  token: TokenView;
  purpose: string;
  agreement: AgreementView | undefined;
  /** undefined: no such user, or a pseudonym that did not decode for this partner. */
  record: UserRecord | undefined;
  now: Date;
  jurisdiction: Jurisdiction;
  policyVersions: readonly PolicyVersion[];
  retentionAfterTerminationDays: number;
}

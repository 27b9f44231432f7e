// The notice a partner receives (CONTRACT 4), by pull and by webhook alike. It names the user only
// by that partner's own pseudonym: the raw user id is never part of a notice, nor kept in Redis.
import { createHash } from 'node:crypto';

export const NOTICE_TYPES = ['consent_withdrawn', 'subject_erased', 'cross_border_withdrawn', 'retention_expired'] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

export interface Notice {
  id: string;
  type: NoticeType;
  /** The partner's pseudonym of the user. */
  subject: string;
  purposes: string[];
  /** When it happened: the event's time, or the delete-by date. */
  at: string;
  /** RULES 12 (KZ Art. 8(2)): data held under a legal obligation is flagged, not revoked. */
  legalObligation?: true;
}

/** A notice queued for one partner. */
export interface Addressed { partnerId: string; notice: Notice }

/**
 * Deterministic per (source, partner, type): a repeated or retried event yields the same ids, so
 * the store can refuse duplicates however often the fan-out runs.
 */
export function noticeId(source: string, partnerId: string, type: NoticeType): string {
  const h = createHash('sha256').update(`notice\u0000${source}\u0000${partnerId}\u0000${type}`).digest('base64url');
  return `ntc_${h.slice(0, 24)}`;
}

export function makeNotice(id: string, type: NoticeType, subject: string, purposes: readonly string[], at: string): Notice {
  const sorted = [...new Set(purposes)].sort();
  // RULES 12: the partner keeps what it holds under legal_obligation; the rest is revoked.
  return { id, type, subject, purposes: sorted, at, ...(sorted.includes('legal_obligation') ? { legalObligation: true as const } : {}) };
}

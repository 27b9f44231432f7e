// RULES 50 (breach clock): what an incident is. It holds no personal data — ids of partners,
// chains and requests, a kind, a finding code and counts — so it can be listed, posted to ops and
// kept without widening who sees user data.
import type { VerifyResult } from '../transfer-log/verify.ts';

export const INCIDENT_KINDS = [
  'egress_guard', // RULES 9: a payload carried correspondence or a seeded canary and was stopped
  'verify_failed', // the transfer log's chains, checkpoints or recipients index did not verify
  'anchor_mismatch', // Redis and the anchors file kept outside it disagree (DESIGN 10)
  'key_compromise', // RULES 50, 29: an admin reported a partner's pseudonym key compromised (rotated at once)
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface IncidentReport {
  kind: IncidentKind;
  /** A code for what was found (a verify reason such as hash_mismatch, or egress_guard). */
  found: string;
  partnerId?: string | null;
  chain?: string | null;
  requestId?: string | null;
}

export interface Incident {
  id: string;
  kind: IncidentKind;
  status: 'open' | 'acknowledged';
  found: string;
  partnerId: string | null;
  chain: string | null;
  /** The request of the first detection. */
  requestId: string | null;
  detectedAt: string;
  /** RULES 50: when the notification to the authority is due (detectedAt + incidents.notifyWithinHours). */
  notifyBy: string;
  /** Detections of the same finding while the incident was open. */
  count: number;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  /** The ops webhook's last answer: delivered, or the failed attempt's status; null when none is configured or not yet tried. */
  webhook: { status: string; at: string; attempts: number } | null;
}

/** One open incident per finding: repeated detections count on it until it is acknowledged. */
export const dedupeKey = (r: IncidentReport) => [r.kind, r.partnerId ?? '', r.chain ?? '', r.found].join('|');

/** A failed verify as an incident report; null when the log verified. */
export function fromVerify(r: VerifyResult): IncidentReport | null {
  if (r.ok) return null;
  const b = r.brokenAt;
  if (!b) return { kind: 'verify_failed', found: 'recipients_drift' };
  return { kind: b.reason.startsWith('anchor_') ? 'anchor_mismatch' : 'verify_failed', found: b.reason, chain: b.chain };
}

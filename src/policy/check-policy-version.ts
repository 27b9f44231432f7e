// CONTRACT 6 step 9 (policy 1.2, RULES 13): the agreement's required policy version, or a later one,
// accepted by click; or the required version deemed accepted because the user was active at least
// 7 days after its publication. Versions are ordered by publication time from configuration.
import type { UserRecord } from '../core-store/record.ts';
import { deny, type Denial } from './denial.ts';
import { DAY_MS, parseInstant } from './instant.ts';
import type { PolicyVersion } from './decision-context.ts';

export const DEEMED_ACCEPTANCE_MS = 7 * DAY_MS;

/** Publication time of a configured version; unknown or malformed versions are null. */
function publishedAt(versions: readonly PolicyVersion[], version: unknown): number | null {
  if (typeof version !== 'string' || !Array.isArray(versions)) return null;
  let found: PolicyVersion | undefined;
  let n = 0;
  for (const v of versions) if (v?.version === version) { found = v; n++; }
  // Two entries for one version make its date ambiguous: treat it as unknown.
  return n === 1 ? configuredInstant(found?.publishedAt) : null;
}

// Issue 17 item 4: the same few configured dates are read for every subject (twice each), so their
// parse is remembered by value (parseInstant is pure; a handful of strings, bounded anyway).
const parsed = new Map<string, number | null>();
function configuredInstant(value: unknown): number | null {
  if (typeof value !== 'string') return parseInstant(value);
  let t = parsed.get(value);
  if (t === undefined) {
    t = parseInstant(value);
    if (parsed.size >= 256) parsed.clear();
    parsed.set(value, t);
  }
  return t;
}

/** A click on `required` or on any version published after it. The click must postdate publication. */
export function clickedAtLeast(record: UserRecord, required: number, versions: readonly PolicyVersion[]): boolean {
  const pa: unknown = record.policyAcceptance;
  if (typeof pa !== 'object' || pa === null) return false;
  const { method, version, acceptedAt } = pa as Record<string, unknown>;
  if (method !== 'click') return false;
  const published = publishedAt(versions, version);
  const clicked = parseInstant(acceptedAt);
  return published !== null && clicked !== null && published >= required && clicked >= published;
}

/** policy 1.2: using the service 7 days or more after publication counts as acceptance. */
export function deemedAccepted(record: UserRecord, required: number, now: Date): boolean {
  const active = parseInstant(record.lastActiveAt);
  // Activity "in the future" is a bad record, not evidence of acceptance.
  return active !== null && active <= now.getTime() && active >= required + DEEMED_ACCEPTANCE_MS;
}

/** How the required version stands accepted, or null when it does not. */
export function policyAcceptance(
  record: UserRecord, requiredVersion: string, versions: readonly PolicyVersion[], now: Date,
): 'click' | 'deemed' | null {
  const required = publishedAt(versions, requiredVersion);
  if (required === null) return null; // an agreement naming an unknown version fails closed
  if (clickedAtLeast(record, required, versions)) return 'click';
  return deemedAccepted(record, required, now) ? 'deemed' : null;
}

export function checkPolicyVersion(
  record: UserRecord, requiredVersion: string, versions: readonly PolicyVersion[], now: Date,
): Denial | null {
  return policyAcceptance(record, requiredVersion, versions, now) === null ? deny('policy_not_accepted') : null;
}

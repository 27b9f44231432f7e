// The legally relevant state of a synthetic user: agreement, activity, policy acceptance, consents.
// Proportions are chosen so every branch of CONTRACT 6 steps 7-10 occurs in any few hundred users.
import { PURPOSE_IDS, PURPOSES } from '../policy/taxonomy.ts';
import type { ConsentState, UserRecord } from './record.ts';
import type { Rng } from './prng.ts';

export const DAY_MS = 86_400_000;
// Mirrors config/default.json policy.versions; the fixture must not read configuration.
const POLICY_2024 = { version: '2024-03', publishedAt: Date.UTC(2024, 2, 1) };
const POLICY_2026 = { version: '2026-06', publishedAt: Date.UTC(2026, 5, 1) };
// retention.afterTerminationDays is 1095; stay clear of the boundary on both sides.
const LONG_AGO_DAYS = [1100, 2400] as const;
const RECENT_DAYS = [5, 1000] as const;

/** ISO 8601 with second precision, as in CONTRACT 3's example. */
export const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

type State = Pick<UserRecord, 'userAgreement' | 'lastActiveAt' | 'policyAcceptance' | 'consents'>;

/** ~10% terminated, half of those beyond the retention period; active users were seen this year. */
function lifecycle(r: Rng, now: number): { agreement: UserRecord['userAgreement']; lastActive: number } {
  if (r.chance(0.1)) {
    const [lo, hi] = r.chance(0.5) ? LONG_AGO_DAYS : RECENT_DAYS;
    const terminatedAt = now - r.int(lo, hi) * DAY_MS - r.int(0, DAY_MS - 1);
    const lastActive = terminatedAt - r.float() * 90 * DAY_MS;
    return { agreement: { status: 'terminated', terminatedAt: iso(terminatedAt) }, lastActive };
  }
  return { agreement: { status: 'active', terminatedAt: null }, lastActive: now - r.float() * 330 * DAY_MS };
}

/**
 * Click on the current version, click on the old one, or no click at all (sometimes with the old
 * version recorded but method null, which must not count as a click). A click never postdates
 * the user's last activity, so users last seen before a publication cannot have clicked it.
 */
function policy(r: Rng, lastActive: number): UserRecord['policyAcceptance'] {
  const roll = r.float();
  const between = (from: number, to: number) => iso(from + r.float() * (to - from));
  if (roll < 0.4 && lastActive > POLICY_2026.publishedAt) {
    return { version: POLICY_2026.version, acceptedAt: between(POLICY_2026.publishedAt, lastActive), method: 'click' };
  }
  if (roll < 0.65 && lastActive > POLICY_2024.publishedAt) {
    const until = Math.min(lastActive, POLICY_2026.publishedAt);
    return { version: POLICY_2024.version, acceptedAt: between(POLICY_2024.publishedAt, until), method: 'click' };
  }
  if (roll < 0.85) return { version: POLICY_2024.version, acceptedAt: null, method: null };
  return { version: null, acceptedAt: null, method: null };
}

/** Granted, later withdrawn, or never answered; all acts happen while the user was active. */
function consent(r: Rng, lastActive: number, pGranted: number, pWithdrawn: number): ConsentState | undefined {
  const roll = r.float();
  const at = lastActive - r.float() * 700 * DAY_MS;
  if (roll < pGranted) return { granted: true, at: iso(at), withdrawnAt: null };
  if (roll < pGranted + pWithdrawn) {
    return { granted: false, at: iso(at), withdrawnAt: iso(at + r.float() * (lastActive - at)) };
  }
  return undefined;
}

export function syntheticState(r: Rng, now: number): State {
  const { agreement, lastActive } = lifecycle(r, now);
  const purposes: Record<string, ConsentState> = {};
  for (const purpose of PURPOSE_IDS) {
    // Contract and legal-obligation purposes need no consent, but stores often record one anyway.
    const state = PURPOSES[purpose] === 'consent' ? consent(r, lastActive, 0.45, 0.2) : consent(r, lastActive, 0.3, 0);
    if (state) purposes[purpose] = state;
  }
  const given = consent(r, lastActive, 0.35, 0.15);
  // RULES 14: the reference store records how a cross-border consent was given, always by an
  // explicit act (derived without the PRNG, so every other field of every user stays as it was).
  const crossBorder = given ? { ...given, method: Math.floor(lastActive / 1000) % 4 === 0 ? 'signature' as const : 'click' as const } : { granted: false, at: null, withdrawnAt: null };
  return {
    userAgreement: agreement,
    lastActiveAt: iso(lastActive),
    policyAcceptance: policy(r, lastActive),
    consents: { purposes, crossBorder },
  };
}

// RULES 14, 16(b), 19: which foreign countries a user's cross-border consent covers. Stores that
// record more than CONTRACT 3's one `consents.crossBorder` state are honoured field by field, and
// a store without those optional fields keeps the one-consent-for-every-country reading:
//   crossBorder.method     'click' | 'signature' count; anything else present (deemed, null) does not
//   crossBorder.countries  {CC: {granted, at, withdrawnAt, method?}}: present, it alone decides, per country
import { consentActive } from './checks-user.ts';
import { parseInstant } from './instant.ts';
import type { Instant } from './decision-context.ts';

/** RULES 14: explicit acts only. Absent: a store that does not record the method (today's reading). */
const EXPLICIT_METHODS: readonly unknown[] = ['click', 'signature'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A consent that counts for a cross-border transfer: active (RULES 11) and given by an explicit act (RULES 14). */
export function explicitConsentActive(state: unknown): boolean {
  if (!consentActive(state)) return false;
  const s = state as Record<string, unknown>;
  return !Object.hasOwn(s, 'method') || EXPLICIT_METHODS.includes(s.method);
}

/**
 * Does the user's consent cover transfers to `country`? `since` is when the agreement in force
 * added that country after review (RULES 19): a general consent given before then was given
 * without knowing of it, so it does not count for it (the user must consent again). A country
 * with no `since` was on the partner's list from its first agreement version.
 */
export function consentCovers(crossBorder: unknown, country: unknown, since: Instant | undefined): boolean {
  // A general consent covers an unknown destination as it did before per-country consent existed (RULES 15 test).
  if (!isObject(crossBorder)) return false;
  const perCountry = crossBorder.countries;
  // RULES 16(b): a store that speaks per country is taken at its word; a country it does not name
  // (or an unknown destination, RULES 15, which it cannot name) is not consented.
  if (perCountry !== undefined) {
    return typeof country === 'string' && isObject(perCountry) && Object.hasOwn(perCountry, country) && explicitConsentActive(perCountry[country]);
  }
  if (!explicitConsentActive(crossBorder)) return false;
  if (since === undefined) return true;
  const added = parseInstant(since);
  const given = parseInstant(crossBorder.at);
  return added !== null && given !== null && given >= added; // unreadable dates: fail closed
}

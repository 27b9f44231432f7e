// CONTRACT 6 step 10 and RULES 15-17, 20: where the partner processes data, and on what ground.
// Any processing country other than home is cross-border; each must be on the adequacy list (whose
// entries may expire) or the user must hold an explicit cross-border consent.
import type { UserRecord } from '../core-store/record.ts';
import { deny, type Denial } from './denial.ts';
import { parseInstant } from './instant.ts';
import { consentCovers } from './cross-border-consent.ts';
import type { AdequacyEntry, Instant, Jurisdiction } from './decision-context.ts';

export type CrossBorderBasis = 'domestic' | 'adequacy' | 'consent';

const COUNTRY = /^[A-Z]{2}$/;
const isCountry = (v: unknown): v is string => typeof v === 'string' && COUNTRY.test(v);

/** RULES 17: the adequacy list as of `now`; an entry past its reviewBy, or malformed, is absent. */
export function adequateCountries(entries: readonly AdequacyEntry[], now: Date): Set<string> {
  const out = new Set<string>();
  if (!Array.isArray(entries)) return out;
  for (const e of entries) {
    if (isCountry(e)) out.add(e);
    else if (typeof e === 'object' && e !== null && isCountry(e.country)) {
      const review = parseInstant(e.reviewBy);
      if (review !== null && now.getTime() <= review) out.add(e.country);
    }
  }
  return out;
}

/** RULES 15: the countries other than home; a malformed entry stays in (unknown = not adequate). */
export function foreignCountries(processing: readonly string[], home: unknown): unknown[] {
  if (!Array.isArray(processing)) return [undefined];
  const homeOk = isCountry(home);
  // RULES 15: an empty country list is an unknown destination, hence cross-border and not adequate.
  if (processing.length === 0) return [undefined];
  return processing.filter((c) => !(homeOk && c === home));
}

/**
 * RULES 20: the kill-switch blocks any processing country, home included. An unknown destination
 * (empty or malformed list, RULES 15) might be a blocked one, so while anything is blocked it is.
 */
export function checkCountryBlocked(processing: readonly string[], jurisdiction: Jurisdiction): Denial | null {
  const blocked: unknown = jurisdiction?.blocked ?? [];
  if (!Array.isArray(blocked)) return deny('country_blocked'); // unreadable kill-switch: fail closed
  if (blocked.length === 0) return null;
  if (!Array.isArray(processing) || processing.length === 0 || !processing.every(isCountry)) return deny('country_blocked');
  return processing.some((c) => blocked.includes(c)) ? deny('country_blocked') : null;
}

/**
 * RULES 16: adequacy for every foreign country, else the user's explicit cross-border consent for
 * each foreign country that is not adequate (cross-border-consent.ts: RULES 14 method, per-country
 * consent, RULES 19 re-consent after a reviewed addition). Deemed policy acceptance never counts.
 */
export function crossBorderBasis(
  record: UserRecord, processing: readonly string[], jurisdiction: Jurisdiction, now: Date,
  countriesSince?: Readonly<Record<string, Instant>>,
): CrossBorderBasis | null {
  const foreign = foreignCountries(processing, jurisdiction?.home);
  if (foreign.length === 0) return 'domestic';
  const adequate = adequateCountries(jurisdiction?.adequate ?? [], now);
  const uncovered = foreign.filter((c) => !(isCountry(c) && adequate.has(c)));
  if (uncovered.length === 0) return 'adequacy';
  const consents: unknown = record.consents;
  const cross = typeof consents === 'object' && consents !== null ? (consents as Record<string, unknown>).crossBorder : undefined;
  const since = (c: unknown) => (typeof c === 'string' && countriesSince && Object.hasOwn(countriesSince, c) ? countriesSince[c] : undefined);
  return uncovered.every((c) => consentCovers(cross, c, since(c))) ? 'consent' : null;
}

export function checkCrossBorder(
  record: UserRecord, processing: readonly string[], jurisdiction: Jurisdiction, now: Date,
  countriesSince?: Readonly<Record<string, Instant>>,
): Denial | null {
  return crossBorderBasis(record, processing, jurisdiction, now, countriesSince) === null ? deny('cross_border_not_permitted') : null;
}

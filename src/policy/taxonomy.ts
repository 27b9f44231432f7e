// The vocabulary of policy 2.1 and 2.2 (CONTRACT 2), in one place: the config validator, the
// agreement validator, the decision function and the OpenAPI document all read these constants.

export const PURPOSES = {
  service_delivery: 'contract',
  notifications: 'contract',
  request_handling: 'contract',
  policy_updates: 'contract',
  service_improvement: 'consent',
  marketing_events: 'consent',
  advertising: 'consent',
  marketing_research: 'consent',
  product_development: 'consent',
  personalisation: 'consent',
  contests: 'consent',
  legal_obligation: 'legal_obligation',
} as const satisfies Record<string, LegalBasis>;

export type LegalBasis = 'contract' | 'consent' | 'legal_obligation';
export type Purpose = keyof typeof PURPOSES;
export const PURPOSE_IDS = Object.keys(PURPOSES) as Purpose[];

export const CATEGORIES = [
  'phone', 'email', 'ip_address', 'geolocation', 'search_history', 'visit_times', 'cookies',
  'browser', 'operating_system', 'avatar', 'username', 'gender', 'date_of_birth', 'consents',
] as const;
export type Category = (typeof CATEGORIES)[number];

// policy 4.3: correspondence exists only to be removed; it is never a category an agreement can name.
export const CORRESPONDENCE = 'correspondence';

export const TREATMENTS = ['clear', 'generalise', 'pseudonymise', 'drop'] as const;
export type Treatment = (typeof TREATMENTS)[number];

// CONTRACT 2 (amended by [2/6], RULES 30): `generalise` is defined only for these categories;
// browser and operating_system generalise to family and major version.
export const GENERALISABLE: ReadonlySet<Category> = new Set<Category>([
  'date_of_birth', 'geolocation', 'ip_address', 'visit_times', 'browser', 'operating_system',
]);

// RULES 30: quasi-identifiers. `clear` needs a written justification in the agreement; without
// one they are generalised, never sent as stored.
export const QUASI_IDENTIFIERS: ReadonlySet<Category> = new Set<Category>([
  'date_of_birth', 'geolocation', 'ip_address', 'visit_times', 'browser', 'operating_system',
]);

export function treatmentsFor(category: Category): Treatment[] {
  return TREATMENTS.filter((t) => t !== 'generalise' || GENERALISABLE.has(category));
}

export const isPurpose = (p: string): p is Purpose => Object.hasOwn(PURPOSES, p);
export const isCategory = (c: string): c is Category => (CATEGORIES as readonly string[]).includes(c);

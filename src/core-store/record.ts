// The record the reference core user store serves (CONTRACT 3). Other modules import this type;
// a real store may differ, which is why the gateway reads records through the field map only.

/** One consent: given at `at`, withdrawn at `withdrawnAt`. Withdrawn consents carry granted: false. */
export interface ConsentState {
  granted: boolean;
  at: string | null;
  withdrawnAt: string | null;
  /**
   * Optional (RULES 14): how the consent was given. A cross-border consent counts only when it is
   * 'click' or 'signature'; a store that leaves it out keeps today's reading (the consent counts).
   */
  method?: 'click' | 'signature' | 'deemed' | null;
}

/** consents.crossBorder: one consent for every country, optionally refined per country. */
export interface CrossBorderConsent extends ConsentState {
  /**
   * Optional (RULES 16(b)): ISO 3166-1 alpha-2 -> that country's consent. Present, it alone
   * decides: a foreign, non-adequate country it does not name is not consented.
   */
  countries?: Record<string, ConsentState>;
}

export interface UserRecord {
  id: string;
  updatedAt: string;
  phone: string;
  email: string;
  ipAddress: string;
  geolocation: { lat: number; lon: number; city: string; country: string };
  searchHistory: { query: string; at: string }[];
  visits: string[];
  cookies: Record<string, string>;
  browser: string;
  os: string;
  avatarUrl: string;
  username: string;
  gender: string;
  dateOfBirth: string;
  consents: {
    /** Keyed by purpose id; a purpose the user never answered is absent. */
    purposes: Record<string, ConsentState>;
    crossBorder: CrossBorderConsent;
  };
  /**
   * The last policy version the user accepted by click. method null means no click was recorded:
   * acceptance can then only be deemed from lastActiveAt (CONTRACT 6 step 9).
   */
  policyAcceptance: { version: string | null; acceptedAt: string | null; method: 'click' | null };
  lastActiveAt: string;
  userAgreement: { status: 'active' | 'terminated'; terminatedAt: string | null };
  /** policy 4.3: never leaves the gateway; present on every synthetic user so that is testable. */
  correspondence: { with: string; subject: string; body: string; at: string }[];
}

/** Every top-level key of a UserRecord, in CONTRACT 3's order. */
export const USER_RECORD_KEYS = [
  'id', 'updatedAt', 'phone', 'email', 'ipAddress', 'geolocation', 'searchHistory', 'visits',
  'cookies', 'browser', 'os', 'avatarUrl', 'username', 'gender', 'dateOfBirth', 'consents',
  'policyAcceptance', 'lastActiveAt', 'userAgreement', 'correspondence',
] as const satisfies readonly (keyof UserRecord)[];

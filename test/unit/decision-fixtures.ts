// A context that passes every step of CONTRACT 6, and for each step the ways to break only that
// step. Shared by the decision table and the ordering property.
import type { DecisionContext } from '../../src/policy/decide.ts';
import type { Reason } from '../../src/policy/denial.ts';
import type { UserRecord } from '../../src/core-store/record.ts';

export const NOW = new Date('2026-11-25T00:00:00Z');
const THUMB = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2';

export function baseRecord(): UserRecord {
  return {
    id: 'u_000123', updatedAt: '2026-11-20T10:00:00Z',
    phone: '+77011234567', email: 'a.user@example.kz', ipAddress: '95.56.12.7',
    geolocation: { lat: 43.2389, lon: 76.8897, city: 'Almaty', country: 'KZ' },
    searchHistory: [{ query: 'tickets almaty', at: '2026-11-19T08:13:00Z' }],
    visits: ['2026-11-19T08:12:00Z', '2026-11-02T23:59:59Z'],
    cookies: { sid: 'f00dfeed', ga: 'GA1.2.123456789.1763540000' },
    browser: 'Firefox 131', os: 'Android 14', avatarUrl: 'https://cdn.example.kz/a/123.png',
    username: 'aigerim_k', gender: 'female', dateOfBirth: '1994-05-01',
    consents: {
      purposes: { advertising: { granted: true, at: '2025-02-01T09:00:00Z', withdrawnAt: null } },
      crossBorder: { granted: true, at: '2025-02-01T09:00:00Z', withdrawnAt: null },
    },
    policyAcceptance: { version: '2026-06', acceptedAt: '2026-07-01T12:00:00Z', method: 'click' },
    lastActiveAt: '2026-11-19T08:12:00Z',
    userAgreement: { status: 'active', terminatedAt: null },
    correspondence: [{ with: 'support@example.kz', subject: 'Refund [CORR-u_000123-0]', body: 'Dear Aigerim, about your refund.', at: '2026-10-01T10:00:00Z' }],
  };
}

export function baseContext(): DecisionContext {
  return {
    token: { valid: true, revoked: false, boundThumbprint: THUMB, presentedThumbprint: THUMB, scope: ['advertising', 'service_delivery'] },
    purpose: 'advertising',
    agreement: {
      status: 'active', validFrom: '2026-01-15T00:00:00Z', validUntil: '2027-01-15T00:00:00Z',
      confidentiality: { documentRef: 'NDA-2026-014', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['A. Name, Partner LLP'] },
      purposes: {
        advertising: { categories: { gender: 'clear', date_of_birth: 'generalise', email: 'pseudonymise' } },
        service_delivery: { categories: { phone: 'clear' } },
      },
      processingCountries: ['KZ', 'DE'],
      requiresPolicyVersion: '2024-03',
    },
    record: baseRecord(),
    now: NOW,
    jurisdiction: { home: 'KZ', adequate: ['DE'], blocked: [] },
    policyVersions: [
      { version: '2024-03', publishedAt: '2024-03-01T00:00:00Z' },
      { version: '2026-06', publishedAt: '2026-06-01T00:00:00Z' },
    ],
    retentionAfterTerminationDays: 1095,
  };
}

type Mutate = (ctx: DecisionContext) => void;
export interface Variant { name: string; expect: Reason; apply: Mutate }

// Helpers that tolerate a context an earlier-ordered mutation has not touched yet.
const ag = (f: (a: NonNullable<DecisionContext['agreement']>) => void): Mutate => (c) => { if (c.agreement) f(c.agreement); };
const rec = (f: (r: UserRecord) => void): Mutate => (c) => { if (c.record) f(c.record); };
const withdrawn = { granted: false, at: '2025-02-01T09:00:00Z', withdrawnAt: '2025-06-01T09:00:00Z' };
const v = (expect: Reason, name: string, apply: Mutate): Variant => ({ name, expect, apply });

/** One entry per step of CONTRACT 6, in order; each variant breaks that step and nothing before it. */
export const RULES: Variant[][] = [
  [
    v('invalid_token', 'not valid', (c) => { c.token.valid = false; }),
    v('invalid_token', 'revoked', (c) => { c.token.revoked = true; }),
    v('invalid_token', 'other certificate', (c) => { c.token.presentedThumbprint = 'x' + THUMB.slice(1); }),
    v('invalid_token', 'no certificate', (c) => { c.token.presentedThumbprint = null; }),
    v('invalid_token', 'unbound where binding is required', (c) => { c.token.boundThumbprint = undefined; c.token.bindingRequired = true; }),
  ],
  [
    v('insufficient_scope', 'purpose not in scope', (c) => { c.token.scope = ['service_delivery']; }),
    v('insufficient_scope', 'empty scope', (c) => { c.token.scope = []; }),
  ],
  [
    v('agreement_inactive', 'no agreement', (c) => { c.agreement = undefined; }),
    v('agreement_inactive', 'suspended', ag((a) => { a.status = 'suspended'; })),
    v('agreement_inactive', 'expired', ag((a) => { a.validUntil = '2026-11-24T00:00:00Z'; })),
    v('agreement_inactive', 'ends exactly now', ag((a) => { a.validUntil = NOW.toISOString(); })),
    v('agreement_inactive', 'not yet valid', ag((a) => { a.validFrom = '2026-12-01T00:00:00Z'; })),
    v('agreement_inactive', 'malformed validFrom', ag((a) => { a.validFrom = 'last January'; })),
  ],
  [
    v('confidentiality_agreement_invalid', 'missing', ag((a) => { a.confidentiality = null; })),
    v('confidentiality_agreement_invalid', 'expired', ag((a) => { a.confidentiality!.expiresAt = '2026-11-24'; })),
    v('confidentiality_agreement_invalid', 'no signatories', ag((a) => { a.confidentiality!.signatories = []; })),
    v('confidentiality_agreement_invalid', 'signed in the future', ag((a) => { a.confidentiality!.signedAt = '2026-12-01'; })),
    v('confidentiality_agreement_invalid', 'no document', ag((a) => { a.confidentiality!.documentRef = ' '; })),
    v('confidentiality_agreement_invalid', 'impossible expiry date', ag((a) => { a.confidentiality!.expiresAt = '2028-02-30'; })),
  ],
  [
    v('purpose_not_allowed', 'purpose absent', ag((a) => { a.purposes = { service_delivery: { categories: { phone: 'clear' } } }; })),
    v('purpose_not_allowed', 'no category table', ag((a) => { a.purposes = { advertising: undefined }; })),
  ],
  [v('subject_not_found', 'no record', (c) => { c.record = undefined; })],
  [
    v('retention_expired', 'terminated 1096 days ago', rec((r) => { r.userAgreement = { status: 'terminated', terminatedAt: '2023-11-25T00:00:00Z' }; })),
    v('user_agreement_terminated', 'terminated recently', rec((r) => { r.userAgreement = { status: 'terminated', terminatedAt: '2026-10-01T00:00:00Z' }; })),
    v('user_agreement_terminated', 'terminated, no date', rec((r) => { r.userAgreement = { status: 'terminated', terminatedAt: null }; })),
    v('user_agreement_terminated', 'unknown status', rec((r) => { (r.userAgreement as { status: string }).status = 'paused'; })),
  ],
  [
    v('consent_required', 'withdrawn', rec((r) => { r.consents.purposes.advertising = { ...withdrawn }; })),
    v('consent_required', 'never asked', rec((r) => { r.consents.purposes = {}; })),
    v('consent_required', 'granted but withdrawnAt set', rec((r) => { r.consents.purposes.advertising = { granted: true, at: '2025-02-01T09:00:00Z', withdrawnAt: '2025-03-01T00:00:00Z' }; })),
    v('consent_required', 'granted at a malformed time', rec((r) => { r.consents.purposes.advertising = { granted: true, at: 'soon', withdrawnAt: null }; })),
  ],
  [
    v('policy_not_accepted', 'no click, inactive since publication', rec((r) => {
      r.policyAcceptance = { version: '2024-03', acceptedAt: null, method: null };
      r.lastActiveAt = '2024-03-07T23:59:59Z';
    })),
    v('policy_not_accepted', 'older click, required version newer', (c) => {
      ag((a) => { a.requiresPolicyVersion = '2026-06'; })(c);
      rec((r) => { r.policyAcceptance = { version: '2024-03', acceptedAt: '2024-04-01T00:00:00Z', method: 'click' }; r.lastActiveAt = '2026-06-07T12:00:00Z'; })(c);
    }),
    v('policy_not_accepted', 'agreement requires an unknown version', ag((a) => { a.requiresPolicyVersion = '2030-01'; })),
  ],
  [
    // Blocks a country the agreement (as mutated so far) really processes in.
    v('country_blocked', 'foreign country blocked', (c) => { c.jurisdiction.blocked = [c.agreement?.processingCountries.at(-1) ?? 'DE']; }),
    v('country_blocked', 'home blocked', (c) => { c.jurisdiction.blocked = ['KZ']; }),
  ],
  [
    v('cross_border_not_permitted', 'not adequate, consent withdrawn', (c) => {
      c.jurisdiction.adequate = [];
      rec((r) => { r.consents.crossBorder = { ...withdrawn }; })(c);
    }),
    v('cross_border_not_permitted', 'adequacy entry past review, no consent', (c) => {
      c.jurisdiction.adequate = [{ country: 'DE', reviewBy: '2026-11-24T00:00:00Z' }];
      rec((r) => { r.consents.crossBorder = { granted: false, at: null, withdrawnAt: null }; })(c);
    }),
    v('cross_border_not_permitted', 'a country off the list, no consent', (c) => {
      ag((a) => { a.processingCountries = ['KZ', 'US']; })(c);
      rec((r) => { r.consents.crossBorder = { granted: false, at: null, withdrawnAt: null }; })(c);
    }),
  ],
];

/** Applies variants in reverse contract order, so an earlier step's mutation has the last word. */
export function mutated(chosen: readonly (Variant | null)[]): DecisionContext {
  const ctx = baseContext();
  for (let i = chosen.length - 1; i >= 0; i--) chosen[i]?.apply(ctx);
  return ctx;
}

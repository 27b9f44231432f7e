// RULES 48 (issue [2/6]): the records a release relied on, as its transfer log entry names them —
// the purpose's consent (when the legal basis is consent), the cross-border consent (when that is
// the cross-border ground) and the adequacy list's version (when adequacy is). Only the time a
// consent was given is copied from the store record, nothing else of it.
import type { UserRecord } from '../core-store/record.ts';
import type { LegalBasis } from '../policy/taxonomy.ts';
import type { CrossBorderBasis } from '../policy/cross-border.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const grantedAt = (consent: unknown): string | null => {
  const at = (consent as { at?: unknown } | null | undefined)?.at;
  return typeof at === 'string' && ISO.test(at) ? at : null;
};

export interface Grounds {
  consent: { purpose: string; grantedAt: string | null } | null;
  crossBorderConsent: { grantedAt: string | null } | null;
  adequacyListVersion: number | null;
}

export function groundsOf(record: UserRecord, purpose: string, legalBasis: LegalBasis, crossBorder: CrossBorderBasis, adequacyListVersion: number): Grounds {
  const consents = record.consents as Partial<UserRecord['consents']> | undefined;
  return {
    consent: legalBasis === 'consent' ? { purpose, grantedAt: grantedAt(consents?.purposes?.[purpose]) } : null,
    crossBorderConsent: crossBorder === 'consent' ? { grantedAt: grantedAt(consents?.crossBorder) } : null,
    adequacyListVersion: crossBorder === 'adequacy' ? adequacyListVersion : null,
  };
}

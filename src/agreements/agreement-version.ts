// One agreement version as every reader sees it (CONTRACT 5), assembled from its stored fields.
// RULES 19: a version carries what it added over the version in force when it was written (review),
// who wrote and who approved it, and since when each country added under review is in force.
import type { AgreementInput } from './agreement-schema.ts';
import type { SubProcessor } from './onward-transfer.ts';
import { agreementId } from './redis-keys.ts';

export type AgreementStatus = 'active' | 'suspended' | 'terminated' | 'superseded' | 'pending_review' | 'rejected';
/** RULES 19: what a version adds over the one in force when it was created, and who let it in. */
export interface Review {
  additions: { countries: string[]; subProcessors: SubProcessor[] };
  approvedBy?: string;
  approvedAt?: string;
}
export type AgreementVersion = Readonly<AgreementInput & {
  id: string; partnerId: string; version: number; status: AgreementStatus; createdAt: string; statusChangedAt: string;
  /** The admin token id that created the version (absent on versions older than RULES 19). */
  createdBy?: string;
  review?: Review;
  /** RULES 19: when each country added under review took effect (the approval); see AgreementView. */
  countriesSince?: Record<string, string>;
}>;
/** A stored body: the terms plus what the version carries over from, or adds to, the one in force. */
export type StoredBody = AgreementInput & { createdAt: string; additions?: Review['additions']; carriedSince?: Record<string, string> };

// Versions are shared by every request of a process (the cache): frozen all the way down.
function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

export interface Fields { body: string; status: string; changedAt: string; by?: string | undefined; approvedBy?: string | undefined; approvedAt?: string | undefined }

export function assemble(partnerId: string, version: number, f: Fields): AgreementVersion {
  const { createdAt, additions, carriedSince, ...terms } = JSON.parse(f.body) as StoredBody;
  const approved = f.approvedBy && f.approvedAt ? { approvedBy: f.approvedBy, approvedAt: f.approvedAt } : {};
  // RULES 19: a country added under review counts from the approval; until then it is not in force at all.
  const at = f.approvedAt;
  const since: Record<string, string> = { ...carriedSince, ...(at ? Object.fromEntries((additions?.countries ?? []).map((c) => [c, at])) : {}) };
  return deepFreeze({
    id: agreementId(partnerId), partnerId, version, status: f.status as AgreementStatus, ...terms, createdAt, statusChangedAt: f.changedAt,
    ...(f.by ? { createdBy: f.by } : {}),
    ...(additions ? { review: { additions, ...approved } } : {}),
    ...(Object.keys(since).length ? { countriesSince: since } : {}),
  });
}


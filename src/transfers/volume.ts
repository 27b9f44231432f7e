// RULES 6, 44: need-to-know volume terms of an agreement's purpose, applied to a pull's decisions:
// whether bulk pulls are allowed, and which allowed subjects still fit today's quota.
import { REASONS } from '../policy/denial.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import type { VolumeTerms } from '../agreements/agreement-schema.ts';
import type { Outcome, PartnerCall } from './evaluate.ts';
import type { PullServices } from './services.ts';

/** RULES 6: the purpose's volume terms; absent fields keep the old behaviour (bulk, no quota). */
export function volumeOf(agreement: AgreementVersion, purpose: string): { bulk: boolean; dailySubjectQuota: number | null } {
  const terms = (agreement.purposes as Record<string, VolumeTerms | undefined>)[purpose];
  return { bulk: terms?.bulk !== false, dailySubjectQuota: terms?.dailySubjectQuota ?? null };
}

/**
 * RULES 6, 44: the allowed outcomes whose subject does not fit today's quota become quota_exceeded
 * denials, before the log append, so the log records the decision that was made. True if any did.
 */
export async function applyQuota(svc: PullServices, call: PartnerCall, agreement: AgreementVersion | undefined, userIds: readonly string[], outcomes: Outcome[]): Promise<boolean> {
  const quota = agreement ? volumeOf(agreement, call.purpose).dailySubjectQuota : null;
  if (quota === null) return false;
  const idx = outcomes.flatMap((o, i) => (o.allow ? [i] : []));
  // The transfer log's keyed subjectRef, never the user id (DESIGN 7).
  const fits = await svc.quota.reserve(call.partnerId, call.purpose, quota, idx.map((i) => svc.transferLog.subjectRef(userIds[i]!)), svc.now());
  let over = false;
  for (const [k, i] of idx.entries()) {
    if (fits[k]) continue;
    outcomes[i] = { allow: false, reason: 'quota_exceeded', status: REASONS.quota_exceeded.status };
    over = true;
  }
  return over;
}

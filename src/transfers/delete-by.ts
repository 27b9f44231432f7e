// RULES 23: every release carries the date by which the partner must delete what it got:
// delete_by = min(the purpose's own retention, the agreement's end, the user's retention end).
// Pure: the agreement, the record and the clock come in.
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import type { UserRecord } from '../core-store/record.ts';
import type { Purpose } from '../policy/taxonomy.ts';

const DAY_MS = 86_400_000;

export function deleteBy(agreement: AgreementVersion, purpose: string, record: UserRecord, retentionDays: number, now: Date): string {
  let t = Date.parse(agreement.validUntil);
  // The purpose's retention (an agreement term, optional) runs from this release.
  const own = agreement.purposes[purpose as Purpose]?.retentionDays;
  if (own !== undefined) t = Math.min(t, now.getTime() + own * DAY_MS);
  const ended = record.userAgreement?.terminatedAt ? Date.parse(record.userAgreement.terminatedAt) : NaN;
  if (Number.isFinite(ended)) t = Math.min(t, ended + retentionDays * DAY_MS);
  return new Date(t).toISOString();
}

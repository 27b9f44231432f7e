// Find synthetic users by the one property a test needs, straight from the data (not through the
// decision function, so a test of the decision cannot agree with itself by construction).
import { syntheticUser } from '../../src/core-store/synthetic.ts';
import type { UserRecord } from '../../src/core-store/record.ts';

const NOW = Date.now();
const DAY = 86_400_000;
const DEEMED_2026_06 = Date.parse('2026-06-08T00:00:00Z');

export const consented = (u: UserRecord, p: string) => u.consents.purposes[p]?.granted === true && !u.consents.purposes[p]?.withdrawnAt;
export const crossBorder = (u: UserRecord) => u.consents.crossBorder.granted && !u.consents.crossBorder.withdrawnAt;
export const active = (u: UserRecord) => u.userAgreement.status === 'active' && !u.userAgreement.terminatedAt;
export const acceptedCurrent = (u: UserRecord) =>
  (u.policyAcceptance.method === 'click' && u.policyAcceptance.version === '2026-06') || Date.parse(u.lastActiveAt) >= DEEMED_2026_06;
export const terminatedDaysAgo = (u: UserRecord) =>
  u.userAgreement.status === 'terminated' && u.userAgreement.terminatedAt ? (NOW - Date.parse(u.userAgreement.terminatedAt)) / DAY : null;

export function findUser(count: number, pred: (u: UserRecord) => boolean): UserRecord {
  for (let i = 0; i < count; i++) {
    const u = syntheticUser(i);
    if (pred(u)) return u;
  }
  throw new Error('no synthetic user with that property');
}

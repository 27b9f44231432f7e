// GET /v1/subjects/{subject}: one subject for one purpose. The log entry — released or denied — is
// durable before a byte of the answer is written (DESIGN 2, CONTRACT 6 step 11).
import { Denied, agreementsReloading, redisUnavailable } from '../http/problem.ts';
import { REASONS } from '../policy/denial.ts';
import type { Purpose } from '../policy/taxonomy.ts';
import type { Json } from '../policy/project.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import { decideFor, evaluate, logEntry, type PartnerCall, type Outcome } from './evaluate.ts';
import type { PullServices } from './services.ts';
import type { DeletionItem } from '../notices/index.ts';
import { quotaExceeded } from './subject-quota.ts';
import { applyQuota } from './volume.ts';

export interface Released {
  subject: string;
  purpose: string;
  data: Partial<Record<string, Json>>;
  agreement: { id: string; version: number };
  transferId: string;
  keyVersion: number;
  /** Issue 15 item 4: the signed receipt of the entry (the Transfer-Receipt header, not the body). */
  receipt: string;
}

/** The agreement as this process knows it; unknown while the cache is reloading → fail closed. */
export function agreementFor(svc: PullServices, partnerId: string): AgreementVersion | undefined {
  if (!svc.agreements.ready) throw agreementsReloading();
  return svc.agreements.current(partnerId);
}

/** The problem for a denial; quota_exceeded carries Retry-After to the next UTC day (RULES 44). */
export const denial = (o: Pick<Extract<Outcome, { allow: false }>, 'reason' | 'status'>, now = new Date(), detail: string = REASONS[o.reason].title) =>
  (o.reason === 'quota_exceeded' ? quotaExceeded(now) : new Denied(o.reason, detail, o.status));

/** RULES 23: each release's deleteBy becomes a retention_expired notice for the partner's pseudonym. */
export async function scheduleDeletions(svc: PullServices, call: PartnerCall, items: DeletionItem[]): Promise<void> {
  if (!items.length) return;
  // A purpose with its own retention keeps its own date (RULES 23; transfers/delete-by.ts).
  const terms = agreementFor(svc, call.partnerId)?.purposes[call.purpose as Purpose];
  // Fail closed: nothing leaves that could not be scheduled for deletion.
  await svc.deletions.scheduleDeletions(call.partnerId, call.purpose, items, terms?.retentionDays !== undefined).catch(() => { throw redisUnavailable(); });
}

/** A denial that names no subject, logged (CONTRACT 6: each denial is logged); the caller throws or ends. */
export async function logDenial(svc: PullServices, call: PartnerCall, agreement: AgreementVersion | undefined, keyVersion: number, outcome: Extract<Outcome, { allow: false }>): Promise<void> {
  await svc.transferLog.append(logEntry(svc, call, agreement, null, undefined, outcome, keyVersion));
  svc.metrics.decisions.inc({ partner: call.partnerId, decision: 'denied', reason: outcome.reason });
}

/** Steps 1–5 need no user: refuse (and log) before touching the store. */
export async function precheck(svc: PullServices, call: PartnerCall, agreement: AgreementVersion | undefined, keyVersion: number): Promise<void> {
  const pre = decideFor(svc, call, agreement, undefined);
  if (pre.allow || pre.reason === 'subject_not_found') return;
  const outcome = { allow: false as const, reason: pre.reason, status: pre.status, decision: pre };
  await logDenial(svc, call, agreement, keyVersion, outcome);
  throw denial(outcome);
}

export async function pullOne(svc: PullServices, call: PartnerCall, subject: string): Promise<Released> {
  const before = agreementFor(svc, call.partnerId);
  const versions = svc.keyVersions(call.partnerId);
  await precheck(svc, call, before, versions.current);
  // RULES 42: a foreign, tampered or malformed pseudonym is indistinguishable from an unknown user.
  const decoded = svc.pseudonyms.decode(subject, call.partnerId, versions.accepted);
  const fetched = decoded ? await svc.upstream.getUser(decoded.userId) : undefined;
  // DESIGN 8: decide with the agreement, key versions and jurisdiction as they stand now, after
  // the store read, not as they were before it (a suspension or retirement may have come meanwhile).
  const agreement = agreementFor(svc, call.partnerId);
  const stillAccepted = decoded !== null && svc.keyVersions(call.partnerId).accepted.includes(decoded.keyVersion);
  const record = stillAccepted ? fetched : undefined;
  const keyVersion = decoded?.keyVersion ?? versions.current;
  const outcomes = [evaluate(svc, call, agreement, record, keyVersion)];
  if (record) await applyQuota(svc, call, agreement, [decoded!.userId], outcomes);
  const outcome = outcomes[0]!;
  const input = logEntry(svc, call, agreement, record ? decoded!.userId : null, record, outcome, keyVersion);
  // Both writes must succeed before release; sent together they share one Redis fsync cycle.
  const [entry] = await Promise.all([
    svc.transferLog.append(input),
    outcome.allow ? scheduleDeletions(svc, call, [{ subject, deleteBy: input.deleteBy! }]) : undefined,
  ]);
  svc.metrics.decisions.inc({ partner: call.partnerId, decision: outcome.allow ? 'released' : 'denied', reason: outcome.allow ? '' : outcome.reason });
  if (!outcome.allow) throw denial(outcome, svc.now());
  return {
    subject, purpose: call.purpose, data: outcome.data,
    agreement: { id: agreement!.id, version: agreement!.version }, transferId: entry.id, keyVersion,
    receipt: svc.receipts.entry(call, entry, subject),
  };
}

// GET /v1/subjects/{subject}: one subject for one purpose. The log entry — released or denied — is
// durable before a byte of the answer is written (DESIGN 2, CONTRACT 6 step 11).
import { Denied, agreementsReloading, redisUnavailable } from '../http/problem.ts';
import { REASONS } from '../policy/denial.ts';
import type { Json } from '../policy/project.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import { decideFor, evaluate, logEntry, type PartnerCall, type Outcome } from './evaluate.ts';
import type { PullServices } from './services.ts';
import type { DeletionItem } from '../notices/index.ts';

export interface Released {
  subject: string;
  purpose: string;
  data: Partial<Record<string, Json>>;
  agreement: { id: string; version: number };
  transferId: string;
  keyVersion: number;
}

/** The agreement as this process knows it; unknown while the cache is reloading → fail closed. */
export function agreementFor(svc: PullServices, partnerId: string): AgreementVersion | undefined {
  if (!svc.agreements.ready) throw agreementsReloading();
  return svc.agreements.current(partnerId);
}

export const denial = (o: Extract<Outcome, { allow: false }>) => new Denied(o.reason, REASONS[o.reason].title, o.status);

/** RULES 23: each release's deleteBy becomes a retention_expired notice for the partner's pseudonym. */
export async function scheduleDeletions(svc: PullServices, call: PartnerCall, items: DeletionItem[]): Promise<void> {
  if (!items.length) return;
  // Fail closed: nothing leaves that could not be scheduled for deletion.
  await svc.deletions.scheduleDeletions(call.partnerId, call.purpose, items).catch(() => { throw redisUnavailable(); });
}

/** Steps 1–5 need no user: refuse (and log) before touching the store. */
export async function precheck(svc: PullServices, call: PartnerCall, agreement: AgreementVersion | undefined, keyVersion: number): Promise<void> {
  const pre = decideFor(svc, call, agreement, undefined);
  if (pre.allow || pre.reason === 'subject_not_found') return;
  const outcome = { allow: false as const, reason: pre.reason, status: pre.status, decision: pre };
  await svc.transferLog.append(logEntry(svc, call, agreement, null, undefined, outcome, keyVersion));
  svc.metrics.decisions.inc({ partner: call.partnerId, decision: 'denied', reason: pre.reason });
  throw denial(outcome);
}

export async function pullOne(svc: PullServices, call: PartnerCall, subject: string): Promise<Released> {
  const agreement = agreementFor(svc, call.partnerId);
  const versions = svc.keyVersions(call.partnerId);
  await precheck(svc, call, agreement, versions.current);
  // RULES 42: a foreign, tampered or malformed pseudonym is indistinguishable from an unknown user.
  const decoded = svc.pseudonyms.decode(subject, call.partnerId, versions.accepted);
  const record = decoded ? await svc.upstream.getUser(decoded.userId) : undefined;
  const keyVersion = decoded?.keyVersion ?? versions.current;
  const outcome = evaluate(svc, call, agreement, record, keyVersion);
  const input = logEntry(svc, call, agreement, record ? decoded!.userId : null, record, outcome, keyVersion);
  // Both writes must succeed before release; sent together they share one Redis fsync cycle.
  const [entry] = await Promise.all([
    svc.transferLog.append(input),
    outcome.allow ? scheduleDeletions(svc, call, [{ subject, deleteBy: input.deleteBy! }]) : undefined,
  ]);
  svc.metrics.decisions.inc({ partner: call.partnerId, decision: outcome.allow ? 'released' : 'denied', reason: outcome.allow ? '' : outcome.reason });
  if (!outcome.allow) throw denial(outcome);
  return {
    subject, purpose: call.purpose, data: outcome.data,
    agreement: { id: agreement!.id, version: agreement!.version }, transferId: entry.id, keyVersion,
  };
}

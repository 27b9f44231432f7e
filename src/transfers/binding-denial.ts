// RULES 38 + CONTRACT 6 ("each denial is logged"): partner authentication refuses a token that is
// not bound to the connection's certificate before any data route runs; on the data routes the
// refusal is still written to the transfer log, as the decision function's step 1 would have.
import { agreementFor } from './pull-one.ts';
import { logEntry, type PartnerCall } from './evaluate.ts';
import type { PullServices } from './services.ts';

export async function logBindingDenial(svc: PullServices, call: Omit<PartnerCall, 'tokenHash'>): Promise<void> {
  const agreement = agreementFor(svc, call.partnerId); // 503 while reloading: fail closed
  const keyVersion = svc.keyVersions(call.partnerId).current;
  const outcome = { allow: false as const, reason: 'invalid_token' as const, status: 401 };
  await svc.transferLog.append(logEntry(svc, call, agreement, null, undefined, outcome, keyVersion));
  svc.metrics.decisions.inc({ partner: call.partnerId, decision: 'denied', reason: 'invalid_token' });
}

// DESIGN 8: permission is checked at the moment of release. A bulk pull began under one agreement
// version, one pseudonym key version and one token; before each page it asks whether they all still
// hold, from the in-memory caches (agreements, key versions, jurisdiction, the token cache), so a
// suspension, termination, revocation, retirement or kill-switch ends the stream within a page.
import { deny, REASONS, type Denial } from '../policy/denial.ts';
import { checkCountryBlocked } from '../policy/cross-border.ts';
import { redisUnavailable } from '../http/problem.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import { decideFor, type PartnerCall } from './evaluate.ts';
import { agreementFor } from './pull-one.ts';
import type { PullServices } from './services.ts';

/** What the stream's releases so far were decided and logged under. */
export interface StreamTerms {
  agreement: AgreementVersion;
  keyVersion: number;
}

export interface Lapse extends Denial {
  /** Says which term lapsed; ids and codes only, never a value (no personal data). */
  detail: string;
}

const lapse = (d: Denial, detail: string = REASONS[d.reason].title): Lapse => ({ ...d, detail });

/**
 * null while the stream may go on; else why it must end. Throws 503 (fail closed) when a cache is
 * reloading or the token cannot be checked.
 */
export async function termsLapsed(svc: PullServices, call: PartnerCall, terms: StreamTerms): Promise<Lapse | null> {
  // CONTRACT 6 step 1: a token past its exp is invalid, however long the stream has run.
  if (call.token.exp * 1000 <= svc.now().getTime()) return lapse(deny('invalid_token'), 'the access token expired');
  // DESIGN 1: the caches call themselves stale when the subscriber's heartbeat is overdue. After a
  // long synchronous stretch (a big page decided on a loaded machine) the heartbeat that came back
  // may still sit unread in the socket: let pending I/O in once before judging; still stale → 503.
  if (!svc.agreements.ready) await new Promise((r) => setImmediate(r));
  const now = agreementFor(svc, call.partnerId);
  // Steps 1-5 with the agreement as it is now: suspended, terminated, expired, purpose removed.
  const pre = decideFor(svc, call, now, undefined);
  if (!pre.allow && pre.reason !== 'subject_not_found') return lapse({ reason: pre.reason, status: pre.status });
  const blocked = checkCountryBlocked(now!.processingCountries, svc.jurisdiction());
  if (blocked) return lapse(blocked);
  // New terms (purposes, categories, countries) are a new agreement version: start again under them.
  if (now!.id !== terms.agreement.id || now!.version !== terms.agreement.version) {
    return lapse(deny('agreement_changed'), 'a new agreement version is in force');
  }
  // RULES 29: the pseudonyms sent so far stop resolving once their key version leaves its grace.
  if (!svc.keyVersions(call.partnerId).accepted.includes(terms.keyVersion)) {
    return lapse(deny('agreement_changed'), 'the pseudonym key version of this stream was retired');
  }
  let live: boolean;
  try {
    live = await svc.tokens.live(call.tokenHash);
  } catch {
    throw redisUnavailable();
  }
  return live ? null : lapse(deny('invalid_token'), 'the access token was revoked');
}

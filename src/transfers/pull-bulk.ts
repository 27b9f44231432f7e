// GET /v1/subjects: page through the store, decide each subject, log the page's entries in one
// batch, then write what was released. The next store page is fetched only after the sink has
// taken the current one, so a slow reader holds the upstream still and memory stays constant.
import type { Json } from '../policy/project.ts';
import type { UserPage } from '../upstream/client.ts';
import { evaluate, logEntry, type PartnerCall } from './evaluate.ts';
import { agreementFor, denial, logDenial, precheck, scheduleDeletions } from './pull-one.ts';
import { applyQuota, volumeOf } from './volume.ts';
import { termsLapsed, type StreamTerms } from './stream-terms.ts';
import { REASONS } from '../policy/denial.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import type { PullServices } from './services.ts';

export interface BulkQuery {
  /** Subjects to examine (released + omitted); null: until the end of the store. */
  limit: number | null;
  /** The store's cursor (already checked by CursorCodec). */
  cursor: string | null;
  updatedSince: string | null;
}

export interface BulkItem { subject: string; data: Partial<Record<string, Json>> }

export interface BulkSink {
  /** Resolves when the consumer can take more (backpressure). */
  item(item: BulkItem): Promise<void> | void;
  /** The page's items are all given: anything the sink buffered goes out now. */
  flush?(): Promise<void> | void;
  /** Issue 15 item 4: the signed receipt of a page whose released items were all given to `item`. */
  receipt?(jws: string): void;
}

export interface BulkResult {
  nextCursor: string | null; omitted: number; released: number;
  /**
   * RULES 6: today's quota of distinct subjects filled during the last page; its subjects past the
   * quota were denied (and logged) quota_exceeded, and no further page was read. A stream ends with
   * an error line; a JSON page is answered with what fit, and the next request gets 429.
   */
  quotaReached: boolean;
}

const UPSTREAM_PAGE = 1000; // the store's largest page

/** RULES 6: bulk allowed for the purpose, and today's quota not already full; else refused and logged. */
async function checkVolume(svc: PullServices, call: PartnerCall, agreement: AgreementVersion, keyVersion: number): Promise<void> {
  const { bulk, dailySubjectQuota } = volumeOf(agreement, call.purpose);
  const refuse = async (reason: 'bulk_not_allowed' | 'quota_exceeded') => {
    const outcome = { allow: false as const, reason, status: REASONS[reason].status };
    await logDenial(svc, call, agreement, keyVersion, outcome);
    throw denial(outcome, svc.now());
  };
  if (!bulk) await refuse('bulk_not_allowed');
  if (dailySubjectQuota !== null && await svc.quota.full(call.partnerId, call.purpose, dailySubjectQuota, svc.now())) await refuse('quota_exceeded');
}

/** DESIGN 8: the stream goes on only while its terms hold; else the lapse is logged and it ends. */
async function assertTermsHold(svc: PullServices, call: PartnerCall, terms: StreamTerms): Promise<void> {
  const lapse = await termsLapsed(svc, call, terms);
  if (!lapse) return;
  await logDenial(svc, call, terms.agreement, terms.keyVersion, { allow: false, reason: lapse.reason, status: lapse.status });
  throw denial(lapse, svc.now(), lapse.detail);
}

export async function pullBulk(svc: PullServices, call: PartnerCall, q: BulkQuery, sink: BulkSink): Promise<BulkResult> {
  const agreement = agreementFor(svc, call.partnerId);
  const keyVersion = svc.keyVersions(call.partnerId).current;
  await precheck(svc, call, agreement, keyVersion);
  // precheck passed, so there is an agreement in force.
  const terms: StreamTerms = { agreement: agreement!, keyVersion };
  await checkVolume(svc, call, terms.agreement, keyVersion);
  let remaining = q.limit ?? Infinity;
  let omitted = 0;
  let released = 0;
  let quotaReached = false;
  // Aborted on any way out (client gone, idle timeout, lapse, error): the page read ahead is
  // dropped at the upstream instead of being downloaded for nobody.
  const abandon = new AbortController();
  const fetchPage = (cursor: string | null) => {
    const p = svc.upstream.listUsers({ limit: Math.min(remaining, UPSTREAM_PAGE), cursor, updatedSince: q.updatedSince }, abandon.signal);
    p.catch(() => undefined); // awaited below; an early exit must not leave it unhandled
    return p;
  };
  let next: ReturnType<typeof fetchPage> | null = fetchPage(q.cursor);
  let cursor = q.cursor;
  try {
    while (next) {
      const page: UserPage = await next;
      remaining -= page.items.length;
      cursor = page.nextCursor;
      // One page ahead at most: the store is read while this page is decided, logged and written,
      // but never further, so a slow reader still holds the upstream (and memory stays two pages).
      // (Overlapping the log append of one page with the writing of the previous one as well
      // measured no faster on the bench: the machine is CPU-bound, not waiting.)
      next = remaining > 0 && cursor ? fetchPage(cursor) : null;
      // DESIGN 8: decided with the terms as they are now, not as they were when the stream began
      // (the reader may have paused for minutes on the previous page).
      await assertTermsHold(svc, call, terms);
      const outcomes = page.items.map((record) => evaluate(svc, call, terms.agreement, record, keyVersion));
      // RULES 9: "any hit aborts the whole transfer (no partial send)": one record that fails the
      // egress guard refuses the whole page, logged as such, and ends the pull after the append.
      const guardHit = outcomes.find((o) => !o.allow && o.reason === 'egress_guard');
      if (guardHit) outcomes.forEach((o, i) => { if (o.allow) outcomes[i] = { allow: false, reason: 'egress_guard', status: REASONS.egress_guard.status }; });
      // RULES 6: reserved before the log append, so each entry records the decision actually made.
      quotaReached = await applyQuota(svc, call, terms.agreement, page.items.map((r) => r.id), outcomes);
      const inputs = page.items.map((record, i) => logEntry(svc, call, terms.agreement, record.id, record, outcomes[i]!, keyVersion));
      const subjects = page.items.map((record, i) => (outcomes[i]!.allow ? svc.pseudonyms.encode(record.id, call.partnerId, keyVersion) : ''));
      // DESIGN 2: the whole page's entries (and its deletion schedule) are durable before any of its
      // subjects is written; the two writes go together and share one Redis fsync cycle.
      const [entries] = await Promise.all([
        svc.transferLog.appendMany(inputs),
        scheduleDeletions(svc, call, inputs.flatMap((e, i) => (outcomes[i]!.allow ? [{ subject: subjects[i]!, deleteBy: e.deleteBy! }] : []))),
      ]);
      // Decisions count once logged, whether or not the client stays to read them.
      const counts = new Map<string, number>();
      for (const outcome of outcomes) {
        const reason = outcome.allow ? '' : outcome.reason;
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      for (const [reason, n] of counts) svc.metrics.decisions.inc({ partner: call.partnerId, decision: reason ? 'denied' : 'released', reason }, n);
      if (guardHit && !guardHit.allow) throw denial(guardHit, svc.now(), 'a record of this page failed the egress guard; nothing of the page was sent');
      // Again right before the page's first byte: a change that came while the page was logged stops
      // it here. What was logged released and then not sent is over-reported, never under-reported.
      await assertTermsHold(svc, call, terms);
      for (const [i, outcome] of outcomes.entries()) {
        if (!outcome.allow) {
          omitted++;
          continue;
        }
        released++;
        await sink.item({ subject: subjects[i]!, data: outcome.data });
      }
      // After the page's items, so a page cut short by a lapse above gets no receipt for what never left.
      const receipt = svc.receipts.page(call, entries, subjects);
      if (receipt) sink.receipt?.(receipt);
      await sink.flush?.();
      if (quotaReached) break;
    }
  } finally {
    abandon.abort();
  }
  return { nextCursor: cursor, omitted, released, quotaReached };
}

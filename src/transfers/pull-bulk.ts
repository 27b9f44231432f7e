// GET /v1/subjects: page through the store, decide each subject, log the page's entries in one
// batch, then write what was released. The next store page is fetched only after the sink has
// taken the current one, so a slow reader holds the upstream still and memory stays constant.
import type { Json } from '../policy/project.ts';
import type { UserPage } from '../upstream/client.ts';
import { evaluate, logEntry, type PartnerCall } from './evaluate.ts';
import { agreementFor, precheck, scheduleDeletions } from './pull-one.ts';
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
}

export interface BulkResult { nextCursor: string | null; omitted: number; released: number }

const UPSTREAM_PAGE = 1000; // the store's largest page

export async function pullBulk(svc: PullServices, call: PartnerCall, q: BulkQuery, sink: BulkSink): Promise<BulkResult> {
  const agreement = agreementFor(svc, call.partnerId);
  const keyVersion = svc.keyVersions(call.partnerId).current;
  await precheck(svc, call, agreement, keyVersion);
  let remaining = q.limit ?? Infinity;
  let omitted = 0;
  let released = 0;
  const fetchPage = (cursor: string | null) => {
    const p = svc.upstream.listUsers({ limit: Math.min(remaining, UPSTREAM_PAGE), cursor, updatedSince: q.updatedSince });
    p.catch(() => undefined); // awaited below; an early exit must not leave it unhandled
    return p;
  };
  let next: ReturnType<typeof fetchPage> | null = fetchPage(q.cursor);
  let cursor = q.cursor;
  while (next) {
    const page: UserPage = await next;
    remaining -= page.items.length;
    cursor = page.nextCursor;
    // One page ahead at most: the store is read while this page is decided, logged and written,
    // but never further, so a slow reader still holds the upstream (and memory stays two pages).
    next = remaining > 0 && cursor ? fetchPage(cursor) : null;
    const outcomes = page.items.map((record) => ({ record, outcome: evaluate(svc, call, agreement, record, keyVersion) }));
    const inputs = outcomes.map(({ record, outcome }) => logEntry(svc, call, agreement, record.id, record, outcome, keyVersion));
    const subjects = outcomes.map(({ record, outcome }) => (outcome.allow ? svc.pseudonyms.encode(record.id, call.partnerId, keyVersion) : ''));
    // DESIGN 2: the whole page's entries (and its deletion schedule) are durable before any of its
    // subjects is written; the two writes go together and share one Redis fsync cycle.
    await Promise.all([
      svc.transferLog.appendMany(inputs),
      scheduleDeletions(svc, call, inputs.flatMap((e, i) => (outcomes[i]!.outcome.allow ? [{ subject: subjects[i]!, deleteBy: e.deleteBy! }] : []))),
    ]);
    for (const [i, { outcome }] of outcomes.entries()) {
      svc.metrics.decisions.inc({ partner: call.partnerId, decision: outcome.allow ? 'released' : 'denied', reason: outcome.allow ? '' : outcome.reason });
      if (!outcome.allow) {
        omitted++;
        continue;
      }
      released++;
      await sink.item({ subject: subjects[i]!, data: outcome.data });
    }
  }
  return { nextCursor: cursor, omitted, released };
}

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
  /** The page's items are all given: anything the sink buffered goes out now. */
  flush?(): Promise<void> | void;
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
    // (Overlapping the log append of one page with the writing of the previous one as well
    // measured no faster on the bench: the machine is CPU-bound, not waiting.)
    next = remaining > 0 && cursor ? fetchPage(cursor) : null;
    const outcomes = page.items.map((record) => evaluate(svc, call, agreement, record, keyVersion));
    const inputs = page.items.map((record, i) => logEntry(svc, call, agreement, record.id, record, outcomes[i]!, keyVersion));
    const subjects = page.items.map((record, i) => (outcomes[i]!.allow ? svc.pseudonyms.encode(record.id, call.partnerId, keyVersion) : ''));
    // DESIGN 2: the whole page's entries (and its deletion schedule) are durable before any of its
    // subjects is written; the two writes go together and share one Redis fsync cycle.
    await Promise.all([
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
    for (const [i, outcome] of outcomes.entries()) {
      if (!outcome.allow) {
        omitted++;
        continue;
      }
      released++;
      await sink.item({ subject: subjects[i]!, data: outcome.data });
    }
    await sink.flush?.();
  }
  return { nextCursor: cursor, omitted, released };
}

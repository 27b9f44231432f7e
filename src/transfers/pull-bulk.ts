// GET /v1/subjects: page through the store, decide each subject, log the page's entries in one
// batch, then write what was released. Store reads, log appends and client writes overlap by one
// page each, never more, so a slow reader holds the upstream still and memory stays constant.
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
  // Decide a page, seal its entries and start logging them (the writer groups them into its next
  // batch); nothing of the page is written before `logged` resolves (DESIGN 2).
  const prepare = (page: UserPage) => {
    const outcomes = page.items.map((record) => ({ record, outcome: evaluate(svc, call, agreement, record, keyVersion) }));
    const inputs = outcomes.map(({ record, outcome }) => logEntry(svc, call, agreement, record.id, record, outcome, keyVersion));
    const subjects = outcomes.map(({ record, outcome }) => (outcome.allow ? svc.pseudonyms.encode(record.id, call.partnerId, keyVersion) : ''));
    // The page's entries and its deletion schedule go together and share one Redis fsync cycle.
    const logged = Promise.all([
      svc.transferLog.appendMany(inputs),
      scheduleDeletions(svc, call, inputs.flatMap((e, i) => (outcomes[i]!.outcome.allow ? [{ subject: subjects[i]!, deleteBy: e.deleteBy! }] : []))),
    ]);
    logged.catch(() => undefined); // awaited in emit; an early exit must not leave it unhandled
    return { outcomes, subjects, logged };
  };
  const emit = async ({ outcomes, subjects, logged }: ReturnType<typeof prepare>) => {
    await logged;
    // Decisions count once logged, whether or not the client stays to read them.
    const counts = new Map<string, number>();
    for (const { outcome } of outcomes) {
      const reason = outcome.allow ? '' : outcome.reason;
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    for (const [reason, n] of counts) svc.metrics.decisions.inc({ partner: call.partnerId, decision: reason ? 'denied' : 'released', reason }, n);
    for (const [i, { outcome }] of outcomes.entries()) {
      if (!outcome.allow) {
        omitted++;
        continue;
      }
      released++;
      await sink.item({ subject: subjects[i]!, data: outcome.data });
    }
    await sink.flush?.();
  };

  // A three-stage pipeline, one page per stage: once page N+1 has arrived and its entries are on
  // their way to the log (and page N+2 is being read from the store), page N is written to the
  // client, after its own entries are durable. Never further ahead, so a slow reader still holds
  // the upstream still and memory stays at three pages.
  let next: ReturnType<typeof fetchPage> | null = fetchPage(q.cursor);
  let cursor = q.cursor;
  let ready: ReturnType<typeof prepare> | null = null;
  while (next || ready) {
    let upcoming: ReturnType<typeof prepare> | null = null;
    if (next) {
      const page: UserPage = await next;
      remaining -= page.items.length;
      cursor = page.nextCursor;
      next = remaining > 0 && cursor ? fetchPage(cursor) : null;
      upcoming = prepare(page);
    }
    if (ready) await emit(ready);
    ready = upcoming;
  }
  return { nextCursor: cursor, omitted, released };
}

// Issue 19 item 1: the control plane's jurisdiction, incident and notice answers as zod schemas
// (RULES 12, 17, 20, 23, 50), for the admin document and the tests' response checks. The builders
// are not parsed per request; the type-level checks at the bottom fail the typecheck on drift.
import { z } from 'zod';
import { INCIDENT_KINDS, type Incident } from '../incidents/incident.ts';
import type { JurisdictionService, JurisdictionView } from '../jurisdiction/service.ts';
import type { HistoryItem } from '../jurisdiction/store.ts';
import type { AdequacyRecord, BlockRecord } from '../jurisdiction/entries.ts';
import type { EventReply } from '../notices/index.ts';
import type { OverdueView } from '../notices/overdue.ts';
import { check, type Fits, type Same } from './openapi-responses.ts';

const cursor = z.string().nullable().describe('opaque, sealed for this list and filter; expires after limits.cursorTtlSeconds; null: the end');

const adequacyEntry = z.object({
  country: z.string(), justification: z.string(), approvedBy: z.string().describe('admin token id, or config for the bootstrap'), approvedAt: z.string(),
  reviewBy: z.string().describe('RULES 17: past this instant the entry counts as absent'),
});
const blockEntry = z.object({ country: z.string(), reason: z.string(), blockedBy: z.string(), blockedAt: z.string() });
export const jurisdictionView = z.object({
  version: z.number().int(), home: z.string(), adequate: z.array(adequacyEntry.extend({ expired: z.boolean() })), blocked: z.array(blockEntry),
});
export const jurisdictionHistory = z.object({
  items: z.array(z.object({ id: z.string(), version: z.number().int(), at: z.string(), actorId: z.string(), action: z.string(), target: z.string(), before: z.unknown(), after: z.unknown() })),
  nextCursor: cursor,
});
export const adequacyChange = z.object({ version: z.number().int(), entry: adequacyEntry });
export const blockChange = z.object({ version: z.number().int(), entry: blockEntry });
export const jurisdictionVersion = z.object({ version: z.number().int() });

export const incident = z.object({
  id: z.string(), kind: z.enum(INCIDENT_KINDS), status: z.enum(['open', 'acknowledged']), found: z.string(),
  partnerId: z.string().nullable(), chain: z.string().nullable(), requestId: z.string().nullable(),
  detectedAt: z.string(), notifyBy: z.string().describe('RULES 50: detectedAt + incidents.notifyWithinHours'),
  count: z.number().int(), lastSeenAt: z.string(), acknowledgedAt: z.string().nullable(), acknowledgedBy: z.string().nullable(),
  webhook: z.object({ status: z.string(), at: z.string(), attempts: z.number().int() }).nullable(),
});
export const incidentsPage = z.object({ items: z.array(incident), nextCursor: cursor });

export const eventReply = z.object({ eventId: z.string(), notices: z.number().int().describe('notices queued') });
/** A dead letter as the notice worker records it (notices/worker.ts). */
export const deadLetters = z.object({
  items: z.array(z.object({
    noticeId: z.string(), partnerId: z.string(), type: z.string(), attempts: z.number().int(), lastStatus: z.union([z.string(), z.number().int()]).nullable(),
    queuedAt: z.string(), deadAt: z.string(),
  })),
});
export const deadLetterRetry = z.object({ partnerId: z.string(), noticeId: z.string(), status: z.literal('queued') });
export const overdue = z.object({
  items: z.array(z.object({
    noticeId: z.string(), partnerId: z.string(), type: z.string(), queuedAt: z.string().nullable(), confirmBy: z.string(), attempts: z.number().int(), lastStatus: z.string().nullable(),
  })),
  total: z.number().int(),
  counts: z.array(z.object({ partnerId: z.string(), type: z.string(), count: z.number().int() })),
});

// Type-level checks (no runtime cost): each builder's type fits its schema, with the same fields.
type Out<S extends z.ZodType> = z.infer<S>;
check<Fits<JurisdictionView, Out<typeof jurisdictionView>>>();
check<Same<keyof JurisdictionView, keyof Out<typeof jurisdictionView>>>();
check<Same<keyof AdequacyRecord, keyof Out<typeof adequacyEntry>>>();
check<Same<keyof BlockRecord, keyof Out<typeof blockEntry>>>();
check<Fits<HistoryItem, Out<typeof jurisdictionHistory>['items'][number]>>();
check<Same<keyof HistoryItem, keyof Out<typeof jurisdictionHistory>['items'][number]>>();
check<Fits<Awaited<ReturnType<JurisdictionService['putAdequate']>>, Out<typeof adequacyChange>>>();
check<Fits<Awaited<ReturnType<JurisdictionService['block']>>, Out<typeof blockChange>>>();
check<Fits<Awaited<ReturnType<JurisdictionService['unblock']>>, Out<typeof jurisdictionVersion>>>();
check<Fits<Incident, Out<typeof incident>>>();
check<Same<keyof Incident, keyof Out<typeof incident>>>();
check<Fits<EventReply, Out<typeof eventReply>>>();
check<Fits<OverdueView, Out<typeof overdue>>>();
check<Same<keyof OverdueView['items'][number], keyof Out<typeof overdue>['items'][number]>>();

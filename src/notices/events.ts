// POST /admin/v1/events (CONTRACT 5): what the core store tells the gateway about a user, and the
// use case that turns one event into notices for the partners concerned (RULES 12). Idempotent by
// event id: notice ids derive from it and are queued at most once, and the first answer is kept
// and repeated, so a retried event never duplicates notices.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PURPOSE_IDS } from '../policy/taxonomy.ts';
import { agreementsReloading } from '../http/problem.ts';
import type { TransferLog } from '../transfer-log/index.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { Logger } from '../log.ts';
import { fanOut, type CoreEvent } from './fan-out.ts';
import type { EventReply, Notices } from './index.ts';

export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const eventId = z.string().regex(EVENT_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
const userId = z.string().min(1, 'must not be empty').max(256);
const at = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('consent_withdrawn'), userId, at, id: eventId.optional(),
    purposes: z.array(z.enum(PURPOSE_IDS, { error: 'must be a purpose of the privacy policy (CONTRACT 2)' })).min(1, 'must name at least one purpose'),
  }),
  z.strictObject({ type: z.literal('subject_erased'), userId, at, id: eventId.optional() }),
  z.strictObject({ type: z.literal('cross_border_withdrawn'), userId, at, id: eventId.optional() }),
], { error: 'must be consent_withdrawn, subject_erased or cross_border_withdrawn' });

export type EventBody = z.output<typeof eventSchema>;

export interface EventDeps {
  notices: Notices;
  transferLog: Pick<TransferLog, 'recipients'>;
  agreements: Pick<ActiveAgreements, 'ready' | 'current'>;
  /** The partner's pseudonym of a user under a key version its log entries record (null: its current one). */
  pseudonymFor(partnerId: string, userId: string, keyVersion: number | null): string;
  /** The home country in force (config.jurisdiction.home). */
  home(): string;
  log: Logger;
}

export async function handleEvent(d: EventDeps, body: EventBody, givenId: string | undefined): Promise<EventReply> {
  const id = givenId ?? `evt_${randomUUID()}`; // no id given: nothing to deduplicate against
  const before = await d.notices.recall(id);
  if (before) return before;
  if (body.type === 'cross_border_withdrawn' && !d.agreements.ready) {
    // Fail closed: without the agreements we cannot tell who processes abroad; the store retries.
    throw agreementsReloading();
  }
  const { type, userId: user, at: when } = body;
  const event: CoreEvent = body.type === 'consent_withdrawn' ? { type, userId: user, at: when, purposes: body.purposes } as CoreEvent : { type, userId: user, at: when } as CoreEvent;
  const { items } = await d.transferLog.recipients(user);
  const addressed = fanOut(event, items, {
    eventId: id, home: d.home(), pseudonymFor: d.pseudonymFor, agreement: (p) => d.agreements.current(p),
  });
  await d.notices.enqueue(addressed);
  const reply = await d.notices.remember({ eventId: id, notices: addressed.length });
  // RULES 12 REVOCATION_SENT; no user id or pseudonym in the log (RULES 24).
  d.log.info({ eventId: id, type, notices: reply.notices, partners: [...new Set(addressed.map((a) => a.partnerId))], code: 'REVOCATION_SENT' }, 'event fanned out to past recipients');
  return reply;
}

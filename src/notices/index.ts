// The notices service as the app uses it (issue 7): createNotices(deps) once per process, in
// deps.ts. Events fan out into it, the pull path schedules delete-by dates in it, partners read
// their notices from it, and its worker pushes them to webhooks.
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config/schema.ts';
import type { KeyMaterial } from '../keys/files.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import { webhookTls } from './webhook-tls.ts';
import { noticeKeys } from './keys.ts';
import { NoticeQueue, type DeliveryRow } from './queue.ts';
import type { Actor } from '../auth/roles.ts';
import { DeletionSchedule, type DeletionItem } from './deletions.ts';
import { noticeSigner } from './sign.ts';
import { NoticeWorker, type DeliveryObserver } from './worker.ts';
import type { Addressed, Notice } from './notice.ts';
import type { Registry } from 'prom-client';
import { Confirmations, type Acknowledgement } from './confirmations.ts';
import { OverdueWatch, type OverdueView } from './overdue.ts';

export interface EventReply { eventId: string; notices: number }

export interface Notices {
  /** Queue each (idempotent per notice id); resolves once all are durable in Redis. */
  enqueue(items: readonly Addressed[]): Promise<void>;
  /** RULES 23: a `retention_expired` notice for (partner, pseudonym) at deleteBy. */
  scheduleDeletion(partnerId: string, subject: string, deleteBy: string, purpose: string): Promise<void>;
  /** The same for a batch (one bulk page): one Redis call. `ownRetention`: the purpose's own date, kept apart. */
  scheduleDeletions(partnerId: string, purpose: string, items: readonly DeletionItem[], ownRetention?: boolean): Promise<void>;
  list(partnerId: string, cursor: string | null, limit: number): Promise<{ items: Notice[]; nextCursor: string | null }>;
  deadLetters(limit: number): Promise<object[]>;
  /** Issue 16: send a dead letter again (admin, audited); false when it is not one (any more). */
  retryDead(actor: Actor, partnerId: string, noticeId: string): Promise<boolean>;
  /** Issue 16: a partner's newest notices with their delivery state (console). */
  recent(partnerId: string, limit: number): Promise<DeliveryRow[]>;
  deliveryState(partnerId: string, noticeId: string): Promise<Record<string, string>>;
  /** The stored answer to an event id, if it was handled before. */
  recall(eventId: string): Promise<EventReply | null>;
  /** Store the answer unless one is there; returns the one that counts. */
  remember(reply: EventReply): Promise<EventReply>;
  /** RULES 23: the owning partner confirms a notice (idempotent); null: no such notice of this partner. */
  ack(partnerId: string, noticeId: string, now?: number): Promise<Acknowledgement | null>;
  /** RULES 23: deletion notices not confirmed by their deadline (swept first, at `now`). */
  overdue(limit: number, now?: number): Promise<OverdueView>;
  /** One worker pass now (the timer does this every notices.workerIntervalMs). */
  runOnce(): Promise<void>;
  close(): Promise<void>;
}

export interface NoticesDeps {
  redis: Redis;
  config: Pick<Config, 'notices'>;
  log: Logger;
  keys: Pick<KeyMaterial, 'signingJwk'>;
  agreements: Pick<ActiveAgreements, 'ready' | 'current'>;
  /** Each webhook attempt's outcome per partner (the gateway's metrics). */
  deliveries?: DeliveryObserver;
  /** Where gateway_notices_overdue is registered (the /metrics registry). */
  registry?: Registry;
}

const EVENT_TTL_S = 30 * 86_400;


export function createNotices(d: NoticesDeps, opts: { keyPrefix?: string; startWorker?: boolean } = {}): Notices {
  const cfg = d.config.notices;
  const keys = noticeKeys(opts.keyPrefix);
  const queue = new NoticeQueue(d.redis, keys, cfg.confirmWithinSeconds * 1000);
  const deletions = new DeletionSchedule(d.redis, keys);
  const confirmations = new Confirmations(d.redis, keys);
  const overdue = new OverdueWatch(confirmations, d.registry, d.log);
  const worker = new NoticeWorker({
    queue, deletions, overdue, agreements: d.agreements, sign: noticeSigner(d.keys.signingJwk), log: d.log, config: cfg,
    webhook: { tls: webhookTls(cfg.webhookCa), allowLoopback: cfg.allowLoopbackWebhooks, timeoutMs: cfg.timeoutMs },
    ...(d.deliveries ? { observe: d.deliveries } : {}),
  });
  if (opts.startWorker !== false) worker.start();
  const eventKey = (id: string) => keys.event(createHash('sha256').update(id).digest('base64url'));
  return {
    async enqueue(items) {
      await Promise.all(items.map((a) => queue.enqueue(a.partnerId, a.notice)));
    },
    scheduleDeletion: (partnerId, subject, deleteBy, purpose) => deletions.schedule(partnerId, purpose, [{ subject, deleteBy }]),
    scheduleDeletions: (partnerId, purpose, items, ownRetention) => deletions.schedule(partnerId, purpose, items, ownRetention),
    list: (partnerId, cursor, limit) => queue.list(partnerId, cursor, limit),
    deadLetters: (limit) => queue.deadLetters(limit),
    async retryDead(actor, partnerId, noticeId) {
      const ok = await queue.retryDead(actor, partnerId, noticeId);
      if (ok) d.log.info({ partnerId, noticeId, actor }, 'dead letter queued for delivery again');
      return ok;
    },
    recent: (partnerId, limit) => queue.recent(partnerId, limit),
    deliveryState: (partnerId, noticeId) => queue.state(partnerId, noticeId),
    async recall(eventId) {
      const v = await d.redis.get(eventKey(eventId));
      return v ? (JSON.parse(v) as EventReply) : null;
    },
    async remember(reply) {
      const set = await d.redis.set(eventKey(reply.eventId), JSON.stringify(reply), { NX: true, EX: EVENT_TTL_S });
      if (set) return reply;
      return (await this.recall(reply.eventId)) ?? reply;
    },
    async ack(partnerId, noticeId, now = Date.now()) {
      const a = await confirmations.ack(partnerId, noticeId, now);
      // RULES 23: the confirmation is recorded (ids only in the log, RULES 24).
      if (a && !a.repeated) d.log.info({ partnerId, noticeId, code: 'NOTICE_ACKNOWLEDGED' }, 'notice acknowledged on the pull feed');
      return a;
    },
    overdue: (limit, now = Date.now()) => overdue.view(limit, now),
    runOnce: () => worker.tick(),
    close: () => worker.close(),
  };
}

export type { Notice, Addressed } from './notice.ts';
export type { DeletionItem } from './deletions.ts';
export type { DeliveryObserver, DeliveryOutcome } from './worker.ts';

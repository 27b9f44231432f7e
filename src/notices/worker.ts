// The delivery loop every instance runs: due delete-by dates become `retention_expired` notices
// (RULES 23), then due webhook deliveries are claimed, POSTed and recorded. Retries back off
// exponentially; everything lives in Redis, so a restart loses nothing. Claims are leases, so two
// instances never deliver the same notice at once. Logs carry ids and statuses only (RULES 24).
import type { Logger } from '../log.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { NoticeQueue, Claimed } from './queue.ts';
import type { DeletionSchedule } from './deletions.ts';
import type { NoticeSigner } from './sign.ts';
import type { OverdueWatch } from './overdue.ts';
import { postNotice, type WebhookOptions } from './webhook.ts';
import { makeNotice, noticeId } from './notice.ts';

export interface WorkerConfig { deadLetterAfterMs: number; retryBaseMs: number; retryMaxMs: number; workerIntervalMs: number; timeoutMs: number }

/** How one webhook attempt ended (issue 16: deliveries and dead letters per partner, for operations). */
export type DeliveryOutcome = 'acknowledged' | 'retry' | 'dead_letter';
export type DeliveryObserver = (partnerId: string, outcome: DeliveryOutcome) => void;

export interface WorkerDeps {
  queue: NoticeQueue;
  deletions: DeletionSchedule;
  /** RULES 23: unconfirmed deletion notices past their deadline become overdue on each pass. */
  overdue: Pick<OverdueWatch, 'sweep'>;
  agreements: Pick<ActiveAgreements, 'ready' | 'current'>;
  sign: NoticeSigner;
  webhook: WebhookOptions;
  config: WorkerConfig;
  log: Logger;
  /** Each attempt's recorded outcome (the gateway's metrics); an attempt whose lease ran out is not counted (its notice is someone else's now). */
  observe?: DeliveryObserver;
  now?: () => number;
}

const BATCH = 32;

/** Exponential with jitter (0.8–1.2), capped: attempt 1 waits about retryBaseMs. */
export function backoffMs(attempt: number, c: Pick<WorkerConfig, 'retryBaseMs' | 'retryMaxMs'>): number {
  const raw = c.retryBaseMs * 2 ** Math.min(attempt - 1, 30);
  return Math.round(Math.min(c.retryMaxMs, raw * (0.8 + Math.random() * 0.4)));
}

export class NoticeWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private closed = false;
  private failing = false;
  private readonly now: () => number;
  private readonly leaseMs: number;

  constructor(private readonly d: WorkerDeps) {
    this.now = d.now ?? Date.now;
    // One attempt: DNS check + connect + headers + body, each bounded by timeoutMs.
    this.leaseMs = d.config.timeoutMs * 4 + 5000;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.d.config.workerIntervalMs);
    this.timer.unref();
  }

  /** One pass (never two at once in this process). */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.running ??= this.pass().finally(() => { this.running = null; }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running; // an attempt in flight is recorded before Redis closes
  }

  private async pass(): Promise<void> {
    try {
      await this.fireDeletions();
      await this.d.overdue.sweep(this.now());
      const claimed = await this.d.queue.claim(this.now(), this.leaseMs, BATCH);
      await Promise.all(claimed.map((c) => this.deliver(c)));
      if (this.failing) this.d.log.info('notice worker: running again');
      this.failing = false;
    } catch (e) {
      // Redis unreachable: nothing is lost, the next pass picks it all up. Logged once per outage.
      if (!this.failing) this.d.log.warn({ err: { message: (e as Error).message } }, 'notice worker pass failed; retrying every interval');
      this.failing = true;
    }
  }

  private async fireDeletions(): Promise<void> {
    for (const due of await this.d.deletions.claim(this.now(), this.leaseMs, 100)) {
      const id = noticeId(`retention:${due.scope}:${due.deleteBy}`, due.partnerId, 'retention_expired');
      await this.d.queue.enqueue(due.partnerId, makeNotice(id, 'retention_expired', due.subject, due.purposes, due.deleteBy), this.now());
      await this.d.deletions.done(due);
      this.d.log.info({ partnerId: due.partnerId, noticeId: id, code: 'DELETE_NOTICE_SENT' }, 'delete-by reached: retention_expired notice queued');
    }
  }

  private async deliver(c: Claimed): Promise<void> {
    const { queue, log, config } = this.d;
    if (!this.d.agreements.ready) {
      await queue.finish(c, { kind: 'defer', status: 'agreements_loading', nextAt: this.now() + config.workerIntervalMs });
      return;
    }
    const url = this.d.agreements.current(c.partnerId)?.notifyUrl;
    if (!url) {
      await queue.finish(c, { kind: 'drop', status: 'pull_only' }); // GET /v1/notifications still has it
      return;
    }
    const attempt = c.attempts + 1;
    const r = await postNotice(url, await this.d.sign(c.notice), this.d.webhook);
    const base = { partnerId: c.partnerId, noticeId: c.notice.id, type: c.notice.type, attempt, status: r.status };
    const now = this.now();
    if (r.ok) {
      if (await queue.finish(c, { kind: 'ack', status: r.status }, now)) this.d.observe?.(c.partnerId, 'acknowledged');
      log.info({ ...base, outcome: 'acknowledged' }, 'notice delivery');
      return;
    }
    if (r.status === 'blocked') log.warn({ ...base, code: 'SSRF_BLOCKED', reason: r.reason }, 'webhook URL refused (RULES 45)');
    if (r.status === 'oversized') log.warn({ ...base, code: 'PARTNER_INPUT_INVALID', reason: r.reason }, 'webhook response rejected (RULES 47)');
    // An admin's retry of a dead letter gives it a fresh window (issue 16).
    const deadline = Math.max(c.createdAt, c.retriedAt) + config.deadLetterAfterMs;
    if (now >= deadline) {
      const entry = { noticeId: c.notice.id, partnerId: c.partnerId, type: c.notice.type, attempts: attempt, lastStatus: r.status, queuedAt: new Date(c.createdAt).toISOString(), deadAt: new Date(now).toISOString() };
      if (await queue.finish(c, { kind: 'dead', status: r.status, entry }, now)) this.d.observe?.(c.partnerId, 'dead_letter');
      // RULES 23: a missing confirmation is escalated.
      log.error({ ...base, outcome: 'dead_letter', code: c.notice.type === 'retention_expired' ? 'DELETE_UNCONFIRMED' : 'REVOCATION_UNCONFIRMED' }, 'notice never acknowledged: moved to the dead-letter list');
      return;
    }
    const nextAt = Math.min(now + backoffMs(attempt, config), deadline);
    if (await queue.finish(c, { kind: 'retry', status: r.status, nextAt }, now)) this.d.observe?.(c.partnerId, 'retry');
    log.info({ ...base, outcome: 'retry', retryInMs: nextAt - now }, 'notice delivery');
  }
}

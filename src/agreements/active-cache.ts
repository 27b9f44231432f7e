// Every gateway process keeps each partner's current agreement in memory, so the partner routes
// decide synchronously. Changes arrive by Redis pub/sub (published in the same script as the
// change) within milliseconds; a cold instance loads from Redis. Fail closed (DESIGN 1): until the
// subscription is live and the load has finished — at start and after any reconnect — nothing is
// active, because a suspension could have been missed.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { AGREEMENT_CHANNEL, PARTNERS_SET } from './redis-keys.ts';
import { Agreements, type AgreementVersion } from './agreement-store.ts';

export type AgreementListener = (partnerId: string, current: AgreementVersion | undefined) => void;

export class ActiveAgreements {
  private readonly entries = new Map<string, { rev: number; agreement?: AgreementVersion }>();
  private readonly listeners: AgreementListener[] = [];
  private live = false;
  private subscribed = false;
  private closed = false;
  private generation = 0;
  private failing = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis, private readonly sub: Redis, private readonly store: Agreements, private readonly log: Logger) {
    sub.on('ready', () => void this.onSubReady());
    // The socket dropped: messages may be lost until resubscribed and reloaded.
    sub.on('reconnecting', () => { this.live = false; });
    sub.on('end', () => { this.live = false; });
    if (sub.isReady) void this.onSubReady();
  }

  /** The partner's current version if its status is `active`; synchronous; undefined when unsure. */
  active(partnerId: string): AgreementVersion | undefined {
    const a = this.current(partnerId);
    return a?.status === 'active' ? a : undefined;
  }

  /** The current version whatever its status (for `agreement_inactive` vs unknown partner). */
  current(partnerId: string): AgreementVersion | undefined {
    return this.live ? this.entries.get(partnerId)?.agreement : undefined;
  }

  /** True once subscribed and loaded; false while a reconnect or reload is pending. */
  get ready(): boolean {
    return this.live;
  }

  /** Called after each change is applied (e.g. to drop a compiled projection). */
  onChange(listener: AgreementListener): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.live = false;
    clearTimeout(this.retry);
  }

  private async onSubReady(): Promise<void> {
    try {
      // node-redis resubscribes by itself before `ready` after a reconnect; only the first time is ours.
      if (!this.subscribed) {
        await this.sub.subscribe(AGREEMENT_CHANNEL, (partnerId) => void this.refresh(partnerId));
        this.subscribed = true;
      }
      await this.reloadAll();
    } catch (e) {
      this.live = false;
      this.log.warn({ err: { message: (e as Error).message } }, 'agreement cache: subscribe failed; retrying on reconnect');
    }
  }

  /** Load every partner's current version; retry until it succeeds, then go live. */
  private async reloadAll(): Promise<void> {
    const gen = ++this.generation;
    this.live = false;
    clearTimeout(this.retry);
    try {
      const ids = await this.redis.sMembers(PARTNERS_SET);
      await Promise.all(ids.map((id) => this.load(id)));
      if (gen === this.generation && !this.closed && this.sub.isReady) this.live = true;
      if (this.live && this.failing) this.log.info('agreement cache: reloaded');
      this.failing = false;
    } catch (e) {
      if (this.closed || gen !== this.generation) return;
      // Once per outage, not once per retry.
      if (!this.failing) this.log.warn({ err: { message: (e as Error).message } }, 'agreement cache: load failed; retrying (nothing is active meanwhile)');
      this.failing = true;
      this.retry = setTimeout(() => void this.reloadAll(), 250);
    }
  }

  private async refresh(partnerId: string): Promise<void> {
    try {
      await this.load(partnerId);
    } catch {
      // The change is real but unread: stop trusting the cache until a full reload succeeds.
      if (!this.closed) void this.reloadAll();
    }
  }

  private async load(partnerId: string): Promise<void> {
    const fresh = await this.store.current(partnerId);
    const old = this.entries.get(partnerId);
    if (old && old.rev >= fresh.rev) return; // an older read finishing late never wins
    this.entries.set(partnerId, fresh);
    for (const l of this.listeners) {
      try {
        l(partnerId, fresh.agreement);
      } catch (e) {
        this.log.error({ partnerId, err: { message: (e as Error).message } }, 'agreement cache: change listener failed');
      }
    }
  }
}

// Every gateway process keeps each partner's current agreement in memory, so the partner routes
// decide synchronously. Changes arrive by Redis pub/sub (published in the same script as the
// change) within milliseconds; a cold instance loads from Redis. Fail closed (DESIGN 1): until the
// subscription is live and the load has finished — at start and after any reconnect — nothing is
// active, because a suspension could have been missed. The machinery is LiveCache's.
import type { Redis } from '../deps.ts';
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import { LiveCache } from '../cache/live-cache.ts';
import { AGREEMENT_CHANNEL, PARTNERS_SET } from './redis-keys.ts';
import { Agreements, type AgreementVersion } from './agreement-store.ts';

export type AgreementListener = (partnerId: string, current: AgreementVersion | undefined) => void;

export class ActiveAgreements extends LiveCache {
  private readonly entries = new Map<string, { rev: number; agreement?: AgreementVersion }>();
  private readonly listeners: AgreementListener[] = [];

  constructor(private readonly redis: Redis, sub: Subscriber, private readonly store: Agreements, log: Logger) {
    super(sub, AGREEMENT_CHANNEL, log, 'agreement cache', 'nothing is active meanwhile');
  }

  /** The partner's current version if its status is `active`; synchronous; undefined when unsure. */
  active(partnerId: string): AgreementVersion | undefined {
    const a = this.current(partnerId);
    return a?.status === 'active' ? a : undefined;
  }

  /** The current version whatever its status (for `agreement_inactive` vs unknown partner). */
  current(partnerId: string): AgreementVersion | undefined {
    return this.ready ? this.entries.get(partnerId)?.agreement : undefined;
  }

  /** What this instance holds, per partner: the version and its status (issue 16: the instance heartbeat). */
  loaded(): Record<string, { version: number; status: string }> {
    const out: Record<string, { version: number; status: string }> = {};
    for (const [id, e] of this.entries) if (e.agreement) out[id] = { version: e.agreement.version, status: e.agreement.status };
    return out;
  }

  /** Called after each change is applied (e.g. to drop a compiled projection). */
  onChange(listener: AgreementListener): void {
    this.listeners.push(listener);
  }

  /** Every partner's current version. */
  protected async loadAll(): Promise<void> {
    const ids = await this.redis.sMembers(PARTNERS_SET);
    await Promise.all(ids.map((id) => this.loadOne(id)));
  }

  protected async loadOne(partnerId: string): Promise<void> {
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

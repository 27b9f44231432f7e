// Every gateway process keeps each partner's pseudonym key versions in memory, so the pull routes
// learn `{current, accepted}` synchronously (RULES 29). Rotations arrive by Redis pub/sub, published
// in the same script as the rotation; a cold instance loads from Redis. Fail closed (DESIGN 1):
// until subscribed and loaded — at start and after any reconnect — versions() throws 503, because
// a rotation could have been missed and an old pseudonym must not resolve past its grace. The
// machinery is LiveCache's.
import type { Redis } from '../deps.ts';
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import type { Actor } from '../auth/roles.ts';
import { Problem } from '../http/problem.ts';
import { LiveCache } from '../cache/live-cache.ts';
import { KEY_VERSIONS_CHANNEL, PartnerKeyStore, type KeyVersionRecord } from './partner-key-store.ts';

export interface KeyVersions { current: number; accepted: number[] }

export class PartnerKeyVersions extends LiveCache {
  readonly store: PartnerKeyStore;
  private readonly entries = new Map<string, KeyVersionRecord>();

  constructor(redis: Redis, sub: Subscriber, private readonly graceSeconds: number, log: Logger, private readonly now = () => Date.now()) {
    super(sub, KEY_VERSIONS_CHANNEL, log, 'key version cache', 'pulls answer 503 meanwhile');
    this.store = new PartnerKeyStore(redis);
  }

  /** The version new pulls use, and every version still within its grace at this instant. */
  versions(partnerId: string): KeyVersions {
    if (!this.ready) throw new Problem({ status: 503, code: 'store_unavailable', detail: 'pseudonym key versions are reloading; retry shortly' });
    const r = this.entries.get(partnerId);
    if (!r) return { current: 1, accepted: [1] };
    const t = this.now();
    const inGrace = r.retired.filter((v) => t < Date.parse(v.retiredAt) + (v.graceSeconds ?? this.graceSeconds) * 1000);
    return { current: r.current, accepted: [r.current, ...inGrace.map((v) => v.version)] };
  }

  /** The record as this process knows it (admin views); undefined before the first rotation. */
  record(partnerId: string): KeyVersionRecord | undefined {
    return this.entries.get(partnerId);
  }

  /** Rotate, then apply it here before answering, so this instance reads its own write. */
  async rotate(actor: Actor, partnerId: string, opts: { graceSeconds?: number } = {}): Promise<KeyVersionRecord> {
    const r = await this.store.rotate(actor, partnerId, opts);
    this.apply(r);
    return r;
  }

  /** Every partner ever rotated (the others are at v1, which needs no record). */
  protected async loadAll(): Promise<void> {
    const ids = await this.store.rotatedPartners();
    const records = await Promise.all(ids.map((id) => this.store.read(id)));
    for (const r of records) this.apply(r);
  }

  protected async loadOne(partnerId: string): Promise<void> {
    this.apply(await this.store.read(partnerId));
  }

  private apply(r: KeyVersionRecord): void {
    const old = this.entries.get(r.partnerId);
    if (old && old.rev >= r.rev) return; // an older read finishing late never wins
    this.entries.set(r.partnerId, r);
  }
}

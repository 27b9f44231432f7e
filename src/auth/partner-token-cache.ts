// Known partner tokens held in memory, so the partner read path does not pay one Redis round trip
// per request for its bearer token (bench: CPU-bound, each round trip costs). Revocation still
// reaches every instance (RULES 41): revoke scripts publish the revoked hashes on TOKEN_CHANNEL in
// the same script as the DEL, and each message evicts them here. Fail closed (DESIGN 1): the
// LiveCache machinery keeps `ready` false until subscribed, and again from any disconnect until
// resubscribed; meanwhile nothing is read from or written to the cache (lookups go to Redis), and
// each (re)subscribe empties it, because a revocation may have been missed while down.
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import { LiveCache } from '../cache/live-cache.ts';
import type { PartnerToken } from './partner-tokens.ts';

/**
 * Published by every partner-token revocation. Message: comma-separated revoked token hashes and,
 * for a revoked client, `client:<clientId>` (all that client's tokens, hashes known or not).
 */
export const TOKEN_CHANNEL = 'pg:ptok:revoked';
/** Marks a client id in a TOKEN_CHANNEL message (token hashes are base64url: never a colon). */
export const CLIENT_MARK = 'client:';
export const DEFAULT_TOKEN_CACHE_ENTRIES = 50_000;

export class PartnerTokenCache extends LiveCache {
  private readonly entries = new Map<string, PartnerToken>();
  /** Bumped by every eviction and every clear; a Redis read started before a bump is not cached. */
  private epoch = 0;

  constructor(sub: Subscriber, log: Logger, private readonly maxEntries = DEFAULT_TOKEN_CACHE_ENTRIES) {
    super(sub, TOKEN_CHANNEL, log, 'partner token cache', 'tokens are looked up in Redis meanwhile');
  }

  /** The cached record, whatever its exp (the caller checks it); undefined when absent or not live. */
  get(hash: string): PartnerToken | undefined {
    return this.ready ? this.entries.get(hash) : undefined;
  }

  /** Taken before reading Redis and handed back to put(). */
  mark(): number {
    return this.epoch;
  }

  /**
   * Remember a record read from Redis. Refused if a revocation message or a reload came in since
   * the read started (`mark`): the read may predate the revocation, and the message has already
   * been applied, so caching it would resurrect the token until its exp.
   */
  put(hash: string, rec: PartnerToken, mark: number): void {
    if (!this.ready || mark !== this.epoch) return;
    this.entries.delete(hash);
    // Bounded: the oldest insertion goes first (Map keeps insertion order).
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    // Shared by every request that presents the token: frozen, so none can alter it for the next.
    Object.freeze(rec.scope);
    this.entries.set(hash, Object.freeze(rec));
  }

  /** Forget these hashes (a revocation, from a message or made by this process). */
  evict(hashes: Iterable<string>): void {
    this.epoch++;
    for (const h of hashes) this.entries.delete(h);
  }

  /** Forget every token of a client (its credential was revoked), and these hashes. */
  evictClient(clientId: string, hashes: Iterable<string> = []): void {
    this.evict(hashes);
    for (const [h, rec] of this.entries) if (rec.clientId === clientId) this.entries.delete(h);
  }

  /** Expired entries are dropped when met; nothing else is needed from them. */
  drop(hash: string): void {
    this.entries.delete(hash);
  }

  get size(): number {
    return this.entries.size;
  }

  /** After each (re)subscribe: start empty, since a revocation may have been missed meanwhile. */
  protected async loadAll(): Promise<void> {
    this.epoch++;
    this.entries.clear();
  }

  protected async loadOne(message: string): Promise<void> {
    const parts = message.split(',').filter(Boolean);
    this.evict(parts.filter((p) => !p.startsWith(CLIENT_MARK)));
    for (const p of parts) if (p.startsWith(CLIENT_MARK)) this.evictClient(p.slice(CLIENT_MARK.length));
  }
}

// The one shape of the in-memory caches kept current through Redis pub/sub (agreements, pseudonym
// key versions, jurisdiction), so that the routes read them synchronously. Changes are published in
// the same script as the change; each message names the key to re-read; a cold instance loads
// everything. Fail closed (DESIGN 1): `ready` is false at start, after any disconnect and through
// every full reload until it succeeds, because a change could have been missed meanwhile; each
// subclass answers "unsure" (undefined or 503) while not ready.
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import { subscriberFresh } from './subscriber-heartbeat.ts';

const RETRY_MS = 250;

export abstract class LiveCache {
  private live = false;
  private subscribed = false;
  private closed = false;
  private generation = 0;
  private failing = false;
  private retry: NodeJS.Timeout | undefined;

  /**
   * `name` prefixes the log lines ("agreement cache: …"); `meanwhile` tells operators, in the
   * load-failed warning, what callers get until the reload succeeds.
   */
  constructor(
    private readonly sub: Subscriber, private readonly channel: string, protected readonly log: Logger,
    private readonly name: string, private readonly meanwhile: string,
  ) {
    sub.on('ready', () => void this.onSubReady());
    // The socket dropped: messages may be lost until resubscribed and reloaded.
    sub.on('reconnecting', () => { this.live = false; });
    sub.on('end', () => { this.live = false; });
    // Safe while the subclass is still constructing: onSubReady awaits SUBSCRIBE before any hook runs.
    if (sub.isReady) void this.onSubReady();
  }

  /** Read everything into memory (the full reload after each connect). */
  protected abstract loadAll(): Promise<void>;

  /** Re-read the key a message names; an older read finishing late must never win. */
  protected abstract loadOne(key: string): Promise<void>;

  /**
   * True once subscribed and loaded; false while a reconnect or reload is pending, and while the
   * subscriber's heartbeat is overdue (a silently dead connection; subscriber-heartbeat.ts).
   */
  get ready(): boolean {
    return this.live && subscriberFresh(this.sub);
  }

  close(): void {
    this.closed = true;
    this.live = false;
    clearTimeout(this.retry);
  }

  /** Re-read one key; if that fails, fall back to a full reload. */
  protected async refreshOne(key: string): Promise<void> {
    try {
      await this.loadOne(key);
    } catch {
      // The change is real but unread: stop trusting the cache until a full reload succeeds.
      if (!this.closed) void this.reloadAll();
    }
  }

  private async onSubReady(): Promise<void> {
    try {
      // node-redis resubscribes by itself before `ready` after a reconnect; only the first time is ours.
      if (!this.subscribed) {
        await this.sub.subscribe(this.channel, (key: string) => void this.refreshOne(key));
        this.subscribed = true;
      }
      await this.reloadAll();
    } catch (e) {
      this.live = false;
      this.log.warn({ err: { message: (e as Error).message } }, `${this.name}: subscribe failed; retrying on reconnect`);
    }
  }

  /** Load everything; retry until it succeeds, then go live (unless a newer reload has started). */
  private async reloadAll(): Promise<void> {
    const gen = ++this.generation;
    this.live = false;
    clearTimeout(this.retry);
    try {
      await this.loadAll();
      if (gen === this.generation && !this.closed && this.sub.isReady) this.live = true;
      if (this.live && this.failing) this.log.info(`${this.name}: reloaded`);
      this.failing = false;
    } catch (e) {
      if (this.closed || gen !== this.generation) return;
      // Once per outage, not once per retry.
      if (!this.failing) this.log.warn({ err: { message: (e as Error).message } }, `${this.name}: load failed; retrying (${this.meanwhile})`);
      this.failing = true;
      this.retry = setTimeout(() => void this.reloadAll(), RETRY_MS);
    }
  }
}

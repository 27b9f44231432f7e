// Every gateway process keeps the jurisdiction state in memory, so each decision reads it without
// I/O. Changes arrive by Redis pub/sub (published in the same script as the change), so a block is
// in force on every instance within milliseconds (RULES 20). Fail closed (DESIGN 1): until the
// subscription is live and the state is loaded — at start and after any reconnect — current()
// throws 503 store_unavailable, because a block could have been missed.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Jurisdiction } from '../policy/decision-context.ts';
import { Problem } from '../http/problem.ts';
import type { JurisdictionState } from './entries.ts';
import { JURISDICTION_CHANNEL, type JurisdictionStore } from './store.ts';

export class JurisdictionCache {
  private state: JurisdictionState | undefined;
  private view: Jurisdiction | undefined;
  private live = false;
  private subscribed = false;
  private closed = false;
  private generation = 0;
  private failing = false;
  private retry: NodeJS.Timeout | undefined;

  /** `beforeLoad` runs before each full load until it succeeds once (the configuration bootstrap). */
  constructor(
    private readonly sub: Redis, private readonly store: JurisdictionStore, private readonly home: string,
    private readonly log: Logger, private beforeLoad?: () => Promise<void>,
  ) {
    sub.on('ready', () => void this.onSubReady());
    // The socket dropped: messages may be lost until resubscribed and reloaded.
    sub.on('reconnecting', () => { this.live = false; });
    sub.on('end', () => { this.live = false; });
    if (sub.isReady) void this.onSubReady();
  }

  get ready(): boolean {
    return this.live;
  }

  /** The version in force here; -1 while not loaded. */
  get version(): number {
    return this.live && this.state ? this.state.version : -1;
  }

  /** Home, adequacy entries and blocked countries for the decision (synchronous). */
  current(): Jurisdiction {
    if (!this.live || !this.view) throw new Problem({ status: 503, code: 'store_unavailable', detail: 'the jurisdiction list is reloading; retry shortly' });
    return this.view;
  }

  /** Re-read now (after a change made through this instance, so its own next request sees it). */
  async refresh(): Promise<void> {
    try {
      await this.load();
    } catch {
      // The change is real but unread: stop trusting the cache until a full reload succeeds.
      if (!this.closed) void this.reloadAll();
    }
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
        await this.sub.subscribe(JURISDICTION_CHANNEL, () => void this.refresh());
        this.subscribed = true;
      }
      await this.reloadAll();
    } catch (e) {
      this.live = false;
      this.log.warn({ err: { message: (e as Error).message } }, 'jurisdiction cache: subscribe failed; retrying on reconnect');
    }
  }

  private async reloadAll(): Promise<void> {
    const gen = ++this.generation;
    this.live = false;
    // Forget what was held, so that only reads from now on count (any of them newer than the last).
    this.state = undefined;
    clearTimeout(this.retry);
    try {
      if (this.beforeLoad) {
        await this.beforeLoad();
        this.beforeLoad = undefined;
      }
      await this.load();
      if (gen === this.generation && !this.closed && this.sub.isReady) this.live = true;
      if (this.live && this.failing) this.log.info('jurisdiction cache: reloaded');
      this.failing = false;
    } catch (e) {
      if (this.closed || gen !== this.generation) return;
      if (!this.failing) this.log.warn({ err: { message: (e as Error).message } }, 'jurisdiction cache: load failed; retrying (pulls answer 503 meanwhile)');
      this.failing = true;
      this.retry = setTimeout(() => void this.reloadAll(), 250);
    }
  }

  private async load(): Promise<void> {
    const fresh = await this.store.read();
    if (this.state && this.state.version > fresh.version) return; // an older read finishing late never wins
    this.state = fresh;
    this.view = Object.freeze({
      home: this.home,
      adequate: Object.freeze(fresh.adequate.map((e) => Object.freeze({ country: e.country, reviewBy: e.reviewBy }))),
      blocked: Object.freeze(fresh.blocked.map((b) => b.country)),
    });
  }
}

// Every gateway process keeps the jurisdiction state in memory, so each decision reads it without
// I/O. Changes arrive by Redis pub/sub (published in the same script as the change), so a block is
// in force on every instance within milliseconds (RULES 20). Fail closed (DESIGN 1): until the
// subscription is live and the state is loaded — at start and after any reconnect — current()
// throws 503 store_unavailable, because a block could have been missed. The machinery is
// LiveCache's; unlike the per-partner caches this holds one state, so a message's text is ignored.
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import type { Jurisdiction } from '../policy/decision-context.ts';
import { Problem } from '../http/problem.ts';
import { LiveCache } from '../cache/live-cache.ts';
import type { JurisdictionState } from './entries.ts';
import { JURISDICTION_CHANNEL, type JurisdictionStore } from './store.ts';

export class JurisdictionCache extends LiveCache {
  private state: JurisdictionState | undefined;
  private view: Jurisdiction | undefined;

  /** `beforeLoad` runs before each full load until it succeeds once (the configuration bootstrap). */
  constructor(
    sub: Subscriber, private readonly store: JurisdictionStore, private readonly home: string,
    log: Logger, private beforeLoad?: () => Promise<void>,
  ) {
    super(sub, JURISDICTION_CHANNEL, log, 'jurisdiction cache', 'pulls answer 503 meanwhile');
  }

  /** The version in force here; -1 while not loaded. */
  get version(): number {
    return this.ready && this.state ? this.state.version : -1;
  }

  /** Home, adequacy entries and blocked countries for the decision (synchronous). */
  current(): Jurisdiction {
    if (!this.ready || !this.view) throw new Problem({ status: 503, code: 'store_unavailable', detail: 'the jurisdiction list is reloading; retry shortly' });
    return this.view;
  }

  /** Re-read now (after a change made through this instance, so its own next request sees it). */
  async refresh(): Promise<void> {
    await this.refreshOne('');
  }

  protected async loadAll(): Promise<void> {
    // Forget what was held, so that only reads from now on count (any of them newer than the last).
    this.state = undefined;
    if (this.beforeLoad) {
      await this.beforeLoad();
      this.beforeLoad = undefined;
    }
    await this.loadOne();
  }

  protected async loadOne(): Promise<void> {
    const fresh = await this.store.read();
    if (this.state && this.state.version > fresh.version) return; // an older read finishing late never wins
    this.state = fresh;
    this.view = Object.freeze({
      home: this.home,
      adequate: Object.freeze(fresh.adequate.map((e) => Object.freeze({ country: e.country, reviewBy: e.reviewBy }))),
      blocked: Object.freeze(fresh.blocked.map((b) => b.country)),
      version: fresh.version, // RULES 48: entries name the list version that gave an adequacy ground
    });
  }
}

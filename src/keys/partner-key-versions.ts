// Every gateway process keeps each partner's pseudonym key versions in memory, so the pull routes
// learn `{current, accepted}` synchronously (RULES 29). Rotations arrive by Redis pub/sub, published
// in the same script as the rotation; a cold instance loads from Redis. Fail closed (DESIGN 1):
// until subscribed and loaded — at start and after any reconnect — versions() throws 503, because
// a rotation could have been missed and an old pseudonym must not resolve past its grace.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Actor } from '../auth/roles.ts';
import { Problem } from '../http/problem.ts';
import { KEY_VERSIONS_CHANNEL, PartnerKeyStore, type KeyVersionRecord } from './partner-key-store.ts';

export interface KeyVersions { current: number; accepted: number[] }

export class PartnerKeyVersions {
  readonly store: PartnerKeyStore;
  private readonly entries = new Map<string, KeyVersionRecord>();
  private live = false;
  private subscribed = false;
  private closed = false;
  private generation = 0;
  private failing = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(redis: Redis, private readonly sub: Redis, private readonly graceSeconds: number, private readonly log: Logger, private readonly now = () => Date.now()) {
    this.store = new PartnerKeyStore(redis);
    sub.on('ready', () => void this.onSubReady());
    sub.on('reconnecting', () => { this.live = false; });
    sub.on('end', () => { this.live = false; });
    if (sub.isReady) void this.onSubReady();
  }

  get ready(): boolean {
    return this.live;
  }

  /** The version new pulls use, and every version still within its grace at this instant. */
  versions(partnerId: string): KeyVersions {
    if (!this.live) throw new Problem({ status: 503, code: 'store_unavailable', detail: 'pseudonym key versions are reloading; retry shortly' });
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

  close(): void {
    this.closed = true;
    this.live = false;
    clearTimeout(this.retry);
  }

  private async onSubReady(): Promise<void> {
    try {
      // node-redis resubscribes by itself after a reconnect; only the first subscription is ours.
      if (!this.subscribed) {
        await this.sub.subscribe(KEY_VERSIONS_CHANNEL, (partnerId) => void this.refresh(partnerId));
        this.subscribed = true;
      }
      await this.reloadAll();
    } catch (e) {
      this.live = false;
      this.log.warn({ err: { message: (e as Error).message } }, 'key version cache: subscribe failed; retrying on reconnect');
    }
  }

  private async reloadAll(): Promise<void> {
    const gen = ++this.generation;
    this.live = false;
    clearTimeout(this.retry);
    try {
      const ids = await this.store.rotatedPartners();
      const records = await Promise.all(ids.map((id) => this.store.read(id)));
      for (const r of records) this.apply(r);
      if (gen === this.generation && !this.closed && this.sub.isReady) this.live = true;
      if (this.live && this.failing) this.log.info('key version cache: reloaded');
      this.failing = false;
    } catch (e) {
      if (this.closed || gen !== this.generation) return;
      if (!this.failing) this.log.warn({ err: { message: (e as Error).message } }, 'key version cache: load failed; retrying (pulls answer 503 meanwhile)');
      this.failing = true;
      this.retry = setTimeout(() => void this.reloadAll(), 250);
    }
  }

  private async refresh(partnerId: string): Promise<void> {
    try {
      this.apply(await this.store.read(partnerId));
    } catch {
      // A rotation happened but is unread: stop trusting the cache until a full reload succeeds.
      if (!this.closed) void this.reloadAll();
    }
  }

  private apply(r: KeyVersionRecord): void {
    const old = this.entries.get(r.partnerId);
    if (old && old.rev >= r.rev) return; // an older read finishing late never wins
    this.entries.set(r.partnerId, r);
  }
}

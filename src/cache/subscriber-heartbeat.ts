// DESIGN 1 (fail closed) for the pub/sub-fed caches: a subscriber connection can die silently (an
// idle pub/sub socket dropped by a NAT or firewall without a FIN). node-redis would not notice for
// minutes, and every LiveCache on that connection would keep answering from memory while token
// revocations (RULES 41), agreement suspensions and the country kill-switch (RULES 20) passed it
// by. So each instance publishes a heartbeat on a channel of its own through the command
// connection and listens for it on the subscriber: while none has come back within `staleMs`, the
// caches on that subscriber report not ready. A live connection delivers messages in order, so a
// heartbeat that comes back late means nothing was lost; a dead one reconnects and reloads anyway.
import { randomUUID } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Subscriber } from '../redis/subscriber.ts';

export const HEARTBEAT_INTERVAL_MS = 500;
export const HEARTBEAT_STALE_MS = 3000;

const bySubscriber = new WeakMap<Subscriber, SubscriberHeartbeat>();

/** False while the heartbeat watching `sub` is overdue; true when nothing watches `sub`. */
export function subscriberFresh(sub: Subscriber): boolean {
  return bySubscriber.get(sub)?.fresh ?? true;
}

export class SubscriberHeartbeat {
  readonly channel = `pg:heartbeat:${randomUUID()}`;
  private lastSeen = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private subscribed = false;

  constructor(private readonly pub: Pick<Redis, 'publish' | 'isReady'>, private readonly sub: Subscriber, private readonly staleMs = HEARTBEAT_STALE_MS, private readonly now = () => Date.now()) {
    bySubscriber.set(sub, this);
  }

  /** The subscription's listener: each heartbeat that comes back. */
  readonly onBeat = (): void => { this.lastSeen = this.now(); };

  get fresh(): boolean {
    return this.now() - this.lastSeen <= this.staleMs;
  }

  start(intervalMs = HEARTBEAT_INTERVAL_MS): void {
    this.timer = setInterval(() => void this.beat(), intervalMs);
    this.timer.unref();
    // First beat as soon as the subscriber connects, so the caches are not held back a whole interval.
    this.sub.on('ready', () => void this.beat());
    void this.beat();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    try {
      // node-redis resubscribes by itself after a reconnect; only the first SUBSCRIBE is ours.
      if (!this.subscribed && this.sub.isReady) {
        await this.sub.subscribe(this.channel, this.onBeat);
        this.subscribed = true;
      }
      if (this.subscribed && this.pub.isReady) await this.pub.publish(this.channel, '1');
    } catch {
      // Not delivered: the heartbeat goes overdue and the caches stop answering; nothing to add.
    }
  }
}

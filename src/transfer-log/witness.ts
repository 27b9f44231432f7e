// The optional HTTPS witness (issue [3/6] item 3): every anchored statement is also posted to
// transferLog.anchors.witnessUrl, a party the Redis operator does not control. The post is not on
// the append path (a witness may be slow or away); what is owed is kept in Redis, pushed in the
// same step as the anchor line (before anything is released), and a small worker drains it in
// order, retrying on its interval. Each POST is one statement as a compact JWS
// (application/jose), sent like a notice webhook: RULES 45 URL guard with pinned addresses, RULES
// 34 TLS verified, RULES 47 bounded reply. A witness sees a statement at least once (two instances
// may post the same one): statements are content-addressed, so it keeps them by hash.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { AnchorLine, AnchorSink } from './anchor-file.ts';
import { postNotice, type WebhookOptions } from '../notices/webhook.ts';

/** An anchor sink that also queues each line for the witness (in Redis) before it resolves. */
export class WitnessedSink implements AnchorSink {
  constructor(private inner: AnchorSink, private redis: Redis, private queueKey: string) {}
  sinkId(): string { return this.inner.sinkId(); }
  async append(lines: AnchorLine[]): Promise<void> {
    await this.inner.append(lines);
    await this.redis.rPush(this.queueKey, lines.map((l) => JSON.stringify(l)));
  }
  close(): void { this.inner.close(); }
}

export interface WitnessWorkerOptions {
  redis: Redis;
  queueKey: string;
  url: string;
  webhook: WebhookOptions;
  log: Logger;
  intervalMs: number;
}

export class WitnessWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Statements the witness acknowledged (this instance). */
  posted = 0;

  constructor(private o: WitnessWorkerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.drain(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Posts what is owed, oldest first, until the queue is empty or a post fails (retried next tick). */
  drain(): Promise<void> {
    this.running ??= this.run().finally(() => { this.running = null; });
    return this.running;
  }

  private async run(): Promise<void> {
    for (;;) {
      let raw: string | null;
      try {
        raw = await this.o.redis.lIndex(this.o.queueKey, 0);
      } catch {
        return; // Redis away: next tick
      }
      if (raw === null) return;
      let jws = '';
      try { jws = (JSON.parse(raw) as AnchorLine).jws; } catch { /* dropped below */ }
      if (jws) {
        const r = await postNotice(this.o.url, jws, this.o.webhook);
        if (!r.ok) {
          // The status only (an HTTP code or error class): no URL, no payload (DESIGN 7).
          this.o.log.warn({ status: r.status }, 'transfer log witness post failed; kept in redis, will retry');
          return;
        }
        this.posted++;
      }
      // Remove exactly the line posted (another instance may have taken it already).
      await this.o.redis.lRem(this.o.queueKey, 1, raw).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

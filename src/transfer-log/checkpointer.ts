// The chain registry's writer (issue [3/6] item 2). Every append batch is signed on the append path
// (a `batch` checkpoint, writer.ts), so no periodic checkpoint is needed to cover entries; what is
// written here, every `every` entries or every `intervalMs` while a chain has moved, is a signed
// registry statement listing every chain's latest covered (seq, hash). It is written off the
// append path: a failed one is retried on the next tick and never fails an append, because the
// batches themselves are signed, stored and anchored already.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { LogKeys } from './keys.ts';
import type { AnchorSink } from './anchor-file.ts';
import type { JwsSigner } from './statement-signer.ts';
import { appendRegistry } from './registry.ts';
import { deadline } from './deadline.ts';

export interface CheckpointerOptions {
  redis: Redis;
  keys: LogKeys;
  /** Signs registry statements (the gateway's ES256 key). */
  sign: JwsSigner;
  /** Where statements are anchored outside Redis (null: nowhere). */
  anchors: AnchorSink | null;
  log: Logger;
  every: number;
  intervalMs: number;
  /** Reply deadline (redis.commandTimeoutMs): a hanging Redis must not wedge the checkpointer. */
  timeoutMs: number;
  now?: () => Date;
}

export class Checkpointer {
  /** chain -> durable, signed head not yet in a registry statement written by this instance */
  private owed = new Map<string, { seq: number; hash: string }>();
  private done = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  /** Registry statements written by this instance. */
  written = 0;

  constructor(private o: CheckpointerOptions) {
    this.timer = setInterval(() => void this.flush(), o.intervalMs);
    this.timer.unref(); // never keeps the process alive
  }

  /** Entries of `chain` are durable and signed up to (seq, hash). */
  advanced(chain: string, seq: number, hash: string): void {
    this.owed.set(chain, { seq, hash });
    if (seq - (this.done.get(chain) ?? 0) >= this.o.every) void this.flush();
  }

  /** Write a registry statement if a chain moved; resolves when done (or failed). */
  flush(): Promise<void> {
    this.tail = this.tail.then(() => this.writeOwed());
    return this.tail;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeOwed(): Promise<void> {
    if (this.owed.size === 0) return;
    const heads = new Map(this.owed);
    try {
      const sink = this.o.anchors?.sinkId() ?? null;
      const w = await deadline(appendRegistry(this.o.redis, this.o.keys, this.o.sign, heads, sink, this.o.now ?? (() => new Date())), this.o.timeoutMs * 4);
      if (w) {
        await this.o.anchors?.append([{ stream: 'registry', id: w.id, jws: w.jws }]);
        this.written++;
      }
    } catch (e) {
      this.o.log.warn({ err: { message: (e as Error).message } }, 'chain registry statement not written; will retry');
      return;
    }
    for (const [chain, head] of heads) {
      this.done.set(chain, head.seq);
      if (this.owed.get(chain)?.seq === head.seq) this.owed.delete(chain);
    }
  }
}

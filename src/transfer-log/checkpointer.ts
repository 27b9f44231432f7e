// When to sign: every `every` entries of a chain, or every `intervalMs` while a chain has moved
// (issue 5). Checkpoints are written off the append path: a failed one is retried on the next
// tick and never fails an append, because the entries themselves are already durable.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { storeCheckpoint, type CheckpointSigner } from './checkpoint.ts';
import type { LogKeys } from './keys.ts';
import { deadline } from './deadline.ts';

export interface CheckpointerOptions {
  redis: Redis;
  keys: LogKeys;
  sign: CheckpointSigner;
  log: Logger;
  every: number;
  intervalMs: number;
  /** Reply deadline (redis.commandTimeoutMs): a hanging Redis must not wedge the checkpointer. */
  timeoutMs: number;
}

export class Checkpointer {
  /** chain -> durable head not yet covered by a checkpoint */
  private owed = new Map<string, { seq: number; hash: string }>();
  private done = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  written = 0;

  constructor(private o: CheckpointerOptions) {
    this.timer = setInterval(() => void this.flush(), o.intervalMs);
    this.timer.unref(); // never keeps the process alive
  }

  /** Entries of `chain` are durable up to (seq, hash). */
  advanced(chain: string, seq: number, hash: string): void {
    this.owed.set(chain, { seq, hash });
    if (seq - (this.done.get(chain) ?? 0) >= this.o.every) void this.flush();
  }

  /** Sign and store a checkpoint for every chain that moved; resolves when done (or failed). */
  flush(): Promise<void> {
    this.tail = this.tail.then(() => this.writeOwed());
    return this.tail;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeOwed(): Promise<void> {
    for (const [chain, head] of [...this.owed]) {
      try {
        const jws = await this.o.sign({ kind: 'periodic', chain, ...head });
        await deadline(storeCheckpoint(this.o.redis, this.o.keys, jws), this.o.timeoutMs);
      } catch (e) {
        this.o.log.warn({ err: { message: (e as Error).message }, chain }, 'transfer log checkpoint not written; will retry');
        return;
      }
      this.written++;
      this.done.set(chain, head.seq);
      if (this.owed.get(chain)?.seq === head.seq) this.owed.delete(chain);
    }
  }
}

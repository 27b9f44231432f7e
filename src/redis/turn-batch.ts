// Group commit for hot-path Redis calls: calls made in one turn of the event loop (the requests
// whose bytes arrived in the same poll phase, and whatever their callbacks start) are grouped by
// key and sent as one call per group on setImmediate, instead of one round trip each. A group is
// all or nothing for its callers: if its call fails, every caller in it rejects (DESIGN 1).
interface Waiter<I, R> { item: I; resolve(r: R): void; reject(e: unknown): void }
interface Group<I, R> { key: string; waiters: Waiter<I, R>[]; size: number }

export interface TurnBatchOptions<I> {
  /** Most `size` one group may hold; a caller that would overflow it starts the next group. */
  maxSize?: number;
  /** A caller's weight in a group (default 1). */
  size?(item: I): number;
  /**
   * At most one call in flight per key: what arrives meanwhile gathers into the next group, sent
   * when the call before it has answered (group commit, as the transfer log's writer does). Fewer,
   * larger calls: each write call costs Redis a read, a reply and an AOF fsync of its own.
   */
  oneInFlight?: boolean;
}

export class TurnBatch<I, R> {
  /** Per key, the groups not sent yet, oldest first; only the last one still takes callers. */
  private queues = new Map<string, Group<I, R>[]>();
  private busy = new Set<string>();
  private scheduled = false;

  /** `run` answers one group: one result per item, in order; a throw rejects the whole group. */
  constructor(private readonly run: (key: string, items: I[]) => Promise<readonly R[]>, private readonly opts: TurnBatchOptions<I> = {}) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const w = this.opts.size?.(item) ?? 1;
      let q = this.queues.get(key);
      if (!q) this.queues.set(key, (q = []));
      let g = q[q.length - 1];
      // A caller is never split across groups, so all-or-nothing holds per caller.
      if (!g || g.size + w > (this.opts.maxSize ?? Infinity)) q.push((g = { key, waiters: [], size: 0 }));
      g.waiters.push({ item, resolve, reject });
      g.size += w;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const [key, q] of this.queues) {
      if (!this.opts.oneInFlight) {
        this.queues.delete(key);
        for (const g of q) void this.settle(g);
        continue;
      }
      if (this.busy.has(key)) continue; // sent when the call in flight answers
      const g = q.shift()!;
      if (q.length === 0) this.queues.delete(key);
      this.busy.add(key);
      void this.settle(g).finally(() => {
        this.busy.delete(key);
        if (this.queues.has(key)) this.schedule();
      });
    }
  }

  private async settle({ key, waiters }: Group<I, R>): Promise<void> {
    try {
      const out = await this.run(key, waiters.map((w) => w.item));
      if (out.length !== waiters.length) throw new Error(`turn batch: ${out.length} results for ${waiters.length} calls`);
      waiters.forEach((w, i) => w.resolve(out[i]!));
    } catch (e) {
      waiters.forEach((w) => w.reject(e));
    }
  }
}

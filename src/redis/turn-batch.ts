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
}

export class TurnBatch<I, R> {
  private open = new Map<string, Group<I, R>>();
  private full: Group<I, R>[] = [];
  private scheduled = false;

  /** `run` answers one group: one result per item, in order; a throw rejects the whole group. */
  constructor(private readonly run: (key: string, items: I[]) => Promise<readonly R[]>, private readonly opts: TurnBatchOptions<I> = {}) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const w = this.opts.size?.(item) ?? 1;
      let g = this.open.get(key);
      if (g && g.size + w > (this.opts.maxSize ?? Infinity)) {
        this.full.push(g); // a caller is never split across groups, so all-or-nothing holds per caller
        g = undefined;
      }
      if (!g) this.open.set(key, (g = { key, waiters: [], size: 0 }));
      g.waiters.push({ item, resolve, reject });
      g.size += w;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const groups = [...this.full, ...this.open.values()];
    this.full = [];
    this.open = new Map();
    this.scheduled = false;
    for (const g of groups) void this.settle(g);
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

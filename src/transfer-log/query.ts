// Reading the log for auditors (CONTRACT 5): pages newest first with a cursor, `since` for SSE
// resume (Last-Event-ID = stream id), a live follow, and a streamed export. Every read walks the
// streams in batches and stops after `maxScan` entries per call, so a sparse filter never turns
// one request into a scan of the whole log (the cursor then says where to go on).
// Issue [6/6] item 2: every chain has its own streams; each read fans out over the chains and
// merges by stream id (merge.ts). A cursor stays one stream id, opaque to the caller (the routes
// seal it): a page never ends between two entries of equal id on different chains, so resuming
// after it on every chain skips nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from '../deps.ts';
import { validationFailed } from '../http/problem.ts';
import type { TransferEntry } from './entry.ts';
import { compileFilter, type CompiledFilter, type TransferFilter } from './filter.ts';
import type { LogKeys } from './keys.ts';
import { listChains } from './chains.ts';
import { compareIds, mergeByTime } from './merge.ts';
import { isExclusiveBound } from '../redis/stream-id.ts';
import { parseEntry, scanIdList, scanStream, streamIdMs, type LoggedEntry, type RawEntry } from './scan.ts';
import type { SubjectRefFn } from './subject-ref.ts';

/** How far before an entry's `at` its stream id can be, on one clock (find's first pass). */
const NEAR_MS = 1000;

export interface Page { items: TransferEntry[]; nextCursor: string | null }
export interface SinceResult { items: LoggedEntry[]; /** Resume point: the last stream id read. */ cursor: string | null }
interface Scanned { streamId: string; chain: string; entry: TransferEntry | null }

export class TransferQuery {
  constructor(private redis: Redis, private keys: LogKeys, private subjectRef: SubjectRefFn, private maxScan = 10_000) {}

  compile(filter: TransferFilter): CompiledFilter {
    return compileFilter(filter, this.subjectRef);
  }

  /** Newest first. `nextCursor` is null only when nothing older matches. */
  async page(filter: TransferFilter, opts: { limit: number; cursor?: string | null }): Promise<Page> {
    const cf = this.compile(filter);
    const cursor = checkCursor(opts.cursor, 'before');
    const max = cursor ? `(${cursor}` : cf.max;
    const items: Scanned[] = [];
    let scanned = 0;
    for await (const s of this.scan(cf, 'desc', cf.min, max, Math.min(1000, opts.limit + 1))) {
      if (s.entry) {
        if (items.length >= opts.limit) {
          const lastId = items[items.length - 1]!.streamId;
          if (s.streamId !== lastId) return { items: items.map((i) => i.entry!), nextCursor: lastId };
          // Equal ids on two chains: the page may not end inside the group (the cursor is one id).
          const kept = items.filter((i) => i.streamId !== lastId);
          if (kept.length > 0) return { items: kept.map((i) => i.entry!), nextCursor: kept[kept.length - 1]!.streamId };
        }
        items.push(s);
      }
      if (++scanned >= this.maxScan) return { items: items.map((i) => i.entry!), nextCursor: s.streamId };
    }
    return { items: items.map((i) => i.entry!), nextCursor: null };
  }

  /** Oldest first, strictly after `afterId` (null: from the start of the filter's range). */
  async since(filter: TransferFilter, afterId: string | null, limit = 500): Promise<SinceResult> {
    const cf = this.compile(filter);
    const after = checkCursor(afterId, 'after');
    const items: LoggedEntry[] = [];
    let cursor = after;
    let scanned = 0;
    let full = false;
    for await (const s of this.scan(cf, 'asc', after ? `(${after}` : cf.min, cf.max, 500)) {
      // Stop only between ids: entries of equal id on other chains belong to the same cursor.
      if (full && s.streamId !== cursor) break;
      if (s.entry) items.push({ streamId: s.streamId, entry: s.entry });
      cursor = s.streamId;
      if (items.length >= limit || ++scanned >= this.maxScan) full = true;
    }
    return { items, cursor };
  }

  /**
   * One entry by id in the filter's range (the console's drawer: `from` is the entry's `at`),
   * oldest first from just before `from` — Redis stamps the id a moment after the writer stamps
   * `at` — and stopping at the entry, so a busy partner's later entries are never read; then, for
   * a clock skewed further, the whole widened range. Each pass reads at most maxScan entries.
   */
  async find(filter: TransferFilter, id: string): Promise<TransferEntry | null> {
    const cf = this.compile(filter);
    const near = filter.from === undefined ? cf.min : String(Math.max(0, Date.parse(filter.from) - NEAR_MS));
    for (const min of near === cf.min ? [cf.min] : [near, cf.min]) {
      let scanned = 0;
      for await (const s of this.scan(cf, 'asc', min, cf.max, 100)) {
        if (s.entry?.id === id) return s.entry;
        if (++scanned >= this.maxScan) break;
      }
    }
    return null;
  }

  /**
   * The entry at `seq` of `chain`, by a binary search over the chain's stream ids: seq grows with
   * the stream id within a chain, so about 2 log2(the chain's span in ms) one-entry reads find the
   * millisecond it was stored in, and the rest is read from there (at most one append batch).
   * A console link names the chain and seq, so a busy log (more than maxScan entries around it)
   * does not hide the entry. null when it is not there (trimmed, or never was).
   */
  async findBySeq(chain: string, seq: number): Promise<TransferEntry | null> {
    const key = this.keys.chain(chain).entries;
    const at = async (min: string): Promise<RawEntry | null> => {
      const m = ((await this.redis.xRange(key, min, '+', { COUNT: 1 })) ?? [])[0];
      return m ? { streamId: m.id, fields: m.message as Record<string, string> } : null;
    };
    const seqOf = (r: RawEntry | null) => (r ? parseEntry(r)?.seq ?? null : null);
    const first = await at('-');
    const last = ((await this.redis.xRevRange(key, '+', '-', { COUNT: 1 })) ?? [])[0];
    if (!first || !last) return null;
    let lo = streamIdMs(first.streamId);
    let hi = streamIdMs(last.id);
    // The last millisecond whose first entry is at or before seq (a malformed entry ends the search).
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const s = seqOf(await at(String(mid)));
      if (s === null) return null;
      if (s <= seq) lo = mid;
      else hi = mid - 1;
    }
    let scanned = 0;
    for await (const raw of scanStream(this.redis, key, { direction: 'asc', min: String(lo), batch: 100 })) {
      const e = parseEntry(raw);
      if (!e || e.seq > seq || ++scanned > this.maxScan) return null;
      if (e.seq === seq) return e;
    }
    return null;
  }

  /** The id new entries will come after (the newest of any chain): where a live stream without Last-Event-ID starts. */
  async latestId(): Promise<string> {
    const chains = await listChains(this.redis, this.keys);
    const tops = await Promise.all(chains.map((c) => this.redis.xRevRange(this.keys.chain(c).entries, '+', '-', { COUNT: 1 })));
    let best: { streamId: string; chain: string } = { streamId: '0-0', chain: '' };
    tops.forEach((t, i) => { const id = (t ?? [])[0]?.id; if (id && compareIds({ streamId: id, chain: chains[i]! }, best) > 0) best = { streamId: id, chain: chains[i]! }; });
    return best.streamId;
  }

  /**
   * Live entries after `afterId`, polled every `pollMs`, until `signal` aborts. Each chain keeps
   * its own position while following: two chains stamp ids independently (on a cluster, on
   * different nodes' clocks), so one id for all could pass over an entry another chain stores
   * later with a lower id.
   */
  async *follow(filter: TransferFilter, afterId: string | null, opts: { signal: AbortSignal; pollMs?: number }): AsyncGenerator<LoggedEntry> {
    const cf = this.compile(filter);
    const start = checkCursor(afterId, 'after') ?? (await this.latestId());
    const pos = new Map<string, string>();
    while (!opts.signal.aborted) {
      const got: Scanned[] = [];
      for (const chain of await listChains(this.redis, this.keys)) {
        const from = pos.get(chain) ?? start;
        let n = 0;
        for await (const s of this.scanChain(cf, chain, 'asc', `(${from}`, cf.max, 500)) {
          if (s.entry) got.push(s);
          pos.set(chain, s.streamId);
          if (++n >= 500) break;
        }
      }
      got.sort(compareIds);
      for (const s of got) yield { streamId: s.streamId, entry: s.entry! };
      if (got.length === 0) await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  }

  /** Every matching entry of the range, oldest first, read batch by batch (NDJSON export). */
  async *export(filter: TransferFilter): AsyncGenerator<TransferEntry> {
    const cf = this.compile(filter);
    for await (const s of this.scan(cf, 'asc', cf.min, cf.max, 1000)) if (s.entry) yield s.entry;
  }

  /** Every chain's matching stream, merged by stream id (merge.ts). */
  private async *scan(cf: CompiledFilter, direction: 'asc' | 'desc', min: string, max: string, batch: number): AsyncGenerator<Scanned> {
    const chains = await listChains(this.redis, this.keys);
    yield* mergeByTime(chains.map((c) => this.scanChain(cf, c, direction, min, max, batch)), direction);
  }

  private async *scanChain(cf: CompiledFilter, chain: string, direction: 'asc' | 'desc', min: string, max: string, batch: number): AsyncGenerator<Scanned> {
    const ck = this.keys.chain(chain);
    const range = { direction, min, max, batch };
    const raws = cf.indexed ? scanIdList(this.redis, cf.source(ck), range) : scanStream(this.redis, cf.source(ck), range);
    if (!cf.indexed) {
      for await (const raw of raws) yield { streamId: raw.streamId, chain, entry: keep(cf, parseEntry(raw)) };
      return;
    }
    // Index lists hold only ids: look the entries up, a batch at a time (pipelined).
    let ids: string[] = [];
    for await (const raw of raws) {
      ids.push(raw.streamId);
      if (ids.length < batch) continue;
      yield* await this.lookup(cf, chain, ids);
      ids = [];
    }
    yield* await this.lookup(cf, chain, ids);
  }

  private async lookup(cf: CompiledFilter, chain: string, ids: string[]): Promise<Scanned[]> {
    const entries = this.keys.chain(chain).entries;
    const found = await Promise.all(ids.map((id) => this.redis.xRange(entries, id, id)));
    return ids.map((id, n) => {
      const m = (found[n] ?? [])[0]; // gone when retention trimmed it
      return { streamId: id, chain, entry: m ? keep(cf, parseEntry({ streamId: id, fields: m.message as Record<string, string> })) : null };
    });
  }
}

const keep = (cf: CompiledFilter, e: TransferEntry | null) => (e && cf.match(e) ? e : null);

function checkCursor(c: string | null | undefined, direction: 'after' | 'before'): string | null {
  if (c === undefined || c === null || c === '') return null;
  // Checked before Redis: an id beyond 64 bits, or one Redis refuses as this exclusive bound, is an error there.
  if (!isExclusiveBound(c, direction)) throw validationFailed([{ field: 'cursor', reason: 'malformed cursor' }]);
  return c;
}

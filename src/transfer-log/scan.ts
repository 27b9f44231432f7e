// Walk a Redis stream in batches (XRANGE / XREVRANGE with exclusive continuation), so verify,
// query, export and retention never hold the whole log in memory.
import type { Redis } from '../deps.ts';
import type { TransferEntry } from './entry.ts';
import { inStreamRange } from '../redis/stream-id.ts';

export interface RawEntry { streamId: string; fields: Record<string, string> }
/** An entry with the stream id it was stored under (the cursor and SSE event id). */
export interface LoggedEntry { streamId: string; entry: TransferEntry }

export interface ScanOptions {
  /** asc: oldest first. desc: newest first. */
  direction: 'asc' | 'desc';
  /** Inclusive lower bound, or `(id` exclusive; default `-`. */
  min?: string;
  /** Inclusive upper bound, or `(id` exclusive; default `+`. */
  max?: string;
  batch?: number;
}

export async function* scanStream(redis: Redis, key: string, o: ScanOptions): AsyncGenerator<RawEntry> {
  let min = o.min ?? '-';
  let max = o.max ?? '+';
  const COUNT = o.batch ?? 1000;
  for (;;) {
    const page = o.direction === 'asc'
      ? ((await redis.xRange(key, min, max, { COUNT })) ?? [])
      : ((await redis.xRevRange(key, max, min, { COUNT })) ?? []);
    for (const m of page) yield { streamId: m.id, fields: m.message as Record<string, string> };
    if (page.length < COUNT) return;
    const last = page[page.length - 1]!.id;
    if (o.direction === 'asc') min = `(${last}`;
    else max = `(${last}`;
  }
}

/**
 * A subject index list (keys.ts `bySubject`: stream ids, oldest first), bounded and ordered as
 * scanStream reads a stream. Read whole, one LRANGE: appends push at its tail and retention trims
 * its head meanwhile, so reading it by position in parts could skip or repeat ids; one subject's
 * ids on one chain are few (its releases there within retention).
 */
export async function* scanIdList(redis: Redis, key: string, o: ScanOptions): AsyncGenerator<RawEntry> {
  const keep = inStreamRange(o.min ?? '-', o.max ?? '+');
  const ids = (await redis.lRange(key, 0, -1)).filter(keep);
  if (o.direction === 'desc') ids.reverse();
  for (const streamId of ids) yield { streamId, fields: {} };
}

/** XTRIM MINID for an index list: drops the ids below `minId` from its head (appends go to its tail). */
export async function trimIdList(redis: Redis, key: string, minId: string): Promise<void> {
  const ids = await redis.lRange(key, 0, -1);
  const below = inStreamRange('-', `(${minId}`);
  let n = 0;
  while (n < ids.length && below(ids[n]!)) n++;
  if (n > 0) await redis.lTrim(key, n, -1);
}

export function parseEntry(raw: RawEntry): TransferEntry | null {
  try {
    const e = JSON.parse(raw.fields.e ?? '') as TransferEntry;
    return e && typeof e === 'object' && typeof e.chain === 'string' && Number.isInteger(e.seq) ? e : null;
  } catch {
    return null;
  }
}

/** Stream ids start with the milliseconds at which Redis stored the entry. */
export const streamIdMs = (id: string) => Number(id.split('-')[0]);

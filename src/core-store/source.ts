// Where the reference store's users come from: deterministic synthetic users, or an NDJSON file
// (CONTRACT 3: `CORE_STORE_DATA=path`, one record a line) so any dataset can be plugged in.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { UserRecord } from './record.ts';
import { DEFAULT_NOW, indexOfUserId, syntheticUpdatedAt, syntheticUser } from './synthetic.ts';
import { decodeCursor, encodeCursor, InvalidQueryError, MAX_LIMIT } from './query.ts';

export interface PageQuery {
  limit: number;
  /** Opaque, from a previous page's nextCursor; invalid ones throw InvalidQueryError('cursor'). */
  cursor?: string | null | undefined;
  /** Only records whose updatedAt is at or after this instant. */
  updatedSince?: Date | null | undefined;
}

export interface Page {
  items: UserRecord[];
  /** null when there is nothing after this page. */
  nextCursor: string | null;
}

export interface UserSource {
  readonly count: number;
  get(id: string): UserRecord | undefined;
  page(query: PageQuery): Page;
}

/**
 * Walk indexes from the cursor, keeping records that match, until the page is full. `updatedAtOf`
 * is separate from `recordAt` so the synthetic source can skip records without generating them.
 */
function scan(
  count: number,
  query: PageQuery,
  updatedAtOf: (i: number) => string | undefined,
  recordAt: (i: number) => UserRecord,
): Page {
  const { limit } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidQueryError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const since = query.updatedSince ? query.updatedSince.getTime() : null;
  const items: UserRecord[] = [];
  let i = query.cursor ? decodeCursor(query.cursor, count) : 0;
  for (; i < count && items.length < limit; i++) {
    if (since !== null) {
      const updated = Date.parse(updatedAtOf(i) ?? '');
      // A record without a readable updatedAt may have changed at any time: include it rather
      // than let an incremental sync miss it.
      if (updated < since) continue;
    }
    items.push(recordAt(i));
  }
  return { items, nextCursor: i < count ? encodeCursor(i) : null };
}

/** Users u_000000 .. u_<count-1>, generated on demand: memory is O(page), not O(count). */
export function syntheticSource(count: number, now: Date = DEFAULT_NOW): UserSource {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`user count must be a non-negative integer (got ${count})`);
  return {
    count,
    get(id) {
      const index = indexOfUserId(id);
      return index !== null && index < count ? syntheticUser(index, now) : undefined;
    },
    page: (query) => scan(count, query, (i) => syntheticUpdatedAt(i, now), (i) => syntheticUser(i, now)),
  };
}

/**
 * Load every record of an NDJSON file. Only `id` is checked: a real store's other fields are its
 * own business and reach partners only through the gateway's field map. Error messages name the
 * line but never quote it, since lines hold personal data.
 */
export async function loadNdjsonSource(path: string): Promise<UserSource> {
  const records: UserRecord[] = [];
  const lineOf = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${path} line ${n}: not valid JSON`);
    }
    const id = (value as { id?: unknown } | null)?.id;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof id !== 'string' || id === '') {
      throw new Error(`${path} line ${n}: a record must be a JSON object with a non-empty string "id"`);
    }
    const first = lineOf.get(id);
    if (first !== undefined) throw new Error(`${path} line ${n}: duplicate id, first used on line ${first}`);
    lineOf.set(id, n);
    records.push(value as UserRecord);
  }
  const indexOf = new Map([...lineOf.keys()].map((id, i) => [id, i]));
  const at = (i: number) => records[i] as UserRecord;
  return {
    count: records.length,
    get: (id) => {
      const i = indexOf.get(id);
      return i === undefined ? undefined : at(i);
    },
    page: (query) => scan(records.length, query, (i) => (typeof at(i).updatedAt === 'string' ? at(i).updatedAt : undefined), at),
  };
}

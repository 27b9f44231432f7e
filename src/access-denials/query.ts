// Reading the access-denial record (RULES 48, 49): auditors page through it by UTC day, newest
// first, filtered by reason and client. Each day is one hash of counts plus a capped example list
// per key, so a page costs a bounded number of reads however large the flood was.
import { countsKey, DAY_MS, dayOf, examplesKey } from './record.ts';
import type { DenialExample, DenialReason } from './reasons.ts';

/** What the query needs of Redis (node-redis provides it). */
export interface DenialReadRedis {
  hGetAll(key: string): Promise<Record<string, string>>;
  lRange(key: string, start: number, stop: number): Promise<string[]>;
}

export interface DenialFilter {
  /** Inclusive UTC days, YYYY-MM-DD. */
  from: string;
  to: string;
  reason?: DenialReason;
  /** A registered client id, 'unregistered' or 'unknown'. */
  clientId?: string;
}

export interface DenialRow {
  day: string;
  clientId: string;
  reason: string;
  count: number;
  examples: DenialExample[];
}

/** Days read per page at most, so one request never walks the whole retention period. */
export const DAYS_PER_PAGE = 31;

const prevDay = (day: string) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS));

export async function denialPage(redis: DenialReadRedis, f: DenialFilter, opts: { limit: number; startDay?: string | null }): Promise<{ items: DenialRow[]; nextDay: string | null }> {
  const items: DenialRow[] = [];
  let day = opts.startDay && opts.startDay < f.to ? opts.startDay : f.to;
  for (let n = 0; n < DAYS_PER_PAGE && day >= f.from; n++, day = prevDay(day)) {
    const counts = await redis.hGetAll(countsKey(day));
    const rows = Object.entries(counts)
      .map(([field, count]) => ({ field, clientId: field.slice(0, field.lastIndexOf('|')), reason: field.slice(field.lastIndexOf('|') + 1), count: Number(count) }))
      .filter((r) => (f.reason === undefined || r.reason === f.reason) && (f.clientId === undefined || r.clientId === f.clientId))
      .sort((a, b) => b.count - a.count || a.field.localeCompare(b.field));
    for (const r of rows) {
      const examples = (await redis.lRange(examplesKey(day, r.field), 0, -1)).map((s) => JSON.parse(s) as DenialExample)
        .sort((a, b) => a.at.localeCompare(b.at));
      items.push({ day, clientId: r.clientId, reason: r.reason, count: r.count, examples });
    }
    // A page ends on a day boundary, so a cursor (the next day to read) never splits a day.
    if (items.length >= opts.limit) return { items, nextDay: prevDay(day) >= f.from ? prevDay(day) : null };
  }
  return { items, nextDay: day >= f.from ? day : null };
}

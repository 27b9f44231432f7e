// The overview's buckets shared through Redis (issue 16: each page under 1 s with 100,000 log
// entries): one key holds the one-minute buckets of the last week and the stream id they cover,
// so a restarted or second instance starts from it and folds only what came after. Counts only
// (minute, decision, reason code, partner id, cross-border and egress-guard counts): no personal
// data (RULES 24). Bounded: at most a week of minutes (10,080 buckets) and a PEXPIRE of a week.
// A full week with 8 partners and 5 denial reasons a minute is 2.9 MB of JSON; deflated (level 1,
// ~10 ms) and in base64 it is ~60 kB, so writing it every few seconds stays cheap for Redis.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Redis } from '../deps.ts';

export const SNAPSHOT_KEY = 'pg:console:overview';
const WEEK_MS = 7 * 86_400_000;

/** One minute's counts, as overview-stats.ts folds them. */
export interface BucketCounts {
  released: number;
  denied: number;
  crossBorder: number;
  egressGuard: number;
  reasons: Record<string, number>;
  partners: Record<string, number>;
}

export interface OverviewSnapshot {
  /** The last stream id folded into the buckets. */
  cursor: string;
  /** Whether the week had been read to its end once (the first read is complete). */
  complete: boolean;
  scanned: number;
  /** Minute start (ms) -> counts. */
  buckets: Array<[number, BucketCounts]>;
}

/** What the overview asks of the snapshot store (a narrow interface: DESIGN). */
export interface SnapshotStore {
  read(): Promise<OverviewSnapshot | null>;
  /** false: the stored snapshot covers this cursor or a newer one already (nothing written). */
  write(s: OverviewSnapshot): Promise<boolean>;
}

// Compare-and-set on the cursor: an instance that has read less of the log never overwrites one
// that has read more, whichever writes last. Stream ids compare as (ms, seq) pairs of integers.
const WRITE = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local cur = redis.call('HGET', KEYS[1], 'cursor')
if cur then
  local a, b = parse(cur)
  local c, d = parse(ARGV[1])
  if a and (c < a or (c == a and d <= b)) then return 0 end
end
redis.call('HSET', KEYS[1], 'cursor', ARGV[1], 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

export function redisSnapshotStore(redis: Pick<Redis, 'eval' | 'hGetAll'>): SnapshotStore {
  return {
    async read() {
      const h = await redis.hGetAll(SNAPSHOT_KEY);
      if (!h.cursor || !h.data || !STREAM_ID.test(h.cursor)) return null;
      const d = JSON.parse(inflateRawSync(Buffer.from(h.data, 'base64')).toString('utf8')) as Omit<OverviewSnapshot, 'cursor'>;
      return { cursor: h.cursor, complete: d.complete === true, scanned: Number(d.scanned) || 0, buckets: Array.isArray(d.buckets) ? d.buckets : [] };
    },
    async write(s) {
      if (!STREAM_ID.test(s.cursor)) return false;
      const data = deflateRawSync(JSON.stringify({ complete: s.complete, scanned: s.scanned, buckets: s.buckets }), { level: 1 }).toString('base64');
      return (await redis.eval(WRITE, { keys: [SNAPSHOT_KEY], arguments: [s.cursor, data, String(WEEK_MS)] })) === 1;
    },
  };
}

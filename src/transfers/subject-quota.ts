// RULES 6, 44: need-to-know volume. Each (partner, purpose, UTC day) has a Redis set of the
// distinct subjects released to it that day, so a quota counts people, not requests: a subject
// already received today does not count again. The set holds the transfer log's subjectRef (an
// ops-side keyed hash, CONTRACT 7), never a user id, and expires after ~2 days (DESIGN 7).
import type { Redis } from '../deps.ts';
import { deadline } from '../transfer-log/deadline.ts';
import { Problem, redisUnavailable } from '../http/problem.ts';
import { REASONS } from '../policy/denial.ts';
import { TurnBatch } from '../redis/turn-batch.ts';

// One script per page, so two streams of the same partner cannot both take the last places:
// a ref is added only while the set is below the quota; 1 = may be released, 0 = over quota.
const RESERVE = `
local quota = tonumber(ARGV[1])
local n = redis.call('SCARD', KEYS[1])
local out = {}
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then
    out[#out + 1] = 1
  elseif n < quota then
    redis.call('SADD', KEYS[1], ARGV[i])
    n = n + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return out`;

/** Long enough to outlive the day it counts, short enough that nothing lingers. */
const TTL_S = 2 * 86_400;

const utcDay = (now: Date) => now.toISOString().slice(0, 10);
const setKey = (partnerId: string, purpose: string, now: Date) => `pg:quota:${partnerId}:${purpose}:${utcDay(now)}`;

/** RULES 44: a 429 says when to come back: the next UTC midnight. */
export function secondsToNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

export function quotaExceeded(now: Date): Problem {
  return new Problem({
    status: 429, code: 'quota_exceeded', detail: REASONS.quota_exceeded.title,
    headers: { 'Retry-After': String(secondsToNextUtcDay(now)) },
  });
}

export interface SubjectQuota {
  /** For each ref, in order: may it be released today (reserved now or already received)? */
  reserve(partnerId: string, purpose: string, quota: number, refs: readonly string[], now: Date): Promise<boolean[]>;
  /** No new subject fits today (a bulk pull is refused before it starts). */
  full(partnerId: string, purpose: string, quota: number, now: Date): Promise<boolean>;
}

interface Reservation { key: string; quota: number; refs: readonly string[] }

/** Fail closed (DESIGN 1): a Redis that errs or does not answer in time is a 503, nothing released. */
export class RedisSubjectQuota implements SubjectQuota {
  // Issue 17 item 3: the reservations of one event-loop turn for the same set and quota (concurrent
  // single pulls) share one script call. The script takes refs in order, so each caller gets what
  // it would have got calling alone in that order; a failed call fails every caller in it.
  private readonly batch: TurnBatch<Reservation, boolean[]>;

  constructor(private readonly redis: Pick<Redis, 'eval' | 'sCard'>, private readonly timeoutMs: number) {
    this.batch = new TurnBatch(async (_group, asks) => {
      const { key, quota } = asks[0]!;
      const out = (await deadline(this.redis.eval(RESERVE, {
        keys: [key], arguments: [String(quota), String(TTL_S), ...asks.flatMap((a) => a.refs)],
      }), this.timeoutMs)) as number[];
      let i = 0;
      return asks.map((a) => a.refs.map(() => out[i++] === 1));
    });
  }

  async reserve(partnerId: string, purpose: string, quota: number, refs: readonly string[], now: Date): Promise<boolean[]> {
    if (!refs.length) return [];
    const key = setKey(partnerId, purpose, now);
    try {
      return await this.batch.add(`${quota} ${key}`, { key, quota, refs });
    } catch {
      throw redisUnavailable();
    }
  }

  async full(partnerId: string, purpose: string, quota: number, now: Date): Promise<boolean> {
    try {
      return (await deadline(this.redis.sCard(setKey(partnerId, purpose, now)), this.timeoutMs)) >= quota;
    } catch {
      throw redisUnavailable();
    }
  }
}

// RULES 23 DELETE_UNCONFIRMED: a deletion notice (`retention_expired`, or `subject_erased`) must be
// confirmed by the partner — a 2xx from its webhook, or POST /v1/notifications/{id}/ack — within
// notices.confirmWithinSeconds of being queued. One not confirmed by then is overdue: listed for
// admins and auditors and counted per partner and type. All of it is Redis state, moved by Lua
// scripts (a sweep on every instance's worker pass, and at read time), so it survives restarts and
// several instances sweeping at once move each notice once. Nothing here holds a user id.
import type { Redis } from '../deps.ts';
import { member, splitMember, type NoticeKeys } from './keys.ts';
import type { NoticeType } from './notice.ts';

/** The notices that ask the partner to delete, and so need its confirmation (RULES 23). */
export const CONFIRMED_TYPES: readonly NoticeType[] = ['retention_expired', 'subject_erased'];

/**
 * Lua: the bookkeeping of one confirmation, shared by the webhook's 2xx (queue.ts FINISH) and the
 * pull ack below. An overdue notice confirmed late leaves the overdue list and its count.
 */
export const CONFIRM_FN = `
local function confirm(ackdue, overdue, acktype, counts, m)
  redis.call('ZREM', ackdue, m)
  if redis.call('ZREM', overdue, m) == 1 then
    local f = string.match(m, '^[^/]*') .. '|' .. (redis.call('HGET', acktype, m) or '')
    if redis.call('HINCRBY', counts, f, -1) <= 0 then redis.call('HDEL', counts, f) end
  end
  redis.call('HDEL', acktype, m)
end
`;

// KEYS: delivery hash, due, ackdue, overdue, acktype, counts. ARGV: member, now (ISO).
// Idempotent: a second ack answers the first acknowledgement's time and channel.
const ACK = `${CONFIRM_FN}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local at = redis.call('HGET', KEYS[1], 'ackAt')
if at then return {'already', at, redis.call('HGET', KEYS[1], 'ackBy') or 'webhook'} end
redis.call('HSET', KEYS[1], 'ackAt', ARGV[2], 'ackBy', 'pull')
redis.call('ZREM', KEYS[2], ARGV[1])
confirm(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1])
return {'ok', ARGV[2], 'pull'}`;

// KEYS: ackdue, overdue, acktype, counts. ARGV: now (ms), limit. Moves what passed its deadline.
const SWEEP = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local out = {}
for i = 1, #due, 2 do
  local m, s = due[i], due[i + 1]
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], s, m)
  local t = redis.call('HGET', KEYS[3], m) or ''
  redis.call('HINCRBY', KEYS[4], string.match(m, '^[^/]*') .. '|' .. t, 1)
  out[#out + 1] = m
  out[#out + 1] = t
end
return out`;

export interface Acknowledgement {
  noticeId: string; ackAt: string; via: 'pull' | 'webhook';
  /** False the first time: a repeat answers the first confirmation. */
  repeated: boolean;
}
export interface OverdueCount { partnerId: string; type: string; count: number }
export interface OverdueItem {
  noticeId: string; partnerId: string; type: string;
  queuedAt: string | null; confirmBy: string; attempts: number; lastStatus: string | null;
}

export class Confirmations {
  constructor(private readonly redis: Redis, private readonly keys: NoticeKeys) {}

  /** The owning partner's acknowledgement; null when `partnerId` has no notice `noticeId` (RULES 42). */
  async ack(partnerId: string, noticeId: string, now: number): Promise<Acknowledgement | null> {
    const m = member(partnerId, noticeId);
    const k = this.keys;
    const r = (await this.redis.eval(ACK, {
      keys: [k.delivery(m), k.due, k.ackDue, k.overdue, k.ackType, k.overdueCount],
      arguments: [m, new Date(now).toISOString()],
    })) as string[];
    if (r[0] === 'none') return null;
    return { noticeId, ackAt: r[1]!, via: r[2] === 'pull' ? 'pull' : 'webhook', repeated: r[0] === 'already' };
  }

  /** Move every notice past its deadline at `now` to the overdue list; returns what moved. */
  async sweep(now: number, limit = 1000): Promise<Array<{ partnerId: string; noticeId: string; type: string }>> {
    const k = this.keys;
    const flat = (await this.redis.eval(SWEEP, { keys: [k.ackDue, k.overdue, k.ackType, k.overdueCount], arguments: [String(now), String(limit)] })) as string[];
    const out: Array<{ partnerId: string; noticeId: string; type: string }> = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [partnerId, noticeId] = splitMember(flat[i]!);
      out.push({ partnerId, noticeId, type: flat[i + 1]! });
    }
    return out;
  }

  /** Overdue notices per partner and type (every one, not just a page). */
  async counts(): Promise<OverdueCount[]> {
    const h = await this.redis.hGetAll(this.keys.overdueCount);
    return Object.entries(h).map(([f, n]) => {
      const i = f.indexOf('|');
      return { partnerId: f.slice(0, i), type: f.slice(i + 1), count: Number(n) };
    }).filter((c) => c.count > 0).sort((a, b) => a.partnerId.localeCompare(b.partnerId) || a.type.localeCompare(b.type));
  }

  /** The `limit` longest overdue, oldest deadline first, and how many there are in all. */
  async list(limit: number): Promise<{ items: OverdueItem[]; total: number }> {
    const k = this.keys;
    const [rows, total] = await Promise.all([this.redis.zRangeWithScores(k.overdue, 0, limit - 1), this.redis.zCard(k.overdue)]);
    const items = await Promise.all(rows.map(async ({ value, score }) => {
      const [partnerId, noticeId] = splitMember(value);
      const [h, type] = await Promise.all([this.redis.hGetAll(k.delivery(value)), this.redis.hGet(k.ackType, value)]);
      return {
        noticeId, partnerId, type: type ?? '', queuedAt: h.createdAt ? new Date(Number(h.createdAt)).toISOString() : null,
        confirmBy: new Date(score).toISOString(), attempts: Number(h.attempts ?? 0), lastStatus: h.lastStatus ?? null,
      };
    }));
    return { items, total };
  }
}

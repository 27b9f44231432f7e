// The notice queue in Redis: each notice goes into the partner's stream (pull) and, in the same
// script, into the due-deliveries zset (push). Deliveries are claimed by moving their score to a
// lease deadline, so two instances never deliver one at once and a crash mid-delivery only delays
// it (the lease runs out and it is due again). The leased score is the claim: whoever finishes
// must still hold it.
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { member, splitMember, type NoticeKeys } from './keys.ts';
import type { Notice } from './notice.ts';
import { CONFIRMED_TYPES, CONFIRM_FN } from './confirmations.ts';

const SEEN_TTL_S = 30 * 86_400;

const ENQUEUE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) then return 0 end
redis.call('XADD', KEYS[2], '*', 'n', ARGV[1])
redis.call('HSET', KEYS[3], 'notice', ARGV[1], 'createdAt', ARGV[3], 'attempts', 0)
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2]); redis.call('HSET', KEYS[6], ARGV[2], ARGV[6]) end
return 1`;

// Claimed members are returned; their hashes are read afterwards.
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], m) end
return due`;

// ARGV: lease, outcome, status, next attempt (ms) or time (ISO), dead-letter JSON, member.
// ack|retry|dead follow an attempt; defer (agreements not loaded yet) and drop (pull only) do not.
// An ack also settles the notice's confirmation (RULES 23; KEYS[4..7], confirmations.ts).
const FINISH = `${CONFIRM_FN}
local s = redis.call('ZSCORE', KEYS[1], ARGV[6])
if not s or tonumber(s) ~= tonumber(ARGV[1]) then return 0 end
local o = ARGV[2]
if o == 'defer' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[6]); return 1 end
if o ~= 'drop' then redis.call('HINCRBY', KEYS[2], 'attempts', 1) end
redis.call('HSET', KEYS[2], 'lastStatus', ARGV[3])
if o == 'retry' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[6]); return 1 end
redis.call('ZREM', KEYS[1], ARGV[6])
if o == 'ack' then
  redis.call('HSET', KEYS[2], 'ackAt', ARGV[4], 'ackBy', 'webhook')
  confirm(KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[6])
end
if o == 'dead' then redis.call('HSET', KEYS[2], 'deadAt', ARGV[4]); redis.call('LPUSH', KEYS[3], ARGV[5]) end
return 1`;

// A dead letter sent again (issue 16, RULES 23): KEYS[2] delivery hash, KEYS[3] dead list, KEYS[4]
// due zset; ARGV[5] member, ARGV[6] notice id, ARGV[7] partner id, ARGV[8] now (ms). Its entry
// leaves the dead list and it is due at once, with a fresh notices.deadLetterAfterMs window
// (retriedAt); written with its admin audit entry.
const RETRY_DEAD = `
local dead = redis.call('HGET', KEYS[2], 'deadAt')
if not dead or redis.call('HEXISTS', KEYS[2], 'notice') == 0 then return {0} end
for _, s in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local ok, e = pcall(cjson.decode, s)
  if ok and type(e) == 'table' and e.noticeId == ARGV[6] and e.partnerId == ARGV[7] then redis.call('LREM', KEYS[3], 1, s) end
end
redis.call('HDEL', KEYS[2], 'deadAt')
redis.call('HSET', KEYS[2], 'retriedAt', ARGV[8])
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[5])
audit(ARGV[5], cjson.encode({deadAt = dead}), cjson.encode({retriedAt = ARGV[1]}))
return {1}`;

/** One notice of a partner and how its delivery stands (no subject: the console shows ids and states). */
export interface DeliveryRow {
  noticeId: string; type: string; at: string; purposes: string[];
  attempts: number; lastStatus: string | null; ackAt: string | null; ackBy: string | null; deadAt: string | null; retriedAt: string | null;
}

export interface Claimed {
  member: string;
  partnerId: string;
  lease: number;
  notice: Notice;
  createdAt: number;
  /** A dead letter retried by an admin: its dead-letter window starts again here (ms; 0 if never). */
  retriedAt: number;
  attempts: number;
}

export type Outcome =
  | { kind: 'ack' | 'drop'; status: string }
  | { kind: 'retry' | 'defer'; status: string; nextAt: number }
  | { kind: 'dead'; status: string; entry: object };

export class NoticeQueue {
  /** @param confirmWithinMs RULES 23: how long a partner has to confirm a deletion notice. */
  constructor(private readonly redis: Redis, readonly keys: NoticeKeys, private readonly confirmWithinMs = 86_400_000) {}

  /** False when this notice id was queued before (idempotent fan-out). */
  async enqueue(partnerId: string, notice: Notice, now = Date.now()): Promise<boolean> {
    const m = member(partnerId, notice.id);
    const k = this.keys;
    const r = await this.redis.eval(ENQUEUE, {
      keys: [k.seen(notice.id), k.stream(partnerId), k.delivery(m), k.due, k.ackDue, k.ackType],
      // RULES 23: a deletion notice is tracked until confirmed, in the same script as its queueing.
      arguments: [JSON.stringify(notice), m, String(now), String(SEEN_TTL_S),
        CONFIRMED_TYPES.includes(notice.type) ? String(now + this.confirmWithinMs) : '', notice.type],
    });
    return r === 1;
  }

  /** Oldest first, after `cursor` (a stream id), at most `limit`. */
  async list(partnerId: string, cursor: string | null, limit: number): Promise<{ items: Notice[]; nextCursor: string | null }> {
    const rows = ((await this.redis.xRange(this.keys.stream(partnerId), cursor ? `(${cursor}` : '-', '+', { COUNT: limit })) ?? []);
    const items = rows.map((r) => JSON.parse(String(r.message.n)) as Notice);
    return { items, nextCursor: rows.at(-1)?.id ?? cursor };
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<Claimed[]> {
    const lease = now + leaseMs;
    const members = (await this.redis.eval(CLAIM, { keys: [this.keys.due], arguments: [String(now), String(lease), String(limit)] })) as string[];
    const out: Claimed[] = [];
    for (const m of members) {
      const h = await this.redis.hGetAll(this.keys.delivery(m));
      if (!h.notice) {
        await this.redis.zRem(this.keys.due, m); // nothing left to send
        continue;
      }
      out.push({ member: m, partnerId: splitMember(m)[0], lease, notice: JSON.parse(h.notice) as Notice, createdAt: Number(h.createdAt), retriedAt: Number(h.retriedAt ?? 0), attempts: Number(h.attempts ?? 0) });
    }
    return out;
  }

  /** False when the claim was lost (the lease ran out and another instance took it). */
  async finish(c: Claimed, o: Outcome, now = Date.now()): Promise<boolean> {
    const time = o.kind === 'retry' || o.kind === 'defer' ? String(o.nextAt) : new Date(now).toISOString();
    const r = await this.redis.eval(FINISH, {
      keys: [this.keys.due, this.keys.delivery(c.member), this.keys.dead, this.keys.ackDue, this.keys.overdue, this.keys.ackType, this.keys.overdueCount],
      arguments: [String(c.lease), o.kind, o.status, time, o.kind === 'dead' ? JSON.stringify(o.entry) : '', c.member],
    });
    return r === 1;
  }

  /** Delivery record of one notice: attempts, last status, ack or dead-letter time. */
  async state(partnerId: string, noticeId: string): Promise<Record<string, string>> {
    const { notice: _n, ...rest } = await this.redis.hGetAll(this.keys.delivery(member(partnerId, noticeId)));
    return rest;
  }

  async deadLetters(limit: number): Promise<object[]> {
    return (await this.redis.lRange(this.keys.dead, 0, limit - 1)).map((s) => JSON.parse(s) as object);
  }

  /** Send a dead letter again (admin; audited). False when it is not (or no longer) a dead letter. */
  async retryDead(actor: Actor, partnerId: string, noticeId: string, now = Date.now()): Promise<boolean> {
    const m = member(partnerId, noticeId);
    const [r] = await auditedEval(this.redis, RETRY_DEAD, actor, 'notice.retry', [this.keys.delivery(m), this.keys.dead, this.keys.due],
      [m, noticeId, partnerId, String(now)], new Date(now));
    return r === 1;
  }

  /** The partner's newest notices, newest first, each with its delivery state. */
  async recent(partnerId: string, limit: number): Promise<DeliveryRow[]> {
    const rows = ((await this.redis.xRevRange(this.keys.stream(partnerId), '+', '-', { COUNT: limit })) ?? []);
    return Promise.all(rows.map(async (r) => {
      const n = JSON.parse(String(r.message.n)) as Notice;
      const h = await this.redis.hGetAll(this.keys.delivery(member(partnerId, n.id)));
      const iso = (v: string | undefined) => (v ? (/^\d+$/.test(v) ? new Date(Number(v)).toISOString() : v) : null);
      return {
        noticeId: n.id, type: n.type, at: n.at, purposes: [...(n.purposes ?? [])], attempts: Number(h.attempts ?? 0), lastStatus: h.lastStatus ?? null,
        ackAt: iso(h.ackAt), ackBy: h.ackBy ?? null, deadAt: iso(h.deadAt), retriedAt: iso(h.retriedAt),
      };
    }));
  }
}

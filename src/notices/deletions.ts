// RULES 23: every release carries a delete-by date; at that date the partner gets a
// `retention_expired` notice for the subject. Schedules live in Redis (a zset by time, plus the
// date and purposes per partner and pseudonym), so they survive restarts.
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import { TurnBatch } from '../redis/turn-batch.ts';
import { member, splitMember, type NoticeKeys } from './keys.ts';

export interface DeletionItem { subject: string; deleteBy: string }

// A purpose with its own retention (agreement term `retentionDays`) is scheduled apart, as
// `<partner>/<subject>|<purpose>`: its date must not move with the other purposes' releases.
// Pseudonyms (`v1.` + base64url) never contain `|`.
const scoped = (subject: string, purpose: string | null) => (purpose === null ? subject : `${subject}|${purpose}`);

// The latest release decides: its delete-by is computed from the agreement and the user as they
// are now (a renewed agreement moves it later, an ended user agreement earlier). Purposes gather.
// Items are applied in call order, so within one grouped call the later release still decides.
const SCHEDULE = `
for i = 1, #ARGV, 4 do
  local m, ms, iso, purpose = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('ZADD', KEYS[1], ms, m)
  local purposes = purpose
  local cur = redis.call('HGET', KEYS[2], m)
  if cur then
    local old = string.match(cur, '^%S+ (.*)$') or ''
    if string.find(',' .. old .. ',', ',' .. purpose .. ',', 1, true) then purposes = old else purposes = old .. ',' .. purpose end
  end
  redis.call('HSET', KEYS[2], m, iso .. ' ' .. purposes)
end
return 1`;
const SCHEDULE_SHA = createHash('sha1').update(SCHEDULE).digest('hex');

/** Most items one grouped SCHEDULE call carries (keeps Redis's single thread from long stalls). */
export const MAX_GROUP_ITEMS = 5000;

// Claim by leasing (as for deliveries): a crash between claim and enqueue only delays the notice.
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], m) or ''
end
return out`;

// Only if not rescheduled meanwhile (a fresh release moved the score away from our lease).
const DONE = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1]); redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1`;

export interface DueDeletion {
  member: string; partnerId: string; subject: string; deleteBy: string; purposes: string[]; lease: number;
  /** What is scheduled: the subject, or `<subject>|<purpose>` for a purpose with its own retention. */
  scope: string;
}

/** The plain command methods the schedule uses: cluster-routable by their first key (both keys share one hash tag). */
export type DeletionRedis = Pick<Redis, 'eval' | 'evalSha' | 'hGet'>;

export class DeletionSchedule {
  // The schedules of one event-loop turn (the releases of concurrent pulls) go in one call, and
  // those made while a call is in flight in the next one (issue 17 item 3: it was 3 to 4 calls for
  // each of the log's); each caller's items stay together in one call, so a failure rejects all of
  // them (RULES 23).
  private readonly batch: TurnBatch<string[], void>;

  constructor(private readonly redis: DeletionRedis, private readonly keys: NoticeKeys) {
    this.batch = new TurnBatch((_key, groups) => this.run(groups.flat()).then(() => groups.map(() => undefined)),
      { maxSize: MAX_GROUP_ITEMS * 4, size: (args) => args.length, oneInFlight: true });
  }

  /**
   * One call per release batch (a bulk page): every item is one subject released to `partnerId`.
   * `ownRetention`: the purpose has its own retention, so it is scheduled apart (RULES 23).
   */
  async schedule(partnerId: string, purpose: string, items: readonly DeletionItem[], ownRetention = false): Promise<void> {
    const args: string[] = [];
    for (const it of items) {
      const ms = Date.parse(it.deleteBy);
      if (!Number.isFinite(ms)) throw new Error('deleteBy must be an ISO date'); // never silently unscheduled
      args.push(member(partnerId, scoped(it.subject, ownRetention ? purpose : null)), String(ms), new Date(ms).toISOString(), purpose);
    }
    if (items.length) await this.batch.add('', args);
  }

  /** EVALSHA, loading the script on NOSCRIPT (a restarted Redis forgets it; nothing ran then). */
  private async run(args: string[]): Promise<void> {
    // A caller larger than a group (only an oversized page) is split; it still fails as a whole.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < args.length; i += MAX_GROUP_ITEMS * 4) {
      const chunk = args.slice(i, i + MAX_GROUP_ITEMS * 4);
      // Plain evalSha/eval, not sendCommand: a cluster client routes them by the first key (issue 17 item 3, issue [6/6]).
      const opts = { keys: [this.keys.deleteBy, this.keys.deleteInfo], arguments: chunk };
      calls.push(this.redis.evalSha(SCHEDULE_SHA, opts).catch((e: unknown) => {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        return this.redis.eval(SCHEDULE, opts);
      }));
    }
    await Promise.all(calls);
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<DueDeletion[]> {
    const lease = now + leaseMs;
    const flat = (await this.redis.eval(CLAIM, { keys: [this.keys.deleteBy, this.keys.deleteInfo], arguments: [String(now), String(lease), String(limit)] })) as string[];
    const out: DueDeletion[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [partnerId, scope] = splitMember(flat[i]!);
      const [deleteBy = '', purposes = ''] = flat[i + 1]!.split(' ');
      out.push({ member: flat[i]!, partnerId, subject: scope.split('|')[0]!, scope, deleteBy, purposes: purposes.split(',').filter(Boolean), lease });
    }
    return out;
  }

  async done(d: DueDeletion): Promise<void> {
    await this.redis.eval(DONE, { keys: [this.keys.deleteBy, this.keys.deleteInfo], arguments: [d.member, String(d.lease)] });
  }

  /** When (ISO) `subject` is due for `partnerId` (for `purpose`, if it has its own retention), if scheduled. */
  async when(partnerId: string, subject: string, purpose: string | null = null): Promise<string | null> {
    const v = await this.redis.hGet(this.keys.deleteInfo, member(partnerId, scoped(subject, purpose)));
    return v ? v.split(' ')[0]! : null;
  }
}

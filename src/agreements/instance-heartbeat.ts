// Issue 16 page 6, "which version each running instance enforces" (the Ranger admin's "policy
// version per enforcer"): every gateway process writes a small hash to Redis with its id
// (hostname:pid:start), its start time, whether its agreement cache is ready, and the agreement
// version and status it holds per partner. It is rewritten every few seconds and at once on each
// cache change, and expires after three missed beats, so an instance that stopped drops off the
// list by itself. An index (a sorted set by last beat) lets the console list instances without
// scanning keys. Partner ids, versions and statuses only: nothing personal (RULES 24).
import { hostname } from 'node:os';
import type { Redis } from '../deps.ts';

// One hash tag for the index and the records: the beat's transaction stays in one slot under redis.mode cluster.
export const INSTANCES_INDEX = 'pg:{instances}';
export const instanceKey = (id: string) => `pg:{instances}:${id}`;

export interface InstanceRecord {
  id: string;
  startedAt: string;
  beatAt: string;
  /** False while the agreement cache is reloading: the instance then enforces nothing (DESIGN 1). */
  ready: boolean;
  /** partnerId -> the version and status this instance holds. */
  agreements: Record<string, { version: number; status: string }>;
}

/** What the heartbeat reads from the agreement cache (agreements/active-cache.ts). */
export interface LoadedAgreements {
  readonly ready: boolean;
  loaded(): Record<string, { version: number; status: string }>;
  onChange(listener: () => void): void;
}

type BeatRedis = Pick<Redis, 'eval'>;

// One script: the record, its expiry, the index entry, and the index pruned of the long-gone. A
// script, not MULTI: MULTI is not portable across the cluster and sentinel objects (issue 18);
// both keys carry the {instances} tag, so the script stays in one slot.
const BEAT = `
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'startedAt', ARGV[2], 'beatAt', ARGV[3], 'ready', ARGV[4], 'agreements', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[8])
return 1`;

const beat = (redis: BeatRedis, r: InstanceRecord, ttlMs: number, nowMs: number) =>
  redis.eval(BEAT, {
    keys: [instanceKey(r.id), INSTANCES_INDEX],
    arguments: [r.id, r.startedAt, r.beatAt, r.ready ? '1' : '0', JSON.stringify(r.agreements), String(ttlMs), String(nowMs), String(nowMs - ttlMs)],
  });

export class InstanceHeartbeat {
  readonly id: string;
  private readonly startedAt: Date;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private inFlight = false;
  private again = false;

  constructor(private readonly redis: BeatRedis & Pick<Redis, 'isReady'>, private readonly cache: LoadedAgreements, private readonly intervalMs: number, now = new Date()) {
    this.startedAt = now;
    this.id = `${hostname()}:${process.pid}:${now.getTime()}`;
    // A change is shown at once, not at the next beat.
    cache.onChange(() => void this.beat());
  }

  /** Three missed beats and the record is gone. */
  get ttlMs(): number {
    return this.intervalMs * 3;
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
    void this.beat();
  }

  async beat(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    // One beat at a time (a hung Redis must not collect them); a change meanwhile beats again after.
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      do {
        this.again = false;
        const now = new Date();
        const ready = this.cache.ready;
        await beat(this.redis, { id: this.id, startedAt: this.startedAt.toISOString(), beatAt: now.toISOString(), ready, agreements: ready ? this.cache.loaded() : {} }, this.ttlMs, now.getTime());
      } while (this.again && !this.closed);
    } catch {
      // Redis is away: the record expires and the console shows the instance as gone, which is true enough.
    } finally {
      this.inFlight = false;
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}

type ListRedis = Pick<Redis, 'zRangeByScore' | 'hGetAll'>;

/** Every instance that beat within its TTL, oldest start first. */
export async function listInstances(redis: ListRedis, ttlMs: number, nowMs = Date.now()): Promise<InstanceRecord[]> {
  const ids = await redis.zRangeByScore(INSTANCES_INDEX, nowMs - ttlMs, '+inf');
  const rows = await Promise.all(ids.map((id) => redis.hGetAll(instanceKey(id))));
  return rows.filter((h) => h.id).map((h) => ({
    id: h.id!, startedAt: h.startedAt ?? '', beatAt: h.beatAt ?? '', ready: h.ready === '1',
    agreements: JSON.parse(h.agreements ?? '{}') as InstanceRecord['agreements'],
  })).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

// Incidents in Redis (RULES 50): one hash per incident, a sorted set by detection time, the set of
// open ones and, per finding, the open incident it counts on. Every key shares the {incidents}
// hash tag, so each script touches one slot. Acknowledging is written with its admin audit entry.
import { randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { dedupeKey, type Incident, type IncidentReport } from './incident.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

const K = {
  incident: (id: string) => `${CP}incidents:i:${id}`,
  order: `${CP}incidents:order`,
  open: `${CP}incidents:open`,
  dedupe: `${CP}incidents:dedupe`,
};
export const INCIDENT_ID = /^inc_[0-9a-f]{16}$/;

// KEYS: dedupe, new incident, order, open. ARGV: dedupe key, id, now, now ms, then field/value pairs.
const OPEN = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local key = string.gsub(KEYS[2], 'i:[^:]*$', 'i:' .. existing)
  redis.call('HINCRBY', key, 'count', 1)
  redis.call('HSET', key, 'lastSeenAt', ARGV[3])
  return {0, existing}
end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, ARGV[2]}`;

// After the audit prelude: KEYS[2] incident, KEYS[3] open, KEYS[4] dedupe; ARGV[5] id.
const ACK = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
if redis.call('HGET', KEYS[2], 'status') ~= 'open' then return {2} end
redis.call('HSET', KEYS[2], 'status', 'acknowledged', 'acknowledgedAt', ARGV[1], 'acknowledgedBy', ARGV[2])
redis.call('SREM', KEYS[3], ARGV[5])
local dk = redis.call('HGET', KEYS[2], 'dedupe')
if dk and redis.call('HGET', KEYS[4], dk) == ARGV[5] then redis.call('HDEL', KEYS[4], dk) end
audit(ARGV[5], '{"status":"open"}', '{"status":"acknowledged"}')
return {1}`;

const orNull = (s: string | undefined) => (s ? s : null);

function parse(id: string, h: Record<string, string>): Incident | undefined {
  if (!h.kind) return undefined;
  return {
    id, kind: h.kind as Incident['kind'], status: h.status === 'acknowledged' ? 'acknowledged' : 'open', found: h.found ?? '',
    partnerId: orNull(h.partnerId), chain: orNull(h.chain), requestId: orNull(h.requestId),
    detectedAt: h.detectedAt ?? '', notifyBy: h.notifyBy ?? '', count: Number(h.count ?? 1), lastSeenAt: h.lastSeenAt ?? h.detectedAt ?? '',
    acknowledgedAt: orNull(h.acknowledgedAt), acknowledgedBy: orNull(h.acknowledgedBy),
    webhook: h.webhookStatus ? { status: h.webhookStatus, at: h.webhookAt ?? '', attempts: Number(h.webhookAttempts ?? 0) } : null,
  };
}

export class IncidentStore {
  constructor(private readonly redis: Redis) {}

  /** Open an incident, or count one more detection on the open incident of the same finding. */
  async open(r: IncidentReport, now: Date, notifyWithinHours: number): Promise<{ opened: boolean; id: string }> {
    const id = `inc_${randomBytes(8).toString('hex')}`;
    const at = now.toISOString();
    const key = dedupeKey(r);
    const fields = {
      kind: r.kind, status: 'open', found: r.found, partnerId: r.partnerId ?? '', chain: r.chain ?? '', requestId: r.requestId ?? '',
      detectedAt: at, lastSeenAt: at, count: '1', dedupe: key,
      notifyBy: new Date(now.getTime() + notifyWithinHours * 3_600_000).toISOString(),
    };
    const reply = (await this.redis.eval(OPEN, {
      keys: [K.dedupe, K.incident(id), K.order, K.open],
      arguments: [key, id, at, String(now.getTime()), ...Object.entries(fields).flat()],
    })) as [number, string];
    return { opened: reply[0] === 1, id: String(reply[1]) };
  }

  async get(id: string): Promise<Incident | undefined> {
    return INCIDENT_ID.test(id) ? parse(id, await this.redis.hGetAll(K.incident(id))) : undefined;
  }

  async openCount(): Promise<number> {
    return this.redis.sCard(K.open);
  }

  async isOpen(id: string): Promise<boolean> {
    return (await this.redis.sIsMember(K.open, id)) === 1;
  }

  async recordWebhook(id: string, status: string, at: Date): Promise<void> {
    await this.redis.hSet(K.incident(id), { webhookStatus: status, webhookAt: at.toISOString() });
    await this.redis.hIncrBy(K.incident(id), 'webhookAttempts', 1);
  }

  /** 'ok', or why not: no such incident, or already acknowledged. */
  async acknowledge(actor: Actor, id: string, now: Date): Promise<'ok' | 'not_found' | 'not_open'> {
    if (!INCIDENT_ID.test(id)) return 'not_found';
    const [r] = await auditedEval(this.redis, ACK, actor, 'incident.acknowledge', [K.incident(id), K.open, K.dedupe], [id], now);
    return r === 1 ? 'ok' : r === 2 ? 'not_open' : 'not_found';
  }

  /** Newest first, after the (detectedAt ms, id) position `after`; filtered by status. */
  async list(opts: { limit: number; status?: Incident['status']; after?: { ms: number; id: string } | null }): Promise<{ items: Incident[]; next: { ms: number; id: string } | null }> {
    const items: Incident[] = [];
    let after = opts.after ?? null;
    for (;;) {
      const max = after ? String(after.ms) : '+inf';
      const ties = after ? await this.redis.zCount(K.order, after.ms, after.ms) : 0;
      const batch = await this.redis.zRangeWithScores(K.order, max, '-inf', { BY: 'SCORE', REV: true, LIMIT: { offset: 0, count: 100 + ties } });
      // Same millisecond: members come in reverse lexical order, so those at or above the cursor's id were read.
      const fresh = batch.filter((m) => !after || m.score < after.ms || m.value < after.id);
      if (!fresh.length) return { items, next: null };
      for (const m of fresh) {
        after = { ms: m.score, id: m.value };
        const inc = await this.get(m.value);
        if (!inc || (opts.status && inc.status !== opts.status)) continue;
        if (items.length === opts.limit) return { items, next: { ms: Date.parse(items.at(-1)!.detectedAt), id: items.at(-1)!.id } };
        items.push(inc);
      }
    }
  }
}

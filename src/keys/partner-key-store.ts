// Per-partner pseudonym key versions in Redis (RULES 29). Only metadata lives here — the current
// version and, per retired version, when it was retired (and an optional shorter grace); the
// master key stays in keys.dir (RULES 27) and every version's keys are derived from it. A partner
// with no record is at version 1, the implicit version of every partner before rotation existed.
// A rotation is audited and published to every instance in the same script (like agreements).
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval, type AuditActor } from '../auth/admin-audit.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import { PARTNERS_SET, partnerKey } from '../agreements/redis-keys.ts';
import { PARTNER_ID } from '../agreements/partner-schema.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

export const keyVersionsKey = (partnerId: string) => `${CP}pkeys:${partnerId}`;
/** Partners that have rotated at least once (everyone else is at version 1). */
export const ROTATED_SET = `${CP}pkeys:partners`;
/** Published (message: partner id) in the same script as every rotation. */
export const KEY_VERSIONS_CHANNEL = 'pg:pkeys:changed';
/** The audit trail's actor for scheduled rotations: the gateway itself, not an admin token. */
export const SCHEDULER: AuditActor = { tokenId: 'system:key-rotation-schedule', role: 'system' };

export interface RetiredVersion {
  version: number;
  retiredAt: string;
  /** Set when the rotation asked for a grace shorter than `pseudonym.rotationGraceSeconds`. */
  graceSeconds?: number;
}

export interface KeyVersionRecord {
  partnerId: string;
  /** Bumped by each rotation, so a late read never overwrites a newer one. */
  rev: number;
  current: number;
  retired: RetiredVersion[];
}

/**
 * Lua, run after the audit prelude: retire the partner's current version and start the next,
 * audited and published in the same script. ARGV[1] (the prelude's timestamp) is the retirement
 * time, so the audit entry and the record agree; `rotatedMs` is the same instant for the schedule's
 * compare-and-set. `grace` '' means the configured one. Shared by the admin route, agreement
 * termination (agreement-store.ts) and the schedule (RULES 29).
 */
export const ROTATE_FN = `
local function rotate_key(vkey, rotated, partnerId, grace, channel, nowMs, why)
  local cur = tonumber(redis.call('HGET', vkey, 'current') or '1')
  local nxt = cur + 1
  redis.call('HSET', vkey, 'current', nxt, 'r:' .. cur, ARGV[1], 'rotatedMs', nowMs)
  if grace ~= '' then redis.call('HSET', vkey, 'g:' .. cur, grace) end
  local rev = redis.call('HINCRBY', vkey, 'rev', 1)
  redis.call('SADD', rotated, partnerId)
  audit(partnerId, '{"keyVersion":' .. cur .. '}', '{"keyVersion":' .. nxt .. ',"retired":' .. cur .. ',"graceSeconds":' .. (grace ~= '' and grace or 'null')
    .. (why ~= '' and (',"reason":"' .. why .. '"') or '') .. '}', 'partner.keys.rotate')
  redis.call('PUBLISH', channel, partnerId)
  return {nxt, rev}
end
`;

const ROTATE = `${ROTATE_FN}
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_partner'} end
local r = rotate_key(KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], '')
return {'ok', r[1], r[2]}`;

// RULES 29, scheduled: compare-and-set on the last rotation time, so of several instances checking
// the same partner at once exactly one rotates. ARGV[9]: period (ms); ARGV[10]: the start of the
// current version when the record has no rotatedMs yet (registration, or a rotation before it existed).
const ROTATE_IF_DUE = `${ROTATE_FN}
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_partner'} end
local last = tonumber(redis.call('HGET', KEYS[3], 'rotatedMs') or ARGV[10])
if tonumber(ARGV[8]) - last < tonumber(ARGV[9]) then return {'not_due'} end
local r = rotate_key(KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'schedule')
return {'ok', r[1], r[2]}`;

export function parseRecord(partnerId: string, h: Record<string, string>): KeyVersionRecord {
  const retired: RetiredVersion[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith('r:')) continue;
    const version = Number(k.slice(2));
    const grace = h[`g:${version}`];
    retired.push({ version, retiredAt: v, ...(grace !== undefined ? { graceSeconds: Number(grace) } : {}) });
  }
  retired.sort((a, b) => b.version - a.version);
  return { partnerId, rev: Number(h.rev ?? 0), current: Number(h.current ?? 1), retired };
}

export class PartnerKeyStore {
  constructor(private readonly redis: Redis) {}

  /** Start the next version; the previous one is retired now (and resolves for its grace). */
  async rotate(actor: Actor, partnerId: string, opts: { graceSeconds?: number } = {}): Promise<KeyVersionRecord> {
    if (!PARTNER_ID.test(partnerId)) throw notFoundPartner(partnerId);
    const grace = opts.graceSeconds === undefined ? '' : String(opts.graceSeconds);
    const now = new Date();
    const r = await auditedEval(this.redis, ROTATE, actor, 'partner.keys.rotate',
      [partnerKey(partnerId), keyVersionsKey(partnerId), ROTATED_SET], [partnerId, grace, KEY_VERSIONS_CHANNEL, String(now.getTime())], now);
    if (r[0] === 'no_partner') throw notFoundPartner(partnerId);
    return this.read(partnerId);
  }

  /**
   * RULES 29, scheduled: rotate (configured grace) if the current version is `everyMs` old at `now`;
   * null when it is not, or the partner is gone. Safe to call from every instance at once.
   */
  async rotateIfDue(partnerId: string, everyMs: number, now: Date): Promise<KeyVersionRecord | null> {
    const [rec, doc] = await Promise.all([this.read(partnerId), this.redis.hGet(partnerKey(partnerId), 'doc')]);
    const latest = rec.retired[0]?.retiredAt; // newest first
    let since = latest ? Date.parse(latest) : NaN;
    if (!Number.isFinite(since) && doc) since = Date.parse(String((JSON.parse(doc) as { createdAt?: unknown }).createdAt));
    // No readable start: treat the version as old (rotating errs on the safe side).
    if (!Number.isFinite(since)) since = 0;
    const r = await auditedEval(this.redis, ROTATE_IF_DUE, SCHEDULER, 'partner.keys.rotate',
      [partnerKey(partnerId), keyVersionsKey(partnerId), ROTATED_SET],
      [partnerId, '', KEY_VERSIONS_CHANNEL, String(now.getTime()), String(everyMs), String(since)], now);
    return r[0] === 'ok' ? this.read(partnerId) : null;
  }

  /** Every registered partner. */
  async partnerIds(): Promise<string[]> {
    return this.redis.sMembers(PARTNERS_SET);
  }

  /** One partner's record, read atomically (one HGETALL). */
  async read(partnerId: string): Promise<KeyVersionRecord> {
    return parseRecord(partnerId, await this.redis.hGetAll(keyVersionsKey(partnerId)));
  }

  async rotatedPartners(): Promise<string[]> {
    return this.redis.sMembers(ROTATED_SET);
  }
}

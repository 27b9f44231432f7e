// Per-partner pseudonym key versions in Redis (RULES 29). Only metadata lives here — the current
// version and, per retired version, when it was retired (and an optional shorter grace); the
// master key stays in keys.dir (RULES 27) and every version's keys are derived from it. A partner
// with no record is at version 1, the implicit version of every partner before rotation existed.
// A rotation is audited and published to every instance in the same script (like agreements).
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import { partnerKey } from '../agreements/redis-keys.ts';
import { PARTNER_ID } from '../agreements/partner-schema.ts';

export const keyVersionsKey = (partnerId: string) => `pg:pkeys:${partnerId}`;
/** Partners that have rotated at least once (everyone else is at version 1). */
export const ROTATED_SET = 'pg:pkeys:partners';
/** Published (message: partner id) in the same script as every rotation. */
export const KEY_VERSIONS_CHANNEL = 'pg:pkeys:changed';

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

// ARGV[1] (the prelude's timestamp) is the retirement time, so the audit entry and the record agree.
const ROTATE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_partner'} end
local cur = tonumber(redis.call('HGET', KEYS[3], 'current') or '1')
local nxt = cur + 1
redis.call('HSET', KEYS[3], 'current', nxt, 'r:' .. cur, ARGV[1])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[3], 'g:' .. cur, ARGV[6]) end
local rev = redis.call('HINCRBY', KEYS[3], 'rev', 1)
redis.call('SADD', KEYS[4], ARGV[5])
audit(ARGV[5], '{"keyVersion":' .. cur .. '}', '{"keyVersion":' .. nxt .. ',"retired":' .. cur .. ',"graceSeconds":' .. (ARGV[6] ~= '' and ARGV[6] or 'null') .. '}')
redis.call('PUBLISH', ARGV[7], ARGV[5])
return {'ok', nxt, rev}`;

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
    const r = await auditedEval(this.redis, ROTATE, actor, 'partner.keys.rotate',
      [partnerKey(partnerId), keyVersionsKey(partnerId), ROTATED_SET], [partnerId, grace, KEY_VERSIONS_CHANNEL]);
    if (r[0] === 'no_partner') throw notFoundPartner(partnerId);
    return this.read(partnerId);
  }

  /** One partner's record, read atomically (one HGETALL). */
  async read(partnerId: string): Promise<KeyVersionRecord> {
    return parseRecord(partnerId, await this.redis.hGetAll(keyVersionsKey(partnerId)));
  }

  async rotatedPartners(): Promise<string[]> {
    return this.redis.sMembers(ROTATED_SET);
  }
}

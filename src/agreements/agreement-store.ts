// Versioned agreements (CONTRACT 5). Each POST adds an immutable version and supersedes the
// current one; suspend/resume/terminate act on the current version, and terminate is final.
// Every change bumps the partner's `rev`, is audited and is published to all instances in one script.
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { Problem } from '../http/problem.ts';
import { AGREEMENT_CHANNEL, agreementId, agreementKey, partnerKey } from './redis-keys.ts';
import { validateAgreement, type AgreementRules } from './validate-agreement.ts';
import type { AgreementInput } from './agreement-schema.ts';
import { notFoundPartner } from './partners.ts';
import { KEY_VERSIONS_CHANNEL, ROTATED_SET, ROTATE_FN, keyVersionsKey } from '../keys/partner-key-store.ts';

export type AgreementStatus = 'active' | 'suspended' | 'terminated' | 'superseded';
export type AgreementVersion = Readonly<AgreementInput & {
  id: string; partnerId: string; version: number; status: AgreementStatus; createdAt: string; statusChangedAt: string;
}>;
export type Transition = 'suspend' | 'resume' | 'terminate';

const TRANSITIONS: Record<Transition, { from: AgreementStatus[]; to: AgreementStatus }> = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  terminate: { from: ['active', 'suspended'], to: 'terminated' }, // final: nothing leaves `terminated`
};

const state = (v: string, s: string) => `'{"version":' .. ${v} .. ',"status":"' .. ${s} .. '"}'`;

const CREATE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_partner'} end
local cur = redis.call('HGET', KEYS[2], 'current')
local before = ''
if cur then
  local st = redis.call('HGET', KEYS[2], 's:' .. cur)
  if st == 'terminated' then return {'terminated', cur} end
  redis.call('HSET', KEYS[2], 's:' .. cur, 'superseded', 'u:' .. cur, ARGV[1])
  before = ${state('cur', 'st')}
end
local n = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'v:' .. n, ARGV[5], 's:' .. n, 'active', 'u:' .. n, ARGV[1], 'current', n)
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[6], before, ${state('n', "'active'")})
redis.call('PUBLISH', ARGV[7], ARGV[6])
return {'ok', n, rev}`;

// RULES 29: terminating also rotates the partner's pseudonym key at once (grace 0), in the same
// script, audited as partner.keys.rotate: pseudonyms of the ended relationship stop resolving, and
// nothing released later can be linked to them. ARGV[9] '1' asks for it; KEYS[3..4], ARGV[10..11]
// are the key versions' hash, set, channel and the time in ms (partner-key-store.ts).
const TRANSITION = `${ROTATE_FN}
local cur = redis.call('HGET', KEYS[2], 'current')
if not cur then return {'none'} end
local st = redis.call('HGET', KEYS[2], 's:' .. cur)
if not string.find(',' .. ARGV[5] .. ',', ',' .. st .. ',', 1, true) then return {'conflict', cur, st} end
redis.call('HSET', KEYS[2], 's:' .. cur, ARGV[6], 'u:' .. cur, ARGV[1])
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[7], ${state('cur', 'st')}, ${state('cur', 'ARGV[6]')})
redis.call('PUBLISH', ARGV[8], ARGV[7])
if ARGV[9] == '1' then rotate_key(KEYS[3], KEYS[4], ARGV[7], '0', ARGV[10], ARGV[11], 'agreement.terminate') end
return {'ok', cur, rev}`;

const CURRENT = `
local cur = redis.call('HGET', KEYS[1], 'current')
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if not cur then return {rev} end
return {rev, cur, redis.call('HGET', KEYS[1], 'v:' .. cur), redis.call('HGET', KEYS[1], 's:' .. cur), redis.call('HGET', KEYS[1], 'u:' .. cur)}`;

// Versions are shared by every request of a process (the cache): frozen all the way down.
function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

function assemble(partnerId: string, version: number, body: string, status: string, changedAt: string): AgreementVersion {
  const { createdAt, ...terms } = JSON.parse(body) as AgreementInput & { createdAt: string };
  return deepFreeze({ id: agreementId(partnerId), partnerId, version, status: status as AgreementStatus, ...terms, createdAt, statusChangedAt: changedAt });
}

export class Agreements {
  constructor(private readonly redis: Redis, private readonly rules: AgreementRules) {}

  async create(actor: Actor, partnerId: string, raw: unknown): Promise<AgreementVersion> {
    const terms = await validateAgreement(raw, this.rules);
    const body = JSON.stringify({ ...terms, createdAt: new Date().toISOString() });
    const r = await auditedEval(this.redis, CREATE, actor, 'agreement.create', [agreementKey(partnerId), partnerKey(partnerId)], [body, partnerId, AGREEMENT_CHANNEL]);
    if (r[0] === 'no_partner') throw notFoundPartner(partnerId);
    if (r[0] === 'terminated') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${agreementId(partnerId)} is terminated; termination is final` });
    return (await this.current(partnerId)).agreement!;
  }

  async transition(actor: Actor, partnerId: string, action: Transition): Promise<AgreementVersion> {
    const t = TRANSITIONS[action];
    const now = new Date();
    const r = await auditedEval(this.redis, TRANSITION, actor, `agreement.${action}`, [agreementKey(partnerId), keyVersionsKey(partnerId), ROTATED_SET],
      [t.from.join(','), t.to, partnerId, AGREEMENT_CHANNEL, action === 'terminate' ? '1' : '', KEY_VERSIONS_CHANNEL, String(now.getTime())], now);
    if (r[0] === 'none') throw new Problem({ status: 404, code: 'not_found', detail: `no agreement ${agreementId(partnerId)}` });
    if (r[0] === 'conflict') {
      const why = r[2] === 'terminated' ? 'termination is final' : `${action} needs status ${t.from.join(' or ')}`;
      throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${agreementId(partnerId)} version ${r[1]} is ${r[2]}; ${why}` });
    }
    return (await this.current(partnerId)).agreement!;
  }

  /** The current version (any status) and the partner's change counter, read atomically. */
  async current(partnerId: string): Promise<{ rev: number; agreement?: AgreementVersion }> {
    const r = (await this.redis.eval(CURRENT, { keys: [agreementKey(partnerId)] })) as string[];
    const rev = Number(r[0]);
    if (r.length < 5) return { rev };
    return { rev, agreement: assemble(partnerId, Number(r[1]), r[2]!, r[3]!, r[4]!) };
  }

  /** Every version, oldest first. */
  async list(partnerId: string): Promise<AgreementVersion[]> {
    const h = await this.redis.hGetAll(agreementKey(partnerId));
    const versions = Object.keys(h).filter((k) => k.startsWith('v:')).map((k) => Number(k.slice(2))).sort((a, b) => a - b);
    return versions.map((n) => assemble(partnerId, n, h[`v:${n}`]!, h[`s:${n}`]!, h[`u:${n}`]!));
  }
}

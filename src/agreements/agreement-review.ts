// RULES 19: the second-admin review of an agreement version that adds a processing country or a
// sub-processor. Such a version is stored as `pending_review` next to the version in force, which
// keeps answering partner pulls; a different admin identity approves it (naming its number, so a
// version replaced meanwhile is never approved unseen), and only then does it supersede.
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { Problem } from '../http/problem.ts';
import { AGREEMENT_CHANNEL, agreementId, agreementKey } from './redis-keys.ts';

export const state = (v: string, s: string) => `'{"version":' .. ${v} .. ',"status":"' .. ${s} .. '"}'`;

// The author's approval is refused, and the refusal is audited too (RULES 19: every step on record).
const APPROVE = `
local pend = redis.call('HGET', KEYS[2], 'pending')
if not pend then return {'none'} end
if pend ~= ARGV[7] then return {'other', pend} end
if redis.call('HGET', KEYS[2], 'by:' .. pend) == ARGV[2] then
  audit('agr_' .. ARGV[5], ${state('pend', "'pending_review'")}, '{"refused":"second_admin_required"}')
  return {'self'}
end
local cur = redis.call('HGET', KEYS[2], 'current')
local before = ''
if cur then
  local st = redis.call('HGET', KEYS[2], 's:' .. cur)
  if st == 'terminated' then return {'terminated', cur} end
  redis.call('HSET', KEYS[2], 's:' .. cur, 'superseded', 'u:' .. cur, ARGV[1])
  before = ${state('cur', 'st')}
end
redis.call('HSET', KEYS[2], 's:' .. pend, 'active', 'u:' .. pend, ARGV[1], 'ab:' .. pend, ARGV[2], 'at:' .. pend, ARGV[1], 'current', pend)
redis.call('HDEL', KEYS[2], 'pending')
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[5], before, ${state('pend', "'active'")})
redis.call('PUBLISH', ARGV[6], ARGV[5])
return {'ok', pend, rev}`;

// Refusing (or withdrawing) a version pending review needs no second admin: it releases nothing.
const REJECT = `
local pend = redis.call('HGET', KEYS[2], 'pending')
if not pend then return {'none'} end
if pend ~= ARGV[7] then return {'other', pend} end
redis.call('HSET', KEYS[2], 's:' .. pend, 'rejected', 'u:' .. pend, ARGV[1])
redis.call('HDEL', KEYS[2], 'pending')
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[5], ${state('pend', "'pending_review'")}, ${state('pend', "'rejected'")})
redis.call('PUBLISH', ARGV[6], ARGV[5])
return {'ok', pend, rev}`;

/** RULES 19: the version pending review is refused; the version in force stays. */
export async function rejectPending(redis: Redis, actor: Actor, partnerId: string, version: number): Promise<void> {
  const id = agreementId(partnerId);
  const r = await auditedEval(redis, REJECT, actor, 'agreement.reject', [agreementKey(partnerId)], [partnerId, AGREEMENT_CHANNEL, String(version)]);
  if (r[0] === 'none') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${id} has no version pending review` });
  if (r[0] === 'other') throw new Problem({ status: 409, code: 'conflict', detail: `version ${r[1]} of ${id} is the one pending review, not ${version}` });
}

/** Approve version `version`, pending review, as `actor`; throws the problem for every refusal. */
export async function approvePending(redis: Redis, actor: Actor, partnerId: string, version: number): Promise<void> {
  const id = agreementId(partnerId);
  const r = await auditedEval(redis, APPROVE, actor, 'agreement.approve', [agreementKey(partnerId)], [partnerId, AGREEMENT_CHANNEL, String(version)]);
  if (r[0] === 'none') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${id} has no version pending review` });
  if (r[0] === 'other') throw new Problem({ status: 409, code: 'conflict', detail: `version ${r[1]} of ${id} is the one pending review, not ${version}` });
  if (r[0] === 'self') {
    throw new Problem({ status: 403, code: 'second_admin_required', detail: 'the admin who created this version cannot approve it; another admin must (RULES 19)' });
  }
  if (r[0] === 'terminated') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${id} is terminated; termination is final` });
}

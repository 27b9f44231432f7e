// Versioned agreements (CONTRACT 5). Each POST adds an immutable version and supersedes the
// current one; suspend/resume/terminate act on the current version, and terminate is final.
// RULES 19: a version that adds a processing country or a sub-processor over the one in force
// waits in `pending_review` until a second admin approves it (agreement-review.ts); the version in
// force stays current meanwhile. Every change bumps the partner's `rev`, is audited and is
// published to all instances in one script.
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { Problem } from '../http/problem.ts';
import { AGREEMENT_CHANNEL, agreementId, agreementKey, partnerKey } from './redis-keys.ts';
import { validateAgreement, type AgreementRules } from './validate-agreement.ts';
import { notFoundPartner } from './partners.ts';
import { KEY_VERSIONS_CHANNEL, ROTATED_SET, ROTATE_FN, keyVersionsKey } from '../keys/partner-key-store.ts';
import { onwardAdditions } from './onward-transfer.ts';
import { assemble, type AgreementStatus, type AgreementVersion, type StoredBody } from './agreement-version.ts';
import { approvePending, rejectPending, state } from './agreement-review.ts';

export type { AgreementStatus, AgreementVersion, Review } from './agreement-version.ts';
export type Transition = 'suspend' | 'resume' | 'terminate';

const TRANSITIONS: Record<Transition, { from: AgreementStatus[]; to: AgreementStatus }> = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  terminate: { from: ['active', 'suspended'], to: 'terminated' }, // final: nothing leaves `terminated`
};

// ARGV[8]: the version in force the caller compared against ('' for none); if another change got
// there first the caller compares again. ARGV[9]: 'active', or 'pending_review' (RULES 19). A
// newer POST replaces a version still pending review: that one never takes effect.
const CREATE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_partner'} end
local cur = redis.call('HGET', KEYS[2], 'current')
if (cur or '') ~= ARGV[8] then return {'stale'} end
local before = ''
if cur then
  local st = redis.call('HGET', KEYS[2], 's:' .. cur)
  if st == 'terminated' then return {'terminated', cur} end
  before = ${state('cur', 'st')}
  if ARGV[9] == 'active' then redis.call('HSET', KEYS[2], 's:' .. cur, 'superseded', 'u:' .. cur, ARGV[1]) end
end
local pend = redis.call('HGET', KEYS[2], 'pending')
if pend then
  redis.call('HSET', KEYS[2], 's:' .. pend, 'superseded', 'u:' .. pend, ARGV[1])
  redis.call('HDEL', KEYS[2], 'pending')
end
local n = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'v:' .. n, ARGV[5], 's:' .. n, ARGV[9], 'u:' .. n, ARGV[1], 'by:' .. n, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[9] == 'active' and 'current' or 'pending', n)
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[6], before, ${state('n', 'ARGV[9]')})
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
local pend = redis.call('HGET', KEYS[2], 'pending')
if pend and ARGV[6] == 'terminated' then -- termination is final: nothing pending can take effect after it
  redis.call('HSET', KEYS[2], 's:' .. pend, 'superseded', 'u:' .. pend, ARGV[1])
  redis.call('HDEL', KEYS[2], 'pending')
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
audit('agr_' .. ARGV[7], ${state('cur', 'st')}, ${state('cur', 'ARGV[6]')})
redis.call('PUBLISH', ARGV[8], ARGV[7])
if ARGV[9] == '1' then rotate_key(KEYS[3], KEYS[4], ARGV[7], '0', ARGV[10], ARGV[11], 'agreement.terminate') end
return {'ok', cur, rev}`;

const CURRENT = `
local cur = redis.call('HGET', KEYS[1], 'current')
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if not cur then return {rev} end
local f = redis.call('HMGET', KEYS[1], 'v:' .. cur, 's:' .. cur, 'u:' .. cur, 'by:' .. cur, 'ab:' .. cur, 'at:' .. cur)
return {rev, cur, f[1], f[2], f[3], f[4] or '', f[5] or '', f[6] or ''}`;

export class Agreements {
  constructor(private readonly redis: Redis, private readonly rules: AgreementRules) {}

  /** A new version: in force at once, or pending review when it adds onward transfers (RULES 19). */
  async create(actor: Actor, partnerId: string, raw: unknown): Promise<AgreementVersion> {
    const terms = await validateAgreement(raw, this.rules);
    for (let attempt = 0; ; attempt++) {
      const inForce = (await this.current(partnerId)).agreement;
      const body: StoredBody = { ...terms, createdAt: new Date().toISOString() };
      let status: AgreementStatus = 'active';
      if (inForce) {
        const additions = onwardAdditions(inForce, terms);
        if (additions.countries.length || additions.subProcessors.length) {
          status = 'pending_review';
          body.additions = additions;
        }
        // A country kept from the version in force keeps the date it was added on.
        const carried = Object.entries(inForce.countriesSince ?? {}).filter(([c]) => terms.processingCountries.includes(c));
        if (carried.length) body.carriedSince = Object.fromEntries(carried);
      }
      const r = await auditedEval(this.redis, CREATE, actor, 'agreement.create', [agreementKey(partnerId), partnerKey(partnerId)],
        [JSON.stringify(body), partnerId, AGREEMENT_CHANNEL, inForce ? String(inForce.version) : '', status]);
      if (r[0] === 'no_partner') throw notFoundPartner(partnerId);
      if (r[0] === 'terminated') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${agreementId(partnerId)} is terminated; termination is final` });
      if (r[0] === 'stale' && attempt < 3) continue; // another change won the race: compare with the new version in force
      if (r[0] === 'stale') throw new Problem({ status: 409, code: 'conflict', detail: `agreement ${agreementId(partnerId)} is changing concurrently; try again` });
      return (await this.version(partnerId, Number(r[1])))!;
    }
  }

  /** RULES 19: a second admin approves the version pending review; it then supersedes the one in force. */
  async approve(actor: Actor, partnerId: string, version: number): Promise<AgreementVersion> {
    await approvePending(this.redis, actor, partnerId, version);
    return (await this.version(partnerId, version))!;
  }

  /** RULES 19: refuse the version pending review (any admin, its author included); nothing changes for partners. */
  async reject(actor: Actor, partnerId: string, version: number): Promise<AgreementVersion> {
    await rejectPending(this.redis, actor, partnerId, version);
    return (await this.version(partnerId, version))!;
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
    return { rev, agreement: assemble(partnerId, Number(r[1]), { body: r[2]!, status: r[3]!, changedAt: r[4]!, by: r[5], approvedBy: r[6], approvedAt: r[7] }) };
  }

  /** One version, any status. */
  async version(partnerId: string, n: number): Promise<AgreementVersion | undefined> {
    const [body, status, changedAt, by, approvedBy, approvedAt] = await this.redis.hmGet(agreementKey(partnerId), [`v:${n}`, `s:${n}`, `u:${n}`, `by:${n}`, `ab:${n}`, `at:${n}`]);
    return body && status && changedAt ? assemble(partnerId, n, { body, status, changedAt, by: by ?? undefined, approvedBy: approvedBy ?? undefined, approvedAt: approvedAt ?? undefined }) : undefined;
  }

  /** Every version, oldest first. */
  async list(partnerId: string): Promise<AgreementVersion[]> {
    const h = await this.redis.hGetAll(agreementKey(partnerId));
    const versions = Object.keys(h).filter((k) => k.startsWith('v:')).map((k) => Number(k.slice(2))).sort((a, b) => a - b);
    return versions.map((n) => assemble(partnerId, n, { body: h[`v:${n}`]!, status: h[`s:${n}`]!, changedAt: h[`u:${n}`]!, by: h[`by:${n}`], approvedBy: h[`ab:${n}`], approvedAt: h[`at:${n}`] }));
  }
}

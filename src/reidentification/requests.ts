// RULES 27 (CONTRACT 11, [2/6]): re-identification under dual control. Turning a partner's
// pseudonym back into a user id (a complaint, a court order) takes two admins: one requests it with
// a reason, a different admin token identity approves, and the approver receives the user id in
// that one response — it is never stored, listed or shown again. Requests expire. Every step
// (request, refused self-approval, approval) is written to the admin audit in the same script as
// the change, with the reason; the audit names the user only by subjectRef (RULES 24: never the id).
import { randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { Problem } from '../http/problem.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

/** What re-identification needs of the pseudonym keys and the transfer log, and nothing more. */
export interface SubjectResolver {
  /** The user id behind `subject` for this partner (key versions still accepted), or null. */
  userIdOf(subject: string, partnerId: string): string | null;
  /** The transfer log's ops-side keyed hash of a user id (CONTRACT 7 subjectRef). */
  subjectRef(userId: string): string;
}

export interface ReidRequest {
  id: string; partnerId: string; subject: string; reason: string;
  status: 'pending' | 'released' | 'not_found';
  requestedBy: string; requestedAt: string; expiresAt: string;
  approvedBy?: string; approvedAt?: string;
}

export const reidKey = (id: string) => `${CP}reid:${id}`;
export const REID_ID = /^reid_[A-Za-z0-9_-]{22}$/;
/** Pending requests by expiry (ms): what the console lists as waiting for a second admin. */
export const REID_PENDING = `${CP}reid:pending`;

// ARGV[5] id, ARGV[6..8] partnerId, subject, reason, ARGV[9] expiresAt (ms), ARGV[10] audit summary.
const CREATE = `
redis.call('HSET', KEYS[2], 'partnerId', ARGV[6], 'subject', ARGV[7], 'reason', ARGV[8], 'status', 'pending',
  'by', ARGV[2], 'at', ARGV[1], 'exp', ARGV[9])
redis.call('PEXPIREAT', KEYS[2], ARGV[9])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[5])
audit(ARGV[5], '', ARGV[10])
return {'ok'}`;

// ARGV[5] id, ARGV[6] outcome status, ARGV[7] audit summary, ARGV[8] refusal summary. The status
// check is here, atomic with the change, so two approvers cannot both receive the id.
const APPROVE = `
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[5]); return {'none'} end
local f = redis.call('HMGET', KEYS[2], 'status', 'by')
if f[1] ~= 'pending' then return {'done', f[1]} end
if f[2] == ARGV[2] then
  audit(ARGV[5], '{"status":"pending"}', ARGV[8])
  return {'self'}
end
redis.call('HSET', KEYS[2], 'status', ARGV[6], 'ab', ARGV[2], 'aat', ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[5])
audit(ARGV[5], '{"status":"pending"}', ARGV[7])
return {'ok'}`;

const gone = (id: string) => new Problem({ status: 404, code: 'not_found', detail: `no re-identification request ${id}, or it expired` });

export class Reidentifications {
  constructor(private readonly redis: Redis, private readonly ttlSeconds: number, private readonly subjects: SubjectResolver) {}

  async request(actor: Actor, input: { partnerId: string; subject: string; reason: string }, now = new Date()): Promise<ReidRequest> {
    const id = `reid_${randomBytes(16).toString('base64url')}`;
    const expires = new Date(now.getTime() + this.ttlSeconds * 1000);
    const summary = JSON.stringify({ status: 'pending', partnerId: input.partnerId, reason: input.reason, expiresAt: expires.toISOString() });
    await auditedEval(this.redis, CREATE, actor, 'reidentification.request', [reidKey(id), REID_PENDING],
      [id, input.partnerId, input.subject, input.reason, String(expires.getTime()), summary], now);
    return (await this.get(id))!;
  }

  /** The request as stored (never the user id); undefined once expired. */
  async get(id: string): Promise<ReidRequest | undefined> {
    const h = await this.redis.hGetAll(reidKey(id));
    if (!h.status) return undefined;
    return {
      id, partnerId: h.partnerId!, subject: h.subject!, reason: h.reason!, status: h.status as ReidRequest['status'],
      requestedBy: h.by!, requestedAt: h.at!, expiresAt: new Date(Number(h.exp)).toISOString(),
      ...(h.ab ? { approvedBy: h.ab, approvedAt: h.aat! } : {}),
    };
  }

  /** Requests waiting for a second admin, soonest expiry first (expired ones are dropped from the index). */
  async pending(limit: number, now = new Date()): Promise<ReidRequest[]> {
    await this.redis.zRemRangeByScore(REID_PENDING, '-inf', now.getTime());
    const ids = await this.redis.zRange(REID_PENDING, 0, limit - 1);
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((r): r is ReidRequest => r !== undefined && r.status === 'pending');
  }

  /** RULES 27: a second admin approves; the user id is returned here, once. */
  async approve(actor: Actor, id: string, now = new Date()): Promise<ReidRequest & { userId: string }> {
    const req = await this.get(id);
    if (!req) throw gone(id);
    const userId = this.subjects.userIdOf(req.subject, req.partnerId);
    const outcome = userId === null ? 'not_found' : 'released';
    const base = { reason: req.reason, requestedBy: req.requestedBy };
    const summary = JSON.stringify({ status: outcome, ...base, ...(userId !== null ? { subjectRef: this.subjects.subjectRef(userId) } : {}) });
    const refusal = JSON.stringify({ refused: 'second_admin_required', ...base });
    const r = await auditedEval(this.redis, APPROVE, actor, 'reidentification.approve', [reidKey(id), REID_PENDING], [id, outcome, summary, refusal], now);
    if (r[0] === 'none') throw gone(id);
    if (r[0] === 'self') {
      throw new Problem({ status: 403, code: 'second_admin_required', detail: 'the admin who requested this re-identification cannot approve it; another admin must (RULES 27)' });
    }
    if (r[0] === 'done') throw new Problem({ status: 409, code: 'conflict', detail: `re-identification request ${id} was already decided (${r[1]}); the user id is given once` });
    if (userId === null) throw new Problem({ status: 404, code: 'subject_not_found', detail: 'the pseudonym does not resolve for this partner (malformed, another partner\'s, or a retired key version)' });
    return { ...req, status: 'released', approvedBy: actor.tokenId, approvedAt: now.toISOString(), userId };
  }
}

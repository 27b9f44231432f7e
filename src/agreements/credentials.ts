// Partner client credentials (CONTRACT 5). The secret is 256 random bits, shown once and stored
// only as its SHA-256 (a slow hash adds nothing for a full-entropy secret); it is checked in
// constant time. Revoking a credential also revokes every access token issued with it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { SWEEP_CLIENT_LUA, TOKEN_PREFIX, clientTokensKey } from '../auth/partner-tokens.ts';
import { TOKEN_CHANNEL, type PartnerTokenCache } from '../auth/partner-token-cache.ts';
import { Problem } from '../http/problem.ts';
import { parseBody } from '../http/field-errors.ts';
import { credentialCreateSchema } from './partner-schema.ts';
import { credentialKey, partnerCredsKey, partnerKey } from './redis-keys.ts';
import { notFoundPartner } from './partners.ts';

const CLIENT_ID = /^cid_[A-Za-z0-9_-]{22}$/;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const ISSUE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
redis.call('HSET', KEYS[3], 'partnerId', ARGV[5], 'secretHash', ARGV[6], 'label', ARGV[7], 'createdAt', ARGV[1])
redis.call('SADD', KEYS[4], ARGV[8])
audit(ARGV[5] .. '/' .. ARGV[8], '', ARGV[9])
return {1}`;

// RULES 41, issue [1/6] item 7c: the credential, its token set, each token key and the message
// that evicts them from every instance's cache go in one script, so no failure in between can
// leave the credential gone and its tokens live. Tokens go first: should a later write fail, the
// credential is still there and the revocation can be repeated, but none of its tokens is.
const REVOKE = `${SWEEP_CLIENT_LUA}
if redis.call('HGET', KEYS[2], 'partnerId') ~= ARGV[5] then return {0, ''} end
local _, all = sweep_client(KEYS[4], ARGV[7], ARGV[8], ARGV[6])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[6])
audit(ARGV[5] .. '/' .. ARGV[6], '{"clientId":"' .. ARGV[6] .. '"}', '{"revoked":true}')
return {1, all}`;

export class Credentials {
  /** `tokenCache`: this process's partner token cache, evicted at once on revocation (others follow by pub/sub). */
  constructor(private readonly redis: Redis, private readonly tokenCache?: PartnerTokenCache) {}

  /** The secret is in this return value and nowhere else, ever. */
  async issue(actor: Actor, partnerId: string, raw: unknown): Promise<{ clientId: string; clientSecret: string }> {
    const { label } = parseBody(credentialCreateSchema, raw);
    const clientId = `cid_${randomBytes(16).toString('base64url')}`;
    const clientSecret = randomBytes(32).toString('base64url'); // 256 bits
    const summary = JSON.stringify({ clientId, label: label ?? null });
    const [ok] = await auditedEval(this.redis, ISSUE, actor, 'credential.issue',
      [partnerKey(partnerId), credentialKey(clientId), partnerCredsKey(partnerId)],
      [partnerId, sha256(clientSecret).toString('hex'), label ?? '', clientId, summary]);
    if (ok !== 1) throw notFoundPartner(partnerId);
    return { clientId, clientSecret };
  }

  async revoke(actor: Actor, partnerId: string, clientId: string): Promise<void> {
    const [ok, all] = CLIENT_ID.test(clientId)
      ? await auditedEval(this.redis, REVOKE, actor, 'credential.revoke',
        [credentialKey(clientId), partnerCredsKey(partnerId), clientTokensKey(clientId)],
        [partnerId, clientId, TOKEN_CHANNEL, TOKEN_PREFIX])
      : [0, ''];
    if (ok !== 1) throw new Problem({ status: 404, code: 'not_found', detail: `partner ${partnerId} has no credential ${clientId}` });
    // This instance forgets them at once; the others on the message the script published.
    this.tokenCache?.evictClient(clientId, String(all ?? '').split(',').filter(Boolean));
  }

  /** client_secret_basic: the partner id for a live credential and matching secret, else undefined. */
  async authenticate(clientId: string, secret: string): Promise<{ partnerId: string } | undefined> {
    if (!CLIENT_ID.test(clientId)) return undefined;
    const h = await this.redis.hGetAll(credentialKey(clientId));
    const stored = Buffer.from(h.secretHash ?? '', 'hex');
    const given = sha256(secret);
    if (!h.partnerId || stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
    return { partnerId: h.partnerId };
  }

  /** private_key_jwt and token checks: the partner of a live credential, else undefined. */
  async partnerOf(clientId: string): Promise<string | undefined> {
    if (!CLIENT_ID.test(clientId)) return undefined;
    return (await this.redis.hGet(credentialKey(clientId), 'partnerId')) ?? undefined;
  }
}

// Partner access tokens (CONTRACT 4, RULES 41): opaque, short-lived, stored only as SHA-256 with a
// TTL, bound to the client certificate when one was presented (RFC 8705), revocable per credential.
// The gateway's instance serves known tokens from memory (partner-token-cache.ts); every other
// instance (credentials, CLI, tests) has no cache and only issues, revokes and reads through Redis.
import { randomBytes, createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import { credentialKey } from '../agreements/redis-keys.ts';
import { OAuthError } from './oauth-error.ts';
import { deadline } from '../transfer-log/deadline.ts';
import { CLIENT_MARK, TOKEN_CHANNEL, type PartnerTokenCache } from './partner-token-cache.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

export const DEFAULT_TOKEN_TTL_S = 600;

export interface PartnerToken {
  partnerId: string;
  clientId: string;
  scope: string[];
  /** base64url SHA-256 of the DER client certificate the token is bound to (cnf.x5t#S256). */
  cnf: string | null;
  exp: number;
}

const ISSUE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 1`;

// RULES 41: a revocation and its message are one step, so no instance can miss one while its
// subscription is live (and one that was not live empties its cache on resubscribe).
const REVOKE = `
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

// Lua, for scripts that revoke a client's tokens (its own below, the credential revocation in
// agreements/credentials.ts): every token of the client read, deleted and published in the calling
// script (RULES 41: no revoke without its message), so a token cannot slip between the read of the
// set and the delete, and a credential never goes in a different step from its tokens. A set that
// cannot be read (wrong type) fails nothing: it is dropped, and the message names the client as
// well as the hashes, so caches evict the client's tokens even when their hashes are unknown; any
// token key left in Redis is refused by LOOKUP, whose credential is gone. The token keys are named
// inside the script from the set, not declared in KEYS: fine on the one Redis the gateway uses,
// not on Redis Cluster. Returns (tokens deleted, hashes comma-separated).
export const SWEEP_CLIENT_LUA = `
local function sweep_client(set_key, channel, prefix, client_id)
  local hashes = redis.pcall('SMEMBERS', set_key)
  if type(hashes) ~= 'table' or hashes.err then hashes = {} end
  local n = 0
  for _, h in ipairs(hashes) do n = n + redis.call('DEL', prefix .. h) end
  redis.call('DEL', set_key)
  local all = table.concat(hashes, ',')
  local message = '${CLIENT_MARK}' .. client_id
  if #hashes > 0 then message = message .. ',' .. all end
  redis.call('PUBLISH', channel, message)
  return n, all
end
`;

const REVOKE_CLIENT = `${SWEEP_CLIENT_LUA}
local n, all = sweep_client(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return {n, all}`;

// RULES 41: a token counts only while the credential it was issued with exists, so no failure
// between a credential's deletion and its tokens' can leave one usable (issue [1/6] item 7c). The
// credential key is named from the record, not declared in KEYS (as in SWEEP_CLIENT_LUA).
const LOOKUP = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local ok, rec = pcall(cjson.decode, v)
if not ok or type(rec) ~= 'table' or type(rec.clientId) ~= 'string' then return false end
if redis.call('EXISTS', ARGV[1] .. rec.clientId) == 0 then return false end
return v`;

export const TOKEN_PREFIX = `${CP}ptok:`;
const sha = (t: string) => createHash('sha256').update(t).digest('base64url');
/** The stored form of a token (its SHA-256), kept by the request so a stream can re-check it. */
export const tokenHash = sha;
const tokenKey = (hash: string) => `${TOKEN_PREFIX}${hash}`;
/** The set of a client's live token hashes. */
export const clientTokensKey = (clientId: string) => `${CP}ptok-client:${clientId}`;

export class PartnerTokens {
  /**
   * `timeoutMs`: a Redis that does not answer the lookup in time fails the request closed.
   * `cache`: serve known tokens from memory (the gateway's instance only).
   */
  constructor(
    private readonly redis: Redis, private readonly ttlS = DEFAULT_TOKEN_TTL_S, private readonly timeoutMs = 2000,
    private readonly cache?: PartnerTokenCache,
  ) {}

  async issue(t: Omit<PartnerToken, 'exp'>, now = Date.now()): Promise<{ token: string; expiresIn: number; record: PartnerToken }> {
    const token = randomBytes(32).toString('base64url');
    const record: PartnerToken = { ...t, exp: Math.floor(now / 1000) + this.ttlS };
    const hash = sha(token);
    // Atomically, and only while the credential still exists: a revocation racing this issue
    // (credential deleted, its tokens swept) cannot leave a token behind. The per-client set lets
    // a credential's revocation reach every token issued with it.
    const ok = await this.redis.eval(ISSUE, {
      keys: [credentialKey(t.clientId), tokenKey(hash), clientTokensKey(t.clientId)],
      arguments: [JSON.stringify(record), String(this.ttlS), hash],
    });
    if (ok !== 1) throw new OAuthError('invalid_client', 'the credential was revoked');
    return { token, expiresIn: this.ttlS, record };
  }

  /**
   * Unknown, expired or revoked → undefined. A cached token costs no Redis round trip; any other
   * costs one, bounded by `timeoutMs`. Redis errors propagate (fail closed). Unknown tokens are
   * never cached, so a revocation can only ever shrink what is cached.
   */
  async lookup(token: string): Promise<PartnerToken | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const hash = sha(token);
    const now = Date.now();
    const hit = this.cache?.get(hash);
    if (hit) {
      if (hit.exp * 1000 > now) return hit;
      this.cache!.drop(hash); // expired: refused even though cached (RULES 41: short-lived)
      return undefined;
    }
    const mark = this.cache?.mark();
    const raw = await deadline(this.redis.eval(LOOKUP, { keys: [tokenKey(hash)], arguments: [credentialKey('')] }), this.timeoutMs);
    if (typeof raw !== 'string') return undefined;
    const rec = JSON.parse(raw) as PartnerToken;
    if (rec.exp * 1000 <= Date.now()) return undefined;
    if (this.cache && mark !== undefined) this.cache.put(hash, rec, mark);
    return rec;
  }

  /**
   * DESIGN 8: is the token with this hash still unrevoked (a stream re-checks before each page)?
   * Memory when the cache holds it (a revocation evicts it there); else one GET bounded by
   * `timeoutMs`. Redis errors propagate (fail closed). Expiry is the caller's check (it knows exp).
   */
  async live(hash: string): Promise<boolean> {
    if (this.cache?.get(hash)) return true;
    return Boolean(await deadline(this.redis.get(tokenKey(hash)), this.timeoutMs));
  }

  async revoke(token: string): Promise<void> {
    const hash = sha(token);
    await this.redis.eval(REVOKE, { keys: [tokenKey(hash)], arguments: [TOKEN_CHANNEL, hash] });
    // This instance forgets it at once; the others on the message.
    this.cache?.evict([hash]);
  }

  /** Revoke every token issued to a client; how many were live. */
  async revokeClient(clientId: string): Promise<number> {
    const [n, all] = (await this.redis.eval(REVOKE_CLIENT, {
      keys: [clientTokensKey(clientId)], arguments: [TOKEN_CHANNEL, TOKEN_PREFIX, clientId],
    })) as [number, string];
    this.cache?.evictClient(clientId, all ? all.split(',') : []);
    return n;
  }
}

// Partner access tokens (CONTRACT 4, RULES 41): opaque, short-lived, stored only as SHA-256 with a
// TTL, bound to the client certificate when one was presented (RFC 8705), revocable per credential.
import { randomBytes, createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import { credentialKey } from '../agreements/redis-keys.ts';
import { OAuthError } from './oauth-error.ts';
import { deadline } from '../transfer-log/deadline.ts';

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

const sha = (t: string) => createHash('sha256').update(t).digest('base64url');
const tokenKey = (hash: string) => `pg:ptok:${hash}`;
const clientKey = (clientId: string) => `pg:ptok-client:${clientId}`;

export class PartnerTokens {
  /** `timeoutMs`: a Redis that does not answer the lookup in time fails the request closed. */
  constructor(private readonly redis: Redis, private readonly ttlS = DEFAULT_TOKEN_TTL_S, private readonly timeoutMs = 2000) {}

  async issue(t: Omit<PartnerToken, 'exp'>, now = Date.now()): Promise<{ token: string; expiresIn: number; record: PartnerToken }> {
    const token = randomBytes(32).toString('base64url');
    const record: PartnerToken = { ...t, exp: Math.floor(now / 1000) + this.ttlS };
    const hash = sha(token);
    // Atomically, and only while the credential still exists: a revocation racing this issue
    // (credential deleted, its tokens swept) cannot leave a token behind. The per-client set lets
    // a credential's revocation reach every token issued with it.
    const ok = await this.redis.eval(ISSUE, {
      keys: [credentialKey(t.clientId), tokenKey(hash), clientKey(t.clientId)],
      arguments: [JSON.stringify(record), String(this.ttlS), hash],
    });
    if (ok !== 1) throw new OAuthError('invalid_client', 'the credential was revoked');
    return { token, expiresIn: this.ttlS, record };
  }

  /** One Redis round trip. Unknown, expired or revoked → undefined. Redis errors propagate (fail closed). */
  async lookup(token: string): Promise<PartnerToken | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const raw = await deadline(this.redis.get(tokenKey(sha(token))), this.timeoutMs);
    if (!raw) return undefined;
    const rec = JSON.parse(raw) as PartnerToken;
    return rec.exp * 1000 > Date.now() ? rec : undefined;
  }

  async revoke(token: string): Promise<void> {
    await this.redis.del(tokenKey(sha(token)));
  }

  /** Revoke every token issued to a client (credential revoked). */
  async revokeClient(clientId: string): Promise<number> {
    const hashes = await this.redis.sMembers(clientKey(clientId));
    if (!hashes.length) return 0;
    const n = await this.redis.del([...hashes.map(tokenKey), clientKey(clientId)]);
    return Math.max(0, n - 1);
  }
}

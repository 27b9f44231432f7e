// RULES 40: a client assertion's jti is single-use — remembered in Redis until the assertion's exp.
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import { OAuthError } from './oauth-error.ts';

/** SET NX with an absolute expiry; a second use of the same jti is refused. */
export async function claimJti(redis: Redis, clientId: string, jti: string, exp: number): Promise<void> {
  const key = `pg:jti:${clientId}:${createHash('sha256').update(jti).digest('base64url')}`;
  const ok = await redis.set(key, '1', { NX: true, EXAT: exp + 1 });
  if (ok !== 'OK') throw new OAuthError('invalid_client', 'client assertion rejected: jti already used');
}

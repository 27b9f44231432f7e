// The gateway's public signing keys as a JWKS (for /.well-known/jwks.json and for verifying
// checkpoints). Only public members leave: never `d`. The current key comes first; retired keys
// follow (RULES 29: after `keys rotate-signing` old checkpoints must still verify).
import type { JsonWebKey } from 'node:crypto';

export interface PublicJwk { kty: string; crv: string; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' }
export interface Jwks { keys: PublicJwk[] }

function publicPart(jwk: JsonWebKey): PublicJwk {
  const { kty, crv, x, y, kid } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y) throw new Error('signing key must be an EC P-256 JWK (ES256)');
  if (typeof kid !== 'string' || !kid) throw new Error('signing key must have a kid');
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' };
}

export function publicJwks(signingJwk: JsonWebKey & { kid: string }, retired: readonly JsonWebKey[] = []): Jwks {
  const keys = [publicPart(signingJwk)];
  for (const k of retired) {
    const p = publicPart(k);
    if (!keys.some((o) => o.kid === p.kid)) keys.push(p);
  }
  return { keys };
}

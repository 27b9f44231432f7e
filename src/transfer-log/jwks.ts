// The gateway's public signing key as a JWKS (for /.well-known/jwks.json and for verifying
// checkpoints). Only public members leave: never `d`.
import type { JsonWebKey } from 'node:crypto';

export interface PublicJwk { kty: string; crv: string; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' }
export interface Jwks { keys: PublicJwk[] }

export function publicJwks(signingJwk: JsonWebKey & { kid: string }): Jwks {
  const { kty, crv, x, y, kid } = signingJwk;
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y) throw new Error('signing key must be an EC P-256 JWK (ES256)');
  return { keys: [{ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }] };
}

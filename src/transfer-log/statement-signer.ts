// Compact JWS (ES256) made with node:crypto directly (issue [3/6] item 1): every append batch is
// signed before it is released, so the signature sits on the append path. node:crypto's sign()
// costs a few tens of microseconds; node-jose took several times that. The token is a plain
// RFC 7515 compact JWS, header {"alg":"ES256","kid"}, so `jose` or node-jose verify it with the
// public JWKS alone.
import { createHash, type JsonWebKey } from 'node:crypto';
import { es256Signer, es256Verifier, type CompactSigner } from './jws-es256.ts';
import type { Jwks } from './jwks.ts';

export type JwsSigner = CompactSigner;

/** Signs checkpoint and registry statements: header {"alg":"ES256","kid"} (jws-es256.ts). */
export const jwsSigner = (signingJwk: JsonWebKey & { kid: string }): JwsSigner => es256Signer(signingJwk);

/** The hash the next statement of a chain signs as `prev` (hex SHA-256 of the whole JWS). */
export const statementHash = (jws: string): string => createHash('sha256').update(jws, 'utf8').digest('hex');

/** The payload of a compact JWS, unverified (callers verify the signature first, or only route on it). */
export function jwsPayload(jws: string): unknown {
  try {
    return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** Verifies an ES256 compact JWS against public JWKs by kid; returns the payload, or null. */
export function jwsVerifier(keys: Jwks['keys']): (jws: string) => unknown {
  const check = es256Verifier({ keys });
  return (jws) => {
    const r = check(jws);
    return r.ok ? r.payload : null;
  };
}

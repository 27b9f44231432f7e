// Compact JWS (ES256) made with node:crypto directly (issue [3/6] item 1): every append batch is
// signed before it is released, so the signature sits on the append path. node:crypto's sign()
// costs a few tens of microseconds; node-jose took several times that. The token is a plain
// RFC 7515 compact JWS, header {"alg":"ES256","kid"}, so `jose` or node-jose verify it with the
// public JWKS alone.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export type JwsSigner = (payload: object) => string;

export function jwsSigner(signingJwk: JsonWebKey & { kid: string }): JwsSigner {
  const key: KeyObject = createPrivateKey({ key: signingJwk, format: 'jwk' });
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: signingJwk.kid })).toString('base64url');
  return (payload) => {
    const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    // JWS wants R || S (IEEE P1363), not DER.
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
}

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
export function jwsVerifier(keys: ReadonlyArray<{ kid?: string; kty?: string }>): (jws: string) => unknown {
  const byKid = new Map<string, KeyObject>();
  for (const k of keys) if (k.kid) byKid.set(k.kid, createPublicKey({ key: k as JsonWebKey, format: 'jwk' }));
  return (jws) => {
    const [h, p, s, extra] = jws.split('.');
    if (!h || !p || !s || extra !== undefined) return null;
    const header = jwsPart(h) as { alg?: string; kid?: string } | null;
    const key = header?.alg === 'ES256' && typeof header.kid === 'string' ? byKid.get(header.kid) : undefined;
    if (!key) return null;
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    return ok ? jwsPart(p) : null;
  };
}

function jwsPart(b64: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

// private_key_jwt client authentication (RFC 7523 §3, OIDC Core §9) — RULES 40.
import jose from 'node-jose';
import { OAuthError } from './oauth-error.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALLOWED_ALGS = ['ES256', 'PS256']; // `none` and HS* are never accepted
const MAX_LIFETIME_S = 300;

export interface VerifiedAssertion { jti: string; exp: number }

const fail = (why: string) => new OAuthError('invalid_client', `client assertion rejected: ${why}`);

function decodeSegment(seg: string | undefined): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(seg ?? '', 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* fall through */ }
  throw fail('malformed JWT');
}

/**
 * Check signature and claims. `jwks` is the partner's registered public JWKS; `audience` is the
 * token endpoint URL, the only accepted `aud`. The caller then claims the jti (single use).
 */
export async function verifyClientAssertion(
  assertion: string,
  opts: { clientId: string; jwks: { keys: object[] } | null | undefined; audience: string; now: Date },
): Promise<VerifiedAssertion> {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw fail('not a compact JWS');
  const header = decodeSegment(parts[0]);
  if (typeof header.alg !== 'string' || !ALLOWED_ALGS.includes(header.alg)) throw fail(`alg ${String(header.alg)} not allowed`);
  if (typeof header.kid !== 'string') throw fail('kid missing');
  if (!opts.jwks?.keys?.length) throw fail('no keys registered for this client');
  const keystore = await jose.JWK.asKeyStore(opts.jwks);
  const key = keystore.get(header.kid, { use: 'sig' }) ?? keystore.get(header.kid);
  if (!key) throw fail('kid is not registered for this client');
  let payload: Buffer;
  try {
    ({ payload } = await jose.JWS.createVerify(key, { algorithms: ALLOWED_ALGS }).verify(assertion));
  } catch {
    throw fail('bad signature');
  }
  const claims = decodeSegment(payload.toString('base64url'));
  const now = Math.floor(opts.now.getTime() / 1000);
  if (claims.iss !== opts.clientId || claims.sub !== opts.clientId) throw fail('iss and sub must both be the client_id');
  const aud = claims.aud;
  if (!(aud === opts.audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === opts.audience))) throw fail('aud must be the token endpoint');
  if (typeof claims.exp !== 'number') throw fail('exp missing');
  if (claims.exp <= now) throw fail('expired');
  if (claims.exp - now > MAX_LIFETIME_S) throw fail('exp more than 5 minutes ahead');
  if (typeof claims.iat === 'number' && (claims.exp - claims.iat > MAX_LIFETIME_S || claims.iat > now + 60)) throw fail('iat out of range');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw fail('not yet valid');
  if (typeof claims.jti !== 'string' || claims.jti.length < 8 || claims.jti.length > 256) throw fail('jti missing');
  return { jti: claims.jti, exp: claims.exp };
}

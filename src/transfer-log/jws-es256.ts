// Compact JWS, ES256, with node:crypto (issue 15 items 1 and 4): every append batch and every
// release is signed, and node-jose took ~10x longer per signature; this is plain RFC 7515 (any JOSE library verifies
// it). Verification accepts only ES256 and only keys of the gateway's own JWKS (current or
// retired, RULES 29), never a key named inside the token (no jwk/jku/x5u).
import { createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Jwks } from './jwks.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const B64URL = /^[A-Za-z0-9_-]+$/;

export type CompactSigner = (payload: object) => string;

/** `typ` goes in the header when given (receipts); checkpoint statements carry only alg and kid. */
export function es256Signer(jwk: JsonWebKey & { kid: string }, typ?: string): CompactSigner {
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const header = b64(JSON.stringify({ alg: 'ES256', kid: jwk.kid, ...(typ === undefined ? {} : { typ }) }));
  return (payload) => {
    const input = `${header}.${b64(JSON.stringify(payload))}`;
    return `${input}.${sign('sha256', Buffer.from(input, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

export type CompactCheck = { ok: true; kid: string; typ: unknown; payload: unknown } | { ok: false; reason: string };

/** Checks the signature against `jwks` (by kid) and returns the parsed payload; never throws. */
export function es256Verifier(jwks: Jwks): (jws: string) => CompactCheck {
  const keys = new Map<string, KeyObject>(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k as unknown as JsonWebKey, format: 'jwk' })]));
  return (jws) => {
    const parts = jws.split('.');
    if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, reason: 'not a compact JWS' };
    let header: { alg?: unknown; kid?: unknown; typ?: unknown; crit?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'header is not JSON' };
    }
    if (header?.alg !== 'ES256') return { ok: false, reason: 'alg must be ES256' };
    if (header.crit !== undefined) return { ok: false, reason: 'crit is not supported' };
    const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
    if (!key) return { ok: false, reason: 'kid names no gateway key' };
    const sig = Buffer.from(parts[2]!, 'base64url');
    const good = sig.length === 64 && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, sig);
    if (!good) return { ok: false, reason: 'signature does not verify' };
    try {
      return { ok: true, kid: header.kid as string, typ: header.typ, payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) };
    } catch {
      return { ok: false, reason: 'payload is not JSON' };
    }
  };
}

// A partner's public JWKS (CONTRACT 4/5): parsed with node-jose and checked as a public key by
// node:crypto. Private key material is refused outright and the error says so; every key needs a
// unique kid, and its use/alg must be one the gateway accepts for signatures or encryption.
import jose from 'node-jose';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { FieldError } from '../http/problem.ts';
import { ENC_ALGS, SIG_ALGS } from './partner-schema.ts';

export interface PublicJwk { kty: 'EC' | 'RSA'; kid: string; use: 'sig' | 'enc'; alg: string; [member: string]: unknown }
export interface PublicJwks { keys: PublicJwk[] }

// RFC 7518 6.2.2, 6.3.2, 6.4: members that only a private or symmetric key has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Runs on the raw input, whatever else is wrong with it: a private key is never accepted. */
export function privateKeyErrors(raw: unknown, prefix: string): FieldError[] {
  const keys = isObj(raw) && Array.isArray(raw.keys) ? raw.keys : [];
  return keys.flatMap((k, i) => (isObj(k) ? PRIVATE_MEMBERS.filter((m) => m in k) : []).map((m) => ({
    field: `${prefix}keys.${i}.${m}`,
    reason: `private key material (${m}) must never be registered: the JWKS must hold public keys only`,
  })));
}

function algFor(kty: string, use: string, crv: unknown): string | undefined {
  if (use === 'sig') return kty === 'RSA' ? 'PS256' : crv === 'P-256' ? 'ES256' : undefined;
  return kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
}

async function checkKey(k: Record<string, unknown>, at: string): Promise<{ key?: PublicJwk; error?: FieldError }> {
  const kty = String(k.kty);
  const alg = k.alg as string | undefined;
  const use = (k.use as string | undefined) ?? (alg ? ((SIG_ALGS as readonly string[]).includes(alg) ? 'sig' : 'enc') : undefined);
  if (!use) return { error: { field: `${at}.use`, reason: 'required (sig or enc) when alg is absent' } };
  const allowed: readonly string[] = use === 'sig' ? SIG_ALGS : ENC_ALGS;
  if (alg && !allowed.includes(alg)) return { error: { field: `${at}.alg`, reason: `${alg} cannot be used with use=${use}; allowed: ${allowed.join(', ')}` } };
  const effective = alg ?? algFor(kty, use, k.crv);
  if (!effective) return { error: { field: `${at}.crv`, reason: 'a signing EC key must be on P-256 (ES256)' } };
  const wantKty = effective.startsWith('ES') || effective.startsWith('ECDH') ? 'EC' : 'RSA';
  if (wantKty !== kty) return { error: { field: `${at}.kty`, reason: `${effective} needs a ${wantKty} key` } };
  if (effective === 'ES256' && k.crv !== 'P-256') return { error: { field: `${at}.crv`, reason: 'ES256 needs curve P-256' } };
  try {
    const parsed = await jose.JWK.asKey(k as object);
    createPublicKey({ key: k as JsonWebKey, format: 'jwk' }); // rejects points off the curve, bad moduli
    if (kty === 'RSA' && parsed.length < 2048) return { error: { field: `${at}.n`, reason: 'RSA keys must be at least 2048 bits' } };
    const pub = parsed.toJSON(false) as Record<string, unknown>;
    return { key: { ...pub, kty: kty as 'EC' | 'RSA', kid: String(k.kid), use: use as 'sig' | 'enc', alg: effective } };
  } catch {
    return { error: { field: at, reason: 'not a valid public JWK' } };
  }
}

/** Deep checks after the schema passed. Returns the normalised public JWKS or the errors. */
export async function checkJwks(jwks: { keys: Array<Record<string, unknown>> }, prefix: string): Promise<{ jwks?: PublicJwks; errors: FieldError[] }> {
  const errors: FieldError[] = [];
  const keys: PublicJwk[] = [];
  const seen = new Set<string>();
  for (const [i, k] of jwks.keys.entries()) {
    const at = `${prefix}keys.${i}`;
    if (seen.has(String(k.kid))) errors.push({ field: `${at}.kid`, reason: `duplicate kid ${String(k.kid)}: kids must be unique` });
    seen.add(String(k.kid));
    const r = await checkKey(k, at);
    if (r.error) errors.push(r.error);
    else keys.push(r.key!);
  }
  return errors.length ? { errors } : { jwks: { keys }, errors };
}

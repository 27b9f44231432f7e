// Accept: application/jose — the JSON body signed by the gateway (JWS ES256, kid) and then
// encrypted to the partner's registered `use: "enc"` key (JWE compact, A256GCM). CONTRACT 4.
import jose from 'node-jose';
import type { JsonWebKey } from 'node:crypto';

const KEY_ALGS: Record<string, string> = { EC: 'ECDH-ES+A256KW', RSA: 'RSA-OAEP-256' };

export type EncKeyJwk = { kty: string; kid?: string; use?: string; alg?: string } & Record<string, unknown>;

/** The partner's encryption key: `use: "enc"` (or an enc `alg`), EC or RSA. */
export function pickEncryptionKey(jwks: { keys: EncKeyJwk[] } | null | undefined): EncKeyJwk | undefined {
  return jwks?.keys.find((k) => (k.use === 'enc' || (k.alg !== undefined && Object.values(KEY_ALGS).includes(k.alg))) && k.kty in KEY_ALGS);
}

export class JoseSealer {
  private signingKey: Promise<jose.JWK.Key>;
  private readonly encKeys = new Map<string, Promise<jose.JWK.Key>>();

  constructor(private readonly signingJwk: JsonWebKey & { kid: string }) {
    this.signingKey = jose.JWK.asKey(signingJwk as object);
  }

  private encKey(jwk: EncKeyJwk): Promise<jose.JWK.Key> {
    const id = JSON.stringify(jwk);
    let k = this.encKeys.get(id);
    if (!k) {
      k = jose.JWK.asKey(jwk);
      if (this.encKeys.size > 1000) this.encKeys.clear();
      this.encKeys.set(id, k);
    }
    return k;
  }

  /** Sign, then encrypt. Returns the compact JWE. */
  async seal(body: unknown, partnerEnc: EncKeyJwk): Promise<string> {
    const jws = await jose.JWS.createSign(
      { format: 'compact', fields: { alg: 'ES256', kid: this.signingJwk.kid, typ: 'JWT' } },
      await this.signingKey,
    ).update(JSON.stringify(body), 'utf8').final();
    const alg = partnerEnc.alg && Object.values(KEY_ALGS).includes(partnerEnc.alg) ? partnerEnc.alg : KEY_ALGS[partnerEnc.kty]!;
    return jose.JWE.createEncrypt(
      { format: 'compact', contentAlg: 'A256GCM', fields: { alg, kid: partnerEnc.kid, cty: 'JWT' } },
      await this.encKey(partnerEnc),
    ).update(Buffer.from(jws as unknown as string, 'utf8')).final();
  }
}

// Webhook bodies are signed by the gateway (CONTRACT 4): compact JWS, ES256, with the kid of the key
// published at /.well-known/jwks.json, so a partner can tell a real notice from a forged one.
import jose from 'node-jose';
import type { JsonWebKey } from 'node:crypto';
import type { Notice } from './notice.ts';

export type NoticeSigner = (notice: Notice) => Promise<string>;

export function noticeSigner(signingJwk: JsonWebKey & { kid: string }): NoticeSigner {
  const key = jose.JWK.asKey(signingJwk as object, 'json');
  return async (notice) => {
    const signer = jose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: signingJwk.kid, typ: 'JOSE', cty: 'json' } }, await key);
    // node-jose's types describe the flattened result; compact format yields the string.
    return (await signer.update(JSON.stringify(notice), 'utf8').final()) as unknown as string;
  };
}

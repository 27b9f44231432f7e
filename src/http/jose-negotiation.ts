// Accept: application/jose (CONTRACT 4): JWS by the gateway inside a JWE to the partner's `enc`
// key. Without such a key the answer is 406 — decided before any data is fetched or logged.
import type { Request, Response } from 'express';
import { pickEncryptionKey, type JoseSealer, type EncKeyJwk } from '../transfers/jose-response.ts';
import type { Partners } from '../agreements/partners.ts';
import { Problem } from './problem.ts';

export async function respond(
  d: { partners: Partners; sealer: JoseSealer },
  req: Request, res: Response, partnerId: string, produce: () => Promise<unknown>,
): Promise<void> {
  const wantsJose = req.accepts(['application/json', 'application/jose']) === 'application/jose';
  let key: EncKeyJwk | undefined;
  if (wantsJose) {
    const partner = await d.partners.get(partnerId);
    key = pickEncryptionKey(partner?.jwks as { keys: EncKeyJwk[] } | null | undefined);
    if (!key) throw new Problem({ status: 406, code: 'not_acceptable', detail: 'application/jose needs a registered encryption key (use: "enc")' });
  }
  const body = await produce();
  res.set('Cache-Control', 'no-store');
  if (key) res.type('application/jose').send(await d.sealer.seal(body, key));
  else res.json(body);
}

// /.well-known/jwks.json (issue 5): the gateway's public signing key(s), so anyone holding a
// transfer-log checkpoint (or a signed partner response) can check it without asking us.
// Public members only (transfer-log/jwks.ts drops `d`); cacheable, keys change rarely.
import { Router } from 'express';
import type { Jwks } from '../transfer-log/index.ts';
import type { ApiDoc } from './openapi.ts';
import { jwksResponse } from './partner-responses.ts';

/** `jwks` is read on each request, so a rotated key set (RULES 29) is served without a restart. */
export function wellKnownRouter(jwks: () => Jwks, doc: ApiDoc): Router {
  const r = Router();
  doc.add('GET', '/.well-known/jwks.json', {
    summary: 'the gateway\'s public ES256 signing keys: verify transfer-log checkpoints and signed responses by kid', auth: 'public',
    responses: { 200: { description: '{keys: [{kty, crv, x, y, kid, alg, use}]}', json: jwksResponse, name: 'Jwks' } },
  });
  r.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(jwks());
  });
  return r;
}

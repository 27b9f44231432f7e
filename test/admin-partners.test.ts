// CONTRACT 5 partners: registry, public JWKS (node-jose; private keys refused), client credentials
// whose secret is shown once, stored only hashed, and whose revocation takes its tokens with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jose from 'node-jose';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, fieldsOf, newPartner, type Api } from './harness/admin.ts';
import { redisDump } from './harness/redis-dump.ts';
import { Credentials } from '../src/agreements/credentials.ts';
import { PartnerTokens } from '../src/auth/partner-tokens.ts';

let stack: Stack;
let api: Api;
let sigKey: jose.JWK.Key;
let encKey: jose.JWK.Key;
before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  sigKey = await jose.JWK.createKey('EC', 'P-256', { kid: 'sig-1', use: 'sig', alg: 'ES256' });
  encKey = await jose.JWK.createKey('RSA', 2048, { kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' });
});
after(() => stack.close());

const pub = (k: jose.JWK.Key, over: object = {}) => ({ ...(k.toJSON() as object), ...over });

test('a partner is created with its public JWKS and thumbprint, read back and listed', async () => {
  const thumb = 'x'.repeat(43);
  const r = await api('POST', '/admin/v1/partners', { body: { id: 'acme', name: 'Acme LLP', contactEmail: 'dpo@acme.example', jwks: { keys: [pub(sigKey), pub(encKey)] }, clientCertThumbprint: thumb } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.jwks.keys.map((k: { kid: string; use: string; alg: string }) => [k.kid, k.use, k.alg]), [['sig-1', 'sig', 'ES256'], ['enc-1', 'enc', 'RSA-OAEP-256']]);
  const got = await api('GET', '/admin/v1/partners/acme');
  assert.equal(got.status, 200);
  assert.equal(got.body.clientCertThumbprint, thumb);
  assert.equal(got.body.name, 'Acme LLP');
  assert.ok((await api('GET', '/admin/v1/partners')).body.items.some((p: { id: string }) => p.id === 'acme'));
  assert.equal((await api('POST', '/admin/v1/partners', { body: { id: 'acme', name: 'Again', contactEmail: 'a@b.example' } })).status, 409);
  assert.equal((await api('GET', '/admin/v1/partners/nobody')).status, 404);
});

test('a JWKS holding a private key (d) is rejected, and the error says so', async () => {
  const priv = sigKey.toJSON(true);
  const r = await api('POST', '/admin/v1/partners', { body: { name: 'Leaky', contactEmail: 'x@leaky.example', jwks: { keys: [priv] } } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'validation_failed');
  assert.match(fieldsOf(r).get('jwks.keys.0.d') ?? '', /private key material/);
  const id = await newPartner(api);
  const put = await api('PUT', `/admin/v1/partners/${id}/jwks`, { body: { keys: [pub(encKey), priv] } });
  assert.equal(put.status, 400);
  assert.match(fieldsOf(put).get('keys.1.d') ?? '', /public keys only/);
  assert.equal((await api('GET', `/admin/v1/partners/${id}`)).body.jwks, null, 'nothing was stored');
});

test('JWKS rules: kid required and unique, allowed algorithms only, RSA ≥ 2048', async () => {
  const id = await newPartner(api);
  const put = (keys: object[]) => api('PUT', `/admin/v1/partners/${id}/jwks`, { body: { keys } });
  const { kid: _, ...noKid } = pub(sigKey) as { kid: string };
  assert.ok(fieldsOf(await put([noKid])).has('keys.0.kid'));
  assert.match(fieldsOf(await put([pub(sigKey), pub(encKey, { kid: 'sig-1' })])).get('keys.1.kid') ?? '', /unique/);
  assert.ok(fieldsOf(await put([pub(sigKey, { alg: 'HS256' })])).has('keys.0.alg'));
  assert.match(fieldsOf(await put([pub(sigKey, { use: 'enc', alg: 'ES256' })])).get('keys.0.alg') ?? '', /use=enc/);
  const small = await jose.JWK.createKey('RSA', 1024, { kid: 'small', use: 'sig', alg: 'PS256' });
  assert.match(fieldsOf(await put([pub(small)])).get('keys.0.n') ?? '', /2048/);
  assert.ok(fieldsOf(await put([pub(sigKey, { y: 'AAAA' })])).has('keys.0'));
  const ok = await put([pub(sigKey), pub(encKey)]);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body.jwks.keys.map((k: { kid: string }) => k.kid), ['sig-1', 'enc-1']);
});

test('clientCertThumbprint must be a base64url SHA-256', async () => {
  const r = await api('POST', '/admin/v1/partners', { body: { name: 'T', contactEmail: 't@t.example', clientCertThumbprint: 'abc' } });
  assert.equal(r.status, 400);
  assert.ok(fieldsOf(r).has('clientCertThumbprint'));
});

test('a credential secret is returned once, never again, and never stored in clear', async () => {
  const id = await newPartner(api);
  const r = await api('POST', `/admin/v1/partners/${id}/credentials`, { body: {} });
  assert.equal(r.status, 201, r.text);
  const { clientId, clientSecret } = r.body;
  assert.ok(Buffer.from(clientSecret, 'base64url').length >= 32, '≥ 256 bits');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const again = [await api('GET', `/admin/v1/partners/${id}`), await api('GET', '/admin/v1/partners')];
  assert.ok(again[0]!.body.clientIds.includes(clientId), 'control: the partner lists the client id');
  for (const a of again) assert.ok(!a.text.includes(clientSecret));
  const dump = await redisDump(stack.gateway.deps.redis);
  assert.ok(dump.includes(clientId), 'control: the scan sees the credential');
  assert.ok(!dump.includes(clientSecret), 'the secret is nowhere in Redis');
  assert.ok(!stack.logs.text().includes(clientSecret), 'nor in the logs');
  const creds = new Credentials(stack.gateway.deps.redis);
  assert.deepEqual(await creds.authenticate(clientId, clientSecret), { partnerId: id });
  assert.equal(await creds.authenticate(clientId, clientSecret.slice(0, -1) + (clientSecret.endsWith('A') ? 'B' : 'A')), undefined);
});

test('revoking a credential revokes it and every token issued with it', async () => {
  const id = await newPartner(api);
  const { clientId, clientSecret } = (await api('POST', `/admin/v1/partners/${id}/credentials`, { body: { label: 'prod' } })).body;
  const tokens = new PartnerTokens(stack.gateway.deps.redis);
  const issued = await Promise.all([1, 2].map(() => tokens.issue({ partnerId: id, clientId, scope: ['advertising'], cnf: null })));
  for (const t of issued) assert.ok(await tokens.lookup(t.token), 'control: the token is live');
  const other = await newPartner(api);
  assert.equal((await api('DELETE', `/admin/v1/partners/${other}/credentials/${clientId}`)).status, 404, 'only under its own partner');
  assert.equal((await api('DELETE', `/admin/v1/partners/${id}/credentials/${clientId}`)).status, 204);
  for (const t of issued) assert.equal(await tokens.lookup(t.token), undefined);
  assert.equal(await new Credentials(stack.gateway.deps.redis).authenticate(clientId, clientSecret), undefined);
  assert.equal((await api('GET', `/admin/v1/partners/${id}`)).body.clientIds.length, 0);
  assert.equal((await api('DELETE', `/admin/v1/partners/${id}/credentials/${clientId}`)).status, 404);
});

test('credentials for an unknown partner → 404', async () => {
  assert.equal((await api('POST', '/admin/v1/partners/nobody/credentials', { body: {} })).status, 404);
});

test('a token cannot be issued for a credential revoked meanwhile (no race leaves one behind)', async () => {
  const id = await newPartner(api);
  const { clientId } = (await api('POST', `/admin/v1/partners/${id}/credentials`, { body: {} })).body;
  const tokens = new PartnerTokens(stack.gateway.deps.redis);
  assert.ok((await tokens.issue({ partnerId: id, clientId, scope: ['advertising'], cnf: null })).token, 'control: issued while live');
  assert.equal((await api('DELETE', `/admin/v1/partners/${id}/credentials/${clientId}`)).status, 204);
  await assert.rejects(tokens.issue({ partnerId: id, clientId, scope: ['advertising'], cnf: null }), /revoked/);
});

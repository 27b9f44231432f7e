// RULES 38 (mTLS-bound tokens), RULES 40 (private_key_jwt end to end, replay), CONTRACT 4 JOSE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { generateKeyPair, exportJWK, SignJWT, compactDecrypt, compactVerify, importJWK } from 'jose';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken } from './harness/partner.ts';
import { testCerts } from './harness/certs.ts';
import { findUser, active } from './harness/users.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { ASSERTION_TYPE } from '../src/auth/client-assertion.ts';

let stack: Stack;
let withCert: (name: 'partner' | 'gateway-client') => Agent;
const agents: Agent[] = [];
const domestic = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };

before(async () => {
  stack = await startStack({ users: 200, extra: { server: { tls: { requestClientCert: true } } } });
  const c = await testCerts();
  withCert = (name) => {
    const a = new Agent({ connect: { ca: readFileSync(c.ca), cert: readFileSync(c.cert(name)), key: readFileSync(c.key(name)) } });
    agents.push(a);
    return a;
  };
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await stack.close();
});

const subjectFor = (partnerId: string) =>
  createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(findUser(200, (u) => active(u)).id, partnerId, 1);

test('a token issued over a client certificate is bound to it, and refused over another certificate or none', async () => {
  const p = await setupPartner(stack, domestic);
  const mine = withCert('partner');
  const r = await oauthToken(stack, p.clientId, p.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' }, mine);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.cnf['x5t#S256'], /^[A-Za-z0-9_-]{43}$/);
  const token = r.body.access_token as string;
  const path = `/v1/subjects/${subjectFor(p.id)}?purpose=service_delivery`;
  assert.equal((await partnerGet(stack, token, path, {}, mine)).status, 200);
  const other = await partnerGet(stack, token, path, {}, withCert('gateway-client'));
  assert.equal(other.status, 401);
  assert.equal(other.body.code, 'invalid_token');
  const none = await partnerGet(stack, token, path);
  assert.equal(none.status, 401);
  const logged = await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'denied' }, { limit: 5 });
  assert.deepEqual(logged.items.map((e) => e.reason), ['invalid_token', 'invalid_token']);
});

test('a partner registered with a certificate thumbprint cannot get a token without that certificate', async () => {
  const partnerDer = new (await import('node:crypto')).X509Certificate(readFileSync((await testCerts()).cert('partner'))).raw;
  const thumb = (await import('node:crypto')).createHash('sha256').update(partnerDer).digest('base64url');
  const p = await setupPartner(stack, domestic);
  assert.equal((await p.api('POST', '/admin/v1/partners', { body: { id: `${p.id}-c`, name: 'C', contactEmail: 'c@c.example', clientCertThumbprint: thumb } })).status, 201);
  const cred = await p.api('POST', `/admin/v1/partners/${p.id}-c/credentials`, { body: {} });
  await p.api('POST', `/admin/v1/partners/${p.id}-c/agreements`, { body: (await import('./harness/admin.ts')).agreementBody(domestic) });
  const form = { grant_type: 'client_credentials', scope: 'service_delivery' };
  assert.equal((await oauthToken(stack, cred.body.clientId, cred.body.clientSecret, form, withCert('gateway-client'))).status, 401);
  assert.equal((await oauthToken(stack, cred.body.clientId, cred.body.clientSecret, form)).status, 401);
  assert.equal((await oauthToken(stack, cred.body.clientId, cred.body.clientSecret, form, withCert('partner'))).status, 200);
});

test('private_key_jwt: a registered key gets a token; the same assertion replayed is invalid_client', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'sig-1', use: 'sig', alg: 'ES256' };
  const p = await setupPartner(stack, domestic, { jwks: { keys: [jwk] } });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: p.clientId, sub: p.clientId, aud: `${stack.url}/oauth/token`, exp: now + 120, iat: now, jti: `jti-${now}-${Math.random()}` })
    .setProtectedHeader({ alg: 'ES256', kid: 'sig-1' }).sign(privateKey);
  const form = { grant_type: 'client_credentials', scope: 'service_delivery', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
  const ok = await oauthToken(stack, p.clientId, '', form, withCert('partner'));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const replay = await oauthToken(stack, p.clientId, '', form, withCert('partner'));
  assert.equal(replay.status, 401);
  assert.equal(replay.body.error, 'invalid_client');
});

test('Accept: application/jose: signed by the gateway, encrypted to the partner, readable with the jose package; 406 without an enc key', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
  const enc = { ...(await exportJWK(publicKey)), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES+A256KW' };
  const p = await setupPartner(stack, domestic, { jwks: { keys: [enc] } });
  const mine = withCert('partner');
  const token = (await oauthToken(stack, p.clientId, p.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' }, mine)).body.access_token;
  const path = `/v1/subjects/${subjectFor(p.id)}?purpose=service_delivery`;
  const r = await partnerGet(stack, token, path, { accept: 'application/jose' }, mine);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type')!, /^application\/jose/);
  const { plaintext } = await compactDecrypt(r.text, privateKey);
  const { d: _d, ...pub } = stack.gateway.deps.keys.signingJwk;
  const verified = await compactVerify(new TextDecoder().decode(plaintext), await importJWK(pub as object, 'ES256'));
  const body = JSON.parse(new TextDecoder().decode(verified.payload));
  assert.equal(body.purpose, 'service_delivery');
  assert.ok(body.data.phone);

  const q = await setupPartner(stack, domestic);
  const tq = (await oauthToken(stack, q.clientId, q.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' }, mine)).body.access_token;
  const no = await partnerGet(stack, tq, `/v1/subjects/${subjectFor(q.id)}?purpose=service_delivery`, { accept: 'application/jose' }, mine);
  assert.equal(no.status, 406);
  const logged = await stack.gateway.deps.transferLog.query.page({ partnerId: q.id }, { limit: 5 });
  assert.equal(logged.items.length, 0, 'nothing decided or released when the answer cannot be sealed');
});

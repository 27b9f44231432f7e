// RULES 40: the six negative cases of private_key_jwt, each refused; a good assertion passes.
// Assertions are made with the independent `jose` package, not node-jose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { verifyClientAssertion } from '../../src/auth/client-assertion.ts';
import { OAuthError } from '../../src/auth/oauth-error.ts';

const AUD = 'https://gateway.example/oauth/token';
const now = new Date('2026-11-25T12:00:00Z');
const nowS = Math.floor(now.getTime() / 1000);

async function keyPair(kid: string, alg = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const mine = await keyPair('k1');
const other = await keyPair('k-other');
const jwks = { keys: [mine.jwk] };

function assertion(over: { claims?: Record<string, unknown>; kid?: string; key?: Parameters<SignJWT['sign']>[0]; alg?: string } = {}) {
  const claims = { iss: 'c1', sub: 'c1', aud: AUD, exp: nowS + 120, iat: nowS, jti: 'jti-0123456789', ...over.claims };
  return new SignJWT(claims).setProtectedHeader({ alg: over.alg ?? 'ES256', kid: over.kid ?? 'k1' }).sign(over.key ?? mine.privateKey);
}

const verify = (a: string) => verifyClientAssertion(a, { clientId: 'c1', jwks, audience: AUD, now });
const rejected = (e: unknown) => e instanceof OAuthError && e.error === 'invalid_client' && e.status === 401;

test('a well-formed assertion signed by a registered key passes', async () => {
  assert.deepEqual(await verify(await assertion()), { jti: 'jti-0123456789', exp: nowS + 120 });
});

test('wrong aud is refused', async () => {
  await assert.rejects(verify(await assertion({ claims: { aud: 'https://elsewhere/oauth/token' } })), rejected);
});

test('exp more than 5 minutes ahead is refused', async () => {
  await assert.rejects(verify(await assertion({ claims: { exp: nowS + 301, iat: undefined } })), rejected);
  await assert.rejects(verify(await assertion({ claims: { exp: undefined } })), rejected);
});

test('alg none is refused', async () => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${enc({ alg: 'none', kid: 'k1' })}.${enc({ iss: 'c1', sub: 'c1', aud: AUD, exp: nowS + 60, jti: 'jti-0123456789' })}.`;
  await assert.rejects(verify(none), rejected);
});

test('HS256 keyed with anything is refused', async () => {
  await assert.rejects(verify(await assertion({ alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) })), rejected);
});

test('a kid that is not registered for the client is refused, even if validly signed', async () => {
  await assert.rejects(verify(await assertion({ kid: 'k-other', key: other.privateKey })), rejected);
  // and a registered kid with another key's signature
  await assert.rejects(verify(await assertion({ kid: 'k1', key: other.privateKey })), rejected);
});

test('iss different from sub (or from the client id) is refused', async () => {
  await assert.rejects(verify(await assertion({ claims: { iss: 'c2' } })), rejected);
  await assert.rejects(verify(await assertion({ claims: { iss: 'c2', sub: 'c2' } })), rejected);
});

test('a missing jti or an expired assertion is refused', async () => {
  await assert.rejects(verify(await assertion({ claims: { jti: undefined } })), rejected);
  await assert.rejects(verify(await assertion({ claims: { exp: nowS - 1, iat: nowS - 100 } })), rejected);
});

test('PS256 is accepted', async () => {
  const ps = await keyPair('kps', 'PS256');
  const a = await new SignJWT({ iss: 'c1', sub: 'c1', aud: AUD, exp: nowS + 60, jti: 'jti-ps-0123456' }).setProtectedHeader({ alg: 'PS256', kid: 'kps' }).sign(ps.privateKey);
  const r = await verifyClientAssertion(a, { clientId: 'c1', jwks: { keys: [ps.jwk] }, audience: AUD, now });
  assert.equal(r.jti, 'jti-ps-0123456');
});

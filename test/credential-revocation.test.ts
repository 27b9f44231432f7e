// RULES 41, issue [1/6] item 7c: revoking a credential and its tokens is one step. The sweep of the
// credential's tokens can fail (here: its token set has been made the wrong type, a real Redis
// error); that must never leave the credential gone and its tokens live. After the revocation no
// token of it works on any partner route, cached on this instance or not, and none can be minted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken } from './harness/partner.ts';
import { adminApi } from './harness/admin.ts';
import { createRedisClient, type Redis } from '../src/deps.ts';

let stack: Stack;
let other: Redis; // the test's own connection
const TERMS = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
const ROUTES = [
  '/v1/agreement',
  '/v1/subjects?purpose=service_delivery&limit=2',
  '/v1/subjects/v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?purpose=service_delivery',
  '/v1/notifications',
];

before(async () => {
  stack = await startStack({ users: 20 });
  await waitFor(() => stack.gateway.deps.partnerTokenCache.ready, 5000);
  other = createRedisClient(stack.config.redis.url!, stack.config.redis.tls, 2000);
  other.on('error', () => undefined);
  await other.connect();
});
after(async () => {
  other.destroy();
  await stack.close();
});

const keyOf = (token: string) => `pg:{cp}:ptok:${createHash('sha256').update(token).digest('base64url')}`;

async function statuses(token: string): Promise<number[]> {
  return Promise.all(ROUTES.map(async (r) => (await partnerGet(stack, token, r)).status));
}

async function partnerWithTokens() {
  const p = await setupPartner(stack, TERMS);
  const cached = await p.token('service_delivery');
  const uncached = await p.token('service_delivery');
  // Used once, so this instance serves it from memory from now on (partner-token-cache.ts).
  assert.deepEqual(await statuses(cached), [200, 200, 404, 200]);
  return { ...p, cached, uncached };
}

test('the token sweep fails (token set of the wrong type): revocation still succeeds and no token of the credential works anywhere', async () => {
  const p = await partnerWithTokens();
  const setKey = `pg:{cp}:ptok-client:${p.clientId}`;
  assert.equal(await other.type(setKey), 'set');
  await other.del(setKey);
  await other.set(setKey, 'not a set'); // every SMEMBERS on it now fails with WRONGTYPE

  const del = await p.api('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`);
  assert.equal(del.status, 204, del.text);
  assert.deepEqual(await statuses(p.cached), [401, 401, 401, 401], 'the token cached on this instance');
  assert.deepEqual(await statuses(p.uncached), [401, 401, 401, 401], 'the token read from Redis');
  const again = await oauthToken(stack, p.clientId, p.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' });
  assert.equal(again.status, 401);
  assert.equal(again.body.error, 'invalid_client');
  assert.equal(await other.exists(`pg:{cp}:cred:${p.clientId}`), 0);
});

test('the sweep fails on another gateway instance: this instance still drops the client\'s cached tokens on its message', async () => {
  const second = await startStack({ users: 20, redis: stack.redis });
  try {
    const p = await partnerWithTokens();
    const q = await partnerWithTokens();
    const setKey = `pg:{cp}:ptok-client:${p.clientId}`;
    await other.del(setKey);
    await other.set(setKey, 'not a set');
    // Revoked there: the hashes are unknown to everyone, so only the message naming the client can
    // reach the token cached here.
    const del = await adminApi(second, second.adminToken)('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`);
    assert.equal(del.status, 204, del.text);
    await waitFor(async () => (await partnerGet(stack, p.cached, ROUTES[0]!)).status === 401, 5000);
    assert.deepEqual(await statuses(p.cached), [401, 401, 401, 401]);
    assert.deepEqual(await statuses(q.cached), [200, 200, 404, 200], 'another credential\'s cached token is untouched');
  } finally {
    await second.close();
  }
});

test('an ordinary revocation deletes every token key of the credential in the same step, and only its own', async () => {
  const p = await partnerWithTokens();
  const q = await partnerWithTokens();
  assert.equal(await other.exists([keyOf(p.cached), keyOf(p.uncached)]), 2);
  const del = await p.api('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`);
  assert.equal(del.status, 204, del.text);
  assert.equal(await other.exists([keyOf(p.cached), keyOf(p.uncached), `pg:{cp}:ptok-client:${p.clientId}`, `pg:{cp}:cred:${p.clientId}`]), 0);
  assert.deepEqual(await statuses(p.cached), [401, 401, 401, 401]);
  assert.deepEqual(await statuses(q.cached), [200, 200, 404, 200], 'another credential\'s token is untouched');
  assert.deepEqual(await statuses(q.uncached), [200, 200, 404, 200]);
});

test('a token whose credential is gone is refused even while its key is still in Redis', async () => {
  const p = await partnerWithTokens();
  // The state a two-step revocation left when its second step never ran: credential deleted,
  // token keys kept. Lookups must check the credential, not only the token key.
  await other.del(`pg:{cp}:cred:${p.clientId}`);
  assert.equal(await other.exists(keyOf(p.uncached)), 1);
  assert.deepEqual(await statuses(p.uncached), [401, 401, 401, 401]);
});

// Change propagation: two gateway instances on one Redis. A suspension made through A is enforced
// by B within one second (pub/sub), a cold instance loads from Redis, a revoked token fails on
// every instance, and after a Redis outage the cache reloads (and answers "inactive" meanwhile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, testConfig, waitFor, LogCapture, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, fieldsOf, newPartner, type Api } from './harness/admin.ts';
import { startGateway, type Gateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';

let stack: Stack;
let a: Api;
let b: Api;
let gwB: Gateway;
const started: Gateway[] = [];

async function instance(allowLoopbackWebhooks = true): Promise<Gateway> {
  const config = await testConfig({
    redisUrl: stack.redis.url, upstreamUrl: stack.config.upstream.url,
    extra: { notices: { allowLoopbackWebhooks } },
  });
  const gw = await startGateway(config, { log: createLogger('info', new LogCapture()), bootstrapAdminToken: stack.adminToken });
  started.push(gw);
  await waitFor(() => gw.deps.agreements.ready, 5000);
  return gw;
}

before(async () => {
  stack = await startStack({ users: 5 });
  a = adminApi(stack, stack.adminToken);
  gwB = await instance(false); // B: production webhook rule (no loopback)
  b = adminApi({ url: `https://localhost:${gwB.port}`, adminUrl: `https://localhost:${gwB.adminPort}`, client: stack.client }, stack.adminToken);
});
after(async () => {
  for (const gw of started) await gw.close();
  await stack.close();
});

test('suspend through A: B reports the agreement inactive within 1 s', async () => {
  const p = await newPartner(a);
  assert.equal((await a('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() })).status, 201);
  await waitFor(() => gwB.deps.agreements.active(p)?.version === 1, 1000);
  assert.equal((await a('POST', `/admin/v1/agreements/agr_${p}/suspend`)).status, 200);
  const t0 = Date.now();
  await waitFor(() => gwB.deps.agreements.active(p) === undefined, 1000);
  assert.equal(gwB.deps.agreements.current(p)?.status, 'suspended');
  assert.ok(Date.now() - t0 < 1000);
  // ...and back, through B this time, seen by A.
  assert.equal((await b('POST', `/admin/v1/agreements/agr_${p}/resume`)).status, 200);
  await waitFor(() => stack.gateway.deps.agreements.active(p)?.status === 'active', 1000);
});

test('a new version through A is what B holds within 1 s', async () => {
  const p = await newPartner(a);
  await a('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await a('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
  await waitFor(() => gwB.deps.agreements.active(p)?.version === 2, 1000);
  assert.deepEqual(gwB.deps.agreements.active(p)?.processingCountries, ['KZ']);
});

test('a cold instance loads the current agreements from Redis', async () => {
  const p = await newPartner(a);
  await a('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await a('POST', `/admin/v1/agreements/agr_${p}/terminate`);
  const cold = await instance();
  assert.equal(cold.deps.agreements.current(p)?.status, 'terminated');
  assert.equal(cold.deps.agreements.active(p), undefined);
});

test('a token revoked through A is refused by B on the next request', async () => {
  const m = (await a('POST', '/admin/v1/tokens', { body: { role: 'admin' } })).body;
  assert.equal((await b('GET', '/admin/v1/partners', { token: m.token })).status, 200);
  assert.equal((await a('DELETE', `/admin/v1/tokens/${m.id}`)).status, 204);
  assert.equal((await b('GET', '/admin/v1/partners', { token: m.token })).status, 401);
});

test('RULES 45: loopback webhooks only where config allows them (tests on A, production rule on B)', async () => {
  const p = await newPartner(a);
  const body = agreementBody({ notifyUrl: 'https://localhost:9443/notices' });
  const onB = await b('POST', `/admin/v1/partners/${p}/agreements`, { body });
  assert.equal(onB.status, 400);
  assert.match(fieldsOf(onB).get('notifyUrl') ?? '', /loopback/);
  assert.equal((await a('POST', `/admin/v1/partners/${p}/agreements`, { body })).status, 201);
});

test('Redis outage: admin calls fail closed (503), nothing is active, and the cache reloads after', async () => {
  const p = await newPartner(a);
  await a('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await waitFor(() => gwB.deps.agreements.active(p)?.version === 1, 1000);
  await stack.redis.kill();
  try {
    await waitFor(() => !gwB.deps.agreements.ready, 5000);
    assert.equal(gwB.deps.agreements.active(p), undefined, 'unsure means inactive');
    const r = await b('GET', '/admin/v1/partners');
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'store_unavailable');
  } finally {
    await stack.redis.restart();
  }
  await waitFor(() => gwB.deps.agreements.active(p)?.version === 1, 10_000);
  await waitFor(() => stack.gateway.deps.redis.isReady, 10_000);
  assert.equal((await a('POST', `/admin/v1/agreements/agr_${p}/suspend`)).status, 200);
  await waitFor(() => gwB.deps.agreements.active(p) === undefined, 1000);
});

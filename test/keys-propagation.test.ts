// RULES 29 across instances: a rotation made through gateway A is what gateway B uses within 1 s
// (Redis pub/sub), a cold instance loads it, and during a Redis outage B fails closed (503).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, testConfig, waitFor, LogCapture, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi, newPartner, type Api } from './harness/admin.ts';
import { startGateway, type Gateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { Problem } from '../src/http/problem.ts';

let stack: Stack;
let a: Api;
let gwB: Gateway;
const started: Gateway[] = [];
const extra = { pseudonym: { rotationGraceSeconds: 3600 } };

async function instance(): Promise<Gateway> {
  const config = await testConfig({ redisUrl: stack.redis.url, upstreamUrl: stack.config.upstream.url, extra });
  const gw = await startGateway(config, { log: createLogger('info', new LogCapture()), bootstrapAdminToken: stack.adminToken });
  started.push(gw);
  await waitFor(() => gw.deps.agreements.ready && gw.deps.partnerKeys.ready, 5000);
  return gw;
}

before(async () => {
  stack = await startStack({ users: 20, extra });
  await waitFor(() => stack.gateway.deps.partnerKeys.ready, 5000);
  a = adminApi(stack, stack.adminToken);
  gwB = await instance();
});
after(async () => {
  for (const gw of started) await gw.close();
  await stack.close();
});

test('rotate through A: B uses the new version within 1 s, and its partner pulls say so', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  assert.deepEqual(gwB.deps.partnerKeys.versions(p.id), { current: 1, accepted: [1] });
  assert.equal((await a('POST', `/admin/v1/partners/${p.id}/keys/rotate`)).status, 200);
  const t0 = Date.now();
  await waitFor(() => gwB.deps.partnerKeys.versions(p.id).current === 2, 1000, 5);
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(gwB.deps.partnerKeys.versions(p.id), { current: 2, accepted: [2, 1] });
  // The partner asks B: new subjects are v2.
  const onB = { url: `https://localhost:${gwB.port}`, client: stack.client };
  const r = await partnerGet(onB, await p.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=5');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.items.length > 0 && r.body.items.every((i: { subject: string }) => i.subject.startsWith('v2.')));
});

test('a cold instance starts with the rotated versions', async () => {
  const id = await newPartner(a);
  await a('POST', `/admin/v1/partners/${id}/keys/rotate`);
  await a('POST', `/admin/v1/partners/${id}/keys/rotate`, { body: { graceSeconds: 0 } });
  const cold = await instance();
  assert.deepEqual(cold.deps.partnerKeys.versions(id), { current: 3, accepted: [3, 1] }, 'v2 was cut at once, v1 is still in grace');
});

test('Redis outage: B answers 503 store_unavailable instead of guessing versions, and reloads after', async () => {
  const id = await newPartner(a);
  await a('POST', `/admin/v1/partners/${id}/keys/rotate`);
  await waitFor(() => gwB.deps.partnerKeys.versions(id).current === 2, 1000);
  await stack.redis.kill();
  try {
    await waitFor(() => !gwB.deps.partnerKeys.ready, 5000);
    assert.throws(() => gwB.deps.partnerKeys.versions(id), (e: unknown) => e instanceof Problem && e.status === 503 && e.code === 'store_unavailable');
  } finally {
    await stack.redis.restart();
  }
  await waitFor(() => gwB.deps.partnerKeys.ready, 10_000);
  assert.equal(gwB.deps.partnerKeys.versions(id).current, 2);
  await waitFor(() => stack.gateway.deps.redis.isReady && stack.gateway.deps.partnerKeys.ready, 10_000);
  await a('POST', `/admin/v1/partners/${id}/keys/rotate`);
  await waitFor(() => gwB.deps.partnerKeys.versions(id).current === 3, 1000);
});

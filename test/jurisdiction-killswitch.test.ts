// RULES 20: the country kill-switch. Two gateway instances on one Redis: a block made through A is
// enforced by B within one second and lifting it restores transfers; while an instance is not sure
// of the jurisdiction state (not loaded, Redis down) it releases nothing (DESIGN 1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, testConfig, waitFor, LogCapture, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { startGateway, type Gateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { Problem } from '../src/http/problem.ts';

let stack: Stack;
let a: Api;
let gwB: Gateway;
let urlB: string;
let partner: TestPartner;
let token: string;
let subject: string;
let releasedBefore: number;
const started: Gateway[] = [];

async function instance(): Promise<Gateway> {
  const config = await testConfig({ redisUrl: stack.redis.url, upstreamUrl: stack.config.upstream.url });
  const gw = await startGateway(config, { log: createLogger('info', new LogCapture()), bootstrapAdminToken: stack.adminToken });
  started.push(gw);
  await waitFor(() => gw.deps.agreements.ready && gw.deps.jurisdiction.ready, 5000);
  return gw;
}

const pullOn = (url: string) => partnerGet({ url, client: stack.client }, token, `/v1/subjects/${subject}?purpose=service_delivery`);

/** Pull through `url` until `done`; every answer on the way must be allowed by `ok`. Returns the elapsed ms. */
async function pollUntil(url: string, done: (r: { status: number; body: any }) => boolean, ok: (r: { status: number; body: any }) => boolean, ms: number) {
  const t0 = Date.now();
  for (;;) {
    const r = await pullOn(url);
    if (done(r)) return Date.now() - t0;
    assert.ok(ok(r), `unexpected ${r.status} ${r.text}`);
    assert.ok(Date.now() - t0 < ms, `not within ${ms} ms (last: ${r.status} ${r.body?.code})`);
  }
}

const blocked = (r: { status: number; body: any }) => r.status === 403 && r.body?.code === 'country_blocked';
const released = (r: { status: number }) => r.status === 200;

before(async () => {
  stack = await startStack({ users: 20 });
  a = adminApi(stack, stack.adminToken);
  await waitFor(() => stack.gateway.deps.jurisdiction.ready, 5000);
  gwB = await instance();
  urlB = `https://localhost:${gwB.port}`;
  // DE adequate, so the partner's users are released without their own cross-border consent.
  assert.equal((await a('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'counsel opinion', reviewBy: '2030-01-01T00:00:00Z' } })).status, 200);
  partner = await setupPartner(stack, { processingCountries: ['KZ', 'DE'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  token = await partner.token('service_delivery');
  await waitFor(() => gwB.deps.agreements.active(partner.id) !== undefined, 1000);
  const page = await partnerGet({ url: urlB, client: stack.client }, token, '/v1/subjects?purpose=service_delivery&limit=20');
  assert.equal(page.status, 200, page.text);
  subject = page.body.items[0].subject;
  releasedBefore = page.body.items.length;
});
after(async () => {
  for (const gw of started) await gw.close();
  await stack.close();
});

test('RULES 20: a country blocked through A is refused by B within 1 s; lifting it restores transfers', async () => {
  assert.equal((await pullOn(urlB)).status, 200);
  const put = await a('PUT', '/admin/v1/jurisdiction/blocked/DE', { body: { reason: 'statutory restriction pending review' } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.entry.blockedBy, 'tok_bootstrap');
  const took = await pollUntil(urlB, blocked, released, 1000);
  assert.ok(took < 1000, `${took} ms`);

  // A bulk page on B is refused whole before the store is read: the block is the partner's, not a
  // user's (DESIGN 8: the page's terms are checked before it is decided), and the refusal is logged.
  assert.ok(releasedBefore > 0);
  const page = await partnerGet({ url: urlB, client: stack.client }, token, '/v1/subjects?purpose=service_delivery&limit=20');
  assert.equal(page.status, 403, page.text);
  assert.equal(page.body.code, 'country_blocked');
  const logged = (await stack.gateway.deps.transferLog.query.page({ partnerId: partner.id }, { limit: 100 })).items
    .filter((e) => e.requestId === page.headers.get('x-request-id'));
  assert.deepEqual(logged.map((e) => [e.decision, e.reason]), [['denied', 'country_blocked']]);

  const state = await adminApi({ url: urlB, adminUrl: `https://localhost:${gwB.adminPort}`, client: stack.client }, stack.adminToken)('GET', '/admin/v1/jurisdiction');
  assert.deepEqual(state.body.blocked.map((b: { country: string; reason: string }) => [b.country, b.reason]), [['DE', 'statutory restriction pending review']]);

  assert.equal((await a('DELETE', '/admin/v1/jurisdiction/blocked/DE')).status, 200);
  assert.ok((await pollUntil(urlB, released, blocked, 1000)) < 1000);
  assert.equal((await a('DELETE', '/admin/v1/jurisdiction/blocked/DE')).status, 404, 'not blocked any more');
});

test('an instance that has not loaded the jurisdiction state answers 503 store_unavailable and releases nothing', async () => {
  const c = await instance();
  c.deps.jurisdiction.close(); // as if its subscription never came up
  assert.throws(() => c.deps.jurisdiction.current(), (e: unknown) => e instanceof Problem && e.status === 503 && e.code === 'store_unavailable');
  const r = await pullOn(`https://localhost:${c.port}`);
  assert.equal(r.status, 503, r.text);
  assert.equal(r.body.code, 'store_unavailable');
  const entries = (await stack.gateway.deps.transferLog.query.page({ partnerId: partner.id }, { limit: 50 })).items;
  assert.ok(!entries.some((e) => e.requestId === r.headers.get('x-request-id')), 'nothing logged, nothing released');
});

test('Redis outage: the state is unsure (503), and after reconnecting B enforces blocks within 1 s again', async () => {
  await stack.redis.kill();
  try {
    await waitFor(() => !gwB.deps.jurisdiction.ready, 5000);
    assert.throws(() => gwB.deps.jurisdiction.current(), (e: unknown) => e instanceof Problem && e.status === 503);
    const r = await pullOn(urlB);
    assert.equal(r.status, 503, r.text);
  } finally {
    await stack.redis.restart();
  }
  await waitFor(() => gwB.deps.jurisdiction.ready && stack.gateway.deps.redis.isReady, 10_000);
  assert.equal((await pullOn(urlB)).status, 200);
  assert.equal((await a('PUT', '/admin/v1/jurisdiction/blocked/DE', { body: { reason: 'again' } })).status, 200);
  assert.ok((await pollUntil(urlB, blocked, released, 1000)) < 1000);
});

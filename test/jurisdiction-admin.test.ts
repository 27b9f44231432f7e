// /admin/v1/jurisdiction input and roles: unknown countries, the home country as "adequate" and
// missing fields are 400 naming the field, and change nothing; only admins change the state,
// admins and auditors read it (RULES 15-17, 20, 43).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, testConfig, waitFor, LogCapture, type Stack } from './harness/stack.ts';
import { adminApi, fieldsOf, type Api } from './harness/admin.ts';
import { setupPartner } from './harness/partner.ts';
import { startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';

let stack: Stack;
let api: Api;
const good = { justification: 'counsel opinion 2026-11', reviewBy: '2030-01-01T00:00:00Z' };

before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  await waitFor(() => stack.gateway.deps.jurisdiction.ready, 5000);
});
after(() => stack.close());

async function expect400(method: string, path: string, body: unknown, fields: Record<string, RegExp>) {
  const r = await api(method, path, { body });
  assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
  assert.equal(r.body.code, 'validation_failed');
  const got = fieldsOf(r);
  for (const [field, reason] of Object.entries(fields)) assert.match(got.get(field) ?? '(absent)', reason, `${path} ${field}`);
  assert.deepEqual([...got.keys()].sort(), Object.keys(fields).sort(), `${path}: exactly the offending fields`);
}

test('bad input is 400 naming each offending field, and changes nothing', async () => {
  const v0 = (await api('GET', '/admin/v1/jurisdiction')).body.version;
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/XY', good, { country: /ISO 3166-1 alpha-2/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/de', good, { country: /upper case/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/EU', good, { country: /ISO 3166-1 alpha-2/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/KZ', good, { country: /home jurisdiction KZ/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/DE', {}, { justification: /required/, reviewBy: /required/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/DE', { justification: '  ', reviewBy: 'next year' }, { justification: /required/, reviewBy: /ISO 8601/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/DE', { ...good, reviewBy: '2020-01-01T00:00:00Z' }, { reviewBy: /future/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/DE', { ...good, approvedBy: 'someone else' }, { approvedBy: /unknown field/ });
  await expect400('PUT', '/admin/v1/jurisdiction/adequate/XY', {}, { country: /ISO/, justification: /required/, reviewBy: /required/ });
  await expect400('PUT', '/admin/v1/jurisdiction/blocked/XY', { reason: 'x' }, { country: /ISO 3166-1 alpha-2/ });
  await expect400('PUT', '/admin/v1/jurisdiction/blocked/DE', {}, { reason: /required/ });
  await expect400('DELETE', '/admin/v1/jurisdiction/adequate/XY', undefined, { country: /ISO/ });
  await expect400('DELETE', '/admin/v1/jurisdiction/blocked/ZZ', undefined, { country: /ISO/ });
  assert.equal((await api('DELETE', '/admin/v1/jurisdiction/blocked/DE')).status, 404);
  const after = (await api('GET', '/admin/v1/jurisdiction')).body;
  assert.deepEqual(after, { version: v0, home: 'KZ', adequate: [], blocked: [] });
});

test('only admins change the state; admins and auditors read it; partner tokens are not admin tokens', async () => {
  const mint = async (role: string) => (await api('POST', '/admin/v1/tokens', { body: { role } })).body.token as string;
  const auditor = await mint('auditor');
  const coreStore = await mint('core_store');
  const partner = await setupPartner(stack, { processingCountries: ['KZ'] });
  const partnerToken = await partner.token('service_delivery');

  for (const [method, path, body] of [
    ['PUT', '/admin/v1/jurisdiction/adequate/DE', good], ['DELETE', '/admin/v1/jurisdiction/adequate/DE', undefined],
    ['PUT', '/admin/v1/jurisdiction/blocked/DE', { reason: 'x' }], ['DELETE', '/admin/v1/jurisdiction/blocked/DE', undefined],
  ] as const) {
    for (const token of [auditor, coreStore]) {
      const r = await api(method, path, { token, body });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.code, 'forbidden');
    }
    assert.equal((await api(method, path, { token: partnerToken, body })).status, 403, `${method} ${path} with a partner token (RULES 43)`);
    assert.equal((await api(method, path, { token: null, body })).status, 401, `${method} ${path} without a token`);
  }
  assert.equal((await api('GET', '/admin/v1/jurisdiction')).body.version, 0, 'nothing was changed');

  for (const path of ['/admin/v1/jurisdiction', '/admin/v1/jurisdiction/history']) {
    assert.equal((await api('GET', path)).status, 200, `admin ${path}`);
    assert.equal((await api('GET', path, { token: auditor })).status, 200, `auditor ${path}`);
    const cs = await api('GET', path, { token: coreStore });
    assert.equal(cs.status, 403);
    assert.match(cs.body.detail, /admin or auditor/);
    assert.equal((await api('GET', path, { token: partnerToken })).status, 403, 'RULES 43: partner tokens are refused on the control plane');
  }
  const doc = (await api('GET', '/openapi.json', { token: null })).body;
  assert.deepEqual(Object.keys(doc.paths['/admin/v1/jurisdiction/blocked/{country}']).sort(), ['delete', 'put']);
});

test('configuration bootstrap: jurisdiction.adequate is written once into a never-governed list, never merged after', async () => {
  assert.equal((await api('GET', '/admin/v1/jurisdiction')).body.version, 0);
  const withConfig = async () => {
    const config = await testConfig({ redisUrl: stack.redis.url, upstreamUrl: stack.config.upstream.url, extra: { jurisdiction: { adequate: ['CH'] } } });
    const gw = await startGateway(config, { log: createLogger('info', new LogCapture()), bootstrapAdminToken: stack.adminToken });
    await waitFor(() => gw.deps.jurisdiction.ready, 5000);
    return gw;
  };
  const first = await withConfig();
  try {
    await waitFor(() => stack.gateway.deps.jurisdiction.cache.version === 1, 1000);
    const s = (await api('GET', '/admin/v1/jurisdiction')).body;
    assert.equal(s.version, 1);
    assert.deepEqual(s.adequate.map((e: { country: string; approvedBy: string; expired: boolean }) => [e.country, e.approvedBy, e.expired]), [['CH', 'config', false]]);
    const days = (Date.parse(s.adequate[0].reviewBy) - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days <= 365, `review in ${days} days`);
    assert.equal((await api('GET', '/admin/v1/jurisdiction/history')).body.items[0].action, 'jurisdiction.bootstrap');
    assert.equal((await api('DELETE', '/admin/v1/jurisdiction/adequate/CH')).body.version, 2);
  } finally {
    await first.close();
  }
  const second = await withConfig();
  try {
    assert.equal(second.deps.jurisdiction.cache.version, 2);
    assert.deepEqual((await api('GET', '/admin/v1/jurisdiction')).body.adequate, [], 'a removed entry does not come back with a restart');
  } finally {
    await second.close();
  }
});

// CONTRACT 5 / RULES 43: role separation on the control plane. 401 without a valid token, 403 for
// a token of another role, revocation effective on the next request, tokens never stored in clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, newPartner, type Api } from './harness/admin.ts';
import { PartnerTokens } from '../src/auth/partner-tokens.ts';
import { redisDump } from './harness/redis-dump.ts';

let stack: Stack;
let api: Api;
let partner: string;
const tokens: Record<string, string> = {};

before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  partner = await newPartner(api);
  for (const role of ['auditor', 'core_store']) {
    const r = await api('POST', '/admin/v1/tokens', { body: { role, label: `${role} test` } });
    assert.equal(r.status, 201, r.text);
    tokens[role] = r.body.token;
  }
});
after(() => stack.close());

function assertProblem(r: { status: number; body: any; headers: Headers }, status: number, code: string) {
  assert.equal(r.status, status);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, code);
}

test('no token → 401 invalid_token with a Bearer challenge', async () => {
  const r = await api('GET', '/admin/v1/partners', { token: null });
  assertProblem(r, 401, 'invalid_token');
  assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="admin"/);
});

test('an unknown token → 401', async () => {
  assertProblem(await api('GET', '/admin/v1/partners', { token: 'pga_' + 'A'.repeat(43) }), 401, 'invalid_token');
  assertProblem(await api('GET', '/admin/v1/partners', { token: 'not-a-token' }), 401, 'invalid_token');
});

test('a token in the query string is not accepted (header only)', async () => {
  const r = await api('GET', `/admin/v1/partners?access_token=${encodeURIComponent(stack.adminToken)}`, { token: null });
  assertProblem(r, 401, 'invalid_token');
});

test('the bootstrap admin token works (control for the refusals)', async () => {
  const r = await api('GET', '/admin/v1/partners');
  assert.equal(r.status, 200);
  assert.ok(r.body.items.some((p: { id: string }) => p.id === partner));
});

test('auditor → 403 forbidden on POST partners', async () => {
  const r = await api('POST', '/admin/v1/partners', { token: tokens.auditor, body: { name: 'X', contactEmail: 'x@x.example' } });
  assertProblem(r, 403, 'forbidden');
  assert.equal((await api('GET', '/admin/v1/audit', { token: tokens.auditor })).status, 200, 'control: auditor reads the audit trail');
});

test('core_store → 403 forbidden on agreements', async () => {
  assertProblem(await api('POST', `/admin/v1/partners/${partner}/agreements`, { token: tokens.core_store, body: agreementBody() }), 403, 'forbidden');
  assertProblem(await api('GET', `/admin/v1/partners/${partner}/agreements`, { token: tokens.core_store }), 403, 'forbidden');
  assertProblem(await api('POST', `/admin/v1/agreements/agr_${partner}/suspend`, { token: tokens.core_store }), 403, 'forbidden');
});

test('admin → 403 on the auditor-only audit trail', async () => {
  assertProblem(await api('GET', '/admin/v1/audit'), 403, 'forbidden');
});

test('a partner access token is never accepted on admin routes', async () => {
  const cred = await api('POST', `/admin/v1/partners/${partner}/credentials`, { body: {} });
  const { token } = await new PartnerTokens(stack.gateway.deps.redis).issue({ partnerId: partner, clientId: cred.body.clientId, scope: ['advertising'], cnf: null });
  assert.ok(await new PartnerTokens(stack.gateway.deps.redis).lookup(token), 'control: a live partner token');
  // RULES 43: partner credentials are refused as such on the control plane (403, not a login prompt).
  assertProblem(await api('GET', '/admin/v1/partners', { token }), 403, 'forbidden');
  assertProblem(await api('GET', '/admin/v1/partners', { token: cred.body.clientSecret }), 403, 'forbidden');
});

test('mint validation: an unknown role or a silly ttl is a 400 naming the field', async () => {
  const r = await api('POST', '/admin/v1/tokens', { body: { role: 'root', ttlSeconds: 1 } });
  assertProblem(r, 400, 'validation_failed');
  assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field).sort(), ['role', 'ttlSeconds']);
});

test('a minted token is shown once and stored only as a hash', async () => {
  const r = await api('POST', '/admin/v1/tokens', { body: { role: 'auditor', ttlSeconds: 600 } });
  assert.equal(r.status, 201);
  assert.match(r.body.token, /^pga_[A-Za-z0-9_-]{43}$/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const dump = await redisDump(stack.gateway.deps.redis);
  assert.ok(dump.includes(r.body.id), 'control: the dump does hold the token record');
  assert.ok(!dump.includes(r.body.token), 'the token is not in Redis');
  assert.ok(!dump.includes(stack.adminToken), 'the bootstrap token is not in Redis');
});

test('a revoked token → 401 at once', async () => {
  const m = await api('POST', '/admin/v1/tokens', { body: { role: 'admin' } });
  assert.equal((await api('GET', '/admin/v1/partners', { token: m.body.token })).status, 200);
  assert.equal((await api('DELETE', `/admin/v1/tokens/${m.body.id}`)).status, 204);
  assertProblem(await api('GET', '/admin/v1/partners', { token: m.body.token }), 401, 'invalid_token');
  assertProblem(await api('DELETE', `/admin/v1/tokens/${m.body.id}`), 404, 'not_found');
});

test('the bootstrap token can be revoked too', async () => {
  const m = await api('POST', '/admin/v1/tokens', { body: { role: 'admin' } });
  assert.equal((await api('DELETE', '/admin/v1/tokens/tok_bootstrap', { token: m.body.token })).status, 204);
  assertProblem(await api('GET', '/admin/v1/partners'), 401, 'invalid_token');
  assert.equal((await api('GET', '/admin/v1/partners', { token: m.body.token })).status, 200);
});

test('/openapi.json describes the admin routes with their roles and the validating schemas', async () => {
  const r = await api('GET', '/openapi.json', { token: null });
  assert.equal(r.status, 200);
  const paths = r.body.paths;
  assert.equal(paths['/admin/v1/partners'].post['x-auth'], 'admin');
  assert.equal(paths['/admin/v1/audit'].get['x-auth'], 'auditor');
  assert.ok(paths['/admin/v1/agreements/{id}/terminate'].post);
  assert.ok(paths['/admin/v1/tokens/{id}'].delete);
  const body = paths['/admin/v1/partners/{id}/agreements'].post.requestBody.content['application/json'].schema;
  assert.equal(body.additionalProperties, false);
  const cats = body.properties.purposes.properties.advertising.properties.categories.properties;
  assert.deepEqual(cats.email.enum, ['clear', 'pseudonymise', 'drop']); // generalise is not defined for email
  // RULES 30: a quasi-identifier is a treatment name or {treatment, justification}, documented as such.
  const [named, justified] = cats.date_of_birth.anyOf;
  assert.ok(named.enum.includes('generalise'));
  assert.deepEqual(Object.keys(justified.properties).sort(), ['justification', 'treatment']);
  assert.match(cats.ip_address.description, /justification/);
  assert.ok(cats.browser.anyOf[0].enum.includes('generalise'));
  assert.equal(cats.correspondence, undefined);
  assert.deepEqual(body.properties.requiresPolicyVersion.enum, stack.config.policy.versions.map((v) => v.version));
});

// RULES 43 (CONTRACT 5, 8, 11 [1/6]): the control plane has its own HTTPS listener. The partner
// listener answers 404 to /admin/* and /metrics; the admin listener refuses partner tokens (403),
// wants a metrics/auditor/admin token for /metrics, keeps the TLS floor, and with
// admin.tls.requireClientCert demands a staff certificate from admin.tls.ca.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { setupPartner } from './harness/partner.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { handshake, legacyClient, permissiveServer } from './harness/tls-probe.ts';
import { runCli } from './harness/cli.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { TLS12_SUITES } from '../src/tls/options.ts';

let stack: Stack;
let admin: Api;
const tokens: Record<string, string> = {};
let partnerToken: string;
let partnerId: string;

before(async () => {
  stack = await startStack({ users: 20 });
  admin = adminApi(stack, stack.adminToken);
  for (const role of ['auditor', 'metrics', 'core_store']) {
    const r = await admin('POST', '/admin/v1/tokens', { body: { role } });
    assert.equal(r.status, 201, r.text);
    tokens[role] = r.body.token;
  }
  tokens.admin = stack.adminToken;
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  partnerToken = await p.token('service_delivery');
  partnerId = p.id;
});
after(() => stack.close());

async function get(base: string, path: string, token?: string, client: Agent = stack.client) {
  const res = await fetch(`${base}${path}`, { dispatcher: client, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: any = null;
  try { body = JSON.parse(text); } catch { /* Prometheus text */ }
  return { status: res.status, body, text, headers: res.headers };
}

test('the partner listener answers 404 not_found (problem+json) to /admin/* and /metrics, even with an admin token', async () => {
  for (const path of ['/admin/v1/partners', '/metrics', '/admin/v1/transfers', '/admin/v1/audit']) {
    const r = await get(stack.url, path, stack.adminToken);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8', path);
    assert.equal(r.body.code, 'not_found', path);
    assert.ok(!r.text.includes('gateway_http_requests_total') && !r.text.includes(partnerId), `${path}: nothing of the control plane leaks`);
  }
  const minted = await fetch(`${stack.url}/admin/v1/tokens`, {
    method: 'POST', dispatcher: stack.client, body: '{"role":"admin"}',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
  });
  assert.equal(minted.status, 404);
  await minted.body?.cancel();
});

test('the admin listener does not serve the partner API', async () => {
  for (const path of ['/v1/agreement', '/v1/notifications', '/.well-known/jwks.json']) {
    assert.equal((await get(stack.adminUrl, path, partnerToken)).status, 404, path);
  }
  const token = await fetch(`${stack.adminUrl}/oauth/token`, { method: 'POST', dispatcher: stack.client, body: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(token.status, 404);
  await token.body?.cancel();
  // The partner API itself still works on its own listener with the same token.
  assert.equal((await get(stack.url, '/v1/agreement', partnerToken)).status, 200);
});

test('the admin listener refuses a partner token with 403 on admin routes and /metrics', async () => {
  for (const path of ['/admin/v1/partners', '/metrics']) {
    const r = await get(stack.adminUrl, path, partnerToken);
    assert.equal(r.status, 403, path);
    assert.equal(r.body.code, 'forbidden', path);
  }
});

test('/metrics without credentials, or with an unknown token, is 401 with WWW-Authenticate', async () => {
  const none = await get(stack.adminUrl, '/metrics');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="admin"/);
  assert.doesNotMatch(none.text, /gateway_/);
  const unknown = await get(stack.adminUrl, '/metrics', `pga_${'x'.repeat(43)}`);
  assert.equal(unknown.status, 401);
  assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('metrics, auditor and admin tokens read /metrics; core_store gets 403', async () => {
  for (const role of ['metrics', 'auditor', 'admin']) {
    const r = await get(stack.adminUrl, '/metrics', tokens[role]);
    assert.equal(r.status, 200, role);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/, role);
    assert.match(r.text, /gateway_http_requests_total/, role);
  }
  assert.equal((await get(stack.adminUrl, '/metrics', tokens.core_store)).status, 403);
});

test('a metrics token gets 403 on every other admin route', async () => {
  const m = adminApi(stack, tokens.metrics!);
  for (const [method, path, body] of [
    ['GET', '/admin/v1/partners'], ['GET', '/admin/v1/transfers'], ['GET', '/admin/v1/audit'],
    ['POST', '/admin/v1/tokens', { role: 'metrics' }], ['GET', '/admin/v1/jurisdiction'],
    ['POST', '/admin/v1/events', { type: 'subject_erased', userId: 'u_1', at: '2026-11-24T10:00:00Z' }],
  ] as Array<[string, string, unknown?]>) {
    const r = await m(method, path, body === undefined ? {} : { body });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
  }
});

test('partner-gateway tokens create --role metrics mints a metrics token', async () => {
  const cfg = join(tmp('cfg'), 'gw.json');
  writeFileSync(cfg, JSON.stringify({ redis: { url: stack.config.redis.url, tls: stack.config.redis.tls } }));
  const env = { GATEWAY_CONFIG: cfg };
  const r = await runCli(['tokens', 'create', '--role', 'metrics', '--label', 'prometheus'], env);
  assert.equal(r.code, 0, r.stderr);
  const minted = JSON.parse(r.stdout.trim());
  assert.equal(minted.role, 'metrics');
  assert.equal((await get(stack.adminUrl, '/metrics', minted.token)).status, 200);
  assert.equal((await get(stack.adminUrl, '/admin/v1/partners', minted.token)).status, 403);
});

test('each listener serves its own OpenAPI document listing only its own routes', async () => {
  const partner = (await get(stack.url, '/openapi.json')).body;
  const control = (await get(stack.adminUrl, '/openapi.json')).body;
  assert.equal(partner['x-listener'], 'partner');
  assert.equal(control['x-listener'], 'admin');
  const pp = Object.keys(partner.paths);
  const cp = Object.keys(control.paths);
  assert.ok(pp.includes('/oauth/token') && pp.includes('/v1/subjects/{subject}') && pp.includes('/.well-known/jwks.json'));
  assert.deepEqual(pp.filter((p) => p.startsWith('/admin') || p === '/metrics'), []);
  assert.ok(cp.includes('/metrics') && cp.includes('/admin/v1/partners'));
  assert.deepEqual(cp.filter((p) => p.startsWith('/v1/') || p.startsWith('/oauth') || p.startsWith('/.well-known')), []);
  assert.equal(control.paths['/metrics'].get['x-auth'], 'metrics | auditor | admin');
  assert.match(partner.info.description, /control plane/i);
});

test('the admin listener keeps the TLS floor: TLS 1.1 refused (a permissive control accepts it), TLS 1.2 with a listed AEAD suite; HSTS sent', async () => {
  const c = await testCerts();
  const permissive = await permissiveServer(c.cert('gateway'), c.key('gateway'));
  try {
    const control = await handshake(permissive.port, c.ca, legacyClient('TLSv1.1'));
    assert.equal(control.ok, true, control.error);
    assert.equal((await handshake(stack.gateway.adminPort, c.ca, legacyClient('TLSv1.1'))).ok, false);
    assert.equal((await handshake(stack.gateway.adminPort, c.ca, legacyClient('TLSv1'))).ok, false);
  } finally {
    await permissive.close();
  }
  const r12 = await handshake(stack.gateway.adminPort, c.ca, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  assert.equal(r12.ok, true, r12.error);
  assert.ok((TLS12_SUITES as readonly string[]).includes(r12.cipher!), r12.cipher);
  const cbc = await handshake(stack.gateway.adminPort, c.ca, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' });
  assert.equal(cbc.ok, false, `admin listener accepted ${cbc.cipher}`);
  const h = await get(stack.adminUrl, '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
});

test('admin.tls.requireClientCert: no certificate or a foreign one cannot complete a request; a certificate from admin.tls.ca can', async () => {
  const c = await testCerts();
  const mtls = await startStack({ users: 5, redis: stack.redis, extra: { admin: { tls: { requireClientCert: true } } } });
  const foreign = await writeDevCerts(tmp('foreign-staff-ca'));
  const ca = readFileSync(c.ca);
  const agents = {
    none: new Agent({ connect: { ca } }),
    staff: new Agent({ connect: { ca, cert: readFileSync(c.cert('gateway-client')), key: readFileSync(c.key('gateway-client')) } }),
    foreign: new Agent({ connect: { ca, cert: readFileSync(foreign.cert('gateway-client')), key: readFileSync(foreign.key('gateway-client')) } }),
  };
  try {
    const ok = await get(mtls.adminUrl, '/metrics', mtls.adminToken, agents.staff);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /gateway_http_requests_total/);
    await assert.rejects(get(mtls.adminUrl, '/metrics', mtls.adminToken, agents.none), 'no client certificate');
    await assert.rejects(get(mtls.adminUrl, '/healthz', undefined, agents.none), 'no client certificate, public route');
    await assert.rejects(get(mtls.adminUrl, '/metrics', mtls.adminToken, agents.foreign), 'a certificate from another CA');
    // The partner listener is unaffected: no certificate needed there.
    assert.equal((await get(mtls.url, '/healthz', undefined, agents.none)).status, 200);
  } finally {
    await Promise.all(Object.values(agents).map((a) => a.close()));
    await mtls.close();
  }
});

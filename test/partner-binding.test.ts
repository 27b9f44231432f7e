// RULES 38 (CONTRACT 4, 6 step 1): with server.tls.requestClientCert, every partner route — not only
// the data calls — refuses a certificate-bound token presented without its certificate or over
// another one, and refuses an unbound token (binding is required), with 401 invalid_token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken } from './harness/partner.ts';
import { testCerts } from './harness/certs.ts';

let stack: Stack;
let certA: Agent;
let certB: Agent;
const domestic = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
const ROUTES = ['/v1/notifications', '/v1/agreement'];

before(async () => {
  stack = await startStack({ users: 50, extra: { server: { tls: { requestClientCert: true } } } });
  const c = await testCerts();
  const agent = (name: 'partner' | 'gateway-client') =>
    new Agent({ connect: { ca: readFileSync(c.ca), cert: readFileSync(c.cert(name)), key: readFileSync(c.key(name)) } });
  certA = agent('partner');
  certB = agent('gateway-client');
});
after(async () => {
  await Promise.all([certA.close(), certB.close()]);
  await stack.close();
});

const form = { grant_type: 'client_credentials', scope: 'service_delivery' };

function assertInvalidToken(r: { status: number; body: any; headers: { get(n: string): string | null } }, what: string) {
  assert.equal(r.status, 401, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'invalid_token', what);
  assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
}

test('a token bound to certificate A works on /v1/notifications and /v1/agreement over A only: over B or no certificate, 401 invalid_token', async () => {
  const p = await setupPartner(stack, domestic);
  const issued = await oauthToken(stack, p.clientId, p.clientSecret, form, certA);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.ok(issued.body.cnf?.['x5t#S256'], 'the token is bound');
  const token = issued.body.access_token as string;
  for (const path of ROUTES) {
    assert.equal((await partnerGet(stack, token, path, {}, certA)).status, 200, `${path} over A`);
    assertInvalidToken(await partnerGet(stack, token, path, {}, certB), `${path} over B`);
    assertInvalidToken(await partnerGet(stack, token, path), `${path} without a certificate`);
  }
});

test('an unbound token (issued without a certificate) is refused on every partner route while binding is required', async () => {
  const p = await setupPartner(stack, domestic);
  const issued = await oauthToken(stack, p.clientId, p.clientSecret, form);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.equal(issued.body.cnf, undefined);
  const token = issued.body.access_token as string;
  for (const path of ROUTES) {
    assertInvalidToken(await partnerGet(stack, token, path), `${path} without a certificate`);
    assertInvalidToken(await partnerGet(stack, token, path, {}, certA), `${path} over a certificate it is not bound to`);
  }
});

test('a bound token used over another certificate on a data call is still refused and the denial is logged', async () => {
  const p = await setupPartner(stack, domestic);
  const token = (await oauthToken(stack, p.clientId, p.clientSecret, form, certA)).body.access_token as string;
  assertInvalidToken(await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=1', {}, certB), 'bulk over B');
  const logged = await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'denied' }, { limit: 5 });
  assert.deepEqual(logged.items.map((e) => e.reason), ['invalid_token']);
});

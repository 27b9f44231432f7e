// RULES 39: no forged identity. The gateway terminates TLS itself; headers that a proxy would use to
// pass on a client address or certificate (X-Forwarded-For, X-Client-Cert, X-SSL-Client-Cert,
// ssl-client-cert, X-Forwarded-Client-Cert) come from the outside and change nothing: binding,
// the transfer log's TLS evidence and rate limits follow the connection and the token only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { Agent, fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken } from './harness/partner.ts';
import { testCerts } from './harness/certs.ts';

let stack: Stack;
let certA: Agent;
let certB: Agent;
let pem: { A: string; B: string };
const domestic = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
const form = { grant_type: 'client_credentials', scope: 'service_delivery' };

before(async () => {
  stack = await startStack({ users: 50, extra: { server: { tls: { requestClientCert: true } } } });
  const c = await testCerts();
  const agent = (name: 'partner' | 'gateway-client') =>
    new Agent({ connect: { ca: readFileSync(c.ca), cert: readFileSync(c.cert(name)), key: readFileSync(c.key(name)) } });
  certA = agent('partner');
  certB = agent('gateway-client');
  pem = { A: readFileSync(c.cert('partner'), 'utf8'), B: readFileSync(c.cert('gateway-client'), 'utf8') };
});
after(async () => {
  await Promise.all([certA.close(), certB.close()]);
  await stack.close();
});

const der = (p: string) => new X509Certificate(p).raw;
const x5t = (p: string) => createHash('sha256').update(der(p)).digest('base64url');

/** Every header a TLS-terminating proxy might use, carrying certificate `p` (PEM, thumbprints) and a made-up client address. */
function forged(p: string, ip = '203.0.113.7'): Record<string, string> {
  const urlPem = encodeURIComponent(p);
  const onLine = p.trim().replace(/\n/g, ' ');
  return {
    'x-forwarded-for': ip,
    'x-real-ip': ip,
    forwarded: `for=${ip};proto=https`,
    'x-client-cert': urlPem,
    'x-ssl-client-cert': onLine,
    'ssl-client-cert': onLine,
    'x-forwarded-client-cert': `Hash=${createHash('sha256').update(der(p)).digest('hex')};Cert="${urlPem}";Subject="CN=partner-gateway partner"`,
    'x-client-cert-thumbprint': x5t(p),
    'x-ssl-client-verify': 'SUCCESS',
  };
}

function assertInvalidToken(r: { status: number; body: any }, what: string) {
  assert.equal(r.status, 401, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'invalid_token', what);
}

test('a token bound to certificate A, sent without A but with A forged in every proxy header, is refused 401 invalid_token', async () => {
  const p = await setupPartner(stack, domestic);
  const issued = await oauthToken(stack, p.clientId, p.clientSecret, form, certA);
  assert.equal(issued.body.cnf?.['x5t#S256'], x5t(pem.A), 'bound to A');
  const token = issued.body.access_token as string;
  for (const path of ['/v1/agreement', '/v1/notifications', '/v1/subjects?purpose=service_delivery&limit=1']) {
    assertInvalidToken(await partnerGet(stack, token, path, forged(pem.A)), `${path}, no certificate, A in headers`);
    assertInvalidToken(await partnerGet(stack, token, path, forged(pem.A), certB), `${path}, over B, A in headers`);
    assert.equal((await partnerGet(stack, token, path, forged(pem.B), certA)).status, 200, `${path} over A, B in headers`);
  }
});

test('the token endpoint does not bind a token to a certificate named only in headers', async () => {
  const p = await setupPartner(stack, domestic);
  const res = await fetch(`${stack.url}/oauth/token`, {
    method: 'POST',
    dispatcher: stack.client,
    headers: {
      ...forged(pem.A),
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${p.clientId}:${p.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as Record<string, any>;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.cnf, undefined, 'no cnf: no certificate was on the connection');
  // And such a token is unbound, so it is refused everywhere while binding is required, headers or not.
  assertInvalidToken(await partnerGet(stack, body.access_token, '/v1/agreement', forged(pem.A)), 'unbound token with A in headers');
});

test('the transfer log records the connection\'s certificate, not the one in the headers', async () => {
  const p = await setupPartner(stack, domestic);
  const token = (await oauthToken(stack, p.clientId, p.clientSecret, form, certA)).body.access_token as string;
  const r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=2', forged(pem.B, '198.51.100.1'), certA);
  assert.equal(r.status, 200, r.text);
  assertInvalidToken(await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=1', forged(pem.A)), 'denied, no certificate');
  const entries = (await stack.gateway.deps.transferLog.query.page({ partnerId: p.id }, { limit: 10 })).items;
  const released = entries.filter((e) => e.decision === 'released');
  const denied = entries.filter((e) => e.decision === 'denied');
  assert.ok(released.length >= 1, JSON.stringify(entries.map((e) => e.decision)));
  for (const e of released) assert.equal(e.tls.clientCertThumbprint, x5t(pem.A), 'released: the connection\'s certificate A');
  assert.deepEqual(denied.map((e) => [e.reason, e.tls.clientCertThumbprint]), [['invalid_token', null]], 'denied: no certificate on the connection, A in headers ignored');
  assert.ok(!JSON.stringify(entries).includes('198.51.100.1'), 'no forwarded address in the log');
});

test('rate limits are per partner: a new X-Forwarded-For on every request does not buy a new budget', async () => {
  const terms = { ...domestic, rateLimit: { requestsPerMinute: 3 } };
  const p = await setupPartner(stack, terms);
  const other = await setupPartner(stack, terms);
  const token = (await oauthToken(stack, p.clientId, p.clientSecret, form, certA)).body.access_token as string;
  const otherToken = (await oauthToken(stack, other.clientId, other.clientSecret, form, certA)).body.access_token as string;
  const path = '/v1/subjects?purpose=service_delivery&limit=1';
  for (let i = 0; i < 3; i++) assert.equal((await partnerGet(stack, token, path, forged(pem.A, `192.0.2.${i + 1}`), certA)).status, 200);
  const limited = await partnerGet(stack, token, path, forged(pem.A, '192.0.2.99'), certA);
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.body.code, 'rate_limited');
  // The other partner, "from" the same forwarded address as the first three, keeps its own budget.
  assert.equal((await partnerGet(stack, otherToken, path, forged(pem.A, '192.0.2.1'), certA)).status, 200);
});

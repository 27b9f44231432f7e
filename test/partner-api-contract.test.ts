// Issue 19: the served documents are valid OpenAPI 3.1 (an independent validator), every response
// the tests receive matches them (the harness check, shown able to fail), the generated partner
// client matches the partner listener's document (regenerated here; drift fails), and the whole
// partner journey of examples/partner/ runs against the real gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fetch } from 'undici';
import { Validator } from '@seriousme/openapi-schema-validator';
import { exportJWK, generateKeyPair } from 'jose';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner } from './harness/partner.ts';
import { adminApi } from './harness/admin.ts';
import { testCerts } from './harness/certs.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { CheckedAgent, DocumentedResponses, type OpenApiDoc } from './harness/response-check.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { GENERATED_TYPES, generateTypes } from '../examples/partner/generate.ts';
import { partnerClient, type PartnerClient } from '../examples/partner/client.ts';
import * as journey from '../examples/partner/journey.ts';

let stack: Stack;
let rx: WebhookReceiver;
before(async () => {
  // The receiver refuses (503), so the pull is what acknowledges; its request is still verified.
  rx = await startWebhookReceiver(() => ({ status: 503 }));
  stack = await startStack({ users: 40, extra: { notices: { webhookCa: (await testCerts()).ca, workerIntervalMs: 50 } } });
});
after(async () => {
  await stack.close();
  await rx.close();
});

const docOf = async (base: string) => (await (await fetch(`${base}/openapi.json`, { dispatcher: stack.client })).json()) as OpenApiDoc & Record<string, unknown>;

test('both served documents are valid OpenAPI 3.1 (independent validator), and an invalid one is refused', async () => {
  for (const base of [stack.url, stack.adminUrl]) {
    const r = await new Validator().validate(await docOf(base) as unknown as Parameters<Validator['validate']>[0]);
    assert.equal(r.valid, true, `${base}: ${JSON.stringify(r.errors)?.slice(0, 2000)}`);
  }
  const broken = await docOf(stack.url);
  // A response without its required description: the validator must say no.
  (broken.paths['/healthz']!.get!.responses as Record<string, object>)['200'] = { content: {} };
  assert.equal((await new Validator().validate(broken as unknown as Parameters<Validator['validate']>[0])).valid, false);
});

test('every partner response is typed: a schema for each body, problem+json with a code enum for each error', async () => {
  const doc = await docOf(stack.url);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        const content = (r as { content?: Record<string, { schema?: object }> }).content ?? {};
        assert.ok(Object.keys(content).length > 0, `${method} ${path} ${status}: no content`);
        for (const [media, m] of Object.entries(content)) assert.ok(m.schema, `${method} ${path} ${status} ${media}: no schema`);
        if (status === 'default' || Number(status) >= 400) {
          const p = content['application/problem+json'] ?? content['application/json'];
          assert.ok(p, `${method} ${path} ${status}: not problem+json`);
        }
      }
    }
  }
  const pull = doc.paths['/v1/subjects/{subject}']!.get!.responses as Record<string, any>;
  assert.ok(pull['200'].content['application/jose'] && pull['200'].headers['Transfer-Receipt'].required);
  assert.ok(pull['404'].content['application/problem+json'].schema.allOf[1].properties.code.enum.includes('subject_not_found'));
  assert.ok(pull['429'].headers['Retry-After'].required && pull['401'].headers['WWW-Authenticate'].required);
  assert.ok((doc.paths['/v1/subjects']!.get!.responses as Record<string, any>)['200'].content['application/x-ndjson'].schema);
  assert.ok((doc as any).components.schemas.BulkLine.anyOf.length === 3, 'item, final line, error line');
});

test('the response check fails a response that does not match its documented schema', async () => {
  const doc = await docOf(stack.url);
  const checker = new DocumentedResponses('urn:openapi:test', doc);
  const ok = Buffer.from(JSON.stringify({ status: 'ok' }));
  assert.equal(checker.check('GET', '/healthz', 200, { 'content-type': 'application/json' }, ok), null);
  assert.match(checker.check('GET', '/healthz', 200, { 'content-type': 'application/json' }, Buffer.from('{"status":"fine"}'))!, /GET \/healthz 200/);
  assert.match(checker.check('GET', '/healthz', 201, { 'content-type': 'application/json' }, ok)!, /status 201 is not documented/);
  assert.match(checker.check('GET', '/v1/agreement', 401, { 'content-type': 'application/problem+json' }, Buffer.from('{}'))!, /WWW-Authenticate missing/);
  // Through the dispatcher, as the tests use it: a document that says /healthz answers an array.
  const strict = new CheckedAgent({ connect: { ca: readFileSync((await testCerts()).ca) } });
  const wrong = structuredClone(doc) as any;
  wrong.paths['/healthz'].get.responses['200'].content['application/json'].schema = { type: 'array' };
  strict.expect(stack.url, wrong);
  const res = await fetch(`${stack.url}/healthz`, { dispatcher: strict });
  await assert.rejects(res.text(), (e: Error) => /does not match the served OpenAPI document/.test(String((e as { cause?: unknown }).cause)));
  assert.equal(strict.mismatches.length, 1);
  await strict.destroy();
});

test('the generated partner client matches the served document (regenerated; drift fails)', async () => {
  const fresh = await generateTypes(await docOf(stack.url));
  if (process.env.UPDATE_CLIENT === '1') writeFileSync(GENERATED_TYPES, fresh);
  assert.equal(readFileSync(GENERATED_TYPES, 'utf8'), fresh, 'examples/partner/generated/partner-api.ts is stale: run this test with UPDATE_CLIENT=1');
});

test('the partner journey with the generated client, step by step against the gateway', async (t) => {
  const signing = await generateKeyPair('ES256');
  const enc = await generateKeyPair('ECDH-ES+A256KW');
  const jwks = { keys: [
    { ...(await exportJWK(signing.publicKey)), kid: 'sig-1', alg: 'ES256', use: 'sig' },
    { ...(await exportJWK(enc.publicKey)), kid: 'enc-1', alg: 'ECDH-ES+A256KW', use: 'enc' },
  ] };
  const partner = await setupPartner(stack, { processingCountries: ['KZ'], notifyUrl: rx.url() }, { jwks });
  const client: PartnerClient = partnerClient(stack.url, stack.client);
  const purpose = 'service_delivery';
  let token = '';
  let gatewayKeys: Awaited<ReturnType<typeof journey.gatewayJwks>>;
  let all: journey.BulkPull;

  await t.test('a token by client_secret_basic', async () => {
    const r = await journey.tokenBySecret(client, partner.clientId, partner.clientSecret, [purpose]);
    assert.equal(r.token_type, 'Bearer');
    token = r.access_token;
  });
  await t.test('a token by private_key_jwt', async () => {
    const r = await journey.tokenByPrivateKeyJwt(client, `${stack.url}/oauth/token`, partner.clientId, signing.privateKey, 'sig-1', [purpose]);
    assert.equal(r.scope, purpose);
  });
  await t.test('a bulk NDJSON pull resumes from the last cursor after a dropped connection', async () => {
    const whole = await journey.pullAll(client, token, purpose, 15);
    let dropped = false;
    all = await journey.pullAll(client, token, purpose, 15, (page, items) => (page === 1 && items === 3 && !dropped ? (dropped = true) : false));
    assert.equal(all.resumed, 1);
    assert.ok(whole.subjects.size > 15, 'more than one page');
    assert.deepEqual([...all.subjects.keys()].sort(), [...whole.subjects.keys()].sort());
  });
  const first = () => [...all.subjects.keys()][0]!;
  await t.test('a single pull, its transfer receipt verified against the JWKS', async () => {
    gatewayKeys = await journey.gatewayJwks(client);
    const { subject, receipt } = await journey.pullOne(client, token, first(), purpose);
    const p = await journey.verifyReceipt(receipt, gatewayKeys, { partnerId: partner.id, subject: subject.subject, transferId: subject.transferId });
    assert.equal(p.typ, 'transfer-receipt');
  });
  await t.test('a JWE answer decrypted with the partner\'s key', async () => {
    const body = await journey.pullEncrypted(client, token, first(), purpose, enc.privateKey, gatewayKeys);
    assert.equal(body.subject, first());
  });
  await t.test('notices pulled and acknowledged; the webhook copy verified', async () => {
    const userId = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).decode(first(), partner.id, [1])!.userId;
    const admin = adminApi(stack, stack.adminToken);
    const core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
    const ev = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: new Date().toISOString(), id: 'evt-journey-1' } });
    assert.equal(ev.status, 202, ev.text);
    await waitFor(() => rx.received.length > 0, 5000);
    const pushed = await journey.verifyWebhook(rx.received[0]!.body, gatewayKeys);
    assert.equal(pushed.subject, first());
    await assert.rejects(journey.verifyWebhook(rx.received[0]!.body.replace(/\.[^.]+$/, '.AAAA'), gatewayKeys));
    const deleted: string[] = [];
    const r = await journey.handleNotices(client, token, null, async (n) => { deleted.push(n.subject); });
    assert.deepEqual(deleted, [first()]);
    assert.equal(r.acks[0]!.via, 'pull');
  });
});

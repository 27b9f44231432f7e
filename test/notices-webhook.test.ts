// CONTRACT 4 push delivery: notices are POSTed as ES256 JWS to the agreement's notifyUrl over
// verified TLS, retried with backoff kept in Redis (so a restart loses nothing) until a 2xx, and a
// redirect is never followed (RULES 45).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, importJWK } from 'jose';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { startTestRedis } from './harness/redis.ts';
import { testCerts } from './harness/certs.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi } from './harness/admin.ts';
import { parseExposition, sampleValue, scrapeMetrics } from './harness/metrics.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';
import { postNotice } from '../src/notices/webhook.ts';
import { clientTlsOptions } from '../src/tls/options.ts';

let redis: LocalRedis;
const open: Array<{ close(): Promise<void> }> = [];
let notices: object;

before(async () => {
  redis = await startTestRedis();
  // Short retries for the test; the CA set for webhooks is the test CA (verification stays on).
  notices = { webhookCa: (await testCerts()).ca, retryBaseMs: 700, retryMaxMs: 1500, workerIntervalMs: 50, timeoutMs: 2000 };
});
after(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined);
  await redis.stop();
});

async function erase(stack: Stack, partner: { id: string; token(s: string): Promise<string> }, eventId: string) {
  const token = await partner.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
  assert.ok(page.body.items.length > 0, page.text);
  const subject = page.body.items[0].subject as string;
  const userId = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).decode(subject, partner.id, [1])!.userId;
  const admin = adminApi(stack, stack.adminToken);
  const core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  const r = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: '2026-11-24T10:00:00Z', id: eventId } });
  assert.deepEqual([r.status, r.body.notices], [202, 1], r.text);
  const listed = await partnerGet(stack, token, '/v1/notifications');
  return { token, subject, notice: listed.body.items[0] as Record<string, unknown> };
}

test('a receiver failing twice then succeeding acknowledges the notice exactly once, across a gateway restart; the body is a verifiable JWS', async () => {
  const rx = await startWebhookReceiver((n) => (n <= 2 ? { status: 500, body: 'down' } : { status: 200, body: '{"ok":true}' }));
  open.push(rx);
  const first = await startStack({ redis, users: 20, extra: { notices } });
  const partner = await setupPartner(first, { processingCountries: ['KZ'], notifyUrl: rx.url() });
  const { notice } = await erase(first, partner, 'evt-restart-1');
  await waitFor(() => rx.received.length === 1, 5000);
  await first.close(); // the failed attempt is recorded before Redis closes; the retry waits in Redis

  const second = await startStack({ redis, users: 20, extra: { notices, keys: { dir: first.config.keys.dir } } });
  open.push(second);
  const state = () => second.gateway.deps.notices.deliveryState(partner.id, String(notice.id));
  assert.equal((await state()).attempts, '1');
  await waitFor(async () => Boolean((await state()).ackAt), 8000);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(rx.received.length, 3, 'two failures, one success, nothing after the acknowledgement');
  assert.deepEqual(rx.received.map((r) => r.status), [500, 500, 200]);
  assert.equal((await state()).attempts, '3');
  // RULES 23: the webhook's 2xx is the partner's confirmation: the notice never becomes overdue.
  assert.equal((await state()).ackBy, 'webhook');
  const overdue = await second.gateway.deps.notices.overdue(1000, Date.now() + 30 * 86_400_000);
  assert.ok(!overdue.items.some((i) => i.noticeId === notice.id), 'a confirmed notice is not overdue');
  assert.ok(!first.logs.text().includes('"attempt":2'), 'the first gateway made one attempt only');
  assert.ok(second.logs.text().includes('"attempt":2') && second.logs.text().includes('"attempt":3'), 'the new gateway continued the retries');
  // Issue 16: the new gateway's /metrics counts its own attempts per partner: one retry, one acknowledgement.
  const m = parseExposition(await scrapeMetrics(second));
  assert.equal(sampleValue(m, 'gateway_notice_deliveries_total', { partner: partner.id, outcome: 'retry' }), 1);
  assert.equal(sampleValue(m, 'gateway_notice_deliveries_total', { partner: partner.id, outcome: 'acknowledged' }), 1);

  const { kty, crv, x, y, kid } = first.gateway.deps.keys.signingJwk;
  const key = await importJWK({ kty, crv, x, y }, 'ES256');
  for (const r of rx.received) {
    assert.equal(r.headers['content-type'], 'application/jose');
    const v = await compactVerify(r.body, key, { algorithms: ['ES256'] });
    assert.equal(v.protectedHeader.kid, kid);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(v.payload)), notice, 'the same notice the pull path shows');
  }
  // Logs carry ids and statuses, never the pseudonym (RULES 24).
  assert.ok(!second.logs.text().includes(String(notice.subject)) && !first.logs.text().includes(String(notice.subject)));
});

test('a redirect is not followed: the target receives nothing and the notice stays unacknowledged', async () => {
  let target: WebhookReceiver | undefined;
  target = await startWebhookReceiver();
  const rx = await startWebhookReceiver(() => ({ status: 307, headers: { location: target!.url('/stolen') } }));
  open.push(rx, target);
  const stack = await startStack({ redis, users: 20, extra: { notices } });
  open.push(stack);
  const partner = await setupPartner(stack, { processingCountries: ['KZ'], notifyUrl: rx.url() });
  const { notice } = await erase(stack, partner, 'evt-redirect-1');
  await waitFor(() => rx.received.length >= 2, 5000);
  const state = await stack.gateway.deps.notices.deliveryState(partner.id, String(notice.id));
  assert.equal(state.lastStatus, 'redirect:307');
  assert.equal(state.ackAt, undefined);
  assert.equal(target.connections, 0, 'no connection ever reached the redirect target');
});

test('RULES 47 and 34: an oversized answer is no acknowledgement, and a certificate outside the webhook CA set is refused', async () => {
  const big = await startWebhookReceiver(() => ({ status: 200, body: 'x'.repeat(200_000) }));
  open.push(big);
  const testCa = clientTlsOptions({ ca: (await testCerts()).ca });
  const oversized = await postNotice(big.url(), 'e30.e30.sig', { tls: testCa, allowLoopback: true, timeoutMs: 2000 });
  assert.deepEqual([oversized.ok, oversized.status], [false, 'oversized']);
  // notices.webhookCa null: Node's public roots, which do not include the test CA.
  const publicRoots = await postNotice(big.url(), 'e30.e30.sig', { tls: clientTlsOptions({ ca: null }), allowLoopback: true, timeoutMs: 2000 });
  assert.equal(publicRoots.ok, false);
  assert.match(publicRoots.status, /^error:/);
  assert.equal(big.received.length, 1, 'no request was sent over the unverified connection');
});

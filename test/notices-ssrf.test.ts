// RULES 45 at delivery time, with the production setting (no loopback): a notifyUrl that now
// resolves to 127.0.0.1 — registered while it pointed elsewhere — is re-checked before every
// attempt and never connected to; the notice ends in the dead-letter list (RULES 23 escalation)
// and stays available by pull.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { testCerts } from './harness/certs.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi, agreementBody } from './harness/admin.ts';
import { parseExposition, sampleValue, scrapeMetrics } from './harness/metrics.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { Agreements } from '../src/agreements/agreement-store.ts';
import { postNotice } from '../src/notices/webhook.ts';
import { clientTlsOptions } from '../src/tls/options.ts';

let stack: Stack;
let rx: WebhookReceiver;

before(async () => {
  rx = await startWebhookReceiver();
  stack = await startStack({
    users: 20,
    extra: { notices: { allowLoopbackWebhooks: false, webhookCa: (await testCerts()).ca, retryBaseMs: 50, retryMaxMs: 100, workerIntervalMs: 30, deadLetterAfterMs: 600 } },
  });
});
after(async () => {
  await stack.close();
  await rx.close();
});

test('a webhook URL resolving to 127.0.0.1 is refused at every attempt: no connection, then dead-lettered', async () => {
  const terms = { processingCountries: ['KZ'], notifyUrl: rx.url() };
  const partner = await setupPartner(stack, { processingCountries: ['KZ'] });
  // The admin API refuses the URL now (control: the guard is on) ...
  const refused = await partner.api('POST', `/admin/v1/partners/${partner.id}/agreements`, { body: agreementBody(terms) });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /loopback/);
  // ... so it is stored the way it was accepted when the name still resolved to a public address.
  const versions = stack.config.policy.versions.map((v) => v.version);
  await new Agreements(stack.gateway.deps.redis, { policyVersions: versions, allowLoopbackWebhooks: true })
    .create({ tokenId: 'test', role: 'admin' }, partner.id, agreementBody(terms));
  await waitFor(() => stack.gateway.deps.agreements.current(partner.id)?.notifyUrl === rx.url(), 3000);

  const token = await partner.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
  const userId = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).decode(page.body.items[0].subject, partner.id, [1])!.userId;
  const admin = adminApi(stack, stack.adminToken);
  const core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  const auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  const r = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: '2026-11-24T10:00:00Z' } });
  assert.deepEqual([r.status, r.body.notices], [202, 1]);
  const notice = (await partnerGet(stack, token, '/v1/notifications')).body.items[0];

  let dead: Array<Record<string, unknown>> = [];
  await waitFor(async () => {
    dead = (await auditor('GET', '/admin/v1/notices/dead-letter')).body.items;
    return dead.length > 0;
  }, 5000);
  assert.equal(dead[0]!.noticeId, notice.id);
  assert.equal(dead[0]!.partnerId, partner.id);
  assert.equal(dead[0]!.lastStatus, 'blocked');
  assert.ok(Number(dead[0]!.attempts) >= 2, 'retried before giving up');
  assert.ok(!JSON.stringify(dead).includes(notice.subject), 'ops see ids, not pseudonyms');
  assert.equal(rx.connections, 0, 'the receiver on 127.0.0.1 was never connected to');
  const logs = stack.logs.text();
  assert.match(logs, /"code":"SSRF_BLOCKED"/);
  assert.match(logs, /"code":"REVOCATION_UNCONFIRMED"/);
  // The partner can still pull it.
  assert.equal((await partnerGet(stack, token, '/v1/notifications')).body.items[0].id, notice.id);
  // Issue 16: ops see the partner's retries and its dead letter on /metrics (alert GatewayPartnerDeadLettersGrowing).
  const m = parseExposition(await scrapeMetrics(stack));
  assert.equal(sampleValue(m, 'gateway_notice_deliveries_total', { partner: partner.id, outcome: 'dead_letter' }), 1);
  assert.equal(sampleValue(m, 'gateway_notice_deliveries_total', { partner: partner.id, outcome: 'retry' }), Number(dead[0]!.attempts) - 1);
  assert.equal(sampleValue(m, 'gateway_notice_deliveries_total', { partner: partner.id, outcome: 'acknowledged' }), undefined);
});

test('the connection goes to the address the check approved, not to a fresh DNS answer (DNS rebinding)', async () => {
  const tls = clientTlsOptions({ ca: (await testCerts()).ca });
  const jws = 'e30.e30.sig';
  // Control: the check approves 127.0.0.1 (loopback allowed here) and the receiver gets the POST.
  const ok = await postNotice(rx.url(), jws, { tls, allowLoopback: true, timeoutMs: 1000, lookup: async () => ['127.0.0.1'] });
  assert.deepEqual(ok, { ok: true, status: '204' });
  assert.equal(rx.connections, 1);
  // The check sees a public address; the system resolver would say 127.0.0.1 at connect time.
  // The connection goes to the approved address, so the receiver on 127.0.0.1 is never reached.
  const pinned = await postNotice(rx.url(), jws, { tls, allowLoopback: false, timeoutMs: 500, lookup: async () => ['93.184.215.14'] });
  assert.equal(pinned.ok, false);
  assert.equal(rx.connections, 1, 'no second connection reached the loopback receiver');
});

// Issue 15 item 6 (RULES 12, 29): notices follow what was actually sent, as the transfer log records
// it: the pseudonym under the key version of the release (not the partner's current one), and
// cross_border_withdrawn by the countries of the releases (not the agreement as it reads today).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, importJWK } from 'jose';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi, agreementBody, type Api } from './harness/admin.ts';
import { testCerts } from './harness/certs.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';

let stack: Stack;
let core: Api;
let rx: WebhookReceiver;

before(async () => {
  rx = await startWebhookReceiver(() => ({ status: 204 }));
  const notices = { webhookCa: (await testCerts()).ca, workerIntervalMs: 50, retryBaseMs: 700, retryMaxMs: 1500, timeoutMs: 2000 };
  stack = await startStack({ users: 40, extra: { notices } });
  const admin = adminApi(stack, stack.adminToken);
  core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
});
after(async () => {
  await stack.close();
  await rx.close();
});

/** userId -> the pseudonym this pull released (decoded with the gateway's key, as only it can). */
async function pull(token: string, partnerId: string, purpose = 'service_delivery'): Promise<Map<string, string>> {
  const page = await partnerGet(stack, token, `/v1/subjects?purpose=${purpose}&limit=20`);
  assert.equal(page.status, 200, page.text);
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  return new Map(page.body.items.map((i: { subject: string }) => [ps.decode(i.subject, partnerId, [1, 2, 3])!.userId, i.subject]));
}
const notifications = async (token: string) => {
  const r = await partnerGet(stack, token, '/v1/notifications?limit=1000');
  assert.equal(r.status, 200, r.text);
  return r.body.items as Array<{ id: string; type: string; subject: string; purposes: string[] }>;
};
const event = async (body: object) => {
  const r = await core('POST', '/admin/v1/events', { body });
  assert.equal(r.status, 202, r.text);
  return r.body.notices as number;
};

test('after a key rotation a withdrawal names the user by the pseudonym first released; a user received under two versions gets a notice for each', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  const v1 = await pull(token, p.id);
  const [u1, u2] = [...v1.keys()] as [string, string];
  assert.ok(v1.get(u1)!.startsWith('v1.'));

  const rot = await p.api('POST', `/admin/v1/partners/${p.id}/keys/rotate`);
  assert.equal(rot.status, 200, rot.text);
  await waitFor(() => stack.gateway.deps.partnerKeys.versions(p.id).current === 2, 5000);

  assert.equal(await event({ type: 'consent_withdrawn', userId: u1, purposes: ['service_delivery'], at: '2026-11-24T10:00:00Z', id: 'evt-kv-1' }), 1);
  const first = (await notifications(token)).filter((n) => n.type === 'consent_withdrawn');
  assert.deepEqual(first.map((n) => n.subject), [v1.get(u1)], 'the pseudonym the partner received, not its v2 one');

  // The partner pulls again under v2: it now holds u2 under both pseudonyms.
  const v2 = await pull(token, p.id);
  assert.ok(v2.get(u2)!.startsWith('v2.') && v2.get(u2) !== v1.get(u2));
  assert.equal(await event({ type: 'subject_erased', userId: u2, at: '2026-11-24T11:00:00Z', id: 'evt-kv-2' }), 2);
  const erased = (await notifications(token)).filter((n) => n.type === 'subject_erased');
  assert.deepEqual(erased.map((n) => n.subject).sort(), [v1.get(u2)!, v2.get(u2)!].sort());
  assert.equal(new Set(erased.map((n) => n.id)).size, 2, 'one notice per pseudonym, each its own id');
  // Either pseudonym was never logged by the service (RULES 24).
  for (const s of [v1.get(u1)!, v1.get(u2)!, v2.get(u2)!]) assert.ok(!stack.logs.text().includes(s));
});

test('a partner that received the user under DE is told of a cross-border withdrawal after its agreement was narrowed to KZ (pull feed and webhook); a domestic one is not', async () => {
  const purposes = { service_delivery: { categories: { phone: 'clear' } } };
  const abroad = await setupPartner(stack, { processingCountries: ['KZ', 'DE'], purposes, notifyUrl: rx.url() });
  const home = await setupPartner(stack, { processingCountries: ['KZ'], purposes });
  const tAbroad = await abroad.token('service_delivery');
  const tHome = await home.token('service_delivery');
  const gotAbroad = await pull(tAbroad, abroad.id);
  const gotHome = await pull(tHome, home.id);
  const user = [...gotAbroad.keys()].find((u) => gotHome.has(u));
  assert.ok(user, 'a user released to both partners');

  const narrowed = await abroad.api('POST', `/admin/v1/partners/${abroad.id}/agreements`, { body: agreementBody({ processingCountries: ['KZ'], purposes, notifyUrl: rx.url() }) });
  assert.equal(narrowed.status, 201, narrowed.text);
  await waitFor(() => stack.gateway.deps.agreements.current(abroad.id)?.processingCountries.join() === 'KZ', 5000);

  assert.equal(await event({ type: 'cross_border_withdrawn', userId: user, at: '2026-11-24T12:00:00Z', id: 'evt-xb-narrowed' }), 1);
  const feed = await notifications(tAbroad);
  assert.deepEqual(feed.map((n) => [n.type, n.subject, n.purposes]), [['cross_border_withdrawn', gotAbroad.get(user), ['service_delivery']]]);
  assert.deepEqual(await notifications(tHome), [], 'the partner that only ever processed at home is not concerned');

  await waitFor(() => rx.received.length === 1, 8000);
  const { kty, crv, x, y } = stack.gateway.deps.keys.signingJwk;
  const pushed = await compactVerify(rx.received[0]!.body, await importJWK({ kty, crv, x, y }, 'ES256'), { algorithms: ['ES256'] });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(pushed.payload)), feed[0], 'the webhook got the same notice');
});

// Issue 16 pages 7, 9 and 5 (second part), without a browser: Jurisdiction (adequacy list with
// overdue reviews highlighted, kill-switch), Incidents (open incidents with their clock, overdue
// deletion confirmations, re-identifications waiting for a second admin) and a partner's details
// (recipients, JWKS upload with its errors, key rotation, denials, deliveries and dead letters with
// a retry). Every write goes through the admin API's services with the staff identity as actor,
// and an auditor's forged write is 403. One stack; real TLS Redis, HTTPS and a real webhook.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, exportJWK } from 'jose';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet, oauthToken, type TestPartner } from './harness/partner.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { testCerts } from './harness/certs.ts';
import { readAudit } from '../src/auth/admin-audit.ts';
import { JurisdictionStore } from '../src/jurisdiction/store.ts';
import { NoticeQueue } from '../src/notices/queue.ts';
import { noticeKeys } from '../src/notices/keys.ts';
import { makeNotice } from '../src/notices/notice.ts';

let stack: Stack;
let api: Api;
let rx: WebhookReceiver;
let webhookUp = false;
let partner: TestPartner & { api: Api };
let subject: string;
let auditor: { token: string; s: Console };
let admin: Console;

interface Reply { status: number; text: string; headers: Headers; location: string | null }
interface Console { cookie: string; csrf: string; tokenId: string }

before(async () => {
  rx = await startWebhookReceiver(() => ({ status: webhookUp ? 204 : 500 }));
  stack = await startStack({
    users: 10,
    extra: {
      console: { tokenLogin: true },
      notices: { allowLoopbackWebhooks: true, webhookCa: (await testCerts()).ca, retryBaseMs: 40, retryMaxMs: 80, workerIntervalMs: 30, deadLetterAfterMs: 250 },
    },
  });
  api = adminApi(stack, stack.adminToken);
  partner = await setupPartner(stack, {
    processingCountries: ['KZ', 'DE'], notifyUrl: rx.url(),
    subProcessors: [{ name: 'Cloud Hosting GmbH', country: 'DE', purpose: 'service_delivery' }],
    purposes: { service_delivery: { categories: { phone: 'clear' } } },
  });
  await api('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'EU adequacy assessment by counsel, memo 2026-07', reviewBy: '2030-01-01' } });
  const page = await partnerGet(stack, await partner.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=2');
  assert.equal(page.status, 200, page.text);
  subject = page.body.items[0].subject;
  const minted = await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  auditor = { token: minted.body.token, s: await signIn(minted.body.token, minted.body.id) };
  admin = await signIn(stack.adminToken, 'tok_bootstrap');
});
after(async () => {
  await stack?.close();
  await rx?.close();
});

async function req(method: string, path: string, o: { cookie?: string; form?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.cookie) headers.cookie = o.cookie;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = stack.adminUrl;
  }
  const res = await fetch(`${stack.adminUrl}${path}`, { method, headers, redirect: 'manual', dispatcher: stack.client, ...(method === 'POST' ? { body: new URLSearchParams(o.form ?? {}).toString() } : {}) });
  return { status: res.status, text: await res.text(), headers: res.headers as unknown as Headers, location: res.headers.get('location') };
}

async function signIn(token: string, tokenId: string): Promise<Console> {
  const r = await req('POST', '/console/sign-in', { form: { token } });
  assert.equal(r.status, 303, r.text);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await req('GET', '/console/jurisdiction', { cookie })).text)?.[1] ?? '';
  assert.ok(csrf);
  return { cookie, csrf, tokenId };
}

const post = (s: Console, path: string, form: Record<string, string> = {}) => req('POST', path, { cookie: s.cookie, form: { _csrf: s.csrf, ...form } });
const get = (s: Console, path: string) => req('GET', path, { cookie: s.cookie });
/** The table row whose opening tag carries `attr`, up to its end. */
const row = (text: string, attr: string) => new RegExp(`<tr[^>]*${attr}[^>]*>[\\s\\S]*?</tr>`).exec(text)?.[0] ?? '';
const auditOf = async (action: string) => (await readAudit(stack.gateway.deps.redis, 200)).items.filter((e) => e.action === action);

test('jurisdiction: the adequacy list shows justification, approver and review date, and an entry past its review is highlighted as counting absent', async () => {
  // An entry whose review date passed (the service refuses to write one; the store, as time does, can hold one).
  await new JurisdictionStore(stack.gateway.deps.redis).change({ tokenId: 'tok_counsel', role: 'admin' }, 'adequate', 'CH',
    { country: 'CH', justification: 'Swiss FADP assessment 2024', approvedBy: 'tok_counsel', approvedAt: '2024-01-01T00:00:00.000Z', reviewBy: '2025-01-01T00:00:00.000Z' });
  // One due for review within 30 days is flagged as coming up.
  const soon = new Date(Date.now() + 10 * 86_400_000 - 3_600_000).toISOString();
  await new JurisdictionStore(stack.gateway.deps.redis).change({ tokenId: 'tok_counsel', role: 'admin' }, 'adequate', 'GB',
    { country: 'GB', justification: 'UK GDPR assessment', approvedBy: 'tok_counsel', approvedAt: '2025-06-01T00:00:00.000Z', reviewBy: soon });
  const r = await get(admin, '/console/jurisdiction');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.match(row(r.text, 'data-country="GB"'), new RegExp(`<td class="due-soon">${soon.slice(0, 10)} \\(in 10 days\\)</td>`));
  const de = row(r.text, 'data-country="DE"');
  assert.match(de, /EU adequacy assessment by counsel, memo 2026-07/);
  assert.match(de, /tok_bootstrap/);
  assert.match(de, /2030-01-01/);
  assert.doesNotMatch(de, /overdue/i);
  const ch = row(r.text, 'data-country="CH"');
  assert.match(ch, /class="overdue-row"/);
  assert.match(ch, /Review overdue<\/strong> since 2025-01-01: counts as absent/);
  assert.match(r.text, /1 review overdue/);
});

test('jurisdiction: an admin blocks a country (the next pull is denied country_blocked) and lifts it, through the service, audited with the staff identity', async () => {
  const bad = await post(admin, '/console/jurisdiction/blocked', { country: 'XX', reason: '' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /id="block-country-error">must be an ISO 3166-1 alpha-2 country code/);
  assert.match(bad.text, /id="block-reason-error">required/);
  assert.match(bad.text, /name="country"[^>]*value="XX"[^>]*aria-invalid="true"/);
  assert.match(bad.text, /data-confirm="Block every transfer/, 'the block form asks for confirmation');

  const ok = await post(admin, '/console/jurisdiction/blocked', { country: 'de', reason: 'court order 12/2026 restricting transfers' });
  assert.equal(ok.status, 303, ok.text);
  const state = (await api('GET', '/admin/v1/jurisdiction')).body;
  assert.deepEqual(state.blocked.map((b: any) => [b.country, b.blockedBy, b.reason]), [['DE', 'tok_bootstrap', 'court order 12/2026 restricting transfers']]);
  const [entry] = (await auditOf('jurisdiction.block')).filter((e) => e.target === 'jurisdiction/blocked/DE');
  assert.deepEqual(entry?.actor, { tokenId: 'tok_bootstrap', role: 'admin' });
  const denied = await partnerGet(stack, await partner.token('service_delivery'), `/v1/subjects/${subject}?purpose=service_delivery`);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.code, 'country_blocked');
  assert.match(row((await get(admin, '/console/jurisdiction')).text, 'data-country="DE"[^>]*><th scope="row">DE</th><td>court'), /Unblock/);

  assert.equal((await post(admin, '/console/jurisdiction/blocked/DE/unblock')).status, 303);
  assert.deepEqual((await api('GET', '/admin/v1/jurisdiction')).body.blocked, []);
  assert.equal((await partnerGet(stack, await partner.token('service_delivery'), `/v1/subjects/${subject}?purpose=service_delivery`)).status, 200);
  assert.equal((await post(admin, '/console/jurisdiction/blocked/DE/unblock')).status, 404, 'not blocked any more');
});

test('jurisdiction: an admin approves an adequacy entry (being its approver) and removes it; a past review date is refused next to the field', async () => {
  const past = await post(admin, '/console/jurisdiction/adequate', { country: 'JP', justification: 'APPI adequacy decision', reviewBy: '2020-01-01' });
  assert.equal(past.status, 400);
  assert.match(past.text, /id="adequate-reviewBy-error">must be in the future/);
  assert.match(past.text, />APPI adequacy decision<\/textarea>/, 'the form keeps what was typed');
  const ok = await post(admin, '/console/jurisdiction/adequate', { country: 'JP', justification: 'APPI adequacy decision', reviewBy: '2031-06-30' });
  assert.equal(ok.status, 303, ok.text);
  const jp = (await api('GET', '/admin/v1/jurisdiction')).body.adequate.find((e: any) => e.country === 'JP');
  assert.deepEqual([jp.approvedBy, jp.reviewBy, jp.justification], ['tok_bootstrap', '2031-06-30T00:00:00.000Z', 'APPI adequacy decision']);
  assert.equal((await post(admin, '/console/jurisdiction/adequate/JP/remove')).status, 303);
  assert.equal((await api('GET', '/admin/v1/jurisdiction')).body.adequate.some((e: any) => e.country === 'JP'), false);
  assert.equal((await auditOf('jurisdiction.adequate.delete')).filter((e) => e.target === 'jurisdiction/adequate/JP')[0]?.actor.tokenId, 'tok_bootstrap');
});

test('jurisdiction: an auditor sees the lists without a control, and each forged write is 403 and changes nothing', async () => {
  const r = await get(auditor.s, '/console/jurisdiction');
  assert.equal(r.status, 200);
  assert.match(row(r.text, 'data-country="DE"'), /EU adequacy assessment/);
  assert.doesNotMatch(r.text, /<form method="post" action="\/console\/jurisdiction/);
  assert.match(r.text, /read-only for you/);
  const before = (await api('GET', '/admin/v1/jurisdiction')).body;
  for (const [path, form] of [['/console/jurisdiction/blocked', { country: 'DE', reason: 'forged' }], ['/console/jurisdiction/blocked/DE/unblock', {}],
    ['/console/jurisdiction/adequate', { country: 'US', justification: 'forged', reviewBy: '2031-01-01' }], ['/console/jurisdiction/adequate/DE/remove', {}]] as const) {
    const f = await post(auditor.s, path, form);
    assert.equal(f.status, 403, path);
    assert.match(f.text, /needs the admin role/);
  }
  assert.deepEqual((await api('GET', '/admin/v1/jurisdiction')).body, before);
});

test('incidents: an open incident shows the time left on its clock; an admin acknowledges it (audited); the auditor sees no control and a forged ack is 403', async () => {
  const { id } = await stack.gateway.deps.incidents.open({ kind: 'egress_guard', found: 'egress_guard', partnerId: partner.id, requestId: 'req_test' });
  const page = await get(admin, '/console/incidents');
  assert.equal(page.status, 200, page.text);
  const r = row(page.text, `data-incident-id="${id}"`);
  assert.match(r, /egress_guard/);
  assert.match(r, /(7[01]|69) h \d\d min left/, 'the 72-hour clock, just started');
  assert.match(r, /action="\/console\/incidents\/inc_[0-9a-f]{16}\/ack" data-confirm=/);

  const seen = await get(auditor.s, '/console/incidents');
  assert.match(row(seen.text, `data-incident-id="${id}"`), /h \d\d min left/);
  assert.doesNotMatch(seen.text, /method="post" action="\/console\/(incidents|reidentifications)/);
  const forged = await post(auditor.s, `/console/incidents/${id}/ack`);
  assert.equal(forged.status, 403);
  assert.equal((await stack.gateway.deps.incidents.get(id))?.status, 'open');

  assert.equal((await post(admin, `/console/incidents/${id}/ack`)).status, 303);
  const acked = await stack.gateway.deps.incidents.get(id);
  assert.deepEqual([acked?.status, acked?.acknowledgedBy], ['acknowledged', 'tok_bootstrap']);
  assert.equal((await auditOf('incident.acknowledge')).filter((e) => e.target === id)[0]?.actor.tokenId, 'tok_bootstrap');
  assert.equal(row((await get(admin, '/console/incidents')).text, `data-incident-id="${id}"`), '', 'no longer listed as open');
  assert.equal((await post(admin, `/console/incidents/${id}/ack`)).status, 409);
});

test('incidents: a deletion notice past its confirmation deadline is listed as overdue with a link to its partner\'s deliveries', async () => {
  // Queued two days ago with a one-day confirmation window: overdue at the next sweep (the page's read sweeps).
  const queue = new NoticeQueue(stack.gateway.deps.redis, noticeKeys(), 86_400_000);
  const n = makeNotice('ntc_overdueOverdueOverdue1', 'subject_erased', 'v1.not-shown', [], '2026-11-20T00:00:00Z');
  await queue.enqueue('p_overdue', n, Date.now() - 2 * 86_400_000);
  const page = await get(admin, '/console/incidents');
  assert.match(page.text, /1 deletion notice not confirmed by its deadline/);
  assert.ok(page.text.includes('<code>ntc_overdueOverdueOverdue1</code></th><td>p_overdue</td><td>subject_erased</td>'), page.text);
  assert.match(page.text, /href="\/console\/partners\/p_overdue#deliveries"/);
  assert.ok(!page.text.includes('v1.not-shown'), 'no pseudonym on the page');
});

test('incidents: a re-identification waits for a second admin; the requester cannot approve it; another admin sees the user id once, on a no-store page', async () => {
  const asked = await api('POST', '/admin/v1/reidentifications', { body: { partnerId: partner.id, subject, reason: 'complaint ref CMP-2026-0042' } });
  assert.equal(asked.status, 201, asked.text);
  const id = asked.body.id as string;
  const mine = row((await get(admin, '/console/incidents')).text, `data-reid-id="${id}"`);
  assert.match(mine, /complaint ref CMP-2026-0042/);
  assert.match(mine, /You requested this: another admin must approve it/);
  assert.doesNotMatch(mine, /Approve<\/button>/);
  const self = await post(admin, `/console/reidentifications/${id}/approve`);
  assert.equal(self.status, 403, 'the requester, even by a forged form');
  assert.match(self.text, /another admin must/);
  assert.equal((await post(auditor.s, `/console/reidentifications/${id}/approve`)).status, 403);
  assert.doesNotMatch(row((await get(auditor.s, '/console/incidents')).text, `data-reid-id="${id}"`), /<form/);

  const second = await api('POST', '/admin/v1/tokens', { body: { role: 'admin', label: 'second admin' } });
  const other = await signIn(second.body.token, second.body.id);
  assert.match(row((await get(other, '/console/incidents')).text, `data-reid-id="${id}"`), /Approve<\/button>/);
  const shown = await post(other, `/console/reidentifications/${id}/approve`);
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.headers.get('cache-control'), 'no-store');
  const userId = /id="reid-user-id">([^<]+)</.exec(shown.text)?.[1] ?? '';
  assert.match(userId, /^u_\d+$/);
  const [approval] = (await auditOf('reidentification.approve')).filter((e) => e.target === id && (e.after as any)?.status === 'released');
  assert.equal(approval?.actor.tokenId, second.body.id, 'the approving admin is the second staff member');
  assert.equal((approval?.after as any).subjectRef, stack.gateway.deps.transferLog.subjectRef(userId), 'the audit names the user by subjectRef');
  // Never again: not listed, and a second approval is refused.
  assert.doesNotMatch((await get(other, '/console/incidents')).text, new RegExp(id));
  assert.equal((await post(other, `/console/reidentifications/${id}/approve`)).status, 409);
  assert.ok(!(await get(other, '/console/incidents')).text.includes(userId));
});

test('re-identification: the pending index lists a request until it is decided or expires, and drops expired ones', async () => {
  const { Reidentifications, REID_PENDING } = await import('../src/reidentification/requests.ts');
  const redis = stack.gateway.deps.redis;
  const reids = new Reidentifications(redis, 60, { userIdOf: () => null, subjectRef: (u) => u });
  const t0 = new Date();
  const q = await reids.request({ tokenId: 'tok_a', role: 'admin' }, { partnerId: partner.id, subject: 'v1.x', reason: 'court order ref 2026/77' }, t0);
  assert.ok((await reids.pending(100, t0)).some((x) => x.id === q.id));
  assert.ok(!(await reids.pending(100, new Date(t0.getTime() + 61_000))).some((x) => x.id === q.id), 'past its expiry: not waiting any more');
  assert.equal(await redis.zScore(REID_PENDING, q.id), null, 'and gone from the index');
});

test('partner details: recipients, JWKS upload with its validation errors, key rotation, denials, and a dead letter retried until delivered', { timeout: 20_000 }, async () => {
  // A denial in the transfer log (an unknown pseudonym) and one before the partner is known (a bad secret).
  assert.equal((await partnerGet(stack, await partner.token('service_delivery'), '/v1/subjects/v1.bogus?purpose=service_delivery')).status, 404);
  assert.equal((await oauthToken(stack, partner.clientId, 'wrong-secret', { grant_type: 'client_credentials', scope: 'service_delivery' })).status, 401);

  let page = await get(admin, `/console/partners/${partner.id}`);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Cloud Hosting GmbH<\/td><td>DE<\/td><td>service_delivery/);
  assert.match(page.text, /Processing countries<\/dt><dd>KZ, DE/);
  assert.match(page.text, /id="key-version">v1</);
  assert.match(row(page.text, 'data-entry-id'), /subject_not_found/);
  await waitFor(async () => /<code>cid_[^<]+<\/code><\/td><td>bad_secret<\/td>/.test((await get(admin, `/console/partners/${partner.id}`)).text), 3000);
  assert.match((await get(auditor.s, '/console/partners')).text, new RegExp(`href="/console/partners/${partner.id}"`), 'the list links to the details');

  const notJson = await post(admin, `/console/partners/${partner.id}/jwks`, { jwks: '{"keys": [' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.text, /id="jwks-error" role="alert">jwks: is not valid JSON/);
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid: 'k1', use: 'sig', alg: 'ES256' };
  const leaked = await post(admin, `/console/partners/${partner.id}/jwks`, { jwks: JSON.stringify({ keys: [priv] }) });
  assert.equal(leaked.status, 400);
  assert.match(leaked.text, /jwks\.keys\.0\.d: private key material/);
  assert.ok(!leaked.text.includes(priv.d!), 'private key material is not echoed back into the form');
  const { d: _d, ...pub } = priv;
  assert.equal((await post(admin, `/console/partners/${partner.id}/jwks`, { jwks: JSON.stringify({ keys: [pub] }) })).status, 303);
  assert.deepEqual((await api('GET', `/admin/v1/partners/${partner.id}`)).body.jwks.keys.map((k: any) => k.kid), ['k1']);
  assert.equal((await auditOf('partner.jwks')).filter((e) => e.target === partner.id)[0]?.actor.tokenId, 'tok_bootstrap');

  assert.equal((await post(admin, `/console/partners/${partner.id}/keys/rotate`)).status, 303);
  assert.match((await get(admin, `/console/partners/${partner.id}`)).text, /id="key-version">v2</);
  assert.equal((await auditOf('partner.keys.rotate'))[0]?.actor.tokenId, 'tok_bootstrap');

  // A notice the webhook refuses until it is dead-lettered; the partner's page lists it with a retry.
  const core = adminApi(stack, (await api('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  const { createPseudonymizer } = await import('../src/pseudonym/subject.ts');
  const userId = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).decode(subject, partner.id, [1])!.userId;
  assert.equal((await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: '2026-11-24T10:00:00Z' } })).status, 202);
  let deadId = '';
  await waitFor(async () => {
    deadId = /data-dead-id="(ntc_[^"]+)"/.exec((await get(admin, `/console/partners/${partner.id}`)).text)?.[1] ?? '';
    return deadId !== '';
  }, 8000);
  page = await get(admin, `/console/partners/${partner.id}`);
  assert.match(row(page.text, `data-notice-id="${deadId}"`), /subject_erased[\s\S]*dead letter since/);
  assert.ok(!page.text.includes(subject), 'no pseudonym on the page');
  const auditorView = await get(auditor.s, `/console/partners/${partner.id}`);
  assert.match(auditorView.text, new RegExp(`data-dead-id="${deadId}"`));
  assert.doesNotMatch(auditorView.text, /<form method="post" action="\/console\/partners\//, 'no write control for an auditor');
  for (const path of [`/console/partners/${partner.id}/notices/${deadId}/retry`, `/console/partners/${partner.id}/keys/rotate`, `/console/partners/${partner.id}/jwks`]) {
    assert.equal((await post(auditor.s, path, { jwks: JSON.stringify({ keys: [pub] }) })).status, 403, path);
  }

  // A retry while the webhook is still down gets a fresh dead-letter window: several attempts, not one.
  const deadBefore = Number(/data-dead-id="[^"]+"><th scope="row"><code>[^<]+<\/code><\/th><td>[^<]+<\/td><td>(\d+)</.exec(page.text)?.[1]);
  assert.equal((await post(admin, `/console/partners/${partner.id}/notices/${deadId}/retry`)).status, 303);
  let again = '';
  await waitFor(async () => {
    again = row((await get(admin, `/console/partners/${partner.id}`)).text, `data-dead-id="${deadId}"`);
    return again !== '';
  }, 5000);
  const deadAgain = Number(/<td>[^<]+<\/td><td>(\d+)<\/td>/.exec(again)?.[1]);
  assert.ok(deadAgain >= deadBefore + 2, `retried within a fresh window (${deadBefore} attempts, then ${deadAgain})`);

  webhookUp = true;
  const before = rx.received.length;
  assert.equal((await post(admin, `/console/partners/${partner.id}/notices/${deadId}/retry`)).status, 303);
  await waitFor(() => rx.received.length > before, 5000);
  await waitFor(async () => /acknowledged \(webhook\)/.test(row((await get(admin, `/console/partners/${partner.id}`)).text, `data-notice-id="${deadId}"`)), 5000);
  assert.doesNotMatch((await get(admin, `/console/partners/${partner.id}`)).text, new RegExp(`data-dead-id="${deadId}"`));
  assert.equal((await auditOf('notice.retry')).filter((e) => e.target === `${partner.id}/${deadId}`)[0]?.actor.tokenId, 'tok_bootstrap');
  assert.equal((await post(admin, `/console/partners/${partner.id}/notices/${deadId}/retry`)).status, 404, 'not a dead letter any more');
});

test('admin API: POST /admin/v1/notices/dead-letter/{partnerId}/{noticeId}/retry is admin only and 404 for what is not a dead letter', async () => {
  const path = `/admin/v1/notices/dead-letter/${partner.id}/ntc_AAAAAAAAAAAAAAAAAAAAAAAA/retry`;
  assert.equal((await api('POST', path, { body: {} })).status, 404);
  assert.equal((await api('POST', path, { token: auditor.token, body: {} })).status, 403);
  const bad = await api('POST', `/admin/v1/notices/dead-letter/${partner.id}/nope/retry`, { body: {} });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errors[0].field, 'noticeId');
});

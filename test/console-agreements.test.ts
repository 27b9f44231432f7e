// Issue 16 page 6, the Agreements page, without a browser: the editor built from the taxonomy,
// a 400's field errors next to their inputs, the fixed body saved through the admin service (and
// audited with the staff identity), the side-by-side diff, suspend/resume/terminate behind a
// confirmation page, the second-admin review (RULES 19), an auditor's read-only view with its
// forged writes refused, and which version each running instance enforces, with two gateways on
// one Redis. One stack (plus a second gateway); real TLS Redis and HTTPS throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, testConfig, waitFor, LogCapture, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, newPartner, type Api } from './harness/admin.ts';
import { startGateway, type Gateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { readAudit } from '../src/auth/admin-audit.ts';
import { AGREEMENT_CHANNEL } from '../src/agreements/redis-keys.ts';
import { instanceKey } from '../src/agreements/instance-heartbeat.ts';

let stack: Stack;
let api: Api;
let gwB: Gateway | undefined;
const EXTRA = { console: { tokenLogin: true }, instances: { heartbeatSeconds: 1 } };

before(async () => {
  stack = await startStack({ users: 5, extra: EXTRA });
  api = adminApi(stack, stack.adminToken);
});
after(async () => {
  await gwB?.close();
  await stack.close();
});

interface Reply { status: number; text: string; location: string | null }

async function req(method: string, path: string, o: { cookie?: string; form?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.cookie) headers.cookie = o.cookie;
  if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (method === 'POST') headers.origin = stack.adminUrl;
  const res = await fetch(`${stack.adminUrl}${path}`, { method, headers, redirect: 'manual', dispatcher: stack.client, ...(o.form ? { body: new URLSearchParams(o.form).toString() } : {}) });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

async function signIn(token: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${stack.adminUrl}/console/sign-in`, {
    method: 'POST', redirect: 'manual', dispatcher: stack.client,
    headers: { origin: stack.adminUrl, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(r.status, 303);
  const cookie = `__Host-pg-console=${/__Host-pg-console=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1]}`;
  const page = await req('GET', '/console/agreements', { cookie });
  assert.equal(page.status, 200, page.text);
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]! };
}

async function mint(role: string): Promise<{ id: string; token: string }> {
  const r = await api('POST', '/admin/v1/tokens', { body: { role } });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

/** A valid editor form: the CONTRACT 5 example, as the form's fields. */
function form(over: Record<string, string> = {}): Record<string, string> {
  return {
    'confidentiality.documentRef': 'NDA-2026-014', 'confidentiality.signedAt': '2026-01-10', 'confidentiality.expiresAt': '2028-01-10',
    'confidentiality.signatories': 'A. Name, Partner LLP\nB. Name, Partner LLP',
    validFrom: '2026-01-15T00:00:00Z', validUntil: '2027-01-15T00:00:00Z', processingCountries: 'KZ, DE', requiresPolicyVersion: '2024-03',
    'rateLimit.requestsPerMinute': '600',
    'purposes.advertising.categories.gender': 'clear', 'purposes.advertising.categories.date_of_birth': 'generalise',
    'purposes.advertising.categories.email': 'pseudonymise', 'purposes.advertising.dailySubjectQuota': '1000',
    'purposes.service_delivery.categories.phone': 'clear', 'purposes.service_delivery.bulk': 'on', 'purposes.service_delivery.retentionDays': '30',
    ...over,
  };
}

const versions = async (p: string) => (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;

test('the editor is built from the taxonomy; a bad field is shown next to its input, and the fix is saved through the admin service, audited with the staff identity', async () => {
  const p = await newPartner(api, 'ca');
  const s = await signIn(stack.adminToken);
  const page = await req('GET', `/console/agreements/${p}`, { cookie: s.cookie });
  assert.equal(page.status, 200);
  assert.match(page.text, /<select id="f-purposes-advertising-categories-ip_address" name="purposes.advertising.categories.ip_address"><option value="">not sent<\/option><option value="clear">clear<\/option><option value="generalise">generalise<\/option><option value="pseudonymise">pseudonymise<\/option><option value="drop">drop<\/option><\/select>/);
  assert.match(page.text, /name="purposes.advertising.categories.email"><option value="">not sent<\/option><option value="clear">clear<\/option><option value="pseudonymise">/, 'email offers no generalise (CONTRACT 2)');
  assert.ok(page.text.includes('name="purposes.legal_obligation.categories.ip_address.justification"'), 'quasi-identifiers have a justification');
  assert.ok(!page.text.includes('purposes.advertising.categories.email.justification'), 'other categories do not');
  assert.ok(!page.text.includes('correspondence'), 'correspondence is never offered (RULES 7)');

  // RULES 30: ip_address clear without a justification; an unknown country.
  const bad = await req('POST', `/console/agreements/${p}/versions`, { cookie: s.cookie, form: form({ _csrf: s.csrf, 'purposes.advertising.categories.ip_address': 'clear', processingCountries: 'KZ, XX' }) });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /<select id="f-purposes-advertising-categories-ip_address" name="purposes.advertising.categories.ip_address" aria-invalid="true" aria-describedby="f-purposes-advertising-categories-ip_address-error">.*?<option value="clear" selected>clear<\/option>.*?<\/select><small class="field-error" id="f-purposes-advertising-categories-ip_address-error">clear needs a written justification for ip_address/s);
  assert.match(bad.text, /name="processingCountries" type="text" value="KZ, XX" placeholder="KZ, DE" aria-invalid="true" aria-describedby="f-processingCountries-error"><small class="field-error" id="f-processingCountries-error">processingCountries.1: must be an ISO 3166-1 alpha-2 country code/);
  assert.match(bad.text, /<a href="#f-purposes-advertising-categories-ip_address">purposes.advertising.categories.ip_address<\/a>/, 'the summary links to the input');
  assert.match(bad.text, /name="confidentiality.documentRef" type="text" value="NDA-2026-014"/, 'the other values are kept');
  assert.equal((await versions(p)).items.length, 0, 'nothing was saved');

  const ok = await req('POST', `/console/agreements/${p}/versions`, { cookie: s.cookie, form: form({
    _csrf: s.csrf, 'purposes.advertising.categories.ip_address': 'clear', 'purposes.advertising.categories.ip_address.justification': 'fraud screening needs the full address',
  }) });
  assert.equal(ok.status, 303, ok.text);
  assert.equal(ok.location, `/console/agreements/${p}`);
  const v = (await versions(p)).items[0];
  assert.equal(v.status, 'active');
  assert.deepEqual(v.processingCountries, ['KZ', 'DE']);
  assert.deepEqual(v.confidentiality.signatories, ['A. Name, Partner LLP', 'B. Name, Partner LLP']);
  assert.deepEqual(v.purposes.advertising, {
    categories: { gender: 'clear', date_of_birth: 'generalise', email: 'pseudonymise', ip_address: { treatment: 'clear', justification: 'fraud screening needs the full address' } },
    bulk: false, dailySubjectQuota: 1000,
  });
  assert.deepEqual(v.purposes.service_delivery, { categories: { phone: 'clear' }, bulk: true, retentionDays: 30 });
  assert.equal(v.createdBy, 'tok_bootstrap');
  const audit = (await readAudit(stack.gateway.deps.redis, 30)).items.find((e) => e.action === 'agreement.create' && e.target === `agr_${p}`);
  assert.deepEqual(audit?.actor, { tokenId: 'tok_bootstrap', role: 'admin' });
  // The page now starts the next version from the one in force.
  const again = await req('GET', `/console/agreements/${p}`, { cookie: s.cookie });
  assert.match(again.text, /In force: <strong>version 1, active<\/strong>/);
  assert.match(again.text, /name="purposes.advertising.categories.ip_address.justification" type="text" value="fraud screening needs the full address"/);
});

test('the diff shows any two versions side by side, one row per field, changed rows marked', async () => {
  const p = await newPartner(api, 'cd');
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', email: 'drop' } } } }) });
  const s = await signIn(stack.adminToken);
  const d = await req('GET', `/console/agreements/${p}/diff?a=1&b=2`, { cookie: s.cookie });
  assert.equal(d.status, 200, d.text);
  assert.match(d.text, /<tr class="diff-changed"><th scope="row"><code>processingCountries<\/code><\/th><td>KZ, DE<\/td><td>KZ<\/td><td>changed<\/td><\/tr>/);
  assert.match(d.text, /<tr class="diff-removed"><th scope="row"><code>purposes.advertising.categories.gender<\/code><\/th><td>clear<\/td><td>—<\/td><td>removed<\/td><\/tr>/);
  assert.match(d.text, /<tr class="diff-added"><th scope="row"><code>purposes.service_delivery.categories.email<\/code><\/th><td>—<\/td><td>drop<\/td><td>added<\/td><\/tr>/);
  assert.match(d.text, /<tr><th scope="row"><code>confidentiality.documentRef<\/code><\/th><td>NDA-2026-014<\/td><td>NDA-2026-014<\/td><td><\/td><\/tr>/, 'an unchanged row is not marked');
  assert.match(d.text, /<tr class="diff-changed"><th scope="row"><code>status<\/code><\/th><td>superseded<\/td><td>active<\/td>/);
  assert.equal((await req('GET', `/console/agreements/${p}/diff?a=1&b=x`, { cookie: s.cookie })).status, 400);
  assert.equal((await req('GET', `/console/agreements/${p}/diff?a=1&b=9`, { cookie: s.cookie })).status, 404);
});

test('suspend, resume and terminate each show a confirmation first (which changes nothing); its POST does it', async () => {
  const p = await newPartner(api, 'cs');
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  const s = await signIn(stack.adminToken);
  const page = await req('GET', `/console/agreements/${p}`, { cookie: s.cookie });
  assert.ok(page.text.includes(`href="/console/agreements/${p}/suspend">Suspend…</a>`) && !page.text.includes(`/${p}/resume"`));
  const confirm = await req('GET', `/console/agreements/${p}/suspend`, { cookie: s.cookie });
  assert.equal(confirm.status, 200);
  assert.match(confirm.text, /Suspend agreement agr_[^?]+\?<\/h2><p>Every gateway instance refuses this partner&#39;s pulls \(403 agreement_inactive\)/);
  assert.match(confirm.text, new RegExp(`<form method="post" action="/console/agreements/${p}/suspend"><input type="hidden" name="_csrf"[^>]+><button type="submit" class="danger">Yes, suspend agr_${p}</button>`));
  assert.equal((await versions(p)).inForce.status, 'active', 'the confirmation page changed nothing');
  for (const [action, status] of [['suspend', 'suspended'], ['resume', 'active'], ['terminate', 'terminated']] as const) {
    const r = await req('POST', `/console/agreements/${p}/${action}`, { cookie: s.cookie, form: { _csrf: s.csrf } });
    assert.equal(r.status, 303, `${action}: ${r.text}`);
    assert.equal((await versions(p)).inForce.status, status, action);
  }
  const audit = (await readAudit(stack.gateway.deps.redis, 30)).items.find((e) => e.action === 'agreement.terminate' && e.target === `agr_${p}`);
  assert.deepEqual(audit?.actor, { tokenId: 'tok_bootstrap', role: 'admin' });
  const ended = await req('GET', `/console/agreements/${p}`, { cookie: s.cookie });
  assert.ok(ended.text.includes('termination is final') && !ended.text.includes('Save new version') && !ended.text.includes('Suspend…'));
  const again = await req('POST', `/console/agreements/${p}/resume`, { cookie: s.cookie, form: { _csrf: s.csrf } });
  assert.equal(again.status, 409);
  assert.match(again.text, /termination is final/);
});

test('RULES 19: a version pending review: its author is told why they cannot approve it and a forced approve is 403; another admin approves; a later one is rejected', async () => {
  const p = await newPartner(api, 'cr');
  const author = await signIn(stack.adminToken);
  assert.equal((await req('POST', `/console/agreements/${p}/versions`, { cookie: author.cookie, form: form({ _csrf: author.csrf, processingCountries: 'KZ' }) })).status, 303);
  const add = form({ _csrf: author.csrf, processingCountries: 'KZ, DE', 'subProcessors.0.name': 'Cloud GmbH', 'subProcessors.0.country': 'de', 'subProcessors.0.purpose': 'advertising' });
  assert.equal((await req('POST', `/console/agreements/${p}/versions`, { cookie: author.cookie, form: add })).status, 303);
  const pending = (await versions(p)).pendingReview;
  assert.equal(pending.version, 2);
  assert.deepEqual(pending.review.additions, { countries: ['DE'], subProcessors: [{ name: 'Cloud GmbH', country: 'DE', purpose: 'advertising' }] });
  const own = await req('GET', `/console/agreements/${p}`, { cookie: author.cookie });
  assert.match(own.text, /Version 2 is pending review/);
  assert.match(own.text, /You wrote this version, so you cannot approve it: a second admin must \(RULES 19\)/);
  assert.ok(!own.text.includes(`action="/console/agreements/${p}/approve"`), 'no approve control for its author');
  const forced = await req('POST', `/console/agreements/${p}/approve`, { cookie: author.cookie, form: { _csrf: author.csrf, version: '2' } });
  assert.equal(forced.status, 403);
  assert.match(forced.text, /cannot approve it; another admin must/);
  assert.equal((await versions(p)).inForce.version, 1);

  const second = await mint('admin');
  const other = await signIn(second.token);
  const theirs = await req('GET', `/console/agreements/${p}`, { cookie: other.cookie });
  assert.ok(theirs.text.includes(`action="/console/agreements/${p}/approve"`) && theirs.text.includes('Approve version 2'));
  assert.equal((await req('POST', `/console/agreements/${p}/approve`, { cookie: other.cookie, form: { _csrf: other.csrf, version: '2' } })).status, 303);
  const now = await versions(p);
  assert.equal(now.inForce.version, 2);
  assert.equal(now.inForce.review.approvedBy, second.id);

  assert.equal((await req('POST', `/console/agreements/${p}/versions`, { cookie: author.cookie, form: { ...add, processingCountries: 'KZ, DE, US' } })).status, 303);
  assert.equal((await req('POST', `/console/agreements/${p}/reject`, { cookie: author.cookie, form: { _csrf: author.csrf, version: '3' } })).status, 303);
  const after = await versions(p);
  assert.equal(after.items[2].status, 'rejected');
  assert.equal(after.inForce.version, 2);
});

test('an auditor reads agreements with no write control; forged writes (with a valid CSRF token and Origin) are 403 and change nothing', async () => {
  const p = await newPartner(api, 'ck');
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ', 'DE', 'US'] }) });
  const s = await signIn((await mint('auditor')).token);
  for (const path of ['/console/agreements', `/console/agreements/${p}`, `/console/agreements/${p}/diff?a=1&b=2`]) {
    const page = await req('GET', path, { cookie: s.cookie });
    assert.equal(page.status, 200, path);
    const posts = [...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(posts, ['/console/sign-out'], `${path}: no write control but sign-out`);
    assert.ok(!/Suspend…|Terminate…|Save new version/.test(page.text), path);
  }
  assert.match((await req('GET', `/console/agreements/${p}`, { cookie: s.cookie })).text, /agreements are read-only for you/);
  assert.equal((await req('GET', `/console/agreements/${p}/suspend`, { cookie: s.cookie })).status, 403, 'not even the confirmation page');
  for (const [path, extra] of [['versions', form()], ['suspend', {}], ['terminate', {}], ['approve', { version: '2' }], ['reject', { version: '2' }]] as const) {
    const r = await req('POST', `/console/agreements/${p}/${path}`, { cookie: s.cookie, form: { _csrf: s.csrf, ...extra } });
    assert.equal(r.status, 403, path);
    assert.match(r.text, /needs the admin role/);
  }
  const v = await versions(p);
  assert.equal(v.items.length, 2);
  assert.equal(v.inForce.status, 'active');
  assert.equal(v.pendingReview.version, 2);
});

test('which version each running instance enforces: two gateways on one Redis; an instance that missed a change is flagged as lagging; a stopped one drops off', async () => {
  const config = await testConfig({ redisUrl: stack.redis.url, upstreamUrl: stack.config.upstream.url, extra: EXTRA });
  gwB = await startGateway(config, { log: createLogger('info', new LogCapture()), bootstrapAdminToken: stack.adminToken });
  await waitFor(() => gwB!.deps.agreements.ready, 5000);
  const [a, b] = [stack.gateway.deps.instance.id, gwB.deps.instance.id];
  assert.notEqual(a, b);
  const p = await newPartner(api, 'ci');
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  const s = await signIn(stack.adminToken);
  const row = (text: string, id: string) => new RegExp(`<tr><th scope="row"><code>${id}</code></th>.*?</tr>`, 's').exec(text)?.[0] ?? '';
  await waitFor(async () => {
    const t = (await req('GET', `/console/agreements/${p}`, { cookie: s.cookie })).text;
    return row(t, a).includes('<td>v1 active</td>') && row(t, b).includes('<td>v1 active</td>');
  }, 5000, 100);
  const rec = await stack.gateway.deps.redis.hGetAll(instanceKey(b));
  assert.equal(rec.ready, '1');
  assert.deepEqual(JSON.parse(rec.agreements!)[p], { version: 1, status: 'active' });
  assert.ok((await stack.gateway.deps.redis.pTTL(instanceKey(b))) > 0, 'the record expires unless refreshed');

  // B stops hearing agreement changes (its subscription is gone), so it keeps enforcing version 1.
  await gwB.deps.redisSub.unsubscribe(AGREEMENT_CHANNEL);
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
  await waitFor(async () => {
    const t = (await req('GET', `/console/agreements/${p}`, { cookie: s.cookie })).text;
    return row(t, a).includes('<td>v2 active</td>') && row(t, b).includes('<td class="lagging">v1 active <strong>lagging</strong></td>');
  }, 5000, 100);
  const index = await req('GET', '/console/agreements', { cookie: s.cookie });
  assert.match(row(index.text, b), new RegExp(`<td class="lagging"><strong>lagging</strong> on [^<]*${p}`));
  assert.ok(!row(index.text, a).includes('lagging'), 'A is not');

  await gwB.close();
  gwB = undefined;
  await waitFor(async () => !(await req('GET', '/console/agreements', { cookie: s.cookie })).text.includes(b), 8000, 250);
});

test('issue 19: what the route fuzzer found undocumented is documented: a confirmation page without a session is 303 to sign-in; a form body the listener cannot parse is its 400 problem+json', async () => {
  // Both go through the stack's checked client: each answer must match the served document.
  for (const t of ['suspend', 'resume', 'terminate']) {
    const r = await req('GET', `/console/agreements/p_nobody/${t}`);
    assert.equal(r.status, 303, t);
    assert.equal(r.location, '/console/sign-in', t);
  }
  // The body parsers run before the console (app.ts), so this refusal is problem+json, not a page.
  const res = await fetch(`${stack.adminUrl}/console/agreements/p_nobody/versions`, {
    method: 'POST', redirect: 'manual', dispatcher: stack.client,
    headers: { origin: stack.adminUrl, 'content-type': 'application/json' }, body: '{"truncated":',
  });
  assert.equal(res.status, 400);
  assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/);
  assert.equal((await res.json() as { code: string }).code, 'validation_failed');
});

test('RULES 46: the Agreements page\'s routes are in the control plane\'s served OpenAPI document', async () => {
  const doc = await (await fetch(`${stack.adminUrl}/openapi.json`, { dispatcher: stack.client })).json() as { paths: Record<string, Record<string, unknown>> };
  const want = [['get', '/console/agreements'], ['get', '/console/agreements/{partnerId}'], ['get', '/console/agreements/{partnerId}/diff'], ['post', '/console/agreements/{partnerId}/versions'],
    ...['suspend', 'resume', 'terminate'].flatMap((t) => [['get', `/console/agreements/{partnerId}/${t}`], ['post', `/console/agreements/{partnerId}/${t}`]]),
    ['post', '/console/agreements/{partnerId}/approve'], ['post', '/console/agreements/{partnerId}/reject']];
  for (const [m, p] of want) assert.ok(doc.paths[p!]?.[m!], `${m} ${p}`);
});

// CONTRACT 5 agreements: immutable versions (a new one supersedes the last), suspend/resume,
// terminate is final, every change in the admin audit trail and in the in-memory cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, newPartner, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';

let stack: Stack;
let api: Api;
let auditorToken: string;
before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  auditorToken = (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token;
});
after(() => stack.close());

const cache = () => stack.gateway.deps.agreements;

test('a second POST makes version 2 active and version 1 superseded', async () => {
  const p = await newPartner(api);
  const v1 = await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  assert.equal(v1.status, 201, v1.text);
  assert.deepEqual([v1.body.id, v1.body.partnerId, v1.body.version, v1.body.status], [`agr_${p}`, p, 1, 'active']);
  assert.deepEqual(v1.body.purposes, agreementBody().purposes);
  const v2 = await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
  assert.deepEqual([v2.body.id, v2.body.version, v2.body.status], [`agr_${p}`, 2, 'active']);
  const list = await api('GET', `/admin/v1/partners/${p}/agreements`);
  assert.deepEqual(list.body.items.map((a: { version: number; status: string }) => [a.version, a.status]), [[1, 'superseded'], [2, 'active']]);
  assert.deepEqual(list.body.items[0].processingCountries, ['KZ', 'DE'], 'version 1 is unchanged');
  await waitFor(() => cache().active(p)?.version === 2, 1000);
});

test('suspend and resume act on the current version; the cache follows', async () => {
  const p = await newPartner(api);
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await waitFor(() => cache().active(p)?.version === 1, 1000);
  const s = await api('POST', `/admin/v1/agreements/agr_${p}/suspend`);
  assert.deepEqual([s.status, s.body.status, s.body.version], [200, 'suspended', 1]);
  await waitFor(() => cache().active(p) === undefined && cache().current(p)?.status === 'suspended', 1000);
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${p}/suspend`)).status, 409, 'already suspended');
  const r = await api('POST', `/admin/v1/agreements/agr_${p}/resume`);
  assert.deepEqual([r.status, r.body.status], [200, 'active']);
  await waitFor(() => cache().active(p)?.version === 1, 1000);
});

test('terminate is final: resume → 409, and no new version can follow', async () => {
  const p = await newPartner(api);
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  const t = await api('POST', `/admin/v1/agreements/agr_${p}/terminate`);
  assert.deepEqual([t.status, t.body.status], [200, 'terminated']);
  const resume = await api('POST', `/admin/v1/agreements/agr_${p}/resume`);
  assert.equal(resume.status, 409);
  assert.equal(resume.body.code, 'conflict');
  assert.match(resume.body.detail, /final/);
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${p}/suspend`)).status, 409);
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${p}/terminate`)).status, 409);
  assert.equal((await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() })).status, 409);
  const list = await api('GET', `/admin/v1/partners/${p}/agreements`);
  assert.deepEqual(list.body.items.map((a: { status: string }) => a.status), ['terminated']);
  await waitFor(() => cache().current(p)?.status === 'terminated' && !cache().active(p), 1000);
});

test('unknown partner or agreement → 404; a malformed agreement id → 400 naming id', async () => {
  assert.equal((await api('POST', '/admin/v1/partners/nobody/agreements', { body: agreementBody() })).status, 404);
  assert.equal((await api('GET', '/admin/v1/partners/nobody/agreements')).status, 404);
  const p = await newPartner(api);
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${p}/suspend`)).status, 404, 'partner without an agreement');
  assert.equal((await api('POST', `/admin/v1/agreements/agr_nobody/suspend`)).status, 404);
  // Issue [1/6] item 3: ids from the path are checked for shape first (was 404).
  const bogus = await api('POST', '/admin/v1/agreements/bogus/suspend');
  assert.deepEqual([bogus.status, bogus.body.errors?.[0]?.field], [400, 'id']);
});

test('every admin change is in the audit trail: who, what, when, before/after; never a secret', async () => {
  const p = await newPartner(api);
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
  await api('POST', `/admin/v1/agreements/agr_${p}/suspend`);
  const cred = (await api('POST', `/admin/v1/partners/${p}/credentials`, { body: {} })).body;
  const minted = (await api('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body;
  const r = await api('GET', '/admin/v1/audit?limit=5', { token: auditorToken });
  assert.equal(r.status, 200);
  const [tok, cr, susp, v2, v1] = r.body.items;
  assert.deepEqual([tok.action, cr.action, susp.action, v2.action, v1.action], ['token.mint', 'credential.issue', 'agreement.suspend', 'agreement.create', 'agreement.create']);
  assert.deepEqual(v2.actor, { tokenId: 'tok_bootstrap', role: 'admin' });
  assert.equal(v2.target, `agr_${p}`);
  assert.deepEqual([v2.before, v2.after], [{ version: 1, status: 'active' }, { version: 2, status: 'active' }]);
  assert.deepEqual([susp.before, susp.after], [{ version: 2, status: 'active' }, { version: 2, status: 'suspended' }]);
  assert.ok(Date.now() - Date.parse(susp.at) < 60_000);
  assert.equal(tok.after.id, minted.id);
  assert.ok(!r.text.includes(cred.clientSecret) && !r.text.includes(minted.token) && !r.text.includes(stack.adminToken));
  const next = await api('GET', `/admin/v1/audit?limit=2&cursor=${r.body.nextCursor}`, { token: auditorToken });
  assert.ok(next.body.items.length > 0);
  assert.ok(next.body.items.every((e: { id: string }) => !r.body.items.some((x: { id: string }) => x.id === e.id)), 'pages do not overlap');
});

// RULES 19: onward-transfer review. The bootstrap admin writes; a second admin token approves.
describeReview();
function describeReview() {
  let second: { id: string; token: string } | undefined;
  const reviewer = async () => (second ??= (await api('POST', '/admin/v1/tokens', { body: { role: 'admin', label: 'reviewer' } })).body);
  let secondApi: () => Api = () => { throw new Error('no reviewer yet'); };
  test('RULES 19 setup: a second admin identity', async () => {
    const s = await reviewer();
    assert.match(s.id, /^tok_/);
    secondApi = () => adminApi(stack, s.token);
  });
  const subProcessor = { name: 'Cloud Hosting GmbH', country: 'DE', purpose: 'advertising' };

  test('RULES 19: a version adding a country waits in pending_review; the version in force stays, and GET shows both', async () => {
    const p = await newPartner(api);
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
    const v2 = await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ', 'DE'] }) });
    assert.equal(v2.status, 201, v2.text);
    assert.deepEqual([v2.body.version, v2.body.status, v2.body.createdBy], [2, 'pending_review', 'tok_bootstrap']);
    assert.deepEqual(v2.body.review.additions, { countries: ['DE'], subProcessors: [] });
    const list = (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;
    assert.deepEqual(list.items.map((a: { version: number; status: string }) => [a.version, a.status]), [[1, 'active'], [2, 'pending_review']]);
    assert.deepEqual([list.inForce.version, list.inForce.processingCountries, list.pendingReview.version], [1, ['KZ'], 2]);
    // The pending version reaches no partner: every instance keeps serving version 1.
    await sleepTick();
    assert.equal(cache().active(p)?.version, 1);
    assert.deepEqual(cache().active(p)?.processingCountries, ['KZ']);
  });

  test('RULES 19: the author cannot approve (403 second_admin_required, audited); another admin can, naming the version', async () => {
    const p = await newPartner(api);
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ subProcessors: [subProcessor] }) });
    const self = await api('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 2 } });
    assert.equal(self.status, 403, self.text);
    assert.equal(self.body.code, 'second_admin_required');
    assert.match(self.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: {} })).body.errors?.[0]?.field, 'version');
    const wrong = await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 1 } });
    assert.deepEqual([wrong.status, wrong.body.code], [409, 'conflict']);
    assert.equal(cache().active(p)?.version, 1, 'nothing took effect');
    const ok = await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 2 } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual([ok.body.status, ok.body.review.approvedBy], ['active', second!.id]);
    assert.deepEqual(ok.body.subProcessors, [subProcessor]);
    assert.deepEqual(ok.body.review.additions.subProcessors, [subProcessor]);
    await waitFor(() => cache().active(p)?.version === 2, 1000);
    const list = (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;
    assert.deepEqual(list.items.map((a: { status: string }) => a.status), ['superseded', 'active']);
    assert.equal(list.pendingReview, null);
    assert.equal((await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 2 } })).status, 409, 'nothing pending any more');
    const audit = (await api('GET', '/admin/v1/audit?limit=10', { token: auditorToken })).body.items
      .filter((e: { target: string }) => e.target === `agr_${p}`);
    assert.deepEqual(audit.slice(0, 3).map((e: { action: string; actor: { tokenId: string }; after: unknown }) => [e.action, e.actor.tokenId, e.after]), [
      ['agreement.approve', second!.id, { version: 2, status: 'active' }],
      ['agreement.approve', 'tok_bootstrap', { refused: 'second_admin_required' }],
      ['agreement.create', 'tok_bootstrap', { version: 2, status: 'pending_review' }],
    ]);
  });

  test('RULES 19: a narrowing version applies at once; a newer POST replaces a pending one; terminate drops it', async () => {
    const p = await newPartner(api);
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
    assert.equal((await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ', 'DE', 'US'] }) })).body.status, 'pending_review');
    const narrowed = await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
    assert.deepEqual([narrowed.body.version, narrowed.body.status], [3, 'active']);
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() }); // re-adds DE: reviewed again
    let list = (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;
    assert.deepEqual(list.items.map((a: { status: string }) => a.status), ['superseded', 'superseded', 'active', 'pending_review']);
    assert.equal((await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 2 } })).status, 409, 'the replaced version cannot be approved');
    await api('POST', `/admin/v1/agreements/agr_${p}/terminate`);
    list = (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;
    assert.deepEqual(list.items.map((a: { status: string }) => a.status), ['superseded', 'superseded', 'terminated', 'superseded']);
    assert.equal(list.pendingReview, null);
    assert.equal((await secondApi()('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 4 } })).status, 409);
  });

  test('RULES 19: a pending version can be rejected (by any admin, naming it); the version in force stays, and it is audited', async () => {
    const p = await newPartner(api);
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody({ processingCountries: ['KZ'] }) });
    await api('POST', `/admin/v1/partners/${p}/agreements`, { body: agreementBody() });
    assert.equal((await secondApi()('POST', `/admin/v1/agreements/agr_${p}/reject`, { body: { version: 1 } })).status, 409, 'not the pending one');
    const r = await secondApi()('POST', `/admin/v1/agreements/agr_${p}/reject`, { body: { version: 2 } });
    assert.deepEqual([r.status, r.body.status], [200, 'rejected']);
    const list = (await api('GET', `/admin/v1/partners/${p}/agreements`)).body;
    assert.deepEqual(list.items.map((a: { status: string }) => a.status), ['active', 'rejected']);
    assert.deepEqual([list.inForce.version, list.pendingReview], [1, null]);
    assert.equal((await api('POST', `/admin/v1/agreements/agr_${p}/approve`, { body: { version: 2 } })).status, 409, 'a rejected version cannot be approved');
    assert.equal(cache().active(p)?.version, 1);
    const [last] = (await api('GET', '/admin/v1/audit?limit=1', { token: auditorToken })).body.items;
    assert.deepEqual([last.action, last.target, last.after], ['agreement.reject', `agr_${p}`, { version: 2, status: 'rejected' }]);
  });
}

test('RULES 19: the partner sees its agreement in force with its subProcessors, not who wrote or approved it', async () => {
  const subProcessors = [{ name: 'Mail Relay LLP', country: 'KZ', purpose: 'service_delivery' }];
  const p = await setupPartner(stack, { processingCountries: ['KZ'], subProcessors, purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const r = await partnerGet(stack, await p.token('service_delivery'), '/v1/agreement');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.subProcessors, subProcessors);
  assert.equal(r.body.createdBy, undefined);
  assert.equal(r.body.review, undefined);
  assert.ok(!r.text.includes('tok_bootstrap'));
});

const sleepTick = () => new Promise((r) => setTimeout(r, 50));

test('[2/6] /openapi.json records the review route, subProcessors and the optional store consent fields', async () => {
  const doc = (await api('GET', '/openapi.json', { token: null })).body;
  assert.equal(doc.paths['/admin/v1/agreements/{id}/approve'].post['x-auth'], 'admin');
  assert.ok(doc.paths['/admin/v1/agreements/{id}/approve'].post.responses['403'].description.includes('second_admin_required'));
  const body = doc.paths['/admin/v1/partners/{id}/agreements'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(Object.keys(body.properties.subProcessors.items.properties), ['name', 'country', 'purpose']);
  assert.ok(!body.required.includes('subProcessors'), 'optional');
  const consent = doc.components.schemas.CoreStoreCrossBorderConsent;
  assert.ok(consent.properties.method && consent.properties.countries, 'method and countries are described');
  assert.ok(!consent.required.includes('method') && !consent.required.includes('countries'), 'both optional');
  assert.ok(doc.paths['/admin/v1/reidentifications/{id}/approve'].post);
});

// CONTRACT 4 and 6 end to end: token, single and bulk pulls, pseudonyms, logging before release.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken, type TestPartner } from './harness/partner.ts';
import { syntheticUser } from '../src/core-store/synthetic.ts';

let stack: Stack;
let a: TestPartner;
let b: TestPartner;
const USERS = 300;

before(async () => {
  stack = await startStack({ users: USERS });
  // Domestic processing keeps cross-border out of the way here; it has its own tests.
  const terms = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', email: 'pseudonymise', ip_address: 'generalise', username: 'clear' } }, advertising: { categories: { gender: 'clear' } } } };
  a = await setupPartner(stack, terms);
  b = await setupPartner(stack, terms);
});
after(() => stack.close());

test('client_secret_basic gets a token; a wrong secret is invalid_client; a purpose outside the agreement is invalid_scope', async () => {
  const ok = await oauthToken(stack, a.clientId, a.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token_type, 'Bearer');
  assert.equal(ok.body.expires_in, 600);
  assert.equal(ok.body.scope, 'service_delivery');
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  const bad = await oauthToken(stack, a.clientId, 'wrong-secret', { grant_type: 'client_credentials', scope: 'service_delivery' });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
  const scope = await oauthToken(stack, a.clientId, a.clientSecret, { grant_type: 'client_credentials', scope: 'marketing_research' });
  assert.equal(scope.status, 400);
  assert.equal(scope.body.error, 'invalid_scope');
});

test('a bulk page releases allowed subjects under pseudonyms, omits the rest, and a single pull matches', async () => {
  const token = await a.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=100');
  assert.equal(page.status, 200, page.text);
  assert.equal(page.body.items.length + page.body.omitted, 100);
  assert.ok(page.body.items.length > 50, `released ${page.body.items.length}`);
  assert.ok(page.body.nextCursor);
  const first = page.body.items[0];
  assert.match(first.subject, /^v1\./);
  assert.deepEqual(Object.keys(first.data).sort().filter((k) => !['phone', 'email', 'ip_address', 'username'].includes(k)), []);
  const one = await partnerGet(stack, token, `/v1/subjects/${first.subject}?purpose=service_delivery`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body.data, first.data);
  assert.equal(one.body.agreement.id, `agr_${a.id}`);
  assert.ok(one.body.transferId);
  // Stable: the same request gives the same pseudonym and data.
  const again = await partnerGet(stack, token, `/v1/subjects/${first.subject}?purpose=service_delivery`);
  assert.deepEqual(again.body.data, one.body.data);
  const next = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=100&cursor=${page.body.nextCursor}`);
  assert.equal(next.status, 200);
  const ids = new Set(page.body.items.map((i: { subject: string }) => i.subject));
  assert.ok(next.body.items.every((i: { subject: string }) => !ids.has(i.subject)), 'the cursor moves on');
});

test('RULES 30: browser and OS go out as family and major version; a justified clear IP goes out as stored', async () => {
  const why = 'fraud screening needs the full address (annex 2)';
  const c = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: {
    browser: 'generalise', operating_system: 'generalise', ip_address: { treatment: 'clear', justification: why },
  } } } });
  const token = await c.token('service_delivery');
  const page = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
  assert.equal(page.status, 200, page.text);
  const items = page.body.items as { data: Record<string, string> }[];
  assert.ok(items.length > 50);
  const raw = new Set(Array.from({ length: USERS }, (_, i) => syntheticUser(i)).flatMap((u) => [u.browser, u.os]));
  const rawIps = new Set(Array.from({ length: USERS }, (_, i) => syntheticUser(i).ipAddress));
  const general = new Set(['Yandex 24.10', 'iOS 18.1', 'Ubuntu 24.04'].filter((v) => raw.has(v)));
  assert.ok(general.size > 0, 'the store holds values finer than family and major version');
  for (const { data } of items) {
    assert.match(data.browser!, /^[A-Za-z ]+ \d+$/);
    assert.match(data.operating_system!, /^[A-Za-z ]+ \d+$/);
    assert.ok(!general.has(data.browser!) && !general.has(data.operating_system!), `${data.browser} / ${data.operating_system}`);
    assert.ok(!data.ip_address!.includes('/') && rawIps.has(data.ip_address!), 'justified clear: the address as stored, not a prefix');
  }
  assert.ok(items.some((i) => i.data.browser === 'Yandex 24' || i.data.operating_system === 'iOS 18' || i.data.operating_system === 'Ubuntu 24'));
  const agreement = await partnerGet(stack, token, '/v1/agreement');
  assert.deepEqual(agreement.body.purposes.service_delivery.categories.ip_address, { treatment: 'clear', justification: why });
});

test('pseudonyms differ across partners; B using A\'s pseudonym, or a flipped character, is subject_not_found', async () => {
  const ta = await a.token('service_delivery');
  const tb = await b.token('service_delivery');
  const pa = await partnerGet(stack, ta, '/v1/subjects?purpose=service_delivery&limit=50');
  const pb = await partnerGet(stack, tb, '/v1/subjects?purpose=service_delivery&limit=50');
  const sa = pa.body.items.map((i: { subject: string }) => i.subject);
  const sb = new Set(pb.body.items.map((i: { subject: string }) => i.subject));
  assert.equal(sa.length, pb.body.items.length, 'same users released to both');
  assert.ok(sa.every((s: string) => !sb.has(s)));
  const foreign = await partnerGet(stack, tb, `/v1/subjects/${sa[0]}?purpose=service_delivery`);
  assert.equal(foreign.status, 404);
  assert.equal(foreign.body.code, 'subject_not_found');
  const s = sa[0] as string;
  const flipped = s.slice(0, -3) + (s.at(-3) === 'A' ? 'B' : 'A') + s.slice(-2);
  const tampered = await partnerGet(stack, ta, `/v1/subjects/${flipped}?purpose=service_delivery`);
  assert.equal(tampered.status, 404);
  assert.equal(tampered.body.code, 'subject_not_found');
  assert.equal(tampered.body.detail, foreign.body.detail, 'indistinguishable from an unknown user');
});

test('no correspondence, no raw id, no unmapped or un-agreed value leaves, JSON and NDJSON', async () => {
  const token = await a.token('service_delivery');
  const json = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
  const nd = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery', { accept: 'application/x-ndjson' });
  assert.equal(nd.status, 200);
  assert.match(nd.headers.get('content-type')!, /application\/x-ndjson/);
  for (const body of [json.text, nd.text]) {
    for (let i = 0; i < USERS; i++) {
      const u = syntheticUser(i);
      for (const c of u.correspondence) for (const v of [c.subject, c.body, c.with]) assert.ok(!body.includes(v), `correspondence of ${u.id} leaked`);
      // id, email (pseudonymised), date of birth and geolocation (not agreed) never appear raw
      for (const v of [u.id, u.email, u.dateOfBirth, String(u.geolocation.lat)]) assert.ok(!body.includes(`"${v}"`) && !body.includes(v + '"'), `${v} leaked`);
    }
  }
  const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.at(-1);
  // Issue 15 item 4 (CONTRACT 11): the last line carries the page receipts too.
  assert.deepEqual(Object.keys(last).sort(), ['nextCursor', 'omitted', 'receipts']);
  assert.equal(last.nextCursor, null);
  assert.equal(lines.length - 1 + last.omitted, USERS, 'every user either streamed or counted');
});

test('every released and denied subject is logged before release, with TLS evidence and no raw id', async () => {
  const token = await b.token('advertising');
  const before = (await stack.gateway.deps.transferLog.query.page({ partnerId: b.id, purpose: 'advertising' }, { limit: 1000 })).items.length;
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=40');
  assert.equal(page.status, 200);
  const entries = (await stack.gateway.deps.transferLog.query.page({ partnerId: b.id, purpose: 'advertising' }, { limit: 1000 })).items;
  assert.equal(entries.length - before, 40);
  const released = entries.filter((e) => e.decision === 'released');
  assert.equal(released.length, page.body.items.length);
  assert.equal(entries.length - before - released.length, page.body.omitted);
  for (const e of entries) {
    assert.match(e.tls.protocol ?? '', /^TLSv1\.[23]$/);
    if (e.decision === 'denied') assert.ok(['consent_required', 'policy_not_accepted', 'user_agreement_terminated', 'retention_expired'].includes(e.reason!), e.reason!);
    else assert.equal(e.legalBasis, 'consent');
  }
  const text = JSON.stringify(entries);
  for (let i = 0; i < 40; i++) assert.ok(!text.includes(syntheticUser(i).id));
});

test('bad input: unknown purpose, limit out of range, malformed cursor or date → 400 naming the parameter; no token → 401 Bearer', async () => {
  const token = await a.token('service_delivery');
  for (const [q, field] of [['purpose=sales', 'purpose'], ['purpose=service_delivery&limit=100000', 'limit'], ['purpose=service_delivery&limit=0', 'limit'],
    ['purpose=service_delivery&cursor=abc', 'cursor'], ['purpose=service_delivery&updatedSince=yesterday', 'updatedSince']] as const) {
    const r = await partnerGet(stack, token, `/v1/subjects?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.code, 'validation_failed');
    assert.ok(r.body.errors.some((e: { field: string }) => e.field === field), `${q}: ${r.text}`);
  }
  const none = await partnerGet(stack, '', '/v1/subjects?purpose=service_delivery', { authorization: '' });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate')!, /^Bearer/);
  const bogus = await partnerGet(stack, 'not-a-real-token-at-all-xxxxxxxx', '/v1/subjects?purpose=service_delivery');
  assert.equal(bogus.status, 401);
  assert.equal(bogus.body.code, 'invalid_token');
});

test('a token for one purpose used for another is insufficient_scope, and the denial is logged', async () => {
  const token = await a.token('advertising');
  const r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'insufficient_scope');
  const log = await stack.gateway.deps.transferLog.query.page({ partnerId: a.id, decision: 'denied' }, { limit: 5 });
  assert.equal(log.items[0]?.reason, 'insufficient_scope');
});

test('admin tokens are not partner tokens', async () => {
  const r = await partnerGet(stack, stack.adminToken, '/v1/subjects?purpose=service_delivery');
  assert.equal(r.status, 401);
  const token = await a.token('service_delivery');
  // RULES 43: the partner listener has no admin routes; the control plane refuses partner tokens.
  const here = await partnerGet(stack, token, '/admin/v1/partners');
  assert.equal(here.status, 404);
  const admin = await partnerGet({ url: stack.adminUrl, client: stack.client }, token, '/admin/v1/partners');
  assert.equal(admin.status, 403);
});

// RULES 6, 44: need-to-know volume. Per purpose, an agreement may refuse bulk pulls
// (`bulk: false` -> 403 bulk_not_allowed) and cap the distinct subjects a partner receives per UTC
// day (`dailySubjectQuota` -> 429 quota_exceeded with Retry-After). Both are logged denials.
// Agreements without the fields behave as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi, agreementBody, fieldsOf, newPartner } from './harness/admin.ts';
import { logFixture } from './harness/transfer-log.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { RedisSubjectQuota } from '../src/transfers/subject-quota.ts';
import type { Problem } from '../src/http/problem.ts';

const terms = (extra: Record<string, unknown>) => ({
  processingCountries: ['KZ'],
  purposes: { service_delivery: { categories: { phone: 'clear' }, ...extra } },
});

let stack: Stack;
let releasable: string[]; // user ids that service_delivery to KZ releases
let pseudonyms: ReturnType<typeof createPseudonymizer>;

before(async () => {
  stack = await startStack({ extra: { redis: { commandTimeoutMs: 5000 } } });
  pseudonyms = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  // A partner without a quota finds users the decision releases (by their ids, for the others).
  const scout = await setupPartner(stack, terms({}));
  const page = await partnerGet(stack, await scout.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=100');
  assert.equal(page.status, 200, page.text);
  releasable = page.body.items.map((i: { subject: string }) => pseudonyms.decode(i.subject, scout.id, [1])!.userId);
  assert.ok(releasable.length >= 10, `only ${releasable.length} releasable users`);
});
after(async () => {
  await stack.close();
});

const log = () => stack.gateway.deps.transferLog.query;

function assertRetryAfter(h: Headers) {
  const s = Number(h.get('retry-after'));
  assert.ok(Number.isInteger(s) && s >= 1 && s <= 86_400, `Retry-After: ${h.get('retry-after')}`);
}

test('dailySubjectQuota N: the N+1-th distinct subject is 429 quota_exceeded (Retry-After, logged); one already received still works', async () => {
  const p = await setupPartner(stack, terms({ dailySubjectQuota: 3 }));
  const token = await p.token('service_delivery');
  const pull = (userId: string) => partnerGet(stack, token, `/v1/subjects/${pseudonyms.encode(userId, p.id, 1)}?purpose=service_delivery`);
  for (const id of releasable.slice(0, 3)) assert.equal((await pull(id)).status, 200);
  const over = await pull(releasable[3]!);
  assert.equal(over.status, 429, over.text);
  assert.equal(over.body.code, 'quota_exceeded');
  assertRetryAfter(over.headers);
  const denied = await log().page({ partnerId: p.id, subject: releasable[3]!, decision: 'denied' }, { limit: 5 });
  assert.deepEqual(denied.items.map((e) => e.reason), ['quota_exceeded']);
  assert.equal((await pull(releasable[0]!)).status, 200, 'a subject received today does not count again');
  assert.equal((await pull(releasable[0]!)).status, 200);
  assert.equal((await pull(releasable[4]!)).status, 429, 'still full');
  // DESIGN 7: the day's set holds keyed subjectRefs, never a user id, and expires.
  const redis = stack.gateway.deps.redis;
  const [key] = await redis.keys(`pg:quota:${p.id}:service_delivery:*`);
  const members = (await redis.sMembers(key!)).sort();
  assert.deepEqual(members, releasable.slice(0, 3).map((id) => stack.gateway.deps.transferLog.subjectRef(id)).sort());
  assert.ok(members.every((m) => !releasable.includes(m)));
  const ttl = await redis.ttl(key!);
  assert.ok(ttl > 86_400 && ttl <= 2 * 86_400, `ttl ${ttl}`);
});

test('bulk JSON page under a quota: what fits is sent, the rest omitted and logged quota_exceeded; the next request is 429', async () => {
  const p = await setupPartner(stack, terms({ dailySubjectQuota: 5 }));
  const token = await p.token('service_delivery');
  const first = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=100');
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.items.length, 5);
  const over = await log().page({ partnerId: p.id, decision: 'denied' }, { limit: 200 });
  assert.equal(over.items.filter((e) => e.reason === 'quota_exceeded').length, releasable.length - 5);
  assert.equal((await log().page({ partnerId: p.id, decision: 'released' }, { limit: 200 })).items.length, 5);
  const next = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=100&cursor=${encodeURIComponent(first.body.nextCursor)}`);
  assert.equal(next.status, 429, next.text);
  assert.equal(next.body.code, 'quota_exceeded');
  assertRetryAfter(next.headers);
  const refused = await log().page({ partnerId: p.id, decision: 'denied' }, { limit: 1 });
  assert.equal(refused.items[0]!.reason, 'quota_exceeded', 'the refused request is logged');
});

test('NDJSON stream under a quota: the stream ends with {"error":"quota_exceeded"} after the page that filled it', async () => {
  const p = await setupPartner(stack, terms({ dailySubjectQuota: 5 }));
  const res = await request(`${stack.url}/v1/subjects?purpose=service_delivery`, {
    dispatcher: stack.client, headers: { authorization: `Bearer ${await p.token('service_delivery')}`, accept: 'application/x-ndjson' },
  });
  assert.equal(res.statusCode, 200);
  const lines = (await res.body.text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => typeof l.subject === 'string').length, 5);
  assert.equal(lines.at(-1).error, 'quota_exceeded');
  assert.ok(!('nextCursor' in lines.at(-1)));
});

test('bulk: false refuses GET /v1/subjects with 403 bulk_not_allowed (logged); single pulls still work', async () => {
  const p = await setupPartner(stack, terms({ bulk: false }));
  const token = await p.token('service_delivery');
  for (const accept of ['application/json', 'application/x-ndjson']) {
    const r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=10', { accept });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'bulk_not_allowed');
  }
  const denied = await log().page({ partnerId: p.id, decision: 'denied' }, { limit: 5 });
  assert.deepEqual(denied.items.map((e) => e.reason), ['bulk_not_allowed', 'bulk_not_allowed']);
  assert.equal((await partnerGet(stack, token, `/v1/subjects/${pseudonyms.encode(releasable[0]!, p.id, 1)}?purpose=service_delivery`)).status, 200);
});

test('an agreement without bulk or dailySubjectQuota behaves as before, and is served with the defaults spelled out', async () => {
  const p = await setupPartner(stack, terms({}));
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=100');
  assert.equal(page.status, 200);
  assert.equal(page.body.items.length, releasable.length);
  const agr = await partnerGet(stack, token, '/v1/agreement');
  assert.equal(agr.status, 200);
  assert.deepEqual(agr.body.purposes.service_delivery, { categories: { phone: 'clear' }, bulk: true, dailySubjectQuota: null });
});

test('bad volume terms are a 400 naming the field', async () => {
  const api = adminApi(stack, stack.adminToken);
  const id = await newPartner(api);
  const r = await api('POST', `/admin/v1/partners/${id}/agreements`, {
    body: agreementBody({ purposes: { service_delivery: { categories: { phone: 'clear' }, bulk: 'yes', dailySubjectQuota: 0 } } }),
  });
  assert.equal(r.status, 400, r.text);
  const fields = fieldsOf(r);
  assert.ok(fields.has('purposes.service_delivery.bulk'), r.text);
  assert.ok(fields.has('purposes.service_delivery.dailySubjectQuota'), r.text);
  const ok = await api('POST', `/admin/v1/partners/${id}/agreements`, {
    body: agreementBody({ purposes: { service_delivery: { categories: { phone: 'clear' }, bulk: true, dailySubjectQuota: null } } }),
  });
  assert.equal(ok.status, 201, ok.text);
});

test('the reservation counts distinct subjects atomically, and fails closed (503) when Redis is gone', async () => {
  const fx = await logFixture();
  try {
    const quota = new RedisSubjectQuota(await fx.client(), 1000);
    const now = new Date();
    assert.deepEqual(await quota.reserve('p1', 'service_delivery', 2, ['a', 'b', 'c', 'a'], now), [true, true, false, true]);
    assert.deepEqual(await quota.reserve('p1', 'service_delivery', 2, ['c', 'b'], now), [false, true]);
    assert.deepEqual(await quota.reserve('p1', 'advertising', 2, ['c'], now), [true], 'per purpose');
    assert.equal(await quota.full('p1', 'service_delivery', 2, now), true);
    // Issue 17 item 3: concurrent reservations of one turn share one script call, each answered as
    // if it had been alone, in call order.
    const client = await fx.client();
    const evals = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
    const before = await evals();
    const asks = [['x'], ['y', 'x'], ['z'], ['y', 'w']];
    const got = await Promise.all(asks.map((refs) => quota.reserve('p2', 'service_delivery', 2, refs, now)));
    assert.deepEqual(got, [[true], [true, true], [false], [true, false]]);
    assert.equal(await evals() - before, 1, 'one EVAL for four concurrent reservations');
    await fx.redis.kill();
    await assert.rejects(quota.reserve('p1', 'service_delivery', 2, ['a'], now), (e: Problem) => e.status === 503);
    await assert.rejects(quota.full('p1', 'service_delivery', 2, now), (e: Problem) => e.status === 503);
  } finally {
    await fx.close();
  }
});

// RULES 23: every release schedules a `retention_expired` notice for the partner's pseudonym at the
// entry's deleteBy (single pulls and bulk pages alike), and the worker sends it when that passes.
// Partners confirm deletion notices (webhook 2xx, or POST /v1/notifications/{id}/ack); one not
// confirmed within notices.confirmWithinSeconds is overdue: listed for staff and counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, agreementBody } from './harness/admin.ts';
import { noticeKeys } from '../src/notices/keys.ts';
import { DeletionSchedule } from '../src/notices/deletions.ts';
import { createNotices } from '../src/notices/index.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';

let stack: Stack;

before(async () => {
  stack = await startStack({ users: 20, extra: { notices: { workerIntervalMs: 50 } } });
});
after(() => stack.close());

test('released subjects get retention_expired at deleteBy; denied ones and other partners do not', async () => {
  // An agreement ending in 2.5 s: its end is every release's deleteBy (these users are active).
  const validUntil = new Date(Date.now() + 2500).toISOString();
  const terms = { processingCountries: ['KZ'], validUntil, purposes: { service_delivery: { categories: { phone: 'clear' } }, advertising: { categories: { gender: 'clear' } } } };
  const bulk = await setupPartner(stack, terms);
  const single = await setupPartner(stack, terms);
  const later = await setupPartner(stack, { processingCountries: ['KZ'] }); // ends in 2027
  const tb = await bulk.token('service_delivery');
  const page = await partnerGet(stack, tb, '/v1/subjects?purpose=service_delivery&limit=8');
  assert.equal(page.status, 200, page.text);
  const released: string[] = page.body.items.map((i: { subject: string }) => i.subject);
  assert.ok(released.length > 0 && page.body.omitted > 0, 'some released, some omitted');
  // A second purpose for the same subjects adds to their notices' purposes.
  const ta = await bulk.token('advertising');
  const adv = new Set((await partnerGet(stack, ta, '/v1/subjects?purpose=advertising&limit=8')).body.items.map((i: { subject: string }) => i.subject));
  assert.ok(released.some((s) => adv.has(s)), 'some subject released for both purposes');
  const all = [...new Set([...released, ...adv])].sort();
  const tl = await later.token('service_delivery');
  assert.equal((await partnerGet(stack, tl, '/v1/subjects?purpose=service_delivery&limit=8')).status, 200);
  // The single-subject path: the other partner's own pseudonym of one user.
  const ts = await single.token('service_delivery');
  const one = (await partnerGet(stack, ts, '/v1/subjects?purpose=service_delivery&limit=1')).body.items[0].subject as string;
  const again = await partnerGet(stack, ts, `/v1/subjects/${one}?purpose=service_delivery`);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual((await partnerGet(stack, tb, '/v1/notifications')).body.items, [], 'nothing before deleteBy');

  const list = async (t: string) => (await partnerGet(stack, t, '/v1/notifications')).body.items as Array<Record<string, any>>;
  await waitFor(async () => (await list(tb)).length === all.length && (await list(ts)).length === 1, 6000, 100);
  const items = await list(tb);
  assert.deepEqual(items.map((n) => n.subject).sort(), all, 'exactly the released subjects, once each');
  for (const n of items) {
    assert.equal(n.type, 'retention_expired');
    assert.equal(n.at, new Date(validUntil).toISOString());
    assert.deepEqual(n.purposes, [...(adv.has(n.subject) ? ['advertising'] : []), ...(released.includes(n.subject) ? ['service_delivery'] : [])]);
  }
  assert.deepEqual((await list(ts)).map((n) => [n.type, n.subject]), [['retention_expired', one]]);
  assert.deepEqual(await list(tl), [], 'a partner whose deleteBy is in 2027 gets nothing yet');
  assert.match(stack.logs.text(), /"code":"DELETE_NOTICE_SENT"/);
});

test('concurrent single pulls each schedule their own subject (grouped in Redis, none lost)', async () => {
  const validUntil = new Date(Date.now() + 3_600_000).toISOString();
  const p = await setupPartner(stack, { processingCountries: ['KZ'], validUntil, purposes: { service_delivery: { categories: { phone: 'clear' } }, advertising: { categories: { gender: 'clear' } } } });
  const listed = (await partnerGet(stack, await p.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=12')).body.items.map((i: { subject: string }) => i.subject) as string[];
  assert.ok(listed.length >= 4, 'enough subjects');
  // Each listed subject is scheduled for service_delivery; the single pulls add advertising.
  const ta = await p.token('advertising');
  const warm = await Promise.all(listed.map(() => partnerGet(stack, ta, '/healthz'))); // open the connections first
  assert.ok(warm.every((r) => r.status === 200));
  const out = await Promise.all(listed.map((s) => partnerGet(stack, ta, `/v1/subjects/${s}?purpose=advertising`)));
  const released = listed.filter((_, i) => out[i]!.status === 200);
  assert.ok(released.length >= 2, `several released at once (${out.map((r) => r.status).join()})`);
  assert.ok(out.every((r) => r.status === 200 || r.status === 403), out.map((r) => r.status).join());
  const keys = noticeKeys();
  for (const s of listed) {
    const info = await stack.gateway.deps.redis.hGet(keys.deleteInfo, `${p.id}/${s}`);
    const purposes = released.includes(s) ? 'service_delivery,advertising' : 'service_delivery';
    assert.equal(info, `${new Date(validUntil).toISOString()} ${purposes}`, s);
    assert.equal(await stack.gateway.deps.redis.zScore(keys.deleteBy, `${p.id}/${s}`), Date.parse(validUntil));
  }
});

const DAY = 86_400_000;

async function partnerPost(token: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST', dispatcher: stack.client,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text, type: res.headers.get('content-type') };
}

/** Erase `n` users this pull-only partner received: one subject_erased notice each, listed on its feed. */
async function erased(p: TestPartner, n: number, tag: string): Promise<{ token: string; ids: string[] }> {
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${n + 4}`);
  const subjects = (page.body.items as Array<{ subject: string }>).slice(0, n).map((i) => i.subject);
  assert.equal(subjects.length, n, page.text);
  const admin = adminApi(stack, stack.adminToken);
  const core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  const pseudonyms = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  for (const [i, s] of subjects.entries()) {
    const userId = pseudonyms.decode(s, p.id, [1])!.userId;
    const r = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: '2026-11-24T10:00:00Z', id: `${tag}-${i}` } });
    assert.equal(r.status, 202, r.text);
  }
  const items = (await partnerGet(stack, token, '/v1/notifications')).body.items as Array<{ id: string; type: string }>;
  const ids = items.filter((x) => x.type === 'subject_erased').map((x) => x.id);
  assert.equal(ids.length, n);
  return { token, ids };
}

test('RULES 23, 42, 47: a partner acknowledges its notice on the pull feed, idempotently; another partner\'s or an unknown id is 404, bad input 400', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'] });
  const other = await setupPartner(stack, { processingCountries: ['KZ'] });
  const { token, ids: [id] } = await erased(p, 1, 'ack-own');
  const first = await partnerPost(token, `/v1/notifications/${id}/ack`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.id, id);
  assert.equal(first.body.via, 'pull');
  assert.ok(Number.isFinite(Date.parse(first.body.ackAt)));
  const again = await partnerPost(token, `/v1/notifications/${id}/ack`, {});
  assert.deepEqual([again.status, again.body], [200, first.body], 'a repeat answers the first confirmation');
  const state = await stack.gateway.deps.notices.deliveryState(p.id, id!);
  assert.deepEqual([state.ackAt, state.ackBy], [first.body.ackAt, 'pull']);

  const foreign = await partnerPost(await other.token('service_delivery'), `/v1/notifications/${id}/ack`);
  assert.deepEqual([foreign.status, foreign.body.code, foreign.type], [404, 'not_found', 'application/problem+json; charset=utf-8']);
  const unknown = await partnerPost(token, `/v1/notifications/ntc_${'A'.repeat(24)}/ack`);
  assert.deepEqual([unknown.status, unknown.body.code], [404, 'not_found']);
  const malformed = await partnerPost(token, '/v1/notifications/not-a-notice/ack');
  assert.deepEqual([malformed.status, malformed.body.code, malformed.body.errors?.[0]?.field], [400, 'validation_failed', 'id']);
  const body = await partnerPost(token, `/v1/notifications/${id}/ack`, { deleted: 'everything' });
  assert.deepEqual([body.status, body.body.code], [400, 'validation_failed']);
  const anonymous = await fetch(`${stack.url}/v1/notifications/${id}/ack`, { method: 'POST', dispatcher: stack.client });
  assert.equal(anonymous.status, 401);
  await anonymous.text();
});

test('RULES 23: a deletion notice not confirmed by its deadline is overdue — listed for admin and auditor, counted by partner and type — until a late ack', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'] });
  const { token, ids } = await erased(p, 2, 'overdue');
  const [confirmed, late] = ids as [string, string];
  assert.equal((await partnerPost(token, `/v1/notifications/${confirmed}/ack`)).status, 200);
  const admin = adminApi(stack, stack.adminToken);
  const mine = <T extends { partnerId: string }>(v: { items: T[] }) => v.items.filter((i) => i.partnerId === p.id);
  // Not yet past the deadline (notices.confirmWithinSeconds, 1 day): nothing overdue.
  assert.deepEqual(mine((await admin('GET', '/admin/v1/notices/overdue')).body), []);

  // The deadline passes (an injected clock, not a day's wait): the sweep moves the unconfirmed one.
  const swept = await stack.gateway.deps.notices.overdue(100, Date.now() + 2 * DAY);
  assert.deepEqual(mine(swept).map((i) => [i.noticeId, i.type, i.attempts]), [[late, 'subject_erased', 0]]);
  assert.ok(Date.parse(mine(swept)[0]!.confirmBy) > Date.now(), 'the deadline is a day after queueing');
  for (const role of ['admin', 'auditor'] as const) {
    const t = role === 'admin' ? stack.adminToken : (await admin('POST', '/admin/v1/tokens', { body: { role } })).body.token;
    const r = await adminApi(stack, t)('GET', '/admin/v1/notices/overdue?limit=1000');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(mine(r.body).map((i: any) => i.noticeId), [late], role);
    assert.deepEqual(r.body.counts.filter((c: any) => c.partnerId === p.id), [{ partnerId: p.id, type: 'subject_erased', count: 1 }]);
  }
  const core = (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token;
  assert.equal((await admin('GET', '/admin/v1/notices/overdue', { token: core })).status, 403);
  const metrics = async () => (await admin('GET', '/metrics')).text;
  assert.match(await metrics(), new RegExp(`gateway_notices_overdue\\{partner="${p.id}",type="subject_erased"\\} 1`));
  assert.match(stack.logs.text(), new RegExp(`"noticeId":"${late}","type":"subject_erased","code":"DELETE_UNCONFIRMED"`));

  // Redis state, not memory: another instance (or a restarted one) sees the same list.
  const d = stack.gateway.deps;
  const fresh = createNotices({ redis: d.redis, config: d.config, log: d.log, keys: d.keys, agreements: d.agreements }, { startWorker: false });
  assert.deepEqual(mine(await fresh.overdue(100)).map((i) => i.noticeId), [late]);
  await fresh.close();

  // A late confirmation settles it: off the list, and the gauge drops it after the next sweep.
  assert.equal((await partnerPost(token, `/v1/notifications/${late}/ack`)).status, 200);
  const after = (await admin('GET', '/admin/v1/notices/overdue')).body;
  assert.deepEqual(mine(after), []);
  assert.deepEqual(after.counts.filter((c: any) => c.partnerId === p.id), []);
  assert.doesNotMatch(await metrics(), new RegExp(`gateway_notices_overdue\\{partner="${p.id}"`));
});

test('RULES 23: deleteBy is the earliest of the purpose\'s retentionDays (from the release) and the agreement\'s end; such a purpose keeps its own date', async () => {
  const admin = adminApi(stack, stack.adminToken);
  const p = await setupPartner(stack, {
    processingCountries: ['KZ'], validUntil: '2027-01-15T00:00:00Z',
    purposes: { service_delivery: { categories: { phone: 'clear' }, retentionDays: 30 }, advertising: { categories: { gender: 'clear' }, retentionDays: 3650 }, notifications: { categories: { email: 'clear' } } },
  });
  const bad = await admin('POST', `/admin/v1/partners/${p.id}/agreements`, { body: { ...agreementBody({ purposes: { service_delivery: { categories: { phone: 'clear' }, retentionDays: 0 } } }) } });
  assert.deepEqual([bad.status, bad.body.errors?.map((e: { field: string }) => e.field)], [400, ['purposes.service_delivery.retentionDays']]);
  const pull = async (purpose: string) => {
    const t0 = Date.now();
    const r = await partnerGet(stack, await p.token(purpose), `/v1/subjects?purpose=${purpose}&limit=4`);
    assert.equal(r.status, 200, r.text);
    return { t0, t1: Date.now(), subjects: (r.body.items as Array<{ subject: string }>).map((i) => i.subject) };
  };
  const sd = await pull('service_delivery');
  assert.ok(sd.subjects.length > 0);
  const auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  const entries = async (purpose: string) => ((await auditor('GET', `/admin/v1/transfers?partnerId=${p.id}&purpose=${purpose}&decision=released`)).body.items as Array<{ deleteBy: string }>);
  // 30 days from the release, well before validUntil.
  for (const e of await entries('service_delivery')) {
    const t = Date.parse(e.deleteBy);
    assert.ok(t >= sd.t0 + 30 * DAY - 1000 && t <= sd.t1 + 30 * DAY + 1000, e.deleteBy);
  }
  // Ten years is longer than the agreement: validUntil wins.
  const adv = await pull('advertising');
  assert.ok(adv.subjects.length > 0);
  for (const e of await entries('advertising')) assert.equal(e.deleteBy, '2027-01-15T00:00:00.000Z');
  // A purpose with its own retention is scheduled apart: a later release of another purpose moves
  // its subject's other date, never this one.
  const both = sd.subjects.filter((s) => adv.subjects.includes(s));
  assert.ok(both.length > 0, 'a subject released for both purposes');
  const notif = await pull('notifications');
  const deletions = new DeletionSchedule(stack.gateway.deps.redis, noticeKeys());
  for (const s of both) {
    const own = Date.parse((await deletions.when(p.id, s, 'service_delivery'))!);
    assert.ok(own < Date.parse('2027-01-01T00:00:00Z'), 'still 30 days after its release');
    assert.equal(await deletions.when(p.id, s, 'advertising'), '2027-01-15T00:00:00.000Z');
  }
  for (const s of notif.subjects) assert.equal(await deletions.when(p.id, s), '2027-01-15T00:00:00.000Z', 'no own retention: the shared date');
  // When the 30 days pass, the notice names the pseudonym alone and that one purpose.
  const due = (await deletions.claim(sd.t1 + 31 * DAY, 60_000, 10_000)).filter((d) => d.partnerId === p.id);
  assert.deepEqual(due.map((d) => [d.subject, d.purposes]).sort(), sd.subjects.map((s) => [s, ['service_delivery']]).sort());
});

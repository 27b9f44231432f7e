// RULES 12 end to end: core-store events reach every partner that received the user for an
// affected purpose — and only those — each under its own pseudonym; event ids make them idempotent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';

let stack: Stack;
let core: Api;
let auditor: Api;
const P: Record<'A' | 'B' | 'C' | 'D' | 'E', TestPartner> = {} as never;
const tokens: Record<string, string> = {};
/** partner -> userId -> the pseudonym that partner received. */
const got: Record<string, Map<string, string>> = {};
let user = '';
const domestic = { processingCountries: ['KZ'] };

async function pullAll(name: keyof typeof P, purpose: string) {
  const p = P[name];
  tokens[name] = await p.token(purpose);
  const page = await partnerGet(stack, tokens[name]!, `/v1/subjects?purpose=${purpose}&limit=60`);
  assert.equal(page.status, 200, page.text);
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  got[name] = new Map(page.body.items.map((i: { subject: string }) => [ps.decode(i.subject, p.id, [1, 2, 3])!.userId, i.subject]));
}

const notifications = async (name: keyof typeof P, cursor?: string) => {
  const r = await partnerGet(stack, tokens[name]!, `/v1/notifications${cursor ? `?cursor=${cursor}` : ''}`);
  assert.equal(r.status, 200, r.text);
  return r.body as { items: Array<Record<string, any>>; nextCursor: string | null };
};
const post = (body: object, headers: Record<string, string> = {}) => core('POST', '/admin/v1/events', { body, headers });

before(async () => {
  stack = await startStack({ users: 60, extra: { notices: { workerIntervalMs: 50 } } });
  const admin = adminApi(stack, stack.adminToken);
  core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  P.A = await setupPartner(stack, { ...domestic, purposes: { advertising: { categories: { gender: 'clear' } } } });
  P.B = await setupPartner(stack, { ...domestic, purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  P.C = await setupPartner(stack, { ...domestic, purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  P.D = await setupPartner(stack, { ...domestic, purposes: { legal_obligation: { categories: { phone: 'clear' } } } });
  P.E = await setupPartner(stack, { processingCountries: ['KZ', 'DE'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  await pullAll('A', 'advertising');
  await pullAll('B', 'service_delivery');
  await pullAll('D', 'legal_obligation');
  await pullAll('E', 'service_delivery');
  const shared = [...got.A!.keys()].filter((u) => got.B!.has(u) && got.D!.has(u) && got.E!.has(u));
  assert.ok(shared.length > 0, 'some user released to A, B, D and E');
  user = shared[0]!;
  // C received someone else only.
  tokens.C = await P.C.token('service_delivery');
  const other = [...got.B!.keys()].find((u) => u !== user)!;
  const one = await partnerGet(stack, tokens.C, `/v1/subjects/${createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(other, P.C.id, 1)}?purpose=service_delivery`);
  assert.equal(one.status, 200, one.text);
});
after(() => stack.close());

test('a withdrawal notifies only the partner that received the user for that purpose, under its own pseudonym; legal_obligation is untouched', async () => {
  const at = '2026-11-24T10:00:00Z';
  const r = await post({ type: 'consent_withdrawn', userId: user, purposes: ['advertising', 'legal_obligation'], at, id: 'evt-withdraw-1' });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.body, { eventId: 'evt-withdraw-1', notices: 1 });
  const a = await notifications('A');
  assert.equal(a.items.length, 1);
  assert.deepEqual({ ...a.items[0], id: undefined }, { id: undefined, type: 'consent_withdrawn', subject: got.A!.get(user), purposes: ['advertising'], at });
  assert.match(a.items[0]!.id, /^ntc_/);
  for (const n of ['B', 'C', 'D', 'E'] as const) assert.deepEqual((await notifications(n)).items, [], `${n} is not concerned`);
  // Polling on from the cursor gives nothing new.
  assert.deepEqual((await notifications('A', a.nextCursor!)).items, []);
});

test('the same event id twice (body or Idempotency-Key) gives one set of notices and the same answer', async () => {
  const body = { type: 'consent_withdrawn', userId: user, purposes: ['advertising'], at: '2026-11-24T11:00:00Z' };
  const first = await post(body, { 'idempotency-key': 'evt-withdraw-2' });
  const again = await post({ ...body, id: 'evt-withdraw-2' });
  const both = await Promise.all([post(body, { 'idempotency-key': 'evt-withdraw-3' }), post(body, { 'idempotency-key': 'evt-withdraw-3' })]);
  for (const r of [first, again]) assert.deepEqual([r.status, r.body], [202, { eventId: 'evt-withdraw-2', notices: 1 }]);
  for (const r of both) assert.deepEqual([r.status, r.body], [202, { eventId: 'evt-withdraw-3', notices: 1 }]);
  const a = (await notifications('A')).items;
  assert.equal(a.length, 3, 'evt-withdraw-1, -2 and -3 once each');
  assert.equal(new Set(a.map((n) => n.id)).size, 3);
});

test('an erasure notifies every recipient (legal_obligation flagged), never C; cross-border withdrawal only the partner abroad', async () => {
  const erased = await post({ type: 'subject_erased', userId: user, at: '2026-11-24T12:00:00Z', id: 'evt-erase-1' });
  assert.deepEqual([erased.status, erased.body], [202, { eventId: 'evt-erase-1', notices: 4 }]);
  for (const [n, purposes] of [['A', ['advertising']], ['B', ['service_delivery']], ['D', ['legal_obligation']], ['E', ['service_delivery']]] as const) {
    const last = (await notifications(n)).items.at(-1)!;
    assert.equal(last.type, 'subject_erased', n);
    assert.equal(last.subject, got[n]!.get(user), `${n} sees its own pseudonym`);
    assert.deepEqual(last.purposes, purposes);
    assert.equal(last.legalObligation, n === 'D' ? true : undefined, `${n}: RULES 12 flag`);
  }
  assert.deepEqual((await notifications('C')).items, [], 'C never received this user');
  const xb = await post({ type: 'cross_border_withdrawn', userId: user, at: '2026-11-24T13:00:00Z', id: 'evt-xb-1' });
  assert.deepEqual([xb.status, xb.body], [202, { eventId: 'evt-xb-1', notices: 1 }]);
  assert.equal((await notifications('E')).items.at(-1)!.type, 'cross_border_withdrawn');
  assert.equal((await notifications('B')).items.at(-1)!.type, 'subject_erased', 'B processes at home only');
  // Nothing in Redis names the user; the logs name neither the user nor a pseudonym.
  const keys = await stack.gateway.deps.redis.keys('{cp}*'); // the notice queues' tag (issue 18: the control-plane slot)
  assert.ok(keys.length > 0 && keys.every((k) => !k.includes(user)));
  for (const n of ['A', 'B', 'E'] as const) assert.ok(!stack.logs.text().includes(got[n]!.get(user)!));
  assert.ok(!stack.logs.text().includes(`"${user}"`));
});

test('events are validated (strict, naming fields) and need the core_store role', async () => {
  const fields = async (body: object, headers: Record<string, string> = {}) => {
    const r = await post(body, headers);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.code, 'validation_failed');
    return r.body.errors.map((e: { field: string }) => e.field).sort();
  };
  assert.deepEqual(await fields({ type: 'consent_revoked', userId: user, at: '2026-11-24T10:00:00Z' }), ['type']);
  assert.deepEqual(await fields({ type: 'consent_withdrawn', at: 'yesterday', purposes: ['sales'] }), ['at', 'purposes.0', 'userId']);
  assert.deepEqual(await fields({ type: 'subject_erased', userId: user, at: '2026-11-24T10:00:00Z', purposes: ['advertising'] }), ['purposes']);
  assert.deepEqual(await fields({ type: 'subject_erased', userId: user, at: '2026-11-24T10:00:00Z', id: 'a' }, { 'idempotency-key': 'b' }), ['id']);
  const wrongRole = await auditor('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId: user, at: '2026-11-24T10:00:00Z' } });
  assert.equal(wrongRole.status, 403);
  assert.equal((await core('GET', '/admin/v1/notices/dead-letter')).status, 403, 'dead letters are for auditors');
  assert.deepEqual((await auditor('GET', '/admin/v1/notices/dead-letter')).body, { items: [] });
  const bad = await partnerGet(stack, tokens.A!, '/v1/notifications?cursor=abc');
  assert.deepEqual([bad.status, bad.body.errors?.[0]?.field], [400, 'cursor']);
  // RULES 46: what is mounted is described.
  const paths = (await core('GET', '/openapi.json', { token: null })).body.paths;
  assert.equal(paths['/admin/v1/events'].post['x-auth'], 'core_store');
  assert.equal(paths['/admin/v1/notices/dead-letter'].get['x-auth'], 'auditor');
  assert.equal(paths['/v1/notifications'], undefined, 'the control-plane document lists only its own routes');
  const partnerPaths = (await adminApi({ url: stack.url, client: stack.client }, '')('GET', '/openapi.json', { token: null })).body.paths;
  assert.equal(partnerPaths['/v1/notifications'].get['x-auth'], 'partner');
});

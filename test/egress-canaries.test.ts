// RULES 9, issue [1/6] item 7b: egressGuard.canaries reach the egress guard. A canary planted in a
// field an agreement releases `clear` is caught through the real stack: the single pull answers 403
// egress_guard, the bulk page omits the subject, the denial is logged and the metric counts it.
// Without the setting the same record is released, so the test fails if the wiring is lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { startTestRedis } from './harness/redis.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { findUser, active } from './harness/users.ts';
import { syntheticSource, type UserSource } from '../src/core-store/source.ts';
import type { UserRecord } from '../src/core-store/record.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { loadConfig } from '../src/config/load.ts';

const USERS = 40;
const CANARY = 'cnry-7f3a9c41-do-not-release';
const TERMS = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } };
const planted = findUser(USERS, active);

/** The synthetic users, with the canary planted inside one user's username (released `clear`). */
function plantedSource(): UserSource {
  const inner = syntheticSource(USERS);
  const plant = (u: UserRecord): UserRecord => (u.id === planted.id ? { ...u, username: `${u.username}.${CANARY}` } : u);
  return {
    get count() { return inner.count; },
    get: (id) => { const u = inner.get(id); return u && plant(u); },
    page: (q) => { const p = inner.page(q); return { ...p, items: p.items.map(plant) }; },
  };
}

const redis = await startTestRedis();
after(() => redis.stop());

async function withStack(canaries: string[] | null, body: (stack: Stack, p: TestPartner, subject: string) => Promise<void>) {
  const stack = await startStack({ redis, source: plantedSource(), ...(canaries ? { extra: { egressGuard: { canaries } } } : {}) });
  try {
    const p = await setupPartner(stack, TERMS);
    await body(stack, p, createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(planted.id, p.id, 1));
  } finally {
    await stack.close();
  }
}

async function hits(stack: Stack, partnerId: string): Promise<number> {
  // RULES 43: /metrics is on the control plane, behind a role token.
  const text = await (await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_egress_guard_hits_total{') && l.includes(`partner="${partnerId}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('without egressGuard.canaries the planted record is released (control)', async () => {
  await withStack(null, async (stack, p, subject) => {
    const token = await p.token('service_delivery');
    const one = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`);
    assert.equal(one.status, 200, one.text);
    assert.ok(one.body.data.username.includes(CANARY));
    const page = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
    assert.ok(page.body.items.some((i: { subject: string }) => i.subject === subject));
  });
});

test('with the canary configured: single pull 403 egress_guard, bulk omits the subject, denials logged, metric counts', async () => {
  await withStack(['another-canary-value', CANARY], async (stack, p, subject) => {
    const token = await p.token('service_delivery');
    const one = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`);
    assert.equal(one.status, 403, one.text);
    assert.equal(one.body.code, 'egress_guard');
    assert.ok(!one.text.includes(CANARY));
    assert.equal(await hits(stack, p.id), 1);

    const page = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
    assert.equal(page.status, 200, page.text);
    assert.ok(!page.text.includes(CANARY), 'the canary never leaves');
    assert.ok(!page.body.items.some((i: { subject: string }) => i.subject === subject), 'the planted subject is omitted');
    assert.ok(page.body.items.length > 0, 'the others are released');
    assert.ok(page.body.omitted >= 1);
    assert.equal(await hits(stack, p.id), 2);

    const logged = await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'denied' }, { limit: 100 });
    const guard = logged.items.filter((e) => e.reason === 'egress_guard');
    assert.equal(guard.length, 2, 'both denials are in the transfer log');
    assert.ok(guard.every((e) => e.subjectRef === stack.gateway.deps.transferLog.subjectRef(planted.id)));
    assert.ok(!stack.logs.text().includes(CANARY), 'nor is it in the service log');
  });
});

test('egressGuard.canaries is validated at start, naming the key', () => {
  const load = (canaries: unknown) => () => loadConfig({ requireFiles: [], overrides: { egressGuard: { canaries } as never } });
  assert.throws(load(['short']), /egressGuard\.canaries/);
  assert.throws(load(['        ']), /egressGuard\.canaries/);
  assert.throws(load([42]), /egressGuard\.canaries/);
  assert.throws(load(Array.from({ length: 101 }, (_, i) => `canary-value-${i}`)), /egressGuard\.canaries/);
  assert.deepEqual(loadConfig({ requireFiles: [], overrides: { egressGuard: { canaries: [CANARY] } as never } }).egressGuard.canaries, [CANARY]);
});

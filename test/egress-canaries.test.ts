// RULES 9, issue [1/6] item 7b: egressGuard.canaries reach the egress guard. A canary planted in a
// field an agreement releases `clear` is caught through the real stack: the single pull answers 403
// egress_guard, the denial is logged and the metric counts it. "Any hit aborts the whole transfer
// (no partial send)": a bulk page holding the planted record releases nothing of that page.
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

test('with the canary configured: single pull 403 egress_guard, the denial logged, metric counts', async () => {
  await withStack(['another-canary-value', CANARY], async (stack, p, subject) => {
    const token = await p.token('service_delivery');
    const one = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`);
    assert.equal(one.status, 403, one.text);
    assert.equal(one.body.code, 'egress_guard');
    assert.ok(!one.text.includes(CANARY));
    assert.equal(await hits(stack, p.id), 1);

    const logged = await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'denied' }, { limit: 100 });
    const guard = logged.items.filter((e) => e.reason === 'egress_guard');
    assert.equal(guard.length, 1, 'the denial is in the transfer log');
    assert.equal(guard[0]!.subjectRef, stack.gateway.deps.transferLog.subjectRef(planted.id));
    assert.ok(!stack.logs.text().includes(CANARY), 'nor is it in the service log');
  });
});

test('RULES 9: a canary in one record of a bulk page aborts the whole page: nothing of it is released, all logged, the stream ends', async () => {
  await withStack([CANARY], async (stack, p) => {
    const token = await p.token('service_delivery');
    const released = async () => (await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'released' }, { limit: 100 })).items.length;
    // A JSON page: refused as a whole (403 egress_guard), every subject of the page logged denied.
    const page = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
    assert.equal(page.status, 403, page.text);
    assert.equal(page.body.code, 'egress_guard');
    assert.ok(!page.text.includes(CANARY));
    assert.equal(await released(), 0, 'nothing of the page is logged released');
    const denied = await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, decision: 'denied' }, { limit: 100 });
    assert.ok(denied.items.filter((e) => e.reason === 'egress_guard').length >= USERS / 2, 'the page is logged denied egress_guard');
    assert.equal(await hits(stack, p.id), 1, 'one record hit the guard');

    // NDJSON: no subject line at all, then the error line.
    const res = await fetch(`${stack.url}/v1/subjects?purpose=service_delivery`, {
      dispatcher: stack.client, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
    });
    const text = await res.text();
    assert.ok(!text.includes(CANARY));
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    if (res.status === 200) {
      assert.equal(lines.filter((l) => l.subject).length, 0, 'no subject of the page was written');
      assert.equal(lines.at(-1).error, 'egress_guard');
    } else {
      assert.equal(res.status, 403);
      assert.equal(lines[0].code, 'egress_guard');
    }
    assert.equal(await released(), 0);
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

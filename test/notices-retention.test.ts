// RULES 23: every release schedules a `retention_expired` notice for the partner's pseudonym at the
// entry's deleteBy (single pulls and bulk pages alike), and the worker sends it when that passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { noticeKeys } from '../src/notices/keys.ts';

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

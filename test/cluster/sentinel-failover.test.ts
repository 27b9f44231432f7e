// Issue 18 on a real Sentinel deployment (a primary, two replicas, three Sentinels, all TLS;
// test/harness/redis-sentinel.ts): the gateway finds the primary through the Sentinels, fails
// closed while the primary is gone (503, nothing released), resumes on its own once a replica is
// promoted, and every subject it released has its transfer log entry on the new primary
// (transferLog.replicas defaults to 1 in sentinel mode: an entry counts once a replica has it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../harness/stack.ts';
import { startTestSentinel, type TestSentinel } from '../harness/redis-sentinel.ts';
import { adminApi, releasedEntryIds } from '../harness/admin.ts';
import { setupPartner, partnerGet } from '../harness/partner.ts';
import { createPseudonymizer } from '../../src/pseudonym/subject.ts';

let sentinel: TestSentinel;
let stack: Stack;

before(async () => {
  sentinel = await startTestSentinel();
  stack = await startStack({ users: 40, redisMode: { mode: 'sentinel', name: sentinel.name, nodes: sentinel.sentinels, server: sentinel.servers[0]! } });
});
after(async () => {
  await stack?.close();
  await sentinel?.stop();
});

test('sentinel: the primary SIGKILLed during single and bulk pulls: 503 while it is gone, releases again after promotion on their own, every release logged on the new primary, verify ok', async () => {
  const a = adminApi(stack, stack.adminToken);
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=20');
  assert.equal(page.status, 200, page.text);
  const subjects = page.body.items.map((i: { subject: string }) => i.subject) as string[];
  const released = new Set<string>(); // transferIds the partner received
  const statuses = new Map<number, number>();
  let n = 0;
  const pullOne = async () => {
    const r = await partnerGet(stack, token, `/v1/subjects/${subjects[n++ % subjects.length]}?purpose=service_delivery`);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 200) released.add(r.body.transferId);
    else assert.equal(r.body?.code === 'audit_unavailable' || r.body?.code === 'redis_unavailable' || r.status === 503, true, `fails closed: ${r.status} ${r.text}`);
    return r;
  };
  let bulkReleased = 0; // subjects received in bulk pages (they carry no transferId; counted)
  const pullPage = async () => {
    const r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 200) bulkReleased += r.body.items.length;
    else assert.equal(r.status, 503, `fails closed: ${r.status} ${r.text}`);
  };
  assert.equal((await pullOne()).status, 200, 'control: pulls work through Sentinel');

  // Pull continuously while the primary is killed and a replica promoted.
  let failedOver = false;
  const failover = sentinel.killPrimary().then((r) => { failedOver = true; return r; });
  while (!failedOver) await Promise.all([pullOne(), pullPage()]);
  const { killed, promoted } = await failover;
  assert.notEqual(promoted, killed);
  // Resumes by itself: no restart, no operator.
  for (let t0 = Date.now(); ; ) {
    if ((await pullOne()).status === 200) break;
    assert.ok(Date.now() - t0 < 30_000, 'releases again after promotion');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok((statuses.get(503) ?? 0) > 0, `failed closed while the primary was gone (${JSON.stringify([...statuses])})`);
  assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 503), [], 'only releases and 503s');

  // Read the log on the new primary: every release has its entry.
  const auditor = (await a('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token as string;
  const logged = new Set(await releasedEntryIds(a, auditor, p.id));
  const missing = [...released].filter((id) => !logged.has(id));
  assert.deepEqual(missing, [], `every single release has its entry on the new primary (${released.size} released)`);
  // The first page (20) and every bulk page's subjects are released entries too.
  assert.ok(logged.size >= released.size + bulkReleased + subjects.length, `${logged.size} entries for ${released.size} + ${bulkReleased} + ${subjects.length} releases`);
  const v = await a('GET', '/admin/v1/transfers/verify', { token: auditor });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.ok, true, v.text);

  // Notices through the new primary: an erasure of a user this partner received reaches it
  // (the recipients index was written with the entries, and the notice queue is on the primary).
  const userId = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).decode(subjects[0]!, p.id, [1, 2, 3])!.userId;
  const core = adminApi(stack, (await a('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token as string);
  const ev = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId, at: '2026-11-24T12:00:00Z', id: 'evt-sentinel-erase' } });
  assert.equal(ev.status, 202, ev.text);
  assert.equal(ev.body.notices, 1, ev.text);
  const notes = await partnerGet(stack, token, '/v1/notifications');
  assert.equal(notes.status, 200, notes.text);
  const last = notes.body.items.at(-1);
  assert.deepEqual([last?.type, last?.subject], ['subject_erased', subjects[0]], notes.text);
});

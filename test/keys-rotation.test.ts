// RULES 29 end to end: rotating a partner's pseudonym key through the admin route starts version 2
// for new pulls (subjects `v2.`, log entries keyVersion 2, `pseudonymise` outputs change), old
// pseudonyms resolve during the grace period and answer 404 subject_not_found after it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, newPartner, type Api } from './harness/admin.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { readAudit } from '../src/auth/admin-audit.ts';
import { PartnerKeyVersions } from '../src/keys/partner-key-versions.ts';
import { createLogger } from '../src/log.ts';
import { Problem } from '../src/http/problem.ts';
import { ScheduledRotation } from '../src/keys/scheduled-rotation.ts';
import { testConfig } from './harness/stack.ts';
import { createRedisClient } from '../src/redis/client.ts';

const GRACE_S = 3;
let stack: Stack;
let api: Api;
const terms = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', email: 'pseudonymise' } } } };

before(async () => {
  stack = await startStack({ users: 30, extra: { pseudonym: { rotationGraceSeconds: GRACE_S } } });
  await waitFor(() => stack.gateway.deps.partnerKeys.ready, 5000);
  api = adminApi(stack, stack.adminToken);
});
after(() => stack.close());

async function page(p: TestPartner, token: string): Promise<Array<{ subject: string; data: Record<string, string> }>> {
  const r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=10');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.items.length > 0);
  return r.body.items;
}

test('rotate: new pulls use v2, old pseudonyms resolve during the grace period and 404 after it', async () => {
  const p = await setupPartner(stack, terms);
  const token = await p.token('service_delivery');
  const pseud = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  const v1 = await page(p, token);
  assert.ok(v1.every((i) => i.subject.startsWith('v1.')), 'every partner starts at version 1');
  const old = v1[0]!;
  const oldUser = pseud.decode(old.subject, p.id, [1])!.userId;

  const rot = await p.api('POST', `/admin/v1/partners/${p.id}/keys/rotate`);
  const rotatedAt = Date.now();
  assert.equal(rot.status, 200, rot.text);
  assert.equal(rot.body.current, 2);
  assert.equal(rot.body.retired[0].version, 1);
  assert.equal(Date.parse(rot.body.retired[0].acceptedUntil) - Date.parse(rot.body.retired[0].retiredAt), GRACE_S * 1000);

  // Within the grace period the old pseudonym still resolves, under its own version.
  const during = await partnerGet(stack, token, `/v1/subjects/${old.subject}?purpose=service_delivery`);
  assert.ok(Date.now() - rotatedAt < GRACE_S * 1000, 'the machine was too slow to observe the grace period');
  assert.equal(during.status, 200, during.text);
  assert.equal(during.body.keyVersion, 1);
  assert.deepEqual(during.body.data, old.data);

  // New pulls: v2 subjects for the same users, a different pseudonymised e-mail, phone unchanged.
  const v2 = await page(p, token);
  assert.ok(v2.every((i) => i.subject.startsWith('v2.')), v2.map((i) => i.subject).join(' '));
  const same = v2.find((i) => pseud.decode(i.subject, p.id, [2])?.userId === oldUser)!;
  assert.ok(same, 'the same user is released under v2');
  assert.notEqual(same.subject, old.subject);
  assert.equal(same.data.phone, old.data.phone);
  assert.notEqual(same.data.email, old.data.email, 'pseudonymise output changes with the key version');
  const one = await partnerGet(stack, token, `/v1/subjects/${same.subject}?purpose=service_delivery`);
  assert.equal(one.status, 200);
  assert.equal(one.body.keyVersion, 2);
  const entries = (await stack.gateway.deps.transferLog.query.page({ partnerId: p.id }, { limit: 100 })).items;
  const byTransfer = entries.find((e) => e.id === one.body.transferId)!;
  assert.equal(byTransfer.keyVersion, 2, 'the log records the key version');
  assert.equal(entries.find((e) => e.id === during.body.transferId)!.keyVersion, 1);

  // After the grace period: exactly like an unknown user.
  await waitFor(async () => (await partnerGet(stack, token, `/v1/subjects/${old.subject}?purpose=service_delivery`)).status === 404, 10_000, 200);
  assert.ok(Date.now() - rotatedAt >= GRACE_S * 1000 - 50, 'not before the grace period ended');
  const gone = await partnerGet(stack, token, `/v1/subjects/${old.subject}?purpose=service_delivery`);
  assert.equal(gone.body.code, 'subject_not_found');
  assert.equal((await partnerGet(stack, token, `/v1/subjects/${same.subject}?purpose=service_delivery`)).status, 200);
});

test('graceSeconds 0 cuts old pseudonyms at once; a second rotation makes v3; the rotation is audited', async () => {
  const p = await setupPartner(stack, terms);
  const token = await p.token('service_delivery');
  const v1 = await page(p, token);
  const r = await p.api('POST', `/admin/v1/partners/${p.id}/keys/rotate`, { body: { graceSeconds: 0 } });
  assert.equal(r.status, 200, r.text);
  const gone = await partnerGet(stack, token, `/v1/subjects/${v1[0]!.subject}?purpose=service_delivery`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, 'subject_not_found');
  const again = await p.api('POST', `/admin/v1/partners/${p.id}/keys/rotate`);
  assert.equal(again.body.current, 3);
  assert.deepEqual(again.body.retired.map((v: { version: number }) => v.version), [2, 1]);
  assert.ok((await page(p, token)).every((i) => i.subject.startsWith('v3.')));
  const view = await p.api('GET', `/admin/v1/partners/${p.id}/keys`);
  assert.equal(view.body.current, 3);
  const audit = (await readAudit(stack.gateway.deps.redis, 20)).items.filter((e) => e.action === 'partner.keys.rotate' && e.target === p.id);
  assert.equal(audit.length, 2);
  assert.deepEqual(audit[1]!.after, { keyVersion: 2, retired: 1, graceSeconds: 0 });
  assert.equal(audit[0]!.actor.role, 'admin');
});

test('rotate: unknown partner 404, a grace longer than configured 400, an auditor 403; a partner never rotated is at v1', async () => {
  const unknown = await api('POST', '/admin/v1/partners/no-such-partner/keys/rotate');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'not_found');
  const id = await newPartner(api);
  const long = await api('POST', `/admin/v1/partners/${id}/keys/rotate`, { body: { graceSeconds: GRACE_S + 1 } });
  assert.equal(long.status, 400);
  assert.equal(long.body.code, 'validation_failed');
  const auditor = (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token;
  assert.equal((await api('POST', `/admin/v1/partners/${id}/keys/rotate`, { token: auditor })).status, 403);
  assert.deepEqual(stack.gateway.deps.partnerKeys.versions(id), { current: 1, accepted: [1] });
  assert.equal((await api('GET', `/admin/v1/partners/${id}/keys`)).body.current, 1);
});

test('fail closed: until the cache has subscribed and loaded, versions() is a 503 store_unavailable', async () => {
  const sub = createRedisClient(stack.config.redis.url!, stack.config.redis.tls, 2000); // issue 18: the subscriber is no longer a client to duplicate
  sub.on('error', () => undefined);
  const cold = new PartnerKeyVersions(stack.gateway.deps.redis, sub, GRACE_S, createLogger('silent'));
  try {
    assert.throws(() => cold.versions('anyone'), (e: unknown) => e instanceof Problem && e.status === 503 && e.code === 'store_unavailable');
    const id = await newPartner(api);
    await api('POST', `/admin/v1/partners/${id}/keys/rotate`);
    await sub.connect();
    await waitFor(() => cold.ready, 5000);
    assert.equal(cold.versions(id).current, 2, 'a cold cache loads rotations from Redis');
  } finally {
    cold.close();
    sub.destroy();
  }
});

const DAY = 86_400_000;

test('RULES 29: terminating an agreement rotates the partner\'s key at once (grace 0), audited in the same step; suspending does not', async () => {
  const p = await setupPartner(stack, terms);
  const kept = await setupPartner(stack, terms);
  const token = await p.token('service_delivery');
  const old = (await page(p, token))[0]!;
  assert.ok(old.subject.startsWith('v1.'));
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${kept.id}/suspend`)).status, 200);
  assert.equal((await api('GET', `/admin/v1/partners/${kept.id}/keys`)).body.current, 1, 'a suspension keeps the key');

  const t = await api('POST', `/admin/v1/agreements/agr_${p.id}/terminate`);
  assert.equal(t.status, 200, t.text);
  assert.equal(t.body.status, 'terminated');
  const keys = (await api('GET', `/admin/v1/partners/${p.id}/keys`)).body;
  assert.equal(keys.current, 2);
  assert.deepEqual(keys.retired.map((v: { version: number; retiredAt: string; acceptedUntil: string }) => [v.version, v.acceptedUntil === v.retiredAt]), [[1, true]], 'grace 0');
  await waitFor(() => stack.gateway.deps.partnerKeys.versions(p.id).current === 2, 2000);
  assert.deepEqual(stack.gateway.deps.partnerKeys.versions(p.id).accepted, [2], 'old pseudonyms resolve no more');
  const audit = (await readAudit(stack.gateway.deps.redis, 50)).items.filter((e) => e.target === p.id || e.target === `agr_${p.id}`);
  const [rotation, termination] = audit; // newest first: the rotation follows the status change
  assert.equal(termination!.action, 'agreement.terminate');
  assert.equal(rotation!.action, 'partner.keys.rotate');
  assert.deepEqual(rotation!.after, { keyVersion: 2, retired: 1, graceSeconds: 0, reason: 'agreement.terminate' });
  assert.deepEqual([rotation!.actor, rotation!.at], [termination!.actor, termination!.at], 'one admin, one instant, one script');
  // A second terminate is refused (final) and rotates nothing.
  assert.equal((await api('POST', `/admin/v1/agreements/agr_${p.id}/terminate`)).status, 409);
  assert.equal((await api('GET', `/admin/v1/partners/${p.id}/keys`)).body.current, 2);
});

test('RULES 29: pseudonym.rotateEveryDays is optional (default off) and validated by name', async () => {
  assert.equal(stack.config.pseudonym.rotateEveryDays, null);
  assert.equal(stack.gateway.deps.keyRotation, null, 'no schedule by default');
  await assert.rejects(testConfig({ extra: { pseudonym: { rotateEveryDays: 0 } } }), /pseudonym\.rotateEveryDays/);
});

test('RULES 29: the schedule rotates a key once per period even with two instances checking at once (compare-and-set in Redis), and skips terminated partners', async () => {
  // A second gateway on the same Redis with the schedule on; the clock is injected, not waited for.
  const second = await startStack({ redis: stack.redis, users: 30, extra: { pseudonym: { rotationGraceSeconds: GRACE_S, rotateEveryDays: 30 } } });
  try {
    const scheduled = second.gateway.deps.keyRotation!;
    assert.ok(scheduled, 'the schedule runs when configured');
    const p = await setupPartner(stack, terms);
    const ended = await setupPartner(stack, terms);
    assert.equal((await api('POST', `/admin/v1/agreements/agr_${ended.id}/terminate`)).status, 200); // rotated to v2 now
    const sees = (d: Stack) => d.gateway.deps.agreements.current(ended.id)?.status === 'terminated';
    await waitFor(() => sees(stack) && sees(second), 2000);
    // Another instance's scheduler over the first gateway's store (the same Redis).
    const other = new ScheduledRotation({
      store: stack.gateway.deps.partnerKeys.store, agreementStatus: (id) => stack.gateway.deps.agreements.current(id)?.status,
      rotateEveryDays: 30, log: createLogger('silent'),
    });
    const t0 = Date.now();
    assert.ok(!(await scheduled.tick(t0 + 29 * DAY)).includes(p.id), 'not due before 30 days');
    const [a, b] = await Promise.all([scheduled.tick(t0 + 31 * DAY), other.tick(t0 + 31 * DAY)]);
    assert.equal([...a, ...b].filter((id) => id === p.id).length, 1, 'rotated by exactly one instance');
    assert.ok(![...a, ...b].includes(ended.id), 'a terminated partner is skipped');
    const keys = async (id: string) => (await api('GET', `/admin/v1/partners/${id}/keys`)).body;
    assert.equal((await keys(p.id)).current, 2);
    assert.equal((await keys(ended.id)).current, 2, 'only its termination rotated it');
    // The period runs from the last rotation: not again a day later, again a period later.
    assert.ok(!(await other.tick(t0 + 32 * DAY)).includes(p.id));
    assert.ok((await other.tick(t0 + 62 * DAY)).includes(p.id));
    assert.equal((await keys(p.id)).current, 3);
    const audit = (await readAudit(stack.gateway.deps.redis, 100)).items.filter((e) => e.target === p.id && e.action === 'partner.keys.rotate');
    assert.equal(audit.length, 2);
    assert.deepEqual(audit.map((e) => [e.actor.role, (e.after as { reason?: string }).reason]), [['system', 'schedule'], ['system', 'schedule']]);
    // New pulls use the new key: a different pseudonym for the same user (KEY_ROTATED logged with ids only).
    await waitFor(() => stack.gateway.deps.partnerKeys.versions(p.id).current === 3, 2000);
    assert.ok((await page(p, await p.token('service_delivery'))).every((i) => i.subject.startsWith('v3.')));
    assert.match(second.logs.text() + stack.logs.text(), /"code":"KEY_ROTATED","reason":"schedule"/);
  } finally {
    await second.close();
  }
});

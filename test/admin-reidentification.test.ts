// RULES 27 end to end: a pseudonym goes back to a user id only through two admins — a request with a
// reason, a different admin's approval — and the approver gets the id once. Every step is in the
// admin audit with the reason and never the id; requests expire; no other caller gets in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, newPartner, type Api } from './harness/admin.ts';
import { setupPartner } from './harness/partner.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { reidKey } from '../src/reidentification/requests.ts';

let stack: Stack;
let api: Api;
let second: Api;
let secondId: string;
let auditor: Api;
let partner: string;
const USER = 'u_000003';
const REASON = 'Complaint C-2026-117: the user asks which partner holds their data';
before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  const minted = (await api('POST', '/admin/v1/tokens', { body: { role: 'admin', label: 'dpo' } })).body;
  [second, secondId] = [adminApi(stack, minted.token), minted.id];
  auditor = adminApi(stack, (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  partner = await newPartner(api);
});
after(() => stack.close());

const pseudonym = (userId: string, partnerId: string) => createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(userId, partnerId, 1);

test('RULES 27: request, then a different admin approves and receives the user id once; every step is audited with the reason, never the id', async () => {
  const subject = pseudonym(USER, partner);
  const req = await api('POST', '/admin/v1/reidentifications', { body: { partnerId: partner, subject, reason: REASON } });
  assert.equal(req.status, 201, req.text);
  assert.deepEqual([req.body.status, req.body.requestedBy, req.body.partnerId, req.body.reason], ['pending', 'tok_bootstrap', partner, REASON]);
  assert.match(req.body.id, /^reid_[A-Za-z0-9_-]{22}$/);
  assert.ok(!req.text.includes(USER), 'nothing is revealed on request');
  const seen = await second('GET', `/admin/v1/reidentifications/${req.body.id}`);
  assert.deepEqual([seen.status, seen.body.status, seen.body.reason, seen.body.subject], [200, 'pending', REASON, subject]);
  assert.ok(!seen.text.includes(USER));

  const self = await api('POST', `/admin/v1/reidentifications/${req.body.id}/approve`);
  assert.deepEqual([self.status, self.body.code], [403, 'second_admin_required']);
  assert.ok(!self.text.includes(USER));

  const ok = await second('POST', `/admin/v1/reidentifications/${req.body.id}/approve`);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual([ok.body.userId, ok.body.status, ok.body.approvedBy], [USER, 'released', secondId]);
  assert.equal(ok.headers.get('cache-control'), 'no-store');

  const again = await second('POST', `/admin/v1/reidentifications/${req.body.id}/approve`);
  assert.deepEqual([again.status, again.body.code], [409, 'conflict']);
  const after = await api('GET', `/admin/v1/reidentifications/${req.body.id}`);
  assert.deepEqual([after.body.status, after.body.approvedBy], ['released', secondId]);
  assert.ok(!again.text.includes(USER) && !after.text.includes(USER), 'the id is given once');

  const audit = await auditor('GET', '/admin/v1/audit?limit=10');
  const mine = audit.body.items.filter((e: { target: string }) => e.target === req.body.id);
  assert.deepEqual(mine.map((e: { action: string; actor: { tokenId: string } }) => [e.action, e.actor.tokenId]), [
    ['reidentification.approve', secondId], ['reidentification.approve', 'tok_bootstrap'], ['reidentification.request', 'tok_bootstrap'],
  ]);
  assert.deepEqual(mine.map((e: { after: { reason: string } }) => e.after.reason), [REASON, REASON, REASON]);
  assert.equal(mine[0].after.subjectRef, stack.gateway.deps.transferLog.subjectRef(USER), 'the audit finds the user by subjectRef');
  assert.equal(mine[1].after.refused, 'second_admin_required');
  assert.ok(!audit.text.includes(USER), 'the audit never carries the user id');
  // RULES 24: the service's logs carry none of it either.
  for (const secret of [USER, subject, REASON]) assert.ok(!stack.logs.text().includes(secret), 'nothing of the lookup is logged');
});

test('RULES 27: a request expires; the pseudonym of another partner resolves to nothing (subject_not_found)', async () => {
  const req = await api('POST', '/admin/v1/reidentifications', { body: { partnerId: partner, subject: pseudonym(USER, partner), reason: REASON } });
  const ttl = await stack.gateway.deps.redis.pTTL(reidKey(req.body.id));
  assert.ok(ttl > 0 && ttl <= stack.config.reidentification.requestTtlSeconds * 1000, `expires (ttl ${ttl} ms)`);
  assert.equal(Date.parse(req.body.expiresAt) - Date.parse(req.body.requestedAt), stack.config.reidentification.requestTtlSeconds * 1000);
  await stack.gateway.deps.redis.pExpire(reidKey(req.body.id), 1); // the deadline, brought forward
  await new Promise((r) => setTimeout(r, 20));
  const late = await second('POST', `/admin/v1/reidentifications/${req.body.id}/approve`);
  assert.deepEqual([late.status, late.body.code], [404, 'not_found']);

  const other = await newPartner(api);
  const foreign = await api('POST', '/admin/v1/reidentifications', { body: { partnerId: partner, subject: pseudonym(USER, other), reason: REASON } });
  const r = await second('POST', `/admin/v1/reidentifications/${foreign.body.id}/approve`);
  assert.deepEqual([r.status, r.body.code], [404, 'subject_not_found']);
  assert.ok(!r.text.includes(USER));
  assert.equal((await api('GET', `/admin/v1/reidentifications/${foreign.body.id}`)).body.status, 'not_found');
});

test('RULES 27: partners, auditors and bad input are refused; the field is named', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const partnerToken = await p.token('service_delivery');
  const body = { partnerId: p.id, subject: pseudonym(USER, p.id), reason: REASON };
  const asPartner = await api('POST', '/admin/v1/reidentifications', { token: partnerToken, body });
  assert.deepEqual([asPartner.status, asPartner.body.code], [403, 'forbidden']);
  assert.equal((await auditor('POST', '/admin/v1/reidentifications', { body })).status, 403);
  const pending = (await api('POST', '/admin/v1/reidentifications', { body })).body;
  assert.equal((await auditor('POST', `/admin/v1/reidentifications/${pending.id}/approve`)).status, 403);
  assert.equal((await api('POST', `/admin/v1/reidentifications/${pending.id}/approve`, { token: partnerToken })).status, 403);
  for (const [bad, field] of [
    [{ ...body, reason: 'because' }, 'reason'], [{ ...body, subject: '' }, 'subject'], [{ ...body, partnerId: 'X!' }, 'partnerId'], [{ ...body, userId: USER }, 'userId'],
  ] as const) {
    const r = await api('POST', '/admin/v1/reidentifications', { body: bad });
    assert.equal(r.status, 400, r.text);
    assert.ok(r.body.errors.some((e: { field: string }) => e.field === field), r.text);
  }
  assert.equal((await api('POST', '/admin/v1/reidentifications', { body: { ...body, partnerId: 'nobody' } })).status, 404);
  assert.equal((await second('POST', '/admin/v1/reidentifications/bogus/approve')).body.errors?.[0]?.field, 'id');
  assert.equal((await second('GET', `/admin/v1/reidentifications/reid_${'A'.repeat(22)}`)).status, 404);
});

// RULES 24 (DESIGN 7): no residual copies in the gateway's logs. Seeded users are pulled by several
// partners, singly and in bulk pages (JSON and NDJSON), released and denied, and looked up on the
// control plane by user id; then every log line the gateway wrote is searched for each user's
// e-mail, phone and id, and for the pseudonyms that travelled in request paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { terminatedDaysAgo } from './harness/users.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { syntheticUser } from '../src/core-store/synthetic.ts';
import type { UserRecord } from '../src/core-store/record.ts';

const USERS = 200;
let stack: Stack;
let partners: TestPartner[];
let users: UserRecord[];
const pathValues = new Set<string>();

before(async () => {
  stack = await startStack({ users: USERS, extra: { notices: { workerIntervalMs: 50 } } });
  users = Array.from({ length: USERS }, (_, i) => syntheticUser(i));
  const clearAll = { phone: 'clear', email: 'clear', username: 'clear' }; // the values searched for are sent
  partners = [
    await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: clearAll }, advertising: { categories: { gender: 'clear', email: 'pseudonymise' } } } }),
    await setupPartner(stack, { processingCountries: ['KZ', 'DE'], purposes: { advertising: { categories: clearAll }, legal_obligation: { categories: { phone: 'clear' } } } }),
    await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'pseudonymise', email: 'clear', browser: 'generalise' } } } }),
  ];
});
after(() => stack.close());

test('RULES 24: after single and bulk pulls, released and denied, over three partners, no log line carries a user\'s e-mail, phone or id', async () => {
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  let released = 0;
  const denied = new Set<string>();
  const single = async (p: TestPartner, u: UserRecord | string, purpose: string) => {
    const subject = ps.encode(typeof u === 'string' ? u : u.id, p.id, 1);
    pathValues.add(subject);
    const r = await partnerGet(stack, await p.token(purpose), `/v1/subjects/${subject}?purpose=${purpose}`);
    if (r.status === 200) released++;
    else denied.add(r.body.code);
    return r;
  };
  const [a, b, c] = partners as [TestPartner, TestPartner, TestPartner];
  // Bulk: a JSON page each for a and b (b's consent-based purpose omits some), an NDJSON stream for c.
  const pageA = await partnerGet(stack, await a.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=100');
  const pageB = await partnerGet(stack, await b.token('advertising'), '/v1/subjects?purpose=advertising&limit=100');
  const nd = await partnerGet(stack, await c.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=100', { accept: 'application/x-ndjson' });
  for (const r of [pageA, pageB, nd]) assert.equal(r.status, 200, r.text);
  assert.ok(pageB.body.omitted > 0 && pageB.body.items.length > 0, 'the advertising page both released and omitted');
  // The seeded values are really in what was sent, so their absence from the logs means something.
  const sent = pageA.text + pageB.text + nd.text;
  assert.ok(users.slice(0, 100).some((u) => sent.includes(u.email)) && users.slice(0, 100).some((u) => sent.includes(u.phone)));
  // Single pulls: released and denied for every partner, plus an unknown subject and a wrong scope.
  for (const u of users.slice(0, 12)) {
    await single(a, u, 'service_delivery');
    await single(b, u, 'advertising');
    await single(c, u, 'service_delivery');
  }
  const expired = users.find((u) => (terminatedDaysAgo(u) ?? 0) > 1100)!;
  await single(b, expired, 'legal_obligation');
  await single(a, 'u_999999', 'service_delivery');
  const scope = await partnerGet(stack, await a.token('advertising'), `/v1/subjects/${ps.encode(users[0]!.id, a.id, 1)}?purpose=service_delivery`);
  assert.equal(scope.status, 403);
  assert.ok(released > 10, `released ${released}`);
  for (const code of ['consent_required', 'retention_expired', 'subject_not_found']) assert.ok(denied.has(code), `a ${code} denial (saw ${[...denied].join(', ')})`);
  // The control plane takes user ids in paths, queries and bodies: the auditor's lookups and a
  // core-store event.
  const admin = adminApi(stack, stack.adminToken);
  const role = async (r: string): Promise<Api> => adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: r } })).body.token);
  const auditor = await role('auditor');
  const core = await role('core_store');
  const who = users[3]!.id;
  assert.equal((await auditor('GET', `/admin/v1/transfers?subject=${who}&limit=5`)).status, 200);
  assert.equal((await auditor('GET', `/admin/v1/subjects/${who}/recipients`)).status, 200);
  assert.equal((await core('POST', '/admin/v1/events', { body: { type: 'consent_withdrawn', userId: who, purposes: ['advertising'], at: new Date().toISOString() } })).status, 202);
  assert.equal((await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId: users[4]!.email, at: 'not a time' } })).status, 400);

  const lines = stack.logs.lines;
  assert.ok(lines.filter((l) => l.includes('"msg":"request"')).length > 40, 'the gateway logged the requests (the capture works)');
  const leaks: string[] = [];
  for (const u of users) {
    for (const [what, v] of [['email', u.email], ['phone', u.phone], ['phone digits', u.phone.replace(/\D/g, '')], ['id', u.id]] as const) {
      const hit = lines.find((l) => l.includes(v));
      if (hit) leaks.push(`${what} of ${u.id}: ${hit.slice(0, 200)}`);
    }
  }
  for (const s of pathValues) {
    const hit = lines.find((l) => l.includes(s));
    if (hit) leaks.push(`pseudonym from a request path: ${hit.slice(0, 200)}`);
  }
  assert.deepEqual(leaks, []);
});

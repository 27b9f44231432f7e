// RULES 16-17 end to end: the governed adequacy list decides cross-border releases, an entry past its
// review date counts as absent (users then need their own cross-border consent), every change is
// versioned, kept in the history and the audit trail; and adding a processing country is a new
// agreement version that waits for a second admin (RULES 19).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { syntheticUser, userIdAt } from '../src/core-store/synthetic.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import type { UserRecord } from '../src/core-store/record.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

const USERS = 200;
const TERMS = { processingCountries: ['KZ', 'DE'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
let stack: Stack;
let api: Api;

before(async () => {
  stack = await startStack({ users: USERS });
  api = adminApi(stack, stack.adminToken);
  await waitFor(() => stack.gateway.deps.jurisdiction.ready, 5000);
});
after(() => stack.close());

// Read from the data itself, not through the decision function.
const crossBorderConsent = (u: UserRecord) => u.consents.crossBorder.granted && !u.consents.crossBorder.withdrawnAt;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

/** One bulk pull of every user: each user's transfer log entry, and the users actually released. */
async function pullAll(p: TestPartner, token: string) {
  const r = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=${USERS}`);
  assert.equal(r.status, 200, r.text);
  const requestId = r.headers.get('x-request-id');
  const log = stack.gateway.deps.transferLog;
  const page = await log.query.page({ partnerId: p.id }, { limit: 10 * USERS });
  const byRef = new Map(page.items.filter((e) => e.requestId === requestId).map((e) => [e.subjectRef, e]));
  const entries = new Map<string, TransferEntry>();
  for (let i = 0; i < USERS; i++) entries.set(userIdAt(i), byRef.get(log.subjectRef(userIdAt(i)))!);
  const pseudonyms = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  const released = new Set<string>(r.body.items.map((it: { subject: string }) => {
    const version = Number(/^v(\d+)\./.exec(it.subject)![1]);
    return pseudonyms.decode(it.subject, p.id, [version])!.userId;
  }));
  for (const [id, e] of entries) assert.equal(e?.decision === 'released', released.has(id), `${id}: log and response agree`);
  return { entries, released };
}

test('RULES 17: an adequacy entry past its review date stops covering; explicit cross-border consent still does', async () => {
  const p = await setupPartner(stack, TERMS);
  const token = await p.token('service_delivery');
  const minted = await api('POST', '/admin/v1/tokens', { body: { role: 'admin', label: 'dpo' } });
  const dpo = adminApi(stack, minted.body.token);

  // No adequacy entry yet: only users with their own cross-border consent are released.
  const none = await pullAll(p, token);
  for (const id of none.released) assert.equal(none.entries.get(id)!.crossBorderBasis, 'consent');

  const put = await dpo('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'Counsel opinion 2026-11: GDPR regime', reviewBy: inDays(365) } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.entry.approvedBy, minted.body.id, 'approvedBy is the calling admin token');
  const covered = await pullAll(p, token);
  const crossBorderOnly = [...covered.released].filter((id) => !none.released.has(id));
  assert.ok(crossBorderOnly.length > 0, 'adequacy releases users without cross-border consent');
  for (const id of covered.released) assert.equal(covered.entries.get(id)!.crossBorderBasis, 'adequacy', id);

  // Re-approved with a review date 1.5 s away, then left to lapse.
  const reviewBy = new Date(Date.now() + 1500).toISOString();
  assert.equal((await dpo('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'interim', reviewBy } })).status, 200);
  await sleep(Date.parse(reviewBy) - Date.now() + 100);
  const state = await api('GET', '/admin/v1/jurisdiction');
  assert.deepEqual(state.body.adequate.map((e: { country: string; expired: boolean }) => [e.country, e.expired]), [['DE', true]]);

  const lapsed = await pullAll(p, token);
  let consent = 0;
  let refused = 0;
  for (const id of covered.released) {
    const e = lapsed.entries.get(id)!;
    const u = syntheticUser(Number(id.slice(2)));
    if (crossBorderConsent(u)) {
      consent++;
      assert.equal(e.decision, 'released', id);
      assert.equal(e.crossBorderBasis, 'consent', id);
    } else {
      refused++;
      assert.equal(e.decision, 'denied', id);
      assert.equal(e.reason, 'cross_border_not_permitted', id);
    }
  }
  assert.ok(consent > 0 && refused > 0, `consent ${consent}, refused ${refused}`);
  assert.deepEqual([...lapsed.released].sort(), [...none.released].sort(), 'back to consent alone');

  const subject = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(crossBorderOnly[0]!, p.id, 1);
  const one = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`); // a single pull agrees
  assert.equal(one.status, 403, one.text);
  assert.equal(one.body.code, 'cross_border_not_permitted');
});

test('every change bumps the version and is kept in the history and the admin audit trail', async () => {
  const v0 = (await api('GET', '/admin/v1/jurisdiction')).body.version as number;
  const put = await api('PUT', '/admin/v1/jurisdiction/adequate/CH', { body: { justification: 'FADP', reviewBy: '2030-01-01' } });
  assert.equal(put.body.version, v0 + 1);
  assert.equal(put.body.entry.reviewBy, '2030-01-01T00:00:00.000Z');
  assert.equal((await api('DELETE', '/admin/v1/jurisdiction/adequate/CH')).body.version, v0 + 2);
  assert.equal((await api('DELETE', '/admin/v1/jurisdiction/adequate/CH')).status, 404, 'nothing to remove: no new version');
  const state = await api('GET', '/admin/v1/jurisdiction');
  assert.equal(state.body.version, v0 + 2);
  assert.equal(state.body.home, 'KZ');
  assert.ok(!state.body.adequate.some((e: { country: string }) => e.country === 'CH'));

  const history = (await api('GET', '/admin/v1/jurisdiction/history?limit=2')).body.items;
  assert.deepEqual(history.map((h: { version: number; action: string }) => [h.version, h.action]),
    [[v0 + 2, 'jurisdiction.adequate.delete'], [v0 + 1, 'jurisdiction.adequate.put']]);
  assert.equal(history[0].before.justification, 'FADP');

  const auditor = (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token;
  const audit = (await api('GET', '/admin/v1/audit?limit=5', { token: auditor })).body.items;
  const mine = audit.filter((a: { target: string }) => a.target === 'jurisdiction/adequate/CH');
  assert.deepEqual(mine.map((a: { action: string; after: { version: number } }) => [a.action, a.after.version]),
    [['jurisdiction.adequate.delete', v0 + 2], ['jurisdiction.adequate.put', v0 + 1]]);
  assert.equal(stack.gateway.deps.jurisdiction.cache.version, v0 + 2, 'this instance already holds the new version');
});

test('RULES 15, 19: adding a processing country waits for a second admin; then it is enforced, and earlier cross-border consents do not cover it', async () => {
  const p = await setupPartner(stack, { ...TERMS, processingCountries: ['KZ'] });
  const token = await p.token('service_delivery');
  const domestic = await pullAll(p, token);
  const noConsent = [...domestic.released].find((id) => !crossBorderConsent(syntheticUser(Number(id.slice(2)))))!;
  assert.ok(noConsent, 'a domestic release of a user without cross-border consent');
  assert.equal(domestic.entries.get(noConsent)!.crossBorderBasis, 'domestic');
  // Every synthetic consent was given before this test ran, so before the version below takes effect.
  const consented = [...domestic.released].find((id) => crossBorderConsent(syntheticUser(Number(id.slice(2)))))!;
  assert.ok(consented, 'a domestic release of a user with an explicit cross-border consent');
  const subject = (id: string) => createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(id, p.id, 1);
  const lastEntry = async (id: string) => (await stack.gateway.deps.transferLog.query.page({ partnerId: p.id, subject: id }, { limit: 1 })).items[0]!;

  const v2 = await api('POST', `/admin/v1/partners/${p.id}/agreements`, { body: agreementBody({ ...TERMS, processingCountries: ['KZ', 'US'] }) });
  assert.equal(v2.status, 201, v2.text);
  assert.deepEqual([v2.body.version, v2.body.status, v2.body.review.additions.countries], [2, 'pending_review', ['US']]);
  const listed = (await api('GET', `/admin/v1/partners/${p.id}/agreements`)).body;
  assert.deepEqual(listed.items.map((v: { version: number; status: string; processingCountries: string[] }) => [v.version, v.status, v.processingCountries]),
    [[1, 'active', ['KZ']], [2, 'pending_review', ['KZ', 'US']]]);

  // RULES 19: until a second admin approves, version 1 answers and nothing goes to the US.
  const before = await partnerGet(stack, token, `/v1/subjects/${subject(noConsent)}?purpose=service_delivery`);
  assert.equal(before.status, 200, before.text);
  assert.deepEqual([before.body.agreement.version, (await lastEntry(noConsent)).destinationCountries], [1, ['KZ']]);
  const self = await api('POST', `/admin/v1/agreements/agr_${p.id}/approve`, { body: { version: 2 } });
  assert.deepEqual([self.status, self.body.code], [403, 'second_admin_required']);

  const reviewer = adminApi(stack, (await api('POST', '/admin/v1/tokens', { body: { role: 'admin', label: 'dpo' } })).body.token);
  const approved = await reviewer('POST', `/admin/v1/agreements/agr_${p.id}/approve`, { body: { version: 2 } });
  assert.equal(approved.status, 200, approved.text);
  assert.deepEqual(approved.body.countriesSince, { US: approved.body.review.approvedAt });
  await waitFor(() => stack.gateway.deps.agreements.active(p.id)?.version === 2, 1000);

  for (const id of [noConsent, consented]) {
    const r = await partnerGet(stack, token, `/v1/subjects/${subject(id)}?purpose=service_delivery`);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'cross_border_not_permitted', `${id}: a consent that predates the US addition does not cover the US`);
    const last = await lastEntry(id);
    assert.deepEqual([last.agreementVersion, last.destinationCountries], [2, ['KZ', 'US']]);
  }
});

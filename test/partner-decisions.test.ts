// CONTRACT 6 end to end: for each rule, a user or agreement that fails only that rule is denied
// with that reason, and the denial is in the transfer log; one that passes everything is released.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { agreementBody } from './harness/admin.ts';
import { findUser, consented, crossBorder, active, acceptedCurrent, terminatedDaysAgo } from './harness/users.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { syntheticUser as syntheticUserAt } from '../src/core-store/synthetic.ts';
import { fetch } from 'undici';
import type { UserRecord } from '../src/core-store/record.ts';

const USERS = 2000;
let stack: Stack;
let domestic: TestPartner;
let abroad: TestPartner;
let pseudonym: (u: UserRecord | string, p: TestPartner) => string;

const terms = (countries: string[]) => ({
  processingCountries: countries, requiresPolicyVersion: '2026-06',
  purposes: { advertising: { categories: { gender: 'clear' } }, legal_obligation: { categories: { phone: 'clear' } } },
});

before(async () => {
  stack = await startStack({ users: USERS });
  domestic = await setupPartner(stack, terms(['KZ']));
  abroad = await setupPartner(stack, terms(['KZ', 'DE']));
  const p = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  pseudonym = (u, partner) => p.encode(typeof u === 'string' ? u : u.id, partner.id, 1);
});
after(() => stack.close());

async function pull(partner: TestPartner, u: UserRecord | string, purpose: string) {
  const token = await partner.token(purpose);
  return partnerGet(stack, token, `/v1/subjects/${pseudonym(u, partner)}?purpose=${purpose}`);
}

async function lastEntry(partner: TestPartner) {
  return (await stack.gateway.deps.transferLog.query.page({ partnerId: partner.id }, { limit: 1 })).items[0]!;
}

async function expectDenied(partner: TestPartner, u: UserRecord | string, purpose: string, code: string, status: number) {
  const r = await pull(partner, u, purpose);
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.code, code);
  const e = await lastEntry(partner);
  assert.equal(e.decision, 'denied');
  assert.equal(e.reason, code);
  assert.equal(e.requestId, r.headers.get('x-request-id'));
}

const passesAll = (u: UserRecord) => active(u) && consented(u, 'advertising') && acceptedCurrent(u) && crossBorder(u);

test('a user who passes every rule is released and logged with its bases', async () => {
  const u = findUser(USERS, passesAll);
  const r = await pull(abroad, u, 'advertising');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.data, { gender: u.gender });
  const e = await lastEntry(abroad);
  assert.equal(e.decision, 'released');
  assert.equal(e.id, r.body.transferId);
  assert.equal(e.legalBasis, 'consent');
  assert.equal(e.crossBorderBasis, 'consent');
  assert.deepEqual([...e.destinationCountries].sort(), ['DE', 'KZ']);
  assert.equal(e.policyVersion, '2026-06');
  assert.ok(e.deleteBy);
});

test('subject_not_found: a well-formed pseudonym of no user', () => expectDenied(domestic, 'u_999999', 'advertising', 'subject_not_found', 404));

test('retention_expired: terminated more than 3 years ago, even for legal_obligation', () =>
  expectDenied(domestic, findUser(USERS, (u) => (terminatedDaysAgo(u) ?? 0) > 1100), 'legal_obligation', 'retention_expired', 404));

test('user_agreement_terminated: terminated recently, a consent purpose; legal_obligation still passes', async () => {
  const u = findUser(USERS, (u) => { const d = terminatedDaysAgo(u); return d !== null && d < 1000 && consented(u, 'advertising') && acceptedCurrent(u); });
  await expectDenied(domestic, u, 'advertising', 'user_agreement_terminated', 403);
  const ok = await pull(domestic, u, 'legal_obligation');
  assert.equal(ok.status, 200, ok.text);
});

test('consent_required: no (or withdrawn) consent for the purpose', () =>
  expectDenied(domestic, findUser(USERS, (u) => active(u) && !consented(u, 'advertising') && acceptedCurrent(u)), 'advertising', 'consent_required', 403));

test('policy_not_accepted: neither clicked nor active 7 days after the required version', () =>
  expectDenied(domestic, findUser(USERS, (u) => active(u) && consented(u, 'advertising') && !acceptedCurrent(u)), 'advertising', 'policy_not_accepted', 403));

test('cross_border_not_permitted: no adequacy, no explicit cross-border consent (domestic partner releases the same user)', async () => {
  const u = findUser(USERS, (u) => active(u) && consented(u, 'advertising') && acceptedCurrent(u) && !crossBorder(u));
  assert.equal((await pull(domestic, u, 'advertising')).status, 200);
  await expectDenied(abroad, u, 'advertising', 'cross_border_not_permitted', 403);
});

test('purpose_not_allowed: a token issued before the agreement dropped the purpose', async () => {
  const p = await setupPartner(stack, terms(['KZ']));
  const token = await p.token('advertising legal_obligation');
  const v2 = await p.api('POST', `/admin/v1/partners/${p.id}/agreements`, { body: agreementBody({ ...terms(['KZ']), purposes: { legal_obligation: { categories: { phone: 'clear' } } } }) });
  assert.equal(v2.status, 201);
  const r = await partnerGet(stack, token, `/v1/subjects/${pseudonym(findUser(USERS, passesAll), p)}?purpose=advertising`);
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'purpose_not_allowed');
  assert.equal((await lastEntry(p)).reason, 'purpose_not_allowed');
});

test('agreement_inactive: a suspended agreement', async () => {
  const p = await setupPartner(stack, terms(['KZ']));
  const token = await p.token('advertising');
  assert.equal((await p.api('POST', `/admin/v1/agreements/agr_${p.id}/suspend`)).status, 200);
  const r = await partnerGet(stack, token, `/v1/subjects/${pseudonym(findUser(USERS, passesAll), p)}?purpose=advertising`);
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'agreement_inactive');
  assert.equal((await lastEntry(p)).reason, 'agreement_inactive');
});

test('confidentiality_agreement_invalid: the NDA has expired', async () => {
  const p = await setupPartner(stack, { ...terms(['KZ']), confidentiality: { documentRef: 'NDA-OLD', signedAt: '2024-01-10', expiresAt: '2025-01-10', signatories: ['B. Name'] } });
  const r = await pull(p, findUser(USERS, passesAll), 'advertising');
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'confidentiality_agreement_invalid');
  assert.equal((await lastEntry(p)).reason, 'confidentiality_agreement_invalid');
});

/** One sample of a metric from the control plane's /metrics (RULES 43), read with the admin token. */
async function metric(name: string): Promise<number> {
  const res = await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} is exposed`);
  return Number(line.split(' ')[1]);
}

test('RULES 21: a user past retention raises the data-hygiene metric once per UTC day, besides the denial; no id in /metrics', async () => {
  const expired = Array.from({ length: USERS }, (_, i) => syntheticUserAt(i)).filter((u) => (terminatedDaysAgo(u) ?? 0) > 1100).slice(-2); // the last two: no other test here pulls them
  assert.equal(expired.length, 2, 'the store holds two users past retention');
  const total = await metric('gateway_store_retention_expired_total');
  const today = await metric('gateway_store_retention_expired_users_today');
  await expectDenied(domestic, expired[0]!, 'legal_obligation', 'retention_expired', 404);
  assert.equal(await metric('gateway_store_retention_expired_total'), total + 1);
  // The same user again, by another partner and purpose: the same day, the same stored record.
  await expectDenied(domestic, expired[0]!, 'legal_obligation', 'retention_expired', 404);
  await expectDenied(abroad, expired[0]!, 'advertising', 'retention_expired', 404);
  assert.equal(await metric('gateway_store_retention_expired_total'), total + 1, 'once per user per day');
  await expectDenied(domestic, expired[1]!, 'legal_obligation', 'retention_expired', 404);
  assert.equal(await metric('gateway_store_retention_expired_total'), total + 2);
  assert.equal(await metric('gateway_store_retention_expired_users_today'), today + 2);
  // A user who is merely terminated (inside retention) is no hygiene fault.
  await expectDenied(domestic, findUser(USERS, (u) => { const d = terminatedDaysAgo(u); return d !== null && d < 1000; }), 'advertising', 'user_agreement_terminated', 403);
  assert.equal(await metric('gateway_store_retention_expired_total'), total + 2);
  const res = await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } });
  const text = await res.text();
  for (const u of expired) assert.ok(!text.includes(u.id) && !text.includes(pseudonym(u, domestic)), 'no user id or pseudonym in /metrics');
});

// RULES 31: pseudonymised is still personal data. An agreement that pseudonymises every category
// gets no shortcut: a processing country off the adequacy list still needs the user's explicit
// cross-border consent, and the consent and retention checks apply the same, single and bulk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { findUser, consented, crossBorder, active, acceptedCurrent, terminatedDaysAgo } from './harness/users.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { CATEGORIES } from '../src/policy/taxonomy.ts';
import { syntheticUser } from '../src/core-store/synthetic.ts';
import type { UserRecord } from '../src/core-store/record.ts';

const USERS = 2000;
const allPseudonymised = Object.fromEntries(CATEGORIES.map((c) => [c, 'pseudonymise']));
let stack: Stack;
let abroad: TestPartner; // processes in US: not on the (empty by default) adequacy list
let pseudonym: (u: UserRecord) => string;

before(async () => {
  stack = await startStack({ users: USERS });
  abroad = await setupPartner(stack, {
    processingCountries: ['KZ', 'US'], requiresPolicyVersion: '2026-06',
    purposes: { advertising: { categories: allPseudonymised }, legal_obligation: { categories: allPseudonymised } },
  });
  const p = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  pseudonym = (u) => p.encode(u.id, abroad.id, 1);
});
after(() => stack.close());

const eligible = (u: UserRecord) => active(u) && consented(u, 'advertising') && acceptedCurrent(u);

async function pullOne(u: UserRecord, purpose: string) {
  return partnerGet(stack, await abroad.token(purpose), `/v1/subjects/${pseudonym(u)}?purpose=${purpose}`);
}

async function expectDenied(u: UserRecord, purpose: string, code: string, status: number) {
  const r = await pullOne(u, purpose);
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.code, code);
  const [e] = (await stack.gateway.deps.transferLog.query.page({ partnerId: abroad.id }, { limit: 1 })).items;
  assert.equal(e!.decision, 'denied');
  assert.equal(e!.reason, code);
  assert.equal(e!.subjectRef, stack.gateway.deps.transferLog.subjectRef(u.id));
}

test('single: every category pseudonymised, a non-adequate country and no cross-border consent → 403 cross_border_not_permitted', () =>
  expectDenied(findUser(USERS, (u) => eligible(u) && !crossBorder(u)), 'advertising', 'cross_border_not_permitted', 403));

test('single: the same agreement releases a user with cross-border consent, every value a keyed pseudonym (basis consent)', async () => {
  const u = findUser(USERS, (u) => eligible(u) && crossBorder(u));
  const r = await pullOne(u, 'advertising');
  assert.equal(r.status, 200, r.text);
  assert.ok(Object.keys(r.body.data).length > 0);
  for (const [c, v] of Object.entries(r.body.data)) assert.match(String(v), /^[A-Za-z0-9_-]{43}$/, c);
  const [e] = (await stack.gateway.deps.transferLog.query.page({ partnerId: abroad.id }, { limit: 1 })).items;
  assert.equal(e!.crossBorderBasis, 'consent');
});

test('single: consent and retention are checked the same for a pseudonymised agreement', async () => {
  await expectDenied(findUser(USERS, (u) => active(u) && !consented(u, 'advertising') && acceptedCurrent(u) && crossBorder(u)), 'advertising', 'consent_required', 403);
  await expectDenied(findUser(USERS, (u) => (terminatedDaysAgo(u) ?? 0) > 1100), 'legal_obligation', 'retention_expired', 404);
  await expectDenied(findUser(USERS, (u) => { const d = terminatedDaysAgo(u); return d !== null && d < 1000 && consented(u, 'advertising') && crossBorder(u); }), 'advertising', 'user_agreement_terminated', 403);
});

test('bulk: users without cross-border consent, consent or retention are omitted and logged with the same reasons', async () => {
  const token = await abroad.token('advertising');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=300');
  assert.equal(page.status, 200, page.text);
  const tlog = stack.gateway.deps.transferLog;
  const byRef = new Map<string, UserRecord>();
  const bySubject = new Map<string, UserRecord>();
  for (let i = 0; i < USERS; i++) {
    const u = syntheticUser(i);
    byRef.set(tlog.subjectRef(u.id), u);
    bySubject.set(pseudonym(u), u);
  }
  // Released: only users with explicit cross-border consent.
  for (const item of page.body.items as Array<{ subject: string }>) {
    const u = bySubject.get(item.subject);
    assert.ok(u, 'a known subject');
    assert.ok(crossBorder(u) && eligible(u), `${u.id} released without every ground`);
  }
  const entries = (await tlog.query.page({ partnerId: abroad.id, purpose: 'advertising' }, { limit: 1000 })).items.filter((e) => e.requestId === page.headers.get('x-request-id'));
  assert.equal(entries.length, page.body.items.length + page.body.omitted);
  const seen = new Set<string>();
  for (const e of entries) {
    const u = byRef.get(e.subjectRef ?? '');
    assert.ok(u, 'every entry names a user of the store by subjectRef');
    const d = terminatedDaysAgo(u);
    let expected: string | null;
    if (d !== null) expected = d > 1100 ? 'retention_expired' : d < 1090 ? 'user_agreement_terminated' : e.reason; // the 3-year edge is not this test's
    else if (!consented(u, 'advertising')) expected = 'consent_required';
    else if (!acceptedCurrent(u)) expected = 'policy_not_accepted';
    else if (!crossBorder(u)) expected = 'cross_border_not_permitted';
    else expected = null;
    assert.equal(e.reason, expected, `${u.id}: ${e.decision}`);
    if (expected) seen.add(expected);
  }
  for (const r of ['cross_border_not_permitted', 'consent_required', 'retention_expired']) assert.ok(seen.has(r), `the page has a ${r} user (seen: ${[...seen].join(', ')})`);
});

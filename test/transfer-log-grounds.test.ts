// RULES 48 (issue [2/6]): every transfer log entry names the partner's legal entity (the partner's
// name when none was registered); a consent-based release names the consent it relied on
// {purpose, grantedAt}; a cross-border release names its ground's record — the governed adequacy
// list's version, or the user's cross-border consent. The new fields are hashed: verify still holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, fieldsOf, type Api } from './harness/admin.ts';
import { oauthToken, partnerGet } from './harness/partner.ts';
import { syntheticUser, userIdAt } from '../src/core-store/synthetic.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

const USERS = 120;
const TERMS = { processingCountries: ['KZ', 'DE'], purposes: { advertising: { categories: { gender: 'clear' } } } };
let stack: Stack;
let api: Api;
let n = 0;

before(async () => {
  stack = await startStack({ users: USERS });
  api = adminApi(stack, stack.adminToken);
});
after(() => stack.close());

async function partnerWith(legalEntity?: object): Promise<{ id: string; token: string }> {
  const id = `le-${process.pid}-${++n}`;
  const p = await api('POST', '/admin/v1/partners', { body: { id, name: `Partner ${id}`, contactEmail: `privacy@${id}.example`, ...(legalEntity ? { legalEntity } : {}) } });
  assert.equal(p.status, 201, p.text);
  const cred = await api('POST', `/admin/v1/partners/${id}/credentials`, { body: {} });
  assert.equal((await api('POST', `/admin/v1/partners/${id}/agreements`, { body: agreementBody(TERMS) })).status, 201);
  const t = await oauthToken(stack, cred.body.clientId, cred.body.clientSecret, { grant_type: 'client_credentials', scope: 'advertising' });
  return { id, token: t.body.access_token };
}

/** One bulk pull of every user; each user's entry of that request, by user id. */
async function pullAll(p: { id: string; token: string }): Promise<Map<string, TransferEntry>> {
  const r = await partnerGet(stack, p.token, `/v1/subjects?purpose=advertising&limit=${USERS}`);
  assert.equal(r.status, 200, r.text);
  const log = stack.gateway.deps.transferLog;
  const page = await log.query.page({ partnerId: p.id }, { limit: 10 * USERS });
  const byRef = new Map(page.items.filter((e) => e.requestId === r.headers.get('x-request-id')).map((e) => [e.subjectRef, e]));
  return new Map(Array.from({ length: USERS }, (_, i) => [userIdAt(i), byRef.get(log.subjectRef(userIdAt(i)))!]));
}

test('legalEntity on partner registration is validated, naming the field', async () => {
  const r = await api('POST', '/admin/v1/partners', { body: { name: 'X', contactEmail: 'a@x.example', legalEntity: { name: '', country: 'XX', extra: 1 } } });
  assert.equal(r.status, 400);
  const f = fieldsOf(r);
  assert.ok(f.has('legalEntity.name') && f.has('legalEntity.country'), JSON.stringify([...f]));
});

test('entries name the legal entity, the consent relied on and the cross-border consent; then the adequacy list version', async () => {
  const entity = { name: 'Acme Analytics GmbH', country: 'DE', registrationNumber: 'HRB 12345' };
  const p = await partnerWith(entity);
  const first = await pullAll(p);
  const released = [...first].filter(([, e]) => e.decision === 'released');
  assert.ok(released.length > 0, 'some users released on their cross-border consent');
  for (const e of first.values()) assert.deepEqual(e.legalEntity, entity, 'denials name it too');
  for (const [id, e] of released) {
    const u = syntheticUser(Number(id.slice(2)));
    assert.equal(e.crossBorderBasis, 'consent');
    assert.deepEqual(e.consent, { purpose: 'advertising', grantedAt: u.consents.purposes.advertising!.at });
    assert.deepEqual(e.crossBorderConsent, { grantedAt: u.consents.crossBorder.at });
    assert.equal(e.adequacyListVersion, null);
  }

  const put = await api('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'Counsel opinion 2026-11', reviewBy: new Date(Date.now() + 365 * 86_400_000).toISOString() } });
  assert.equal(put.status, 200, put.text);
  const second = [...(await pullAll(p)).values()].filter((e) => e.decision === 'released');
  assert.ok(second.length > released.length, 'adequacy covers users without cross-border consent');
  for (const e of second) {
    assert.equal(e.crossBorderBasis, 'adequacy');
    assert.equal(e.adequacyListVersion, put.body.version);
    assert.equal(e.crossBorderConsent, null);
    assert.equal(e.consent?.purpose, 'advertising');
  }
  const v = await adminApi(stack, (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token)('GET', '/admin/v1/transfers/verify');
  assert.equal(v.body.ok, true, JSON.stringify(v.body.brokenAt));
});

test('a partner registered without a legal entity is named by its name', async () => {
  const p = await partnerWith();
  const entries = [...(await pullAll(p)).values()];
  for (const e of entries) assert.deepEqual(e.legalEntity, { name: `Partner ${p.id}`, country: null, registrationNumber: null });
});

test('the entry schema refuses a consent-based release that names no consent', async () => {
  const log = stack.gateway.deps.transferLog;
  const input = {
    requestId: 'r-x', partnerId: 'p_x', agreementId: 'agr_x', agreementVersion: 1, purpose: 'advertising', userId: 'u_000001',
    decision: 'released', reason: null, categories: ['gender'], destinationCountries: ['KZ', 'DE'], legalBasis: 'consent',
    crossBorderBasis: 'adequacy', policyVersion: '2024-03', keyVersion: 1, deleteBy: '2027-01-15T00:00:00.000Z',
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null },
    legalEntity: { name: 'X', country: null, registrationNumber: null },
  } as const;
  await assert.rejects(log.append(input as never), /consent/);
  await assert.rejects(log.append({ ...input, consent: { purpose: 'advertising', grantedAt: null } } as never), /adequacyListVersion/);
  await assert.rejects(log.append({ ...input, legalEntity: undefined } as never), /legalEntity/);
});

// RULES 14, 16(b) through the real pull path: a core store (NDJSON, over HTTPS) whose records carry
// the optional consent fields of CONTRACT 3 as amended by [2/6] — the method of the cross-border
// consent and per-country consents — and a partner processing in KZ and US (not adequate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from './harness/stack.ts';
import { tmp } from './harness/certs.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { loadNdjsonSource } from '../src/core-store/source.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { baseRecord } from './unit/decision-fixtures.ts';
import type { CrossBorderConsent } from '../src/core-store/record.ts';

const GIVEN = { granted: true, at: '2025-02-01T09:00:00Z', withdrawnAt: null };
const NONE = { granted: false, at: null, withdrawnAt: null };
const USERS: Record<string, CrossBorderConsent> = {
  u_click: { ...GIVEN, method: 'click' },
  u_signature: { ...GIVEN, method: 'signature' },
  u_legacy: { ...GIVEN }, // a store that does not record the method: today's reading
  u_deemed: { ...GIVEN, method: 'deemed' },
  u_us_only: { ...NONE, countries: { US: { ...GIVEN, method: 'click' } } },
  u_cn_only: { ...GIVEN, method: 'click', countries: { CN: { ...GIVEN, method: 'click' } } },
  u_us_deemed: { ...NONE, countries: { US: { ...GIVEN, method: 'deemed' } } },
};

let stack: Stack;
let partner: TestPartner;
let token: string;
before(async () => {
  const file = join(tmp('consents'), 'users.ndjson');
  writeFileSync(file, Object.entries(USERS).map(([id, crossBorder]) => {
    const r = baseRecord();
    return JSON.stringify({ ...r, id, consents: { ...r.consents, crossBorder } });
  }).join('\n'));
  stack = await startStack({ source: await loadNdjsonSource(file) });
  partner = await setupPartner(stack, { processingCountries: ['KZ', 'US'], purposes: { service_delivery: { categories: { username: 'clear' } } } });
  token = await partner.token('service_delivery');
});
after(() => stack.close());

async function pull(userId: string) {
  const subject = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(userId, partner.id, 1);
  const r = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`);
  const [entry] = (await stack.gateway.deps.transferLog.query.page({ partnerId: partner.id, subject: userId }, { limit: 1 })).items;
  return { status: r.status, code: r.body?.code as string | undefined, entry: entry! };
}

test('RULES 14: only a click or signature counts as cross-border consent; a store without the method keeps today\'s reading', async () => {
  for (const id of ['u_click', 'u_signature', 'u_legacy']) {
    const r = await pull(id);
    assert.equal(r.status, 200, id);
    assert.deepEqual([r.entry.decision, r.entry.crossBorderBasis], ['released', 'consent'], id);
  }
  const deemed = await pull('u_deemed');
  assert.deepEqual([deemed.status, deemed.code, deemed.entry.decision, deemed.entry.reason], [403, 'cross_border_not_permitted', 'denied', 'cross_border_not_permitted']);
});

test('RULES 16(b): per-country consent is honoured: the named country passes, another or a deemed one does not', async () => {
  const us = await pull('u_us_only');
  assert.deepEqual([us.status, us.entry.crossBorderBasis, us.entry.destinationCountries], [200, 'consent', ['KZ', 'US']]);
  for (const id of ['u_cn_only', 'u_us_deemed']) {
    const r = await pull(id);
    assert.deepEqual([r.status, r.code, r.entry.decision], [403, 'cross_border_not_permitted', 'denied'], id);
  }
});

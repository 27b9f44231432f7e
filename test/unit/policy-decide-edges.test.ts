// Boundaries of CONTRACT 6 steps 7, 9 and 10: deemed acceptance (policy 1.2, RULES 13-14),
// retention (RULES 21-22), adequacy review dates and the empty country list (RULES 15-17).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, type Decision } from '../../src/policy/decide.ts';
import { adequateCountries } from '../../src/policy/cross-border.ts';
import { baseContext, NOW } from './decision-fixtures.ts';

const reason = (d: Decision) => (d.allow ? 'allow' : d.reason);
const noClick = { version: '2024-03', acceptedAt: null, method: null } as const;
const noCrossBorder = { granted: false, at: null, withdrawnAt: null };

/** A user who never clicked; the agreement needs 2026-06 (published 2026-06-01). */
function deemedContext(lastActiveAt: string) {
  const ctx = baseContext();
  ctx.agreement!.requiresPolicyVersion = '2026-06';
  ctx.record!.policyAcceptance = { ...noClick };
  ctx.record!.lastActiveAt = lastActiveAt;
  return ctx;
}

test('deemed acceptance: active exactly 7 days after publication passes, a second earlier does not', () => {
  assert.equal(reason(decide(deemedContext('2026-06-08T00:00:00Z'))), 'allow');
  assert.equal(reason(decide(deemedContext('2026-06-07T23:59:59Z'))), 'policy_not_accepted');
});

test('deemed acceptance never stands in for cross-border consent (RULES 14)', () => {
  const ctx = deemedContext('2026-11-19T08:12:00Z');
  ctx.jurisdiction.adequate = [];
  ctx.record!.consents.crossBorder = { ...noCrossBorder };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted');
  ctx.record!.consents.crossBorder = { granted: true, at: '2026-07-01T00:00:00Z', withdrawnAt: null };
  assert.deepEqual(decide(ctx), { allow: true, legalBasis: 'consent', crossBorderBasis: 'consent' });
});

test('a click on a later version counts; on an earlier one, or before publication, or method null, it does not', () => {
  const ctx = baseContext(); // requires 2024-03, clicked 2026-06
  ctx.record!.lastActiveAt = '2024-03-02T00:00:00Z'; // too early to deem anything
  assert.equal(reason(decide(ctx)), 'allow');
  ctx.agreement!.requiresPolicyVersion = '2026-06';
  ctx.record!.policyAcceptance = { version: '2024-03', acceptedAt: '2024-04-01T00:00:00Z', method: 'click' };
  assert.equal(reason(decide(ctx)), 'policy_not_accepted');
  ctx.record!.policyAcceptance = { version: '2026-06', acceptedAt: '2026-05-31T23:59:59Z', method: 'click' };
  assert.equal(reason(decide(ctx)), 'policy_not_accepted', 'clicked before publication');
  ctx.record!.policyAcceptance = { version: '2026-06', acceptedAt: '2026-06-02T00:00:00Z', method: null };
  assert.equal(reason(decide(ctx)), 'policy_not_accepted', 'version recorded without a click');
});

test('activity dated after now is not evidence of acceptance', () => {
  assert.equal(reason(decide(deemedContext('2027-01-01T00:00:00Z'))), 'policy_not_accepted');
});

test('retention: terminated exactly 1095 days ago is within; one second more is expired', () => {
  const ctx = baseContext();
  ctx.purpose = 'legal_obligation';
  ctx.token.scope = ['legal_obligation'];
  ctx.agreement!.purposes = { legal_obligation: { categories: { phone: 'clear' } } };
  const ended = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
  ctx.record!.userAgreement = { status: 'terminated', terminatedAt: ended(1095 * 86_400_000) };
  assert.deepEqual(decide(ctx), { allow: true, legalBasis: 'legal_obligation', crossBorderBasis: 'adequacy' });
  ctx.record!.userAgreement = { status: 'terminated', terminatedAt: ended(1095 * 86_400_000 + 1000) };
  assert.deepEqual(decide(ctx), { allow: false, reason: 'retention_expired', status: 404, legalBasis: 'legal_obligation' });
});

test('a terminated user is archive-only: marketing denied, legal obligation allowed', () => {
  const ctx = baseContext();
  ctx.record!.userAgreement = { status: 'terminated', terminatedAt: '2026-09-01T00:00:00Z' };
  assert.equal(reason(decide(ctx)), 'user_agreement_terminated');
  ctx.purpose = 'legal_obligation';
  ctx.token.scope = ['legal_obligation'];
  ctx.agreement!.purposes = { legal_obligation: { categories: {} } };
  assert.equal(reason(decide(ctx)), 'allow');
});

test('an active user agreement carrying a termination date is contradictory and denied', () => {
  const ctx = baseContext();
  ctx.record!.userAgreement = { status: 'active', terminatedAt: '2026-09-01T00:00:00Z' };
  assert.equal(reason(decide(ctx)), 'user_agreement_terminated');
});

test('domestic processing needs no ground; the basis says so', () => {
  const ctx = baseContext();
  ctx.agreement!.processingCountries = ['KZ'];
  ctx.jurisdiction.adequate = [];
  ctx.record!.consents.crossBorder = { ...noCrossBorder };
  assert.deepEqual(decide(ctx), { allow: true, legalBasis: 'consent', crossBorderBasis: 'domestic' });
});

test('an empty or malformed country list is an unknown destination: consent or nothing (RULES 15)', () => {
  for (const countries of [[], ['de'], ['KZ', ''], ['DEU']]) {
    const ctx = baseContext();
    ctx.agreement!.processingCountries = countries;
    ctx.jurisdiction.adequate = ['DE'];
    assert.equal(decide(ctx).allow && (decide(ctx) as { crossBorderBasis: string }).crossBorderBasis, 'consent', JSON.stringify(countries));
    ctx.record!.consents.crossBorder = { ...noCrossBorder };
    assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', JSON.stringify(countries));
  }
});

test('while a country is blocked, an unknown destination counts as blocked (RULES 15, 20)', () => {
  for (const countries of [[], ['de'], ['KZ', '']]) {
    const ctx = baseContext();
    ctx.agreement!.processingCountries = countries;
    ctx.jurisdiction.blocked = ['RU'];
    assert.equal(reason(decide(ctx)), 'country_blocked', JSON.stringify(countries));
  }
  const ctx = baseContext();
  ctx.jurisdiction.blocked = ['RU'];
  assert.equal(reason(decide(ctx)), 'allow', 'KZ and DE are not blocked');
});

test('adequacy needs every foreign country on the list', () => {
  const ctx = baseContext();
  ctx.agreement!.processingCountries = ['KZ', 'DE', 'US'];
  ctx.record!.consents.crossBorder = { ...noCrossBorder };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted');
  ctx.jurisdiction.adequate = ['DE', 'US'];
  assert.equal(decide(ctx).allow, true);
});

test('adequacy entries with a review date count until that date and not after (RULES 17)', () => {
  const at = (iso: string) => new Date(iso);
  const list = [{ country: 'DE', reviewBy: '2026-12-01T00:00:00Z' }, { country: 'FR', reviewBy: 'someday' }, 'US', 'xx'];
  assert.deepEqual([...adequateCountries(list, at('2026-12-01T00:00:00Z'))].sort(), ['DE', 'US']);
  assert.deepEqual([...adequateCountries(list, at('2026-12-01T00:00:01Z'))], ['US']);
  const ctx = baseContext();
  ctx.jurisdiction.adequate = [{ country: 'DE', reviewBy: '2026-11-25T00:00:00Z' }];
  assert.equal(decide(ctx).allow && (decide(ctx) as { crossBorderBasis: string }).crossBorderBasis, 'adequacy');
  ctx.jurisdiction.adequate = [{ country: 'DE', reviewBy: '2026-11-24T23:59:59Z' }];
  assert.equal(decide(ctx).allow && (decide(ctx) as { crossBorderBasis: string }).crossBorderBasis, 'consent', 'falls back to consent');
});

test('property: malformed values anywhere in the record never crash the decision', () => {
  const keys = Object.keys(baseContext().record!) as (keyof ReturnType<typeof baseContext>['record'] & string)[];
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.anything(), (key, junk) => {
      const ctx = baseContext();
      ctx.record!.lastActiveAt = '2024-03-02T00:00:00Z'; // only the click can show acceptance
      (ctx.record as unknown as Record<string, unknown>)[key] = junk;
      const d = decide(ctx);
      assert.equal(typeof d.allow, 'boolean');
      // The fields the decision reads: junk in any of them must deny, never pass.
      if (['consents', 'policyAcceptance', 'userAgreement'].includes(key)) assert.equal(d.allow, false, key);
    }),
    { numRuns: 1000 },
  );
});

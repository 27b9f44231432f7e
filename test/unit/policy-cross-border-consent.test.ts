// RULES 14, 16(b), 19 at the decision: the optional consent fields of CONTRACT 3 (method, per-country
// consent) and the re-consent a reviewed country addition needs. Stores without them keep today's reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type Decision } from '../../src/policy/decide.ts';
import { baseContext } from './decision-fixtures.ts';

const reason = (d: Decision) => (d.allow ? `allow:${d.crossBorderBasis}` : d.reason);
const granted = (at = '2025-02-01T09:00:00Z') => ({ granted: true, at, withdrawnAt: null });

/** A partner in KZ and US (not adequate), a user who passes every step before 10. */
function abroad() {
  const ctx = baseContext();
  ctx.agreement!.processingCountries = ['KZ', 'US'];
  ctx.jurisdiction.adequate = ['DE'];
  return ctx;
}

test('RULES 14: a cross-border consent counts only when given by click or signature', () => {
  const ctx = abroad();
  for (const method of ['click', 'signature'] as const) {
    ctx.record!.consents.crossBorder = { ...granted(), method };
    assert.equal(reason(decide(ctx)), 'allow:consent', method);
  }
  for (const method of ['deemed', null, 'email'] as const) {
    ctx.record!.consents.crossBorder = { ...granted(), method: method as never };
    assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', String(method));
  }
  // A store that does not record the method keeps today's behaviour.
  ctx.record!.consents.crossBorder = granted();
  assert.equal(reason(decide(ctx)), 'allow:consent');
});

test('RULES 16(b): a per-country consent decides for its country; a country it does not name is not consented', () => {
  const ctx = abroad();
  ctx.record!.consents.crossBorder = { granted: false, at: null, withdrawnAt: null, countries: { US: { ...granted(), method: 'click' } } };
  assert.equal(reason(decide(ctx)), 'allow:consent', 'US consented on its own');
  ctx.agreement!.processingCountries = ['KZ', 'US', 'CN'];
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'CN is not named');
  ctx.agreement!.processingCountries = ['KZ', 'US', 'DE'];
  assert.equal(reason(decide(ctx)), 'allow:consent', 'DE is adequate and needs no consent');
  // The per-country answer wins over a general consent, both ways.
  ctx.record!.consents.crossBorder = { ...granted(), method: 'click', countries: { US: { granted: false, at: '2025-01-01T00:00:00Z', withdrawnAt: '2025-03-01T00:00:00Z' } } };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'US withdrawn per country');
  ctx.record!.consents.crossBorder = { ...granted(), countries: { US: { ...granted(), method: 'deemed' } } };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'a deemed per-country consent is no consent (RULES 14)');
  ctx.record!.consents.crossBorder = { ...granted(), countries: 'US' as never };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'an unreadable per-country map fails closed');
});

test('RULES 19: a general consent given before a reviewed version added the country does not cover it', () => {
  const ctx = abroad();
  ctx.agreement!.countriesSince = { US: '2026-03-01T00:00:00Z' };
  ctx.record!.consents.crossBorder = { ...granted('2026-02-28T23:59:59Z'), method: 'click' };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'consent predates the addition');
  ctx.record!.consents.crossBorder = { ...granted('2026-03-01T00:00:00Z'), method: 'click' };
  assert.equal(reason(decide(ctx)), 'allow:consent', 'consent given again after the addition');
  ctx.record!.consents.crossBorder = { granted: false, at: null, withdrawnAt: null, countries: { US: { ...granted('2025-01-01T00:00:00Z'), method: 'signature' } } };
  assert.equal(reason(decide(ctx)), 'allow:consent', 'a consent naming the country itself still counts');
  ctx.agreement!.countriesSince = { US: 'not a date' };
  ctx.record!.consents.crossBorder = { ...granted('2026-04-01T00:00:00Z'), method: 'click' };
  assert.equal(reason(decide(ctx)), 'cross_border_not_permitted', 'an unreadable date fails closed');
  ctx.agreement!.countriesSince = { CN: '2026-03-01T00:00:00Z' };
  ctx.record!.consents.crossBorder = { ...granted('2025-01-01T00:00:00Z'), method: 'click' };
  assert.equal(reason(decide(ctx)), 'allow:consent', 'only the added country needs the later consent');
});

// CONTRACT 6 as a decision table, plus the ordering property (DESIGN Testing: the decision
// function never allows what any single rule denies, and the first failing rule is the reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, DECISION_ORDER } from '../../src/policy/decide.ts';
import { REASONS } from '../../src/policy/denial.ts';
import { PURPOSE_IDS, PURPOSES } from '../../src/policy/taxonomy.ts';
import { baseContext, mutated, RULES, type Variant } from './decision-fixtures.ts';

const STATUS = {
  invalid_token: 401, insufficient_scope: 403, agreement_inactive: 403, confidentiality_agreement_invalid: 403,
  purpose_not_allowed: 403, subject_not_found: 404, retention_expired: 404, user_agreement_terminated: 403,
  consent_required: 403, policy_not_accepted: 403, country_blocked: 403, cross_border_not_permitted: 403,
} as const;

test('the baseline passes every step: consent basis, adequacy for DE', () => {
  assert.deepEqual(decide(baseContext()), { allow: true, legalBasis: 'consent', crossBorderBasis: 'adequacy' });
});

test('reason codes carry CONTRACT 6 statuses', () => {
  for (const [reason, status] of Object.entries(STATUS)) assert.equal(REASONS[reason as keyof typeof STATUS].status, status, reason);
});

test('the rule table follows DECISION_ORDER and covers every reason of CONTRACT 6', () => {
  const ordered = RULES.map((variants) => variants[variants.length - 1]!.expect);
  assert.deepEqual(ordered, DECISION_ORDER);
  const covered = new Set(RULES.flat().map((x) => x.expect));
  assert.deepEqual([...covered].sort(), Object.keys(STATUS).sort());
});

for (const variants of RULES) {
  for (const variant of variants) {
    test(`only "${variant.name}" fails -> ${variant.expect} ${STATUS[variant.expect as keyof typeof STATUS]}`, () => {
      const d = decide(mutated(RULES.map((vs) => (vs === variants ? variant : null))));
      assert.equal(d.allow, false);
      assert.ok(!d.allow);
      assert.equal(d.reason, variant.expect);
      assert.equal(d.status, STATUS[variant.expect as keyof typeof STATUS]);
    });
  }
}

test('denials name the purpose\'s legal basis once the purpose is known', () => {
  const d = decide(mutated(RULES.map((vs) => (vs[0]!.expect === 'consent_required' ? vs[0]! : null))));
  assert.deepEqual(d, { allow: false, reason: 'consent_required', status: 403, legalBasis: 'consent' });
});

test('property: any set of broken rules is denied with the first one in contract order', () => {
  const pickOne = (vs: Variant[]) => fc.option(fc.constantFrom(...vs), { nil: null, freq: 2 });
  fc.assert(
    fc.property(fc.tuple(...RULES.map(pickOne)), (chosen) => {
      const d = decide(mutated(chosen));
      const first = chosen.find((x) => x !== null);
      if (!first) return assert.equal(d.allow, true);
      assert.equal(d.allow, false, `allowed despite ${chosen.filter(Boolean).map((x) => x!.name).join(', ')}`);
      assert.equal(d.allow === false && d.reason, first.expect, first.name);
    }),
    { numRuns: 2000 },
  );
});

test('legal basis comes from the taxonomy for every purpose', () => {
  for (const purpose of PURPOSE_IDS) {
    const ctx = baseContext();
    ctx.purpose = purpose;
    ctx.token.scope = [purpose];
    ctx.agreement!.purposes = { [purpose]: { categories: { gender: 'clear' } } };
    ctx.record!.consents.purposes[purpose] = { granted: true, at: '2025-01-01T00:00:00Z', withdrawnAt: null };
    const d = decide(ctx);
    assert.deepEqual(d, { allow: true, legalBasis: PURPOSES[purpose], crossBorderBasis: 'adequacy' }, purpose);
  }
});

test('a purpose that is not in the taxonomy is refused even when scope and agreement name it', () => {
  const ctx = baseContext();
  ctx.purpose = 'messages';
  ctx.token.scope = ['messages'];
  ctx.agreement!.purposes = { messages: { categories: { username: 'clear' } } };
  assert.deepEqual(decide(ctx), { allow: false, reason: 'insufficient_scope', status: 403 });
});

test('contract purposes need no consent; consent purposes do', () => {
  const ctx = baseContext();
  ctx.purpose = 'service_delivery';
  ctx.record!.consents.purposes = {};
  assert.deepEqual(decide(ctx), { allow: true, legalBasis: 'contract', crossBorderBasis: 'adequacy' });
  ctx.purpose = 'advertising';
  assert.equal((decide(ctx) as { reason?: string }).reason, 'consent_required');
});

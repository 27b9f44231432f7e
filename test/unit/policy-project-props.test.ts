// Property tests of the projection (DESIGN Testing; RULES 5, 7, 25): over generated records, no
// correspondence string, no unmapped field and no raw id/email/phone (unless sent `clear`) leaves.
// Every generated string carries a tag no other field has, so a leak is found by its tag alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileProjection } from '../../src/policy/project.ts';
import { createEgressGuard } from '../../src/policy/egress-guard.ts';
import { CATEGORIES, treatmentsFor } from '../../src/policy/taxonomy.ts';
import { syntheticUser } from '../../src/core-store/synthetic.ts';
import { FIELD_KEY, FIELD_MAP } from './projection-fixtures.ts';

const tagged = (tag: string) => fc.string({ maxLength: 24 }).map((s) => `§${tag}§${s}`);
const when = fc.oneof(tagged('T'), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
const consent = fc.record({ granted: fc.boolean(), at: fc.option(when), withdrawnAt: fc.option(when) });

const recordArb = fc.record({
  id: tagged('ID'), updatedAt: when, phone: tagged('PHONE'), email: tagged('EMAIL'), ipAddress: tagged('IP'),
  geolocation: fc.record({ lat: fc.double(), lon: fc.double(), city: tagged('CITY'), country: tagged('CC') }),
  searchHistory: fc.array(fc.record({ query: tagged('Q'), at: when }), { maxLength: 3 }),
  visits: fc.array(when, { maxLength: 3 }),
  cookies: fc.dictionary(fc.nat(99).map((n) => `ck_${n}`), tagged('COOKIE'), { maxKeys: 3 }),
  browser: tagged('BR'), os: tagged('OS'), avatarUrl: tagged('AV'), username: tagged('USER'), gender: tagged('G'),
  dateOfBirth: fc.oneof(tagged('DOB'), fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))),
  consents: fc.record({ purposes: fc.dictionary(fc.constantFrom('advertising', 'contests'), consent), crossBorder: consent }),
  policyAcceptance: fc.record({ version: fc.option(tagged('PV')), acceptedAt: fc.option(when), method: fc.constantFrom('click', null) }),
  lastActiveAt: when,
  userAgreement: fc.record({ status: fc.constantFrom('active', 'terminated'), terminatedAt: fc.option(when) }),
  correspondence: fc.array(fc.record({ with: tagged('CORR'), subject: tagged('CORR'), body: tagged('CORR'), at: tagged('CORR') }), { minLength: 1, maxLength: 3 }),
  // Fields nobody mapped: a new column in the store, nested values too (RULES 5).
  extra: fc.dictionary(tagged('XKEY'), fc.oneof(tagged('X'), fc.record({ deep: tagged('X') }))),
});

// Agreements name any subset of categories with any treatment the contract allows for each.
const categoriesArb = fc.record(
  Object.fromEntries(CATEGORIES.map((c) => [c, fc.constantFrom(...treatmentsFor(c))])),
  { requiredKeys: [] },
).map((t) => ({ ...t, correspondence: 'clear' }) as Record<string, string>);

// The field map as configured, and as misconfigured towards correspondence (policy 4.3).
const fieldMapArb = fc.constantFrom(
  FIELD_MAP,
  { ...FIELD_MAP, username: '/correspondence/0/subject', browser: '/correspondence/0', cookies: ['/correspondence', '/cookies'] },
  { ...FIELD_MAP, correspondence: undefined, search_history: ['/correspondence/1/body', '/searchHistory'] },
);

const leaks = (json: string, tag: string) => json.includes(`§${tag}§`);

test('property: correspondence, unmapped fields and raw identifiers never leave', () => {
  fc.assert(
    fc.property(recordArb, categoriesArb, fieldMapArb, (record, categories, fieldMap) => {
      const out = compileProjection({ fieldMap, categories, fieldKey: FIELD_KEY })({ ...record, ...record.extra });
      const json = JSON.stringify(out.data);
      assert.ok(!leaks(json, 'CORR'), 'correspondence');
      assert.ok(!leaks(json, 'X') && !leaks(json, 'XKEY'), 'unmapped field');
      assert.ok(!leaks(json, 'ID'), 'raw id');
      if (categories.email !== 'clear') assert.ok(!leaks(json, 'EMAIL'), `email sent ${categories.email}`);
      if (categories.phone !== 'clear') assert.ok(!leaks(json, 'PHONE'), `phone sent ${categories.phone}`);
      assert.ok(Object.keys(out.data).every((k) => Object.hasOwn(categories, k) && k !== 'correspondence'));
      assert.deepEqual(Object.keys(out.data), out.categories);
    }),
    { numRuns: 500 },
  );
});

test('property: the egress guard passes every clean projection of a generated record', () => {
  const guard = createEgressGuard({ fieldMap: FIELD_MAP, canaries: ['§CANARY§'] });
  fc.assert(
    fc.property(recordArb, categoriesArb, (record, categories) => {
      const out = compileProjection({ fieldMap: FIELD_MAP, categories, fieldKey: FIELD_KEY })(record);
      assert.equal(guard(out.data, record), null);
    }),
    { numRuns: 300 },
  );
});

test('property: synthetic users projected with everything clear carry no letter and pass the guard', () => {
  const guard = createEgressGuard({ fieldMap: FIELD_MAP });
  const allClear = Object.fromEntries(CATEGORIES.map((c) => [c, 'clear']));
  const allGeneral = Object.fromEntries(CATEGORIES.map((c) => [c, treatmentsFor(c).includes('generalise') ? 'generalise' : 'pseudonymise']));
  const clear = compileProjection({ fieldMap: FIELD_MAP, categories: allClear, fieldKey: FIELD_KEY });
  const general = compileProjection({ fieldMap: FIELD_MAP, categories: allGeneral, fieldKey: FIELD_KEY });
  fc.assert(
    fc.property(fc.nat(1_000_000), (i) => {
      const user = syntheticUser(i);
      const out = clear(user);
      assert.equal(out.categories.length, CATEGORIES.length);
      assert.ok(!JSON.stringify(out.data).includes('CORR-'));
      assert.equal(guard(out.data, user), null);
      const g = general(user);
      assert.equal(g.dropped, 0, 'synthetic values are well-formed');
      assert.ok(!JSON.stringify(g.data).includes(user.dateOfBirth) && !JSON.stringify(g.data).includes(user.phone));
    }),
    { numRuns: 300 },
  );
});

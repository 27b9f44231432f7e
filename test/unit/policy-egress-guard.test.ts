// RULES 8-9 (DESIGN 3): the last guard catches a correspondence string or canary that reached an
// allowed field, whatever the agreement and field map said, and correspondence-metadata keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileProjection } from '../../src/policy/project.ts';
import { createEgressGuard, isCorrespondenceKey } from '../../src/policy/egress-guard.ts';
import { baseRecord } from './decision-fixtures.ts';
import { FIELD_KEY, FIELD_MAP } from './projection-fixtures.ts';

const HIT = { reason: 'egress_guard', status: 403 };
const guard = createEgressGuard({ fieldMap: FIELD_MAP, canaries: ['CANARY-7f3a9'] });
const projectClear = (record: unknown) =>
  compileProjection({ fieldMap: FIELD_MAP, categories: { username: 'clear', search_history: 'clear', cookies: 'clear', browser: { treatment: 'clear', justification: 'tests the guard on raw strings' }, consents: 'clear' }, fieldKey: FIELD_KEY })(record).data;

test('a clean payload passes', () => {
  const record = baseRecord();
  assert.equal(guard(projectClear(record), record), null);
});

test('a username equal to a letter\'s subject is caught', () => {
  const record = baseRecord();
  record.username = record.correspondence[0]!.subject;
  assert.deepEqual(guard(projectClear(record), record), HIT);
});

test('a correspondence string inside a longer value, or used as an object key, is caught', () => {
  const inQuery = baseRecord();
  inQuery.searchHistory[0]!.query = `see ${inQuery.correspondence[0]!.body} again`;
  assert.deepEqual(guard(projectClear(inQuery), inQuery), HIT);
  const asKey = baseRecord();
  asKey.cookies = { [asKey.correspondence[0]!.with]: '1' };
  assert.deepEqual(guard(projectClear(asKey), asKey), HIT);
});

test('a seeded canary is caught wherever it lands', () => {
  const record = baseRecord();
  record.browser = 'Firefox CANARY-7f3a9';
  assert.deepEqual(guard(projectClear(record), record), HIT);
  assert.equal(createEgressGuard({ fieldMap: FIELD_MAP, canaries: [''] })({ a: 'x' }, record), null, 'an empty canary matches nothing');
});

test('correspondence under every configured pointer is searched, not only /correspondence', () => {
  const record = { ...baseRecord(), inbox: { last: 'Meet at the old bridge' } };
  const data = { username: 'Meet at the old bridge' };
  assert.equal(createEgressGuard({ fieldMap: FIELD_MAP })(data, record), null);
  assert.deepEqual(createEgressGuard({ fieldMap: { ...FIELD_MAP, correspondence: ['/correspondence', '/inbox'] } })(data, record), HIT);
});

test('strings shorter than 4 characters in letters do not trip the guard', () => {
  const record = baseRecord();
  record.correspondence[0]!.with = 'ok';
  assert.equal(guard({ username: 'ok' }, record), null);
});

test('RULES 8: keys named like correspondence metadata are refused', () => {
  for (const key of ['conversationId', 'thread_id', 'messageCount', 'unread', 'is_read', 'counterpartUserId', 'subject', 'Correspondence']) {
    assert.ok(isCorrespondenceKey(key), key);
    assert.deepEqual(guard({ consents: { [key]: 1 } }, baseRecord()), HIT, key);
  }
  for (const key of ['sid', 'ga', 'purposes', 'crossBorder', 'withdrawnAt', 'query', 'at', 'country']) assert.ok(!isCorrespondenceKey(key), key);
});

test('output too deep to scan fails closed', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.deepEqual(guard({ cookies: deep }, baseRecord()), HIT);
});

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

// RULES 8 by value: the letters' own metadata, in another spelling than the letter's.
const letter = { with: 'Bob Smith <bob.smith@partner-mail.kz>', subject: 'Refund [CORR-u_000123-0]', messageId: '<CAF7x9@mail.example.kz>', body: 'Dear Aigerim.', at: '2026-10-01T10:00:37Z', threadId: 88412931, sentEpoch: 1759312837 };
const withLetter = () => ({ ...baseRecord(), correspondence: [letter] });

test('RULES 8 by value: a clean record with letters passes, including generalised visit days and the letters\' day', () => {
  const record = withLetter();
  record.visits = ['2026-10-01T09:58:00Z', '2026-11-02T23:59:59Z'];
  assert.equal(guard(projectClear(record), record), null);
  const days = compileProjection({ fieldMap: FIELD_MAP, categories: { visit_times: 'generalise', username: 'clear', cookies: 'clear' }, fieldKey: FIELD_KEY })(record).data;
  assert.deepEqual(days.visit_times, ['2026-10-01', '2026-11-02']);
  assert.equal(guard(days, record), null, 'a day alone is not a message timestamp');
  assert.equal(guard({ cookies: { n: 42, small: 4129 }, username: 'with subject at body' }, record), null, 'small numbers and the letter\'s key names are no metadata');
});

test('RULES 8 by value: addresses, subjects and message ids of the record\'s letters are caught in any case or spelling', () => {
  const record = withLetter();
  for (const leak of ['bob.smith@partner-mail.kz', 'BOB.SMITH@Partner-Mail.KZ', 'mailto:bob.smith@partner-mail.kz', 'refund  [corr-u_000123-0]', 'CAF7x9@mail.example.kz', 'ＲＥＦＵＮＤ [CORR-u_000123-0]']) {
    assert.deepEqual(guard({ username: leak }, record), HIT, leak);
    assert.deepEqual(guard({ cookies: { [leak]: '1' } }, record), HIT, `${leak} as a key`);
  }
});

test('RULES 8 by value: a letter\'s timestamp is caught as another ISO spelling, without a zone, to the minute, or as an epoch', () => {
  const record = withLetter();
  for (const leak of ['2026-10-01T10:00:37.000Z', '2026-10-01T15:00:37+05:00', '2026-10-01T10:00:37', '2026-10-01T10:00Z', 'GA1.2.99.1759312837']) {
    assert.deepEqual(guard({ username: leak }, record), HIT, leak);
  }
  for (const leak of [1759312837, 1759312837000, 1759312837999]) assert.deepEqual(guard({ cookies: { t: leak } }, record), HIT, String(leak));
  for (const fine of ['2026-10-01T10:01:37Z', '2026-10-01T10:01Z', '2026-10-01', 1759312838]) assert.equal(guard({ cookies: { t: fine } }, record), null, String(fine));
});

test('RULES 8 by value: numeric conversation or counterpart ids are caught as numbers or digit runs', () => {
  const record = withLetter();
  assert.deepEqual(guard({ cookies: { t: 88412931 } }, record), HIT);
  assert.deepEqual(guard({ username: 'user-088412931' }, record), HIT);
  assert.equal(guard({ username: 'user-884129310' }, record), null, 'a longer number that contains the id is another number');
});

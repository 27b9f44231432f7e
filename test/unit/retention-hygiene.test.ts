// RULES 21: the data-hygiene tally behind gateway_store_retention_expired_*: each user once per
// UTC day, a new day starts from zero, and nothing of the id is kept in the clear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetentionHygiene } from '../../src/retention-hygiene.ts';

test('each user counts once per UTC day; the day gauge restarts at 00:00 UTC', () => {
  let total = 0;
  let today = -1;
  const h = new RetentionHygiene({ inc: () => void total++ }, { set: (v) => void (today = v) });
  const day1 = new Date('2026-11-27T08:00:00Z');
  h.observe('u_000001', day1);
  h.observe('u_000001', new Date('2026-11-27T23:59:59Z'));
  h.observe('u_000002', day1);
  assert.deepEqual([total, today], [2, 2]);
  h.refresh(new Date('2026-11-28T00:00:00Z'));
  assert.deepEqual([total, today], [2, 0], 'a new day: nothing seen yet');
  h.observe('u_000001', new Date('2026-11-28T00:00:01Z'));
  assert.deepEqual([total, today], [3, 1], 'the same user on the next day counts again');
  assert.ok(!JSON.stringify([...(h as unknown as { seen: Set<string> }).seen]).includes('u_000001'), 'ids are kept only as keyed hashes');
});

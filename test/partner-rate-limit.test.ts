// RULES 44: the agreement's requestsPerMinute is enforced per partner across instances: 429 with
// Retry-After beyond it, while another partner is unaffected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';

let stack: Stack;
before(async () => { stack = await startStack({ users: 50 }); });
after(() => stack.close());

test('the fourth request in a minute under a 3/min agreement is 429 rate_limited with Retry-After; others are unaffected', async () => {
  const terms = (rpm: number) => ({ processingCountries: ['KZ'], rateLimit: { requestsPerMinute: rpm }, purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const slow = await setupPartner(stack, terms(3));
  const other = await setupPartner(stack, terms(600));
  const ts = await slow.token('service_delivery');
  const to = await other.token('service_delivery');
  const path = '/v1/subjects?purpose=service_delivery&limit=2';
  for (let i = 0; i < 3; i++) assert.equal((await partnerGet(stack, ts, path)).status, 200);
  const limited = await partnerGet(stack, ts, path);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await partnerGet(stack, to, path)).status, 200);
  // Nothing was decided or released for the refused request.
  const entries = await stack.gateway.deps.transferLog.query.page({ partnerId: slow.id }, { limit: 100 });
  assert.equal(entries.items.length, 6);
});

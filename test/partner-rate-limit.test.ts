// RULES 44: the agreement's requestsPerMinute is enforced per partner across instances: 429 with
// Retry-After beyond it, while another partner is unaffected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { createRedisClient } from '../src/redis/client.ts';

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

test('a burst of 25 concurrent requests under 10/min: exactly 10 answered, 15 are 429 with Retry-After, counted in fewer Redis calls', async (t) => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], rateLimit: { requestsPerMinute: 10 }, purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  // Count the limiter's calls for this partner as Redis sees them (MONITOR on its own connection).
  const monitor = createRedisClient(stack.config.redis.url!, stack.config.redis.tls, 2000); // issue 18: deps.redis is the narrow command type
  monitor.on('error', () => undefined);
  await monitor.connect();
  let counts = 0; // EVAL lines only (the script's own commands are listed too)
  let seenMarker = false;
  await monitor.monitor((line: string) => {
    if (line.includes('"EVAL"') && line.includes(`"pg:rl:10:${p.id}"`)) counts++;
    if (line.includes(`"marker:${p.id}"`)) seenMarker = true;
  });
  try {
    // Warm connections (the limiter is not on /healthz), so the burst is not spread by TLS handshakes.
    await Promise.all(Array.from({ length: 25 }, () => partnerGet(stack, token, '/healthz')));
    const out = await Promise.all(Array.from({ length: 25 }, () => partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=1')));
    const ok = out.filter((r) => r.status === 200);
    const limited = out.filter((r) => r.status === 429);
    assert.equal(ok.length, 10, out.map((r) => r.status).join());
    assert.equal(limited.length, 15);
    for (const r of limited) {
      assert.equal(r.body.code, 'rate_limited');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    // Each answered request is counted once, in order: remaining 9 down to 0.
    assert.deepEqual(ok.map((r) => Number(r.headers.get('ratelimit-remaining'))).sort((x, y) => y - x), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // MONITOR lists commands in the order Redis ran them: once a later marker shows, all are in.
    await stack.gateway.deps.redis.get(`marker:${p.id}`);
    await waitFor(() => seenMarker, 5000);
    // Grouped: requests that reach the limiter in the same event-loop turn share one call.
    assert.ok(counts >= 1 && counts < 25, `${counts} limiter calls for 25 requests`);
    t.diagnostic(`25 concurrent requests: ${counts} limiter call(s) in Redis`);
  } finally {
    await monitor.close();
  }
});

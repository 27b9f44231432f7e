// DESIGN 1: the in-memory caches (agreements, key versions, jurisdiction, partner tokens) trust
// their pub/sub connection. When messages silently stop arriving on it (a dropped idle socket),
// the instance must stop answering from them within the heartbeat's bound, and recover once the
// subscriber hears again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, waitFor } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { HEARTBEAT_STALE_MS } from '../src/cache/subscriber-heartbeat.ts';

test('a subscriber that silently stops hearing: caches not ready, data calls 503, tokens re-read from Redis; then recovery', { timeout: 30_000 }, async () => {
  const stack = await startStack({ users: 10 });
  try {
    const { redis, redisSub, heartbeat, agreements, partnerTokenCache } = stack.gateway.deps;
    const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
    const token = await p.token('service_delivery');
    const other = await p.token('service_delivery');
    const path = '/v1/subjects?purpose=service_delivery&limit=2';
    assert.equal((await partnerGet(stack, token, path)).status, 200, 'control');
    assert.ok(partnerTokenCache.size > 0, 'control: the token is cached');

    // The heartbeat no longer comes back on this subscriber (everything else on it still works,
    // so only the heartbeat can notice).
    await redisSub.unsubscribe(heartbeat.channel);
    const t0 = Date.now();
    await waitFor(() => !agreements.ready, HEARTBEAT_STALE_MS + 2000, 20);
    assert.ok(Date.now() - t0 <= HEARTBEAT_STALE_MS + 2000);
    assert.ok(!partnerTokenCache.ready, 'the token cache is not trusted either');
    const r = await partnerGet(stack, token, path);
    assert.equal(r.status, 503, r.text);
    assert.equal((await fetch(`${stack.url}/readyz`, { dispatcher: stack.client })).status, 503);
    // A token deleted straight from Redis (no revocation message) is refused meanwhile: lookups
    // go to Redis, not to what the cache still holds.
    await redis.del((await redis.keys('pg:{cp}:ptok:*')).filter((k) => !k.startsWith('pg:{cp}:ptok-client')));
    assert.equal((await partnerGet(stack, other, path)).status, 401);
    // No token is issued against an agreement cache that is unsure (503, not invalid_scope).
    await assert.rejects(p.token('service_delivery'), /503/);

    // The subscriber hears again: ready within an interval or two, and data flows.
    await redisSub.subscribe(heartbeat.channel, heartbeat.onBeat);
    await waitFor(() => agreements.ready, 3000, 20);
    const fresh = await p.token('service_delivery');
    assert.equal((await partnerGet(stack, fresh, path)).status, 200);
  } finally {
    await stack.close();
  }
});

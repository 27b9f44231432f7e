// Issue 18 item 1 without a cluster: redis.url is needed in single mode only, and the subscriber
// of the sentinel/cluster modes (redis/subscriber.ts) leaves a node it cannot reach for the next
// one, subscribes there, and reports ready only once it hears.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startupChecks } from '../src/deps.ts';
import { NodeSubscriber } from '../src/redis/subscriber.ts';
import { createRedisClient } from '../src/redis/client.ts';
import { freePort } from '../src/dev/local-redis.ts';
import { startTestRedis } from './harness/redis.ts';
import { testConfig, waitFor } from './harness/stack.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';

let redis: LocalRedis | undefined;
after(async () => { await redis?.stop(); });

test('startupChecks: redis.url is required in single mode only', async () => {
  const single = await testConfig({ redisUrl: undefined });
  assert.throws(() => startupChecks(single), /^ConfigError: redis\.url: not set/);
  const cluster = await testConfig({ extra: { redis: { mode: 'cluster', cluster: { nodes: ['rediss://127.0.0.1:7000'] } } } });
  assert.equal(cluster.redis.url, null);
  assert.doesNotThrow(() => startupChecks(cluster));
  const sentinel = await testConfig({ extra: { redis: { mode: 'sentinel', sentinel: { name: 'pg', nodes: ['rediss://127.0.0.1:26379'] } } } });
  assert.doesNotThrow(() => startupChecks(sentinel));
});

test('NodeSubscriber: an unreachable node is left for the next; subscribed there, ready, and hearing (TLS verified)', async () => {
  redis = await startTestRedis();
  const config = await testConfig({ redisUrl: redis.url });
  const nowhere = await freePort(); // nothing listens here
  const sub = new NodeSubscriber({
    candidates: () => [{ host: '127.0.0.1', port: nowhere }, { host: '127.0.0.1', port: redis!.port }],
    tls: config.redis.tls, connectTimeoutMs: 1000,
  });
  sub.on('error', () => undefined);
  const heard: string[] = [];
  await sub.subscribe('pg:test:channel', (m) => heard.push(m)); // before any connection: kept for later
  assert.equal(sub.isReady, false);
  let readyEvents = 0;
  sub.on('ready', () => readyEvents++);
  sub.start();
  const pub = createRedisClient(redis.url, config.redis.tls, 1000);
  pub.on('error', () => undefined);
  await pub.connect();
  try {
    await waitFor(() => sub.isReady, 10_000, 20);
    assert.equal(readyEvents, 1);
    await waitFor(async () => { await pub.publish('pg:test:channel', 'hello'); return heard.length > 0; }, 5000, 50);
    assert.equal(heard[0], 'hello');
    // The node goes away: not ready (the caches stop trusting memory) until it is back and heard.
    await redis.kill();
    await waitFor(() => !sub.isReady, 5000, 20);
    await redis.restart();
    await waitFor(() => sub.isReady, 15_000, 50);
    await pub.connect().catch(() => undefined);
    await waitFor(() => pub.isReady, 5000, 20);
    const before = heard.length;
    await waitFor(async () => { await pub.publish('pg:test:channel', 'again'); return heard.length > before; }, 5000, 50);
  } finally {
    pub.destroy();
    await sub.close();
  }
});

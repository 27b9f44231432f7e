// RULES 34: the Redis client verifies Redis's certificate against the configured CA;
// /readyz follows Redis going away and coming back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { createRedisClient } from '../src/deps.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { startStack, waitFor } from './harness/stack.ts';

test('the Redis client refuses a Redis server whose certificate is not from the configured CA', async () => {
  const c = await testCerts();
  const foreign = await writeDevCerts(tmp('foreign-ca'));
  const redis = await startLocalRedis({ ca: c.ca, cert: foreign.cert('redis'), key: foreign.key('redis'), dataDir: tmp('redis') });
  try {
    const good = createRedisClient(redis.url, { ca: foreign.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, 1000);
    await good.connect();
    assert.equal(await good.ping(), 'PONG', 'control: trusted with the CA that signed it');
    await good.close();

    const client = createRedisClient(redis.url, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, 1000);
    const errors: string[] = [];
    client.on('error', (e: Error) => errors.push(e.message));
    client.connect().catch(() => undefined);
    await waitFor(() => errors.length > 0, 5000);
    assert.equal(client.isReady, false);
    assert.match(errors[0]!, /certificate|self.signed|verify/i);
    client.destroy();
  } finally {
    await redis.stop();
  }
});

test('/readyz turns false when Redis is killed and true again after it restarts', async () => {
  const stack = await startStack({ users: 10 });
  const ready = async () => (await fetch(`${stack.url}/readyz`, { dispatcher: stack.client })).status;
  try {
    assert.equal(await ready(), 200);
    await stack.redis.kill();
    await waitFor(async () => (await ready()) === 503, 5000);
    const body = (await (await fetch(`${stack.url}/readyz`, { dispatcher: stack.client })).json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'not_ready');
    assert.equal(body.checks.redis, 'down');
    assert.equal(body.checks.upstream, 'ok');
    await stack.redis.restart();
    await waitFor(async () => (await ready()) === 200, 10_000, 100);
  } finally {
    await stack.close();
  }
});

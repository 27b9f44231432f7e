// A real redis-server per test file: TLS only on a free port, AOF on, throwaway data dir.
import { redisServerAvailable, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { testCerts, tmp } from './certs.ts';
import { createRedisClient, type RedisClient } from '../../src/redis/client.ts';

type RedisTlsFiles = Parameters<typeof createRedisClient>[1];

if (!redisServerAvailable()) {
  // Fail at once, loudly: the suite proves behaviour against a real Redis only.
  console.error('redis-server is not installed. Install it: apt-get install -y redis-server (or bash scripts/ensure-redis.sh)');
  process.exit(1);
}

/** `extraArgs`: more redis-server arguments, e.g. ['--rename-command', 'CONFIG', ''] to hide CONFIG. */
export async function startTestRedis(extraArgs: readonly string[] = []): Promise<LocalRedis> {
  const c = await testCerts();
  return startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: tmp('redis'), extraArgs });
}

/** A plain TLS client of one local node (cluster and Sentinel harnesses); the caller destroys it. */
export async function nodeClient(port: number, tls: RedisTlsFiles): Promise<RedisClient> {
  const r = createRedisClient(`rediss://127.0.0.1:${port}`, tls, 2000);
  r.on('error', () => undefined);
  await r.connect();
  return r;
}

/** `fn` on a fresh client of one node, destroyed afterwards. */
export async function askNode<T>(port: number, tls: RedisTlsFiles, fn: (r: RedisClient) => Promise<T>): Promise<T> {
  const r = await nodeClient(port, tls);
  try { return await fn(r); } finally { r.destroy(); }
}

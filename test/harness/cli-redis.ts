// For CLI tests that talk to Redis: a real TLS redis-server, a client on it, and a GATEWAY_CONFIG
// pointing the CLI at it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCerts, tmp } from './certs.ts';
import { startTestRedis } from './redis.ts';
import { createRedisClient, type RedisClient as Redis } from '../../src/deps.ts';
import type { LocalRedis } from '../../src/dev/local-redis.ts';

export interface CliRedis { server: LocalRedis; redis: Redis; env: Record<string, string>; close(): Promise<void> }

export async function cliRedis(extraConfig: object = {}): Promise<CliRedis> {
  const c = await testCerts();
  const server = await startTestRedis();
  const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const redis = createRedisClient(server.url, tls, 2000);
  redis.on('error', () => undefined);
  await redis.connect();
  const config = join(tmp('cli'), 'gateway.json');
  writeFileSync(config, JSON.stringify({ redis: { url: server.url, tls }, ...extraConfig }));
  return {
    server, redis, env: { GATEWAY_CONFIG: config },
    async close() {
      redis.destroy();
      await server.stop();
    },
  };
}

// CLI commands that talk to Redis: one short-lived verified-TLS connection, errors as one line.
import { userInfo } from 'node:os';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createRedisClient, type Redis } from '../deps.ts';
import { Problem } from '../http/problem.ts';
import { deadline } from '../transfer-log/deadline.ts';

export const REDIS_FILES = ['redis.tls.ca', 'redis.tls.cert', 'redis.tls.key'];

export async function withRedis<T>(config: Config, what: string, run: (redis: Redis) => Promise<T>): Promise<T> {
  if (!config.redis.url) throw new ConfigError('redis.url: not set (rediss://host:port)');
  const redis = createRedisClient(config.redis.url, config.redis.tls, config.redis.commandTimeoutMs);
  redis.on('error', () => undefined); // reported by the caller, once
  try {
    await deadline(redis.connect(), Math.max(5000, config.redis.commandTimeoutMs));
    return await run(redis);
  } catch (e) {
    if (e instanceof Problem || e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot ${what}: ${(e as Error).message}`);
  } finally {
    redis.destroy();
  }
}

/** Who acted, for the admin audit trail: the operating-system user of the CLI. */
export function cliActor() {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry in some containers */ }
  return { tokenId: `cli:${user}`, role: 'admin' as const };
}


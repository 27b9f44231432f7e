// CLI commands that talk to Redis: one short-lived verified-TLS connection, errors as one line.
import { userInfo } from 'node:os';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Redis } from '../deps.ts';
import { openRedis } from '../redis/open.ts';
import type { RedisTopology } from '../redis/topology.ts';
import { Problem } from '../http/problem.ts';
import { deadline } from '../transfer-log/deadline.ts';

export const REDIS_FILES = ['redis.tls.ca', 'redis.tls.cert', 'redis.tls.key'];

export async function withRedis<T>(config: Config, what: string, run: (redis: Redis, topology: RedisTopology) => Promise<T>): Promise<T> {
  // Issue 18: the configured mode (single, sentinel, cluster); redis.url is needed in single mode only.
  if (config.redis.mode === 'single' && !config.redis.url) throw new ConfigError('redis.url: not set (rediss://host:port)');
  const opened = openRedis(config.redis, undefined, { subscriber: false });
  opened.redis.on('error', () => undefined); // reported by the caller, once
  try {
    await deadline(opened.connect(), Math.max(5000, config.redis.commandTimeoutMs));
    return await run(opened.redis, opened.topology);
  } catch (e) {
    if (e instanceof Problem || e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot ${what}: ${(e as Error).message}`);
  } finally {
    await opened.close().catch(() => undefined);
  }
}

/** Who acted, for the admin audit trail: the operating-system user of the CLI. */
export function cliActor() {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry in some containers */ }
  return { tokenId: `cli:${user}`, role: 'admin' as const };
}


// A real redis-server per test file: TLS only on a free port, AOF on, throwaway data dir.
import { redisServerAvailable, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { testCerts, tmp } from './certs.ts';

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

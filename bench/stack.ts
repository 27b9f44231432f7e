// The stack for benchmarks: same parts as the tests (TLS Redis, HTTPS core store, gateway).
import { mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { initKeys } from '../src/keys/files.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { startCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { loadConfig } from '../src/config/load.ts';
import { startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';

export async function startBenchStack(users = 100_000) {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'));
  const c = await writeDevCerts(join(dir, 'certs'));
  initKeys(join(dir, 'keys'));
  const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
  const store = await startCoreStore({ port: 0, host: '127.0.0.1', source: syntheticSource(users), tls: { cert: c.cert('core-store'), key: c.key('core-store') } });
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const config = loadConfig({
    overrides: {
      server: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
      upstream: { url: `https://localhost:${store.port}`, tls: client },
      redis: { url: redis.url, tls: client },
      keys: { dir: join(dir, 'keys') },
    },
  });
  const gw = await startGateway(config, { log: createLogger('silent') });
  return {
    ca: c.ca,
    cores: cpus().length,
    config,
    gateway: gw,
    redis,
    storeUrl: `https://localhost:${store.port}`,
    gatewayUrl: `https://localhost:${gw.port}`,
    async close() {
      await gw.close();
      await store.close();
      await redis.stop();
    },
  };
}

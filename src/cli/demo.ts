// partner-gateway demo: the main job on a fresh machine. Dev certificates and keys when missing,
// a local TLS Redis (when redis.url is unset), the reference core store and the gateway, then
// the demo story; keeps serving until Ctrl-C and stops everything cleanly.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadConfig, REPO_ROOT } from '../config/load.ts';
import { writeDevCerts, certPaths } from '../tls/dev-certs.ts';
import { initKeys, KEY_FILES } from '../keys/files.ts';
import { redisServerAvailable, startLocalRedis, type LocalRedis } from '../dev/local-redis.ts';
import { startCoreStore } from '../core-store/server.ts';
import { openSource } from '../core-store/open.ts';
import { startGateway } from '../main.ts';
import { createLogger } from '../log.ts';
import { untilSignal } from './signals.ts';
import { runDemoStory } from './demo-story.ts';
import { checkCoreStoreCertificate } from './core-store.ts';
import { sayConsole } from './demo-console.ts';

const say = (s: string) => console.log(`demo: ${s}`);

function ensureRedisServer(): boolean {
  if (redisServerAvailable()) return true;
  // Debian as root: install it, as the README promises; elsewhere say how.
  const r = spawnSync('bash', [resolve(REPO_ROOT, 'scripts/ensure-redis.sh')], { stdio: 'inherit' });
  return r.status === 0 && redisServerAvailable();
}

export async function demo(env: NodeJS.ProcessEnv): Promise<number> {
  const devCerts = resolve(REPO_ROOT, 'certs/dev');
  if (!existsSync(certPaths(devCerts).ca)) {
    await writeDevCerts(devCerts);
    say(`made dev certificates in ${devCerts}`);
  }
  const probe = loadConfig({ env, requireFiles: [] });
  if (!existsSync(resolve(probe.keys.dir, KEY_FILES.signing))) {
    initKeys(probe.keys.dir);
    say(`made dev key material in ${probe.keys.dir}`);
  }

  let redis: LocalRedis | undefined;
  let redisUrl = probe.redis.url;
  if (!redisUrl) {
    if (!ensureRedisServer()) {
      console.error('demo: redis-server is needed. Install it (apt-get install -y redis-server) or set REDIS_URL=rediss://...');
      return 1;
    }
    const certs = certPaths(devCerts);
    redis = await startLocalRedis({ ca: certs.ca, cert: certs.cert('redis'), key: certs.key('redis'), dataDir: resolve(REPO_ROOT, '.data/redis') });
    redisUrl = redis.url;
    say(`local Redis (TLS only, AOF fsync always) at ${redisUrl}`);
  }

  // Issue 16: the demo turns on token sign-in to the staff console (off by default elsewhere).
  const config = loadConfig({ env, overrides: { redis: { url: redisUrl }, console: { tokenLogin: true } } });
  const cs = config.coreStore;
  checkCoreStoreCertificate(cs.tls.cert);
  const source = await openSource(cs);
  const store = await startCoreStore({ port: cs.port, host: cs.host, tls: cs.tls, source });
  say(`core user store (${source.count} users) at https://localhost:${store.port}`);

  const log = createLogger(env.LOG_LEVEL ?? 'warn');
  // The demo needs an admin token to register its partner; a random one when none is given.
  const adminToken = env.BOOTSTRAP_ADMIN_TOKEN || `pga_${randomBytes(32).toString('base64url')}`;
  const gw = await startGateway(config, { log, bootstrapAdminToken: adminToken });
  const url = `https://localhost:${gw.port}`;
  const adminUrl = `https://localhost:${gw.adminPort}`;
  say(`gateway partner listener at ${url} (/oauth/token, /v1/*, /.well-known/*, /healthz, /readyz)`);
  say(`gateway control plane at ${adminUrl} (/admin/*, /metrics; role tokens only${config.admin.tls.requireClientCert ? ', staff client certificate required' : ''})`);
  if (!env.BOOTSTRAP_ADMIN_TOKEN) say(`admin token for this run (BOOTSTRAP_ADMIN_TOKEN): ${adminToken}`);

  try {
    await runDemoStory({ gw, url, adminUrl, config, say, adminToken });
  } catch (e) {
    console.error(`demo: the story failed: ${(e as Error).message}`);
  }
  await sayConsole(gw, adminUrl, env.BOOTSTRAP_ADMIN_TOKEN ? 'the BOOTSTRAP_ADMIN_TOKEN you set' : adminToken, certPaths(devCerts).ca, say);
  say(`check it yourself: curl --cacert ${certPaths(devCerts).ca} ${url}/readyz`);
  say('serving until Ctrl-C');
  await untilSignal();
  say('stopping');
  await gw.close();
  await store.close();
  await redis?.stop();
  return 0;
}

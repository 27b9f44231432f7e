// The whole stack for integration tests: real TLS Redis, the real core store over HTTPS, and the
// gateway built from a validated configuration, each on a free port.
import { fetch, Agent } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load.ts';
import { initKeys } from '../../src/keys/files.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { startCoreStore } from '../../src/core-store/server.ts';
import { syntheticSource, type UserSource } from '../../src/core-store/source.ts';
import { createLogger } from '../../src/log.ts';
import type { Config } from '../../src/config/schema.ts';
import type { LocalRedis } from '../../src/dev/local-redis.ts';
import { testCerts, tmp } from './certs.ts';
import { startTestRedis } from './redis.ts';
import { Writable } from 'node:stream';
import { CheckedAgent, type OpenApiDoc } from './response-check.ts';

/** Captured log lines, so tests can assert that no personal data is logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    cb();
  }
  text() { return this.lines.join('\n'); }
}

export async function testConfig(over: { redisUrl?: string; upstreamUrl?: string; keysDir?: string; extra?: object } = {}): Promise<Config> {
  const c = await testCerts();
  const keysDir = over.keysDir ?? tmp('keys');
  if (!over.keysDir) initKeys(keysDir);
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  return loadConfig({
    overrides: deepAssign({
      server: { port: 0, drainTimeoutMs: 2000, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca, requestClientCert: false } },
      admin: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca, requireClientCert: false } },
      upstream: { url: over.upstreamUrl ?? 'https://localhost:1', timeoutMs: 2000, tls: client },
      redis: { url: over.redisUrl ?? null, tls: client, commandTimeoutMs: 1000 },
      coreStore: { port: 0, tls: { cert: c.cert('core-store'), key: c.key('core-store'), ca: c.ca, requestClientCert: false } },
      keys: { dir: keysDir },
      transferLog: { anchors: { file: join(tmp('anchors'), 'anchors.jsonl') } },
      notices: { allowLoopbackWebhooks: true },
      log: { level: 'info' },
    }, over.extra ?? {}),
  });
}

function deepAssign(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  for (const [k, v] of Object.entries(b)) a[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] ? deepAssign(a[k], v) : v;
  return a;
}

export interface Stack {
  redis: LocalRedis;
  store: { port: number; close(): Promise<void> };
  gateway: Gateway;
  config: Config;
  logs: LogCapture;
  /**
   * undici dispatcher that trusts the test CA (verification stays on) and checks every response
   * from either listener against that listener's served OpenAPI document (issue 19).
   */
  client: Agent;
  /** The partner listener. */
  url: string;
  /** The control-plane listener (RULES 43): /admin/*, /metrics. */
  adminUrl: string;
  /** The gateway's BOOTSTRAP_ADMIN_TOKEN (an admin bearer token). */
  adminToken: string;
  close(): Promise<void>;
}

/**
 * Issue 18 item 5: run the gateway against a Redis Cluster or Sentinel deployment
 * (test/harness/redis-cluster.ts, redis-sentinel.ts) instead of a single Redis. `server` is one of
 * its nodes (Stack.redis; left running by close, its owner stops it).
 */
export type RedisModeOption =
  | { mode: 'cluster'; nodes: string[]; server: LocalRedis }
  | { mode: 'sentinel'; name: string; nodes: string[]; server: LocalRedis };

/** The config.redis overrides for a mode. */
export function redisModeConfig(m: RedisModeOption): object {
  return m.mode === 'cluster'
    ? { redis: { mode: 'cluster', cluster: { nodes: m.nodes } } }
    : { redis: { mode: 'sentinel', sentinel: { name: m.name, nodes: m.nodes } } };
}

/** Every stack's client checks each response against the served OpenAPI documents (issue 19). */
export async function startStack(opts: { users?: number; extra?: object; redis?: LocalRedis; redisMode?: RedisModeOption; adminToken?: string; source?: UserSource } = {}): Promise<Stack> {
  const c = await testCerts();
  const given = opts.redis ?? opts.redisMode?.server;
  const redis = given ?? (await startTestRedis());
  if (opts.redisMode) opts = { ...opts, extra: deepAssign(redisModeConfig(opts.redisMode) as Record<string, any>, opts.extra ?? {}) };
  const store = await startCoreStore({
    port: 0, host: '127.0.0.1', source: opts.source ?? syntheticSource(opts.users ?? 2000),
    tls: { cert: c.cert('core-store'), key: c.key('core-store') },
  });
  const config = await testConfig({ redisUrl: redis.url, upstreamUrl: `https://localhost:${store.port}`, extra: opts.extra ?? {} });
  const logs = new LogCapture();
  const adminToken = opts.adminToken ?? `pga_${randomBytes(32).toString('base64url')}`;
  const gateway = await startGateway(config, { log: createLogger('info', logs), bootstrapAdminToken: adminToken });
  await waitFor(() => gateway.deps.redis.isReady, 5000);
  await waitFor(() => gateway.deps.agreements.ready && gateway.deps.partnerKeys.ready && gateway.deps.jurisdiction.ready, 5000);
  const client = new CheckedAgent({ connect: { ca: readFileSync(c.ca) } });
  const url = `https://localhost:${gateway.port}`;
  const adminUrl = `https://localhost:${gateway.adminPort}`;
  // The documents are read with a staff certificate of the test CA, so a stack whose control plane
  // requires one (admin.tls.requireClientCert) still starts; the tests' own client presents none.
  const reader = new Agent({ connect: { ca: readFileSync(c.ca), cert: readFileSync(c.cert('gateway-client')), key: readFileSync(c.key('gateway-client')) } });
  try {
    for (const origin of [url, adminUrl]) client.expect(origin, await servedDocument(origin, reader));
  } finally {
    await reader.close();
  }
  return {
    redis, store, gateway, config, logs, client, adminToken,
    url, adminUrl,
    async close() {
      await gateway.close();
      await store.close();
      await client.destroy(); // a test that left a body unread must not hang the close
      if (!given) await redis.stop();
      // Issue 19: a response that did not match its documentation fails the file even if unread.
      if (client.mismatches.length) throw new Error(`responses not matching the served OpenAPI documents:\n${client.mismatches.join('\n')}`);
    },
  };
}

/** The listener's own /openapi.json, as partners get it (fetched before any check is armed). */
async function servedDocument(origin: string, dispatcher: Agent): Promise<OpenApiDoc> {
  const res = await fetch(`${origin}/openapi.json`, { dispatcher });
  if (res.status !== 200) throw new Error(`${origin}/openapi.json: ${res.status}`);
  return (await res.json()) as OpenApiDoc;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, step = 25): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, step));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

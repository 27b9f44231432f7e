// RULES 34: the upstream client verifies the store's certificate against the configured CA and
// refuses TLS below 1.2; readiness turns false and data calls fail closed (503 upstream_unavailable).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { Upstream } from '../src/upstream/client.ts';
import { Problem } from '../src/http/problem.ts';
import { writeDevCerts, type CertPaths } from '../src/tls/dev-certs.ts';
import { startCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { testConfig, waitFor } from './harness/stack.ts';
import { startTestRedis } from './harness/redis.ts';
import { handshake, legacyClient } from './harness/tls-probe.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';

let c: CertPaths;
let foreign: CertPaths;
let redis: LocalRedis;
before(async () => {
  c = await testCerts();
  foreign = await writeDevCerts(tmp('foreign-ca'));
  redis = await startTestRedis();
});
after(() => redis.stop());

const upstreamTo = (port: number, ca = c.ca) =>
  new Upstream({ url: `https://localhost:${port}`, healthPath: '/healthz', timeoutMs: 2000, connections: 2, tls: { ca } });

function tls11Store(): Promise<{ port: number; close(): void }> {
  const s = https.createServer(
    { cert: readFileSync(c.cert('core-store')), key: readFileSync(c.key('core-store')), minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'ALL@SECLEVEL=0' },
    (_q, r) => r.end('{"status":"ok"}'),
  );
  return new Promise((res) => s.listen(0, '127.0.0.1', () => res({ port: (s.address() as AddressInfo).port, close: () => { s.closeAllConnections(); s.close(); } })));
}

test('an upstream offering only TLS 1.1 is refused', async () => {
  const store = await tls11Store();
  try {
    const control = await handshake(store.port, c.ca, legacyClient('TLSv1.1'));
    assert.equal(control.ok, true, `control: the store does speak TLS 1.1 (${control.error})`);
    const up = upstreamTo(store.port);
    assert.equal(await up.healthy(), false);
    await assert.rejects(up.getUser('u_000001'), (e) => e instanceof Problem && e.code === 'upstream_unavailable');
    await up.close();
  } finally {
    store.close();
  }
});

test('an upstream whose certificate is not from the configured CA is refused; readiness false', async () => {
  const store = await startCoreStore({
    port: 0, host: '127.0.0.1', source: syntheticSource(5),
    tls: { cert: foreign.cert('core-store'), key: foreign.key('core-store') },
  });
  try {
    const control = upstreamTo(store.port, foreign.ca);
    assert.equal(await control.healthy(), true, 'control: trusted with its own CA');
    assert.ok(await control.getUser('u_000001'));
    await control.close();

    const up = upstreamTo(store.port);
    assert.equal(await up.healthy(), false);
    await assert.rejects(up.getUser('u_000001'), (e) => e instanceof Problem && e.code === 'upstream_unavailable');
    await up.close();

    const config = await testConfig({ redisUrl: redis.url, upstreamUrl: `https://localhost:${store.port}` });
    const gw = await startGateway(config, { log: createLogger('silent') });
    try {
      await waitFor(() => gw.deps.redis.isReady && gw.deps.agreements.ready && gw.deps.partnerKeys.ready && gw.deps.jurisdiction.ready, 5000);
      const res = await fetch(`https://localhost:${gw.port}/readyz`, { dispatcher: new (await import('undici')).Agent({ connect: { ca: readFileSync(c.ca) } }) });
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'not_ready', checks: { redis: 'ok', upstream: 'down', policyCaches: 'ok', certificates: 'ok', incidents: 'none' } });
    } finally {
      await gw.close();
    }
  } finally {
    await store.close();
  }
});

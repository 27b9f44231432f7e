// CONTRACT 8 and the error contract: problem+json everywhere, body limit, SIGTERM drains.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fetch, Agent } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { BIN } from './harness/cli.ts';
import { freePort } from '../src/dev/local-redis.ts';
import { initKeys } from '../src/keys/files.ts';

let stack: Stack;
before(async () => { stack = await startStack({ users: 10 }); });
after(() => stack.close());

test('an unknown route answers 404 problem+json with a request id', async () => {
  const res = await fetch(`${stack.url}/nope`, { dispatcher: stack.client });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, 'not_found');
  assert.equal(body.status, 404);
  assert.equal(body.requestId, res.headers.get('x-request-id'));
  assert.ok(body.type && body.title);
});

test('a body over the limit answers 413 payload_too_large, and the service keeps working', async () => {
  const big = JSON.stringify({ x: 'a'.repeat(stack.config.server.bodyLimitBytes + 10) });
  const res = await fetch(`${stack.adminUrl}/admin/v1/partners`, { dispatcher: stack.client, method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'payload_too_large');
  assert.equal((await fetch(`${stack.url}/healthz`, { dispatcher: stack.client })).status, 200);
});

test('malformed JSON answers 400 validation_failed naming the body', async () => {
  const res = await fetch(`${stack.adminUrl}/admin/v1/partners`, { dispatcher: stack.client, method: 'POST', body: '{"a":', headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { code: string; errors: Array<{ field: string }> };
  assert.equal(body.code, 'validation_failed');
  assert.equal(body.errors[0]!.field, 'body');
});

test('/metrics serves Prometheus text on the control-plane listener', async () => {
  const res = await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /gateway_http_requests_total/);
});

test('SIGTERM lets an in-flight request finish, then the process exits 0', async () => {
  const c = await testCerts();
  // A store whose health check takes 1 s keeps /readyz in flight while SIGTERM arrives.
  const slow = https.createServer({ cert: readFileSync(c.cert('core-store')), key: readFileSync(c.key('core-store')) }, (_q, r) => {
    setTimeout(() => r.end('{"status":"ok"}'), 1000);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  const keys = tmp('keys');
  initKeys(keys);
  const port = await freePort();
  const adminPort = await freePort();
  const cfg = join(tmp('cfg'), 'gw.json');
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  writeFileSync(cfg, JSON.stringify({
    // The single process (workers 1): its own drain; the cluster's is in cluster-workers.test.ts.
    server: { port, workers: 1, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    admin: { port: adminPort, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    upstream: { url: `https://localhost:${(slow.address() as AddressInfo).port}`, tls: client },
    redis: { url: stack.redis.url, tls: client }, keys: { dir: keys }, log: { level: 'warn' },
  }));
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, GATEWAY_CONFIG: cfg }, stdio: 'ignore' });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const agent = new Agent({ connect: { ca: readFileSync(c.ca) } });
  try {
    await waitFor(async () => (await fetch(`https://localhost:${port}/healthz`, { dispatcher: agent }).catch(() => null))?.status === 200, 15_000, 100);
    const inflight = fetch(`https://localhost:${port}/readyz`, { dispatcher: agent });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ready');
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
    await agent.close();
    slow.closeAllConnections();
    slow.close();
  }
});

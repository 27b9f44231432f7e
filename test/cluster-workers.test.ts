// Issue 17 item 2: `serve --workers N` runs N worker processes behind one listener per plane. The
// real CLI from dist/ (run `npm run build` first), real TLS Redis, the real HTTPS core store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fetch, Agent } from 'undici';
import { waitFor, type Stack } from './harness/stack.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { BIN, runCli } from './harness/cli.ts';
import { startTestRedis } from './harness/redis.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi } from './harness/admin.ts';
import { parseExposition } from './harness/metrics.ts';
import { freePort, type LocalRedis } from '../src/dev/local-redis.ts';
import { initKeys } from '../src/keys/files.ts';
import { startCoreStore, type RunningCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { createRedisClient, type Redis } from '../src/deps.ts';
import { logKeys } from '../src/transfer-log/keys.ts';

interface Line { msg: string; pid?: number; [k: string]: unknown }

let redisServer: LocalRedis;
let redis: Redis;
let store: RunningCoreStore;
let child: ChildProcess;
let exit: Promise<number | null>;
let ca: string;
let env: Record<string, string>;
let cfgBase: Record<string, any>;
let target: Pick<Stack, 'url' | 'adminUrl' | 'client' | 'adminToken'>;
let partner: TestPartner;
const lines: Line[] = [];
const PULLS = 12;

/** A fresh connection per request: node:cluster hands connections, not requests, to workers. */
async function fresh<T>(fn: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = new Agent({ connect: { ca } });
  // destroy, not close: close would wait out the connect timeout of a connection lost with a killed worker.
  try { return await fn(agent); } finally { await agent.destroy(); }
}

async function readyz(): Promise<{ status: number; body: { status: string; checks: Record<string, string> } | null }> {
  return fresh(async (agent) => {
    // A connection node:cluster handed to a worker just killed is never answered: give up on it
    // and ask again on a new one (not a timing assertion).
    const res = await fetch(`${target.url}/readyz`, { dispatcher: agent, signal: AbortSignal.timeout(3000) }).catch(() => null);
    if (!res) return { status: 0, body: null };
    return { status: res.status, body: (await res.json().catch(() => null)) as { status: string; checks: Record<string, string> } | null };
  });
}

const workerPids = () => new Set(lines.filter((l) => l.msg === 'gateway partner listener (HTTPS only)').map((l) => l.pid));

before(async () => {
  const c = await testCerts();
  ca = readFileSync(c.ca, 'utf8');
  redisServer = await startTestRedis();
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  redis = createRedisClient(redisServer.url, client, 2000);
  redis.on('error', () => undefined);
  await redis.connect();
  store = await startCoreStore({ port: 0, host: '127.0.0.1', source: syntheticSource(50), tls: { cert: c.cert('core-store'), key: c.key('core-store') } });
  const keys = tmp('keys');
  initKeys(keys);
  const port = await freePort();
  const adminPort = await freePort();
  const cfg = join(tmp('cfg'), 'gw.json');
  cfgBase = {
    // workers 1 in the file: the --workers flag below overrides it.
    server: { port, workers: 1, drainTimeoutMs: 2000, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca, requestClientCert: false } },
    admin: { port: adminPort, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca, requireClientCert: false } },
    upstream: { url: `https://localhost:${store.port}`, tls: client },
    redis: { url: redisServer.url, tls: client }, keys: { dir: keys }, log: { level: 'info' },
    transferLog: { anchors: { file: join(tmp('anchors'), 'anchors.jsonl') } },
  };
  writeFileSync(cfg, JSON.stringify(cfgBase));
  const adminToken = `pga_${randomBytes(32).toString('base64url')}`;
  env = { GATEWAY_CONFIG: cfg };
  child = spawn(process.execPath, [BIN, 'serve', '--workers', '2'], { env: { ...process.env, ...env, BOOTSTRAP_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'inherit'] });
  exit = new Promise((r) => child.on('exit', (code) => r(code)));
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) { try { lines.push(JSON.parse(p) as Line); } catch { /* not a log line */ } }
  });
  target = { url: `https://localhost:${port}`, adminUrl: `https://localhost:${adminPort}`, client: new Agent({ connect: { ca } }), adminToken };
  await waitFor(async () => (await readyz()).status === 200, 20_000, 100);
  partner = await setupPartner(target as Stack);
});

after(async () => {
  child.kill('SIGKILL');
  await target.client.close();
  await store.close();
  redis.destroy();
  await redisServer.stop();
});

test('two workers behind one listener: both answer, each appends to its own chain, and both chains verify', async () => {
  assert.equal(workerPids().size, 2, 'two workers started');
  const ready = await readyz();
  assert.equal(ready.body?.checks.workers, '2/2');
  const token = await partner.token('service_delivery');
  for (let i = 0; i < PULLS; i++) {
    const r = await fresh((agent) => partnerGet(target, token, '/v1/subjects?purpose=service_delivery&limit=5', {}, agent));
    assert.equal(r.status, 200, r.text);
  }
  // Each worker seals entries on a chain of its own: two chains with entries means both workers
  // released (connections are spread over the workers), and no chain was appended to by two.
  const ids = await redis.sMembers(logKeys().chains); // issue [6/6] item 2: a head per chain
  const heads = Object.fromEntries(await Promise.all(ids.map(async (c) => [c, (await redis.get(logKeys().chain(c).head)) ?? '0:'] as const)));
  const chains = Object.entries(heads).filter(([, v]) => Number(v.split(':')[0]) > 0);
  assert.equal(chains.length, 2, JSON.stringify(heads));
  const verify = await runCli(['log', 'verify', '--json'], env);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const report = JSON.parse(verify.stdout) as { chains: number; entries: number };
  assert.equal(report.chains, 2);
  assert.ok(report.entries >= PULLS, `${report.entries} entries`);
});

test('/metrics, still behind the role check, sums the counters of every worker', async () => {
  const anon = await fresh((agent) => fetch(`${target.adminUrl}/metrics`, { dispatcher: agent }));
  assert.equal(anon.status, 401);
  await anon.body?.cancel();
  // Several scrapes land on either worker; each answers the same aggregate.
  for (let i = 0; i < 3; i++) {
    const r = await fresh((agent) => adminApi({ ...target, client: agent }, target.adminToken)('GET', '/metrics'));
    assert.equal(r.status, 200, r.text);
    const x = parseExposition(r.text);
    const pulls = x.samples.filter((s) => s.name === 'gateway_http_requests_total' && s.labels.status === '200' && s.labels.route?.startsWith('/v1/subjects'));
    // One worker alone served only part of the pulls; the sum over both is all of them.
    assert.equal(pulls.reduce((n, s) => n + s.value, 0), PULLS, JSON.stringify(pulls));
    // A gauge that is the same in every worker is not summed: Redis is up, 1, not 2.
    assert.equal(x.samples.find((s) => s.name === 'gateway_redis_up' && s.labels.connection === 'commands')?.value, 1);
  }
});

test('a killed worker is replaced and the restart logged; /readyz is 503 until it is ready again', async () => {
  const [victim, survivor] = [...workerPids()];
  assert.ok(victim && survivor);
  process.kill(victim, 'SIGKILL');
  // Poll once the primary has seen the death: a connection node:cluster hands to a worker at the
  // instant it dies is lost (its client waits out its own timeout), so do not race the kill.
  await waitFor(() => lines.some((l) => l.msg === 'worker died and was restarted'), 10_000, 10);
  let notReady: Awaited<ReturnType<typeof readyz>> | undefined;
  await waitFor(async () => { const r = await readyz(); if (r.status === 503) notReady = r; return r.status === 503; }, 10_000, 10);
  assert.equal(notReady!.body?.checks.workers, '1/2');
  await waitFor(async () => (await readyz()).status === 200, 20_000, 50);
  assert.equal((await readyz()).body?.checks.workers, '2/2');
  const restart = lines.find((l) => l.msg === 'worker died and was restarted');
  assert.ok(restart, 'the restart is logged');
  assert.equal(restart.workerPid, victim);
  assert.equal(restart.signal, 'SIGKILL');
  assert.ok(typeof restart.newWorkerPid === 'number' && restart.newWorkerPid !== victim && restart.newWorkerPid !== survivor);
  assert.equal(workerPids().size, 3, 'a third worker process started');
  // The replacement serves: a pull still works.
  const r = await fresh(async (agent) => partnerGet(target, await partner.token('service_delivery', agent), '/v1/subjects?purpose=service_delivery&limit=5', {}, agent));
  assert.equal(r.status, 200);
});

test('SIGTERM to the primary drains every worker and exits 0', async () => {
  const live = [...workerPids()].filter((pid) => { try { process.kill(pid!, 0); return true; } catch { return false; } });
  assert.equal(live.length, 2);
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  const stopped = new Set(lines.filter((l) => l.msg === 'stopped').map((l) => l.pid));
  for (const pid of live) assert.ok(stopped.has(pid), `worker ${pid} drained and stopped`);
  assert.ok(lines.some((l) => l.msg === 'draining every worker' && l.role === 'primary'));
  // Nothing a request carried reached the log.
  const text = JSON.stringify(lines);
  assert.doesNotMatch(text, /purpose=|limit=/);
});

test('workers that keep dying stop the service with one clear line and exit 1', async () => {
  // An empty keys.dir passes the primary's checks, and every worker dies loading it at start-up.
  const cfg = join(tmp('cfg'), 'gw.json');
  writeFileSync(cfg, JSON.stringify({ ...cfgBase, server: { ...cfgBase.server, port: await freePort() }, admin: { ...cfgBase.admin, port: await freePort() }, keys: { dir: tmp('nokeys') } }));
  const r = await runCli(['serve', '--workers', '2'], { GATEWAY_CONFIG: cfg }, 60_000);
  assert.equal(r.code, 1, r.stderr.slice(-2000));
  const out = r.stdout.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) as Line; } catch { return null; } }).filter((l): l is Line => l !== null);
  const fatal = out.filter((l) => l.level === 60);
  assert.equal(fatal.length, 1, r.stdout);
  assert.match(fatal[0]!.msg, /workers keep dying \(5 deaths within 60 s\): stopping the service/);
  assert.equal(out.filter((l) => l.msg === 'worker died and was restarted').length, 4);
});

test('SIGTERM while a worker has a request in flight: it finishes, then the service exits 0', async () => {
  const c = await testCerts();
  // A store whose health check takes 1 s keeps /readyz in flight while SIGTERM arrives (as in ops.test.ts).
  const slow = https.createServer({ cert: readFileSync(c.cert('core-store')), key: readFileSync(c.key('core-store')) }, (_q, r) => {
    setTimeout(() => r.end('{"status":"ok"}'), 1000);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  const port = await freePort();
  const cfg = join(tmp('cfg'), 'gw.json');
  writeFileSync(cfg, JSON.stringify({
    ...cfgBase, server: { ...cfgBase.server, port }, admin: { ...cfgBase.admin, port: await freePort() },
    upstream: { ...cfgBase.upstream, url: `https://localhost:${(slow.address() as AddressInfo).port}` },
  }));
  const proc = spawn(process.execPath, [BIN, 'serve', '--workers', '2'], { env: { ...process.env, GATEWAY_CONFIG: cfg }, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const agent = new Agent({ connect: { ca } });
  try {
    const url = `https://localhost:${port}/readyz`;
    await waitFor(async () => (await fetch(url, { dispatcher: agent }).catch(() => null))?.status === 200, 30_000, 100);
    const inflight = fetch(url, { dispatcher: agent });
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { checks: { workers: string } }).checks.workers, '2/2');
    assert.equal(await exited, 0);
  } finally {
    proc.kill('SIGKILL');
    await agent.destroy();
    slow.closeAllConnections();
    slow.close();
  }
});

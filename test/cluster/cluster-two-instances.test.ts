// Issue 18 on a real Redis Cluster (3 primaries, 1 replica each, TLS; test/harness/redis-cluster.ts)
// with two gateway instances: what one instance changes, the other enforces within 1 s (plain
// cluster pub/sub, redis/subscriber.ts); single and bulk pulls through both are logged and the
// transfer log verifies; and the main partner and admin journeys never meet CROSSSLOT (every
// multi-key script stays in one slot, redis/keys.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, testConfig, waitFor, redisModeConfig, LogCapture, type Stack, type RedisModeOption } from '../harness/stack.ts';
import { startTestCluster, type TestCluster } from '../harness/redis-cluster.ts';
import { adminApi, agreementBody, newPartner, releasedEntryIds, type Api, type Res } from '../harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from '../harness/partner.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { createLogger } from '../../src/log.ts';
import { writeFileSync } from 'node:fs';
import { fetch } from 'undici';
import { join } from 'node:path';
import { runCli } from '../harness/cli.ts';
import { tmp } from '../harness/certs.ts';
import { HEARTBEAT_STALE_MS } from '../../src/cache/subscriber-heartbeat.ts';
import { RATE_LIMIT_MAX } from '../../src/agreements/agreement-schema.ts';

let cluster: TestCluster;
let stack: Stack;
let gwB: Gateway;
let logsB: LogCapture;
let a: Api;
let b: Api;
let urlB: string;
/** Every response body either instance gave in this file, for the CROSSSLOT check. */
const seen: string[] = [];

const record = (api: Api): Api => async (m, p, o) => { const r = await api(m, p, o); seen.push(r.text); return r; };
async function pull(url: string, token: string, path: string, headers: Record<string, string> = {}) {
  const r = await partnerGet({ url, client: stack.client }, token, path, headers);
  seen.push(r.text);
  return r;
}

before(async () => {
  cluster = await startTestCluster();
  const mode: RedisModeOption = { mode: 'cluster', nodes: cluster.seeds, server: cluster.nodes[0]!.server };
  stack = await startStack({ users: 60, redisMode: mode, extra: { jurisdiction: { adequate: [] } } });
  a = record(adminApi(stack, stack.adminToken));
  // Same key material as A: two instances of one deployment (a pseudonym from one resolves on the other).
  const config = await testConfig({ redisUrl: cluster.nodes[0]!.url, upstreamUrl: stack.config.upstream.url, keysDir: stack.config.keys.dir, extra: redisModeConfig(mode) });
  logsB = new LogCapture();
  gwB = await startGateway(config, { log: createLogger('info', logsB), bootstrapAdminToken: stack.adminToken });
  // Issue [6/6] item 2: each chain has a hash tag of its own, so two instances' chains may sit on two
  // primaries. Which primary a random chain id lands on is chance (1 in 3 to share one), so B is
  // started again until its chain is on another primary than A's: the test then shows the keys
  // spread, instead of passing or failing by the draw.
  for (let tries = 0; await cluster.primaryOf(chainTag(gwB)) === await cluster.primaryOf(chainTag(stack.gateway)); tries++) {
    assert.ok(tries < 20, 'twenty chain ids in a row on one primary');
    await gwB.close();
    logsB = new LogCapture();
    gwB = await startGateway(config, { log: createLogger('info', logsB), bootstrapAdminToken: stack.adminToken });
  }
  await waitFor(() => gwB.deps.agreements.ready && gwB.deps.partnerKeys.ready && gwB.deps.jurisdiction.ready && gwB.deps.partnerTokenCache.ready, 10_000);
  urlB = `https://localhost:${gwB.port}`;
  b = record(adminApi({ url: urlB, adminUrl: `https://localhost:${gwB.adminPort}`, client: stack.client }, stack.adminToken));
});
after(async () => {
  await gwB?.close();
  await stack?.close();
  await cluster?.stop();
});

/** The hash tag of the chain an instance appends to now (src/transfer-log/keys.ts). */
const chainTag = (g: Gateway) => g.deps.transferLog.keys.chain(g.deps.transferLog.writer.chain).head;

const terms = (countries = ['KZ']) => ({ processingCountries: countries, purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } });

/**
 * Pull one subject through `url` until `done`; fail if it takes 1 s or more (the bound).
 * Meanwhile only the old state's answer is allowed (`before`: a release by default).
 */
async function within1s(url: string, token: string, subject: string, done: (r: Res) => boolean, before: (r: Res) => boolean = (r) => r.status === 200) {
  const t0 = Date.now();
  for (;;) {
    const r = await pull(url, token, `/v1/subjects/${subject}?purpose=service_delivery`);
    if (done(r)) return;
    assert.ok(before(r), `before the change is seen only the old answer: ${r.status} ${r.text}`);
    assert.ok(Date.now() - t0 < 1000, `not seen within 1 s (last: ${r.status} ${r.body?.code})`);
  }
}

async function partnerOnBoth(countries?: string[]): Promise<{ p: TestPartner; token: string; subject: string }> {
  const p = await setupPartner(stack, terms(countries));
  await waitFor(() => gwB.deps.agreements.active(p.id) !== undefined, 2000);
  const token = await p.token('service_delivery');
  const page = await pull(urlB, token, '/v1/subjects?purpose=service_delivery&limit=10');
  assert.equal(page.status, 200, page.text);
  const subject = page.body.items[0].subject as string;
  assert.equal((await pull(urlB, token, `/v1/subjects/${subject}?purpose=service_delivery`)).status, 200, 'control: B releases');
  return { p, token, subject };
}

test('cluster: a credential revoked through A: its token is refused by B within 1 s (RULES 41)', async () => {
  const { p, token, subject } = await partnerOnBoth();
  assert.equal((await a('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`)).status, 204);
  await within1s(urlB, token, subject, (r) => r.status === 401 && r.body?.code === 'invalid_token');
});

test('cluster: an agreement suspended through A is enforced by B within 1 s', async () => {
  const { p, token, subject } = await partnerOnBoth();
  assert.equal((await a('POST', `/admin/v1/agreements/agr_${p.id}/suspend`)).status, 200);
  await within1s(urlB, token, subject, (r) => r.status === 403 && r.body?.code === 'agreement_inactive');
  // ...and resumed through B, seen by A.
  assert.equal((await b('POST', `/admin/v1/agreements/agr_${p.id}/resume`)).status, 200);
  await within1s(stack.url, token, subject, (r) => r.status === 200, (r) => r.body?.code === 'agreement_inactive');
});

test('cluster: a country kill-switch set through A is enforced by B within 1 s (RULES 20)', async () => {
  assert.equal((await a('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'counsel opinion', reviewBy: '2030-01-01T00:00:00Z' } })).status, 200);
  const { token, subject } = await partnerOnBoth(['KZ', 'DE']);
  const put = await a('PUT', '/admin/v1/jurisdiction/blocked/DE', { body: { reason: 'statutory restriction pending review' } });
  assert.equal(put.status, 200, put.text);
  await within1s(urlB, token, subject, (r) => r.status === 403 && r.body?.code === 'country_blocked');
  assert.equal((await b('DELETE', '/admin/v1/jurisdiction/blocked/DE')).status, 200);
  await within1s(stack.url, token, subject, (r) => r.status === 200, (r) => r.body?.code === 'country_blocked');
});

test('cluster: single pulls and a bulk pull through both instances are each logged, and verify is ok (route and `log verify` CLI)', async () => {
  const p = await setupPartner(stack, terms());
  await waitFor(() => gwB.deps.agreements.active(p.id) !== undefined, 2000);
  const token = await p.token('service_delivery');
  const bulk = await pull(stack.url, token, '/v1/subjects?purpose=service_delivery', { accept: 'application/x-ndjson' });
  assert.equal(bulk.status, 200, bulk.text);
  const lines = bulk.text.trim().split('\n').map((l) => JSON.parse(l));
  const items = lines.filter((l) => l.subject);
  assert.equal(lines.at(-1).nextCursor, null, 'the stream ran to the end');
  assert.ok(items.length > 10, `released ${items.length}`);
  const singles = [];
  for (const [i, it] of items.slice(0, 10).entries()) {
    const r = await pull(i % 2 ? urlB : stack.url, token, `/v1/subjects/${it.subject}?purpose=service_delivery`);
    assert.equal(r.status, 200, r.text);
    singles.push(r.body.transferId as string);
  }
  const auditor = (await a('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token as string;
  // Every release of this partner has its entry: the bulk items plus the singles.
  const logged = await releasedEntryIds(a, auditor, p.id);
  assert.equal(logged.length, items.length + singles.length);
  for (const id of singles) assert.ok(logged.includes(id), `single pull ${id} logged`);
  const v = await b('GET', '/admin/v1/transfers/verify', { token: auditor });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.ok, true, v.text);
  assert.ok(v.body.entries >= logged.length);
  // Issue [6/6] Must show: the chains' keys live on at least two primaries; each chain's keys on one.
  const owners = new Set<number>();
  for (const g of [stack.gateway, gwB]) {
    const k = g.deps.transferLog.keys.chain(g.deps.transferLog.writer.chain);
    const at = await Promise.all([k.entries, k.head, k.checkpoints].map((key) => cluster.primaryOf(key)));
    assert.equal(new Set(at).size, 1, `one chain's keys on one primary: ${at.join(', ')}`);
    const probe = await cluster.client(at[0]!);
    try {
      assert.ok((await probe.xLen(k.entries)) > 0, `chain ${k.chain} has entries on primary ${at[0]}`);
    } finally { probe.destroy(); }
    owners.add(at[0]!);
  }
  assert.ok(owners.size >= 2, `chains on ${owners.size} primaries`);
  // The CLI opens the configured mode too (cli/log-verify.ts through redis/open.ts).
  const file = join(tmp('cluster-cli'), 'gateway.json');
  writeFileSync(file, JSON.stringify({ redis: { mode: 'cluster', url: null, cluster: { nodes: cluster.seeds }, tls: stack.config.redis.tls }, keys: { dir: stack.config.keys.dir } }));
  const cli = await runCli(['log', 'verify', '--json'], { GATEWAY_CONFIG: file });
  assert.equal(cli.code, 0, cli.stderr + cli.stdout);
  assert.equal(JSON.parse(cli.stdout).ok, true);
});

test('cluster: the main partner and admin journeys never meet CROSSSLOT (a multi-slot script is a bug)', async () => {
  // Admin: partner, JWKS-less credential, agreement versions and their lifecycle, tokens, keys, audit.
  const id = await newPartner(a);
  const cred = await a('POST', `/admin/v1/partners/${id}/credentials`, { body: {} });
  assert.equal(cred.status, 201, cred.text);
  assert.equal((await a('POST', `/admin/v1/partners/${id}/agreements`, { body: agreementBody(terms()) })).status, 201);
  assert.equal((await b('POST', `/admin/v1/partners/${id}/agreements`, { body: agreementBody(terms()) })).status, 201);
  for (const step of ['suspend', 'resume']) assert.equal((await a('POST', `/admin/v1/agreements/agr_${id}/${step}`)).status, 200, step);
  assert.equal((await b('POST', `/admin/v1/partners/${id}/keys/rotate`)).status, 200);
  const minted = await a('POST', '/admin/v1/tokens', { body: { role: 'core_store' } });
  assert.equal(minted.status, 201, minted.text);
  // Partner: token, single and bulk pulls on both instances; a denial is logged too.
  const p = await setupPartner(stack, terms());
  await waitFor(() => gwB.deps.agreements.active(p.id) !== undefined, 2000);
  const token = await p.token('service_delivery');
  const page = await pull(urlB, token, '/v1/subjects?purpose=service_delivery&limit=20');
  assert.equal(page.status, 200, page.text);
  assert.equal((await pull(stack.url, token, `/v1/subjects/${page.body.items[0].subject}?purpose=service_delivery`)).status, 200);
  assert.equal((await pull(stack.url, token, `/v1/subjects/${page.body.items[0].subject}?purpose=advertising`)).status, 403);
  // Events from the core store fan out notices; the partner reads and acknowledges them.
  const core = record(adminApi(stack, minted.body.token));
  const auditor = (await a('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token as string;
  for (const path of ['/admin/v1/audit', '/admin/v1/incidents', '/admin/v1/transfers?limit=5', '/admin/v1/transfers/export']) {
    const r = await a('GET', path, { token: path.includes('transfers') ? auditor : undefined });
    assert.ok(r.status < 500, `${path}: ${r.status} ${r.text}`);
  }
  const ev = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId: 'u_000001', at: '2026-11-24T10:00:00Z' } });
  assert.ok(ev.status === 202, ev.text);
  const notes = await pull(stack.url, token, '/v1/notifications');
  assert.equal(notes.status, 200, notes.text);
  // Revocations last: the credential and the minted token.
  assert.equal((await b('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`)).status, 204);
  assert.equal((await a('DELETE', `/admin/v1/tokens/${minted.body.id}`)).status, 204);
  assert.equal((await a('POST', `/admin/v1/agreements/agr_${id}/terminate`)).status, 200);

  const everything = [...seen, ...stack.logs.lines, ...logsB.lines].join('\n');
  assert.ok(seen.length > 30, `control: ${seen.length} responses checked`);
  assert.ok(!/CROSSSLOT/i.test(everything), 'no CROSSSLOT in any response or log line');
  assert.ok(!/"status":5\d\d/.test(seen.join('\n')), 'no 5xx on the way');
});

test('cluster: the heartbeat proves B\'s subscriber end to end: it stops hearing, B fails closed (503); it hears again, B releases', async () => {
  const { redisSub, heartbeat, agreements } = gwB.deps;
  const p = await setupPartner(stack, terms());
  await waitFor(() => gwB.deps.agreements.active(p.id) !== undefined, 2000);
  const token = await p.token('service_delivery');
  const path = '/v1/subjects?purpose=service_delivery&limit=2';
  assert.equal((await pull(urlB, token, path)).status, 200, 'control');
  const readyz = async () => (await fetch(`${urlB}/readyz`, { dispatcher: stack.client })).status;
  assert.equal(await readyz(), 200, 'control: ready (redis/health.ts pings through the cluster object)');
  // Published through the cluster object to whichever node it picks, heard on the subscriber's
  // node over the cluster bus: only the heartbeat can notice that this stopped.
  await redisSub.unsubscribe(heartbeat.channel);
  await waitFor(() => !agreements.ready, HEARTBEAT_STALE_MS + 2000, 20);
  assert.equal((await pull(urlB, token, path)).status, 503);
  assert.equal(await readyz(), 503);
  await redisSub.subscribe(heartbeat.channel, heartbeat.onBeat);
  await waitFor(() => agreements.ready, 3000, 20);
  assert.equal((await pull(urlB, token, path)).status, 200);
});

test('cluster: a chain\'s WAIT runs on the one primary that owns the chain, not on every shard (a failover elsewhere must not hold its appends, nor a stale node list fail them)', async () => {
  // node-redis 6 routes a raw WAIT by its command policy (all shards, minimum reply), whatever key
  // is given: every append would then wait on every primary. Counted per node from INFO commandstats.
  const waits = async () => new Map(await Promise.all((await cluster.primaries()).map(async (port) => {
    const r = await cluster.client(port);
    try { return [port, Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0)] as const; } finally { r.destroy(); }
  })));
  const key = chainTag(gwB);
  const owner = await cluster.primaryOf(key);
  const before = await waits();
  assert.equal(before.size, 3, 'control: three primaries');
  assert.ok(await gwB.deps.redisTopology.waitReplicas(key, 1, 1000) >= 1, 'the owner has its replica');
  const after = await waits();
  for (const [port, calls] of after) {
    assert.equal(calls - before.get(port)!, port === owner ? 1 : 0, `WAIT calls on ${port} (owner ${owner})`);
  }
});

test('cluster: the primary holding the transfer log SIGKILLed during single pulls: 503 until its replica is promoted and has a replica again (the old node back), then releases again; nothing released without its entry; propagation still works', async () => {
  // The largest budget an agreement may have: no number of pulls during a slow failover spends it
  // (a 429 is not what this test is about; CI saw one with a 600/min budget).
  const p = await setupPartner(stack, { ...terms(), rateLimit: { requestsPerMinute: RATE_LIMIT_MAX } });
  await waitFor(() => gwB.deps.agreements.active(p.id) !== undefined, 2000);
  const token = await p.token('service_delivery');
  const page = await pull(stack.url, token, '/v1/subjects?purpose=service_delivery&limit=10');
  assert.equal(page.status, 200, page.text);
  const subjects = page.body.items.map((i: { subject: string }) => i.subject) as string[];
  const released: string[] = [];
  const statuses = new Map<number, number>();
  let n = 0;
  const last = new Map<string, string>();
  const pullOne = async (url: string) => {
    const r = await pull(url, token, `/v1/subjects/${subjects[n++ % subjects.length]}?purpose=service_delivery`);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    last.set(url, `${r.status} ${r.text}`);
    if (r.status === 200) released.push(r.body.transferId);
    else assert.equal(r.status, 503, `fails closed: ${r.text}`);
    return r.status;
  };
  let done = false;
  // The primary that holds instance A's chain (its own hash tag since issue [6/6] item 2).
  const failover = cluster.killPrimaryOf(chainTag(stack.gateway)).then((r) => { done = true; return r; });
  while (!done) await Promise.all([pullOne(stack.url), pullOne(urlB)]);
  const { killed, promoted } = await failover;
  assert.notEqual(killed, promoted);
  // transferLog.replicas is 1 in cluster mode: the promoted primary has no replica until the
  // killed node is back (restarted, as a supervisor would), so the log's shard fails closed until
  // then; every other request was answered 503 or released with its entry meanwhile.
  const restarting = cluster.restart(killed).then(() => { done = false; });
  while (done) await Promise.all([pullOne(stack.url), pullOne(urlB)]);
  await restarting;
  for (const url of [stack.url, urlB]) {
    for (let t0 = Date.now(); (await pullOne(url)) !== 200; await new Promise((r) => setTimeout(r, 100))) {
      assert.ok(Date.now() - t0 < 30_000, `${url} releases again after promotion (last: ${last.get(url)})`);
    }
  }
  assert.ok((statuses.get(503) ?? 0) > 0, `failed closed meanwhile (${JSON.stringify([...statuses])})`);
  const auditor = (await a('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token as string;
  const logged = new Set(await releasedEntryIds(a, auditor, p.id));
  assert.deepEqual(released.filter((id) => !logged.has(id)), [], `every release has its entry (${released.length} released)`);
  // Both instances' subscribers still hear changes (one of them may have had to move node).
  const q = await partnerOnBoth();
  assert.equal((await a('POST', `/admin/v1/agreements/agr_${q.p.id}/suspend`)).status, 200);
  await within1s(urlB, q.token, q.subject, (r) => r.status === 403 && r.body?.code === 'agreement_inactive');
  await within1s(stack.url, q.token, q.subject, (r) => r.status === 403 && r.body?.code === 'agreement_inactive');
});

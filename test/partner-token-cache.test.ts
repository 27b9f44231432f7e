// The partner token cache (RULES 41 tokens revocable; DESIGN 1 fail closed): known tokens are
// served from memory, yet a revocation made anywhere reaches this instance within a second, a
// cached token past its exp is refused, and while the cache's subscription is down the cache is
// not trusted at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { adminApi } from './harness/admin.ts';
import { createRedisClient, type RedisClient as Redis } from '../src/deps.ts';
import { PartnerTokens } from '../src/auth/partner-tokens.ts';
import { PartnerTokenCache, TOKEN_CHANNEL } from '../src/auth/partner-token-cache.ts';
import { createLogger } from '../src/log.ts';

let stack: Stack;
let other: Redis; // the test's own connection, as the CLI or another process would have
const domestic = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
const PATH = '/v1/subjects?purpose=service_delivery&limit=1';

before(async () => {
  stack = await startStack({ users: 20 });
  await waitFor(() => stack.gateway.deps.partnerTokenCache.ready, 5000);
  other = createRedisClient(stack.config.redis.url!, stack.config.redis.tls, 2000);
  other.on('error', () => undefined);
  await other.connect();
  monitor = other.duplicate();
  monitor.on('error', () => undefined);
  await monitor.connect();
  // A MONITOR line: `<time> [<db> <client>] "GET" "<key>"` (commands run by scripts included).
  await monitor.monitor((line) => {
    const key = /"GET" "([^"]*)"/i.exec(String(line))?.[1];
    if (key?.startsWith('pg-test-mark:')) seenMarks.add(key);
    else if (key?.startsWith('pg:{cp}:ptok:')) tokenGets++;
  });
});
after(async () => {
  monitor.destroy();
  other.destroy();
  await stack.close();
});

/**
 * GETs of a partner token's key Redis has executed so far (from every client), seen through MONITOR.
 * Not INFO commandstats' GET count: since the transfer log's append script reads its chain head with
 * a GET (issue [6/6]), every released request runs one GET that is not a token lookup.
 */
let tokenGets = 0;
let monitor: Redis;
let marks = 0;
const seenMarks = new Set<string>();
async function redisGets(): Promise<number> {
  // A marker command after the ones to count: once MONITOR shows it, every earlier GET was seen too.
  const mark = `pg-test-mark:${++marks}`;
  await other.get(mark);
  await waitFor(() => seenMarks.has(mark), 2000, 5);
  return tokenGets;
}

const status = async (token: string, s: Pick<Stack, 'url' | 'client'> = stack) => (await partnerGet(s, token, PATH)).status;
const keyOf = (token: string) => `pg:{cp}:ptok:${createHash('sha256').update(token).digest('base64url')}`;

async function partnerWithToken(): Promise<Awaited<ReturnType<typeof setupPartner>> & { t: string }> {
  const p = await setupPartner(stack, domestic);
  return { ...p, t: await p.token('service_delivery') };
}

test('a cached token costs no Redis GET per request; an uncached one does', async () => {
  const p = await partnerWithToken();
  assert.equal(await status(p.t), 200, 'first use: read from Redis and cached');
  const before = await redisGets();
  for (let i = 0; i < 20; i++) assert.equal(await status(p.t), 200);
  assert.equal((await redisGets()) - before, 0, 'no GET for 20 requests with a cached token');

  // Control: the same measure sees a GET per lookup when the token does not come from the cache.
  const lookups = new PartnerTokens(stack.gateway.deps.redis); // no cache, as credentials.ts builds it
  const b2 = await redisGets();
  for (let i = 0; i < 20; i++) assert.ok(await lookups.lookup(p.t));
  assert.ok((await redisGets()) - b2 >= 20, 'control: uncached lookups are counted');
});

test('a credential revoked through the admin API: its cached tokens are refused at once', async () => {
  const p = await partnerWithToken();
  assert.equal(await status(p.t), 200, 'control: cached');
  assert.equal((await p.api('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`)).status, 204);
  assert.equal(await status(p.t), 401, 'the revoking instance evicts before it answers');
});

test('the revoking instance evicts locally, without waiting for its own message', async () => {
  const p = await setupPartner(stack, domestic);
  const sub = other.duplicate();
  sub.on('error', () => undefined);
  await sub.connect();
  const cache = new PartnerTokenCache(sub, createLogger('silent'));
  try {
    await waitFor(() => cache.ready, 2000);
    const tokens = new PartnerTokens(other, undefined, 1000, cache);
    const { token } = await tokens.issue({ partnerId: p.id, clientId: p.clientId, scope: ['service_delivery'], cnf: null });
    assert.ok(await tokens.lookup(token), 'control: live');
    assert.equal(cache.size, 1, 'control: cached');
    await sub.unsubscribe(TOKEN_CHANNEL); // no message will come (the cache still counts as live)
    assert.equal(await tokens.revokeClient(p.clientId), 1);
    assert.equal(await tokens.lookup(token), undefined);
  } finally {
    cache.close();
    sub.destroy();
  }
});

test('a Redis read that started before a revocation is not cached; the cache is bounded, oldest out first', async () => {
  const sub = other.duplicate();
  sub.on('error', () => undefined);
  await sub.connect();
  const cache = new PartnerTokenCache(sub, createLogger('silent'), 2);
  try {
    await waitFor(() => cache.ready, 2000);
    const rec = { partnerId: 'p', clientId: 'c', scope: [], cnf: null, exp: Math.floor(Date.now() / 1000) + 60 };
    const mark = cache.mark(); // a lookup sends its GET ...
    cache.evict(['h0']); // ... a revocation message arrives before the reply ...
    cache.put('h0', rec, mark); // ... and the reply, which may predate the DEL, is not kept
    assert.equal(cache.get('h0'), undefined);
    for (const h of ['h1', 'h2', 'h3']) cache.put(h, rec, cache.mark());
    assert.equal(cache.size, 2);
    assert.deepEqual(['h1', 'h2', 'h3'].map((h) => Boolean(cache.get(h))), [false, true, true]);
  } finally {
    cache.close();
    sub.destroy();
  }
});

test('a credential revoked through another gateway instance sharing the Redis: refused here within a second', async () => {
  const second = await startStack({ users: 20, redis: stack.redis });
  try {
    const p = await partnerWithToken();
    const q = await partnerWithToken();
    assert.equal(await status(p.t), 200, 'control: cached here');
    assert.equal(await status(q.t), 200, 'control: cached here');
    // Not revoked by this instance: only the pub/sub message can reach this instance's cache.
    const api2 = adminApi(second, second.adminToken);
    assert.equal((await api2('DELETE', `/admin/v1/partners/${p.id}/credentials/${p.clientId}`)).status, 204);
    await waitFor(async () => (await status(p.t)) === 401, 1000);
    assert.equal(await status(q.t), 200, 'another credential\'s token is untouched');
  } finally {
    await second.close();
  }
});

test('a single token revoked by a process without the cache (as the CLI would): refused here within a second', async () => {
  const p = await partnerWithToken();
  assert.equal(await status(p.t), 200, 'control: cached');
  await new PartnerTokens(other).revoke(p.t);
  await waitFor(async () => (await status(p.t)) === 401, 1000);
});

test('a cached token past its exp is refused, though its Redis key is still there', async () => {
  const p = await setupPartner(stack, domestic);
  // Issued "8 s ago" for 10 s: exp is 1-2 s from now, while the key itself lives 10 s from now,
  // so once past exp only the cache's own exp check can refuse it.
  const issued = await new PartnerTokens(other, 10).issue({ partnerId: p.id, clientId: p.clientId, scope: ['service_delivery'], cnf: null }, Date.now() - 8000);
  assert.equal(await status(issued.token), 200, 'control: live and now cached');
  assert.equal(await status(issued.token), 200, 'control: served again');
  await new Promise((r) => setTimeout(r, issued.record.exp * 1000 - Date.now() + 50));
  assert.ok(Date.now() >= issued.record.exp * 1000, 'control: past exp');
  assert.ok((await other.pTTL(keyOf(issued.token))) > 1000, 'control: the Redis key outlives exp');
  assert.equal(await status(issued.token), 401);
});

test('while the subscription is down the cache is not trusted; after reconnect it is emptied and works again', async () => {
  const deps = stack.gateway.deps;
  const p = await partnerWithToken();
  const q = await partnerWithToken();
  assert.equal(await status(p.t), 200, 'control: cached');
  assert.equal(await status(q.t), 200, 'control: cached');
  // Deleted straight from Redis, with no message: a live cache cannot know (control) ...
  await other.del(keyOf(p.t));
  assert.equal(await status(p.t), 200, 'control: no message, so the live cache still serves it');

  // ... but once the subscriber is gone (killed, and kept from reconnecting by a full maxclients),
  // lookups go to Redis.
  const maxclients = (await other.configGet('maxclients')).maxclients!;
  const clients = (await other.clientList()).length;
  const subs = (await other.clientList({ TYPE: 'PUBSUB' })).length;
  assert.ok(subs >= 1, 'control: the gateway has a subscriber');
  await other.configSet('maxclients', String(clients - subs));
  try {
    await other.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await waitFor(() => !deps.partnerTokenCache.ready, 1000);
    assert.equal(await status(p.t), 401, 'not live: the cache is bypassed');
    // q's token authenticates from Redis (then the other caches, down too, answer 503).
    assert.notEqual(await status(q.t), 401);
    assert.equal(deps.partnerTokenCache.ready, false, 'control: still down while asserting');
  } finally {
    await other.configSet('maxclients', maxclients);
  }
  await waitFor(() => deps.partnerTokenCache.ready, 5000);
  await waitFor(() => deps.agreements.ready && deps.partnerKeys.ready && deps.jurisdiction.ready, 5000);
  assert.equal(deps.partnerTokenCache.size, 0, 'emptied on resubscribe');
  assert.equal(await status(p.t), 401);
  assert.equal(await status(q.t), 200, 'cached again');
  const before = await redisGets();
  for (let i = 0; i < 20; i++) assert.equal(await status(q.t), 200);
  assert.equal((await redisGets()) - before, 0, 'served from memory again');
  // And revocations reach it again.
  await new PartnerTokens(other).revoke(q.t);
  await waitFor(async () => (await status(q.t)) === 401, 1000);
});


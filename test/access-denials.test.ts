// RULES 48 (and 35): refusals before a partner is known — unknown client, bad secret, missing or
// bad token, 429, a TLS 1.1 client hello — go to the bounded access-denial record, which auditors
// read through GET /admin/v1/access-denials. Attacker-chosen client ids are never stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { oauthToken, partnerGet, setupPartner, type TestPartner } from './harness/partner.ts';
import { handshake, legacyClient } from './harness/tls-probe.ts';
import { testCerts } from './harness/certs.ts';
import { redisDump } from './harness/redis-dump.ts';
import { AccessDenialRecorder, countsKey, dayOf, examplesKey } from '../src/access-denials/record.ts';
import { createAccessDenials } from '../src/access-denials/index.ts';

const EXAMPLES = 3;
let stack: Stack;
let admin: Api;
let auditor: Api;
let partner: TestPartner;
const today = () => dayOf(new Date());
const counts = () => stack.gateway.deps.redis.hGetAll(countsKey(today()));
const settled = () => stack.gateway.deps.accessDenials.settled();

before(async () => {
  stack = await startStack({ users: 10, extra: { accessDenials: { examplesPerKey: EXAMPLES }, retention: { transferLogDays: 1200 } } });
  admin = adminApi(stack, stack.adminToken);
  const minted = await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  auditor = adminApi(stack, minted.body.token);
  partner = await setupPartner(stack, { rateLimit: { requestsPerMinute: 2 } });
});
after(async () => { await stack?.close(); });

test('a client id that is not registered is counted as "unregistered", never stored or logged verbatim', async () => {
  const typed = `evil-${randomBytes(6).toString('hex')}`;
  const r = await oauthToken(stack, typed, 'whatever', { grant_type: 'client_credentials', scope: 'advertising' });
  assert.equal(r.status, 401);
  await settled();
  assert.ok(Number((await counts())['unregistered|unknown_client']) >= 1);
  assert.doesNotMatch(await redisDump(stack.gateway.deps.redis), new RegExp(typed));
  assert.ok(!stack.logs.lines.some((l) => l.includes(typed)), 'the typed client id reached the logs');
});

test('a registered client with a wrong secret is counted under its client id as bad_secret; no credentials at all as unknown', async () => {
  assert.equal((await oauthToken(stack, partner.clientId, 'wrong-secret', { grant_type: 'client_credentials', scope: 'advertising' })).status, 401);
  assert.equal((await oauthToken(stack, '', '', { grant_type: 'client_credentials', scope: 'advertising' })).status, 401);
  await settled();
  const c = await counts();
  assert.equal(c[`${partner.clientId}|bad_secret`], '1');
  assert.ok(Number(c['unknown|unknown_client']) >= 1);
  const ex = (await stack.gateway.deps.redis.lRange(examplesKey(today(), `${partner.clientId}|bad_secret`), 0, -1)).map((s) => JSON.parse(s));
  assert.equal(ex.length, 1);
  assert.equal(ex[0].reason, 'bad_secret');
  assert.equal(ex[0].remotePrefix, '127.0.0.0/24'); // RULES 30: a prefix, never the full address
  assert.match(ex[0].requestId, /\S/);
  assert.doesNotMatch(JSON.stringify(ex), /wrong-secret/);
});

test('a missing and an unknown bearer token on a partner route are counted (missing_token, bad_token)', async () => {
  const before = await counts();
  assert.equal((await partnerGet(stack, 'not-a-real-token-' + randomBytes(8).toString('hex'), '/v1/agreement')).status, 401);
  assert.equal((await fetch(`${stack.url}/v1/agreement`, { dispatcher: stack.client })).status, 401);
  await settled();
  const after = await counts();
  assert.equal(Number(after['unknown|bad_token'] ?? 0), Number(before['unknown|bad_token'] ?? 0) + 1);
  assert.ok(Number(after['unknown|missing_token'] ?? 0) >= 1);
});

test('a 429 is counted under the partner\'s client id as rate_limited', async () => {
  const token = await partner.token('advertising');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await partnerGet(stack, token, '/v1/subjects/nobody?purpose=advertising')).status);
  assert.ok(statuses.includes(429), `no 429 in ${statuses}`);
  await settled();
  assert.equal(Number((await counts())[`${partner.clientId}|rate_limited`]), statuses.filter((s) => s === 429).length);
});

test('RULES 35: a TLS 1.1 client hello refused by the listener is counted as tls_floor', async () => {
  const { ca } = await testCerts();
  const before = Number((await counts())['unknown|tls_floor'] ?? 0);
  const r = await handshake(stack.gateway.port, ca, legacyClient('TLSv1.1'));
  assert.equal(r.ok, false);
  await waitFor(async () => Number((await counts())['unknown|tls_floor'] ?? 0) === before + 1, 5000);
});

test('a flood is bounded: exact counts, at most accessDenials.examplesPerKey examples, expiring with the transfer log', async () => {
  const n = 25;
  await Promise.all(Array.from({ length: n }, () => partnerGet(stack, `flood-${randomBytes(8).toString('hex')}`, '/v1/agreement')));
  await settled();
  const field = 'unknown|bad_token';
  assert.ok(Number((await counts())[field]) >= n);
  const key = examplesKey(today(), field);
  assert.equal(await stack.gateway.deps.redis.lLen(key), EXAMPLES);
  const ttl = await stack.gateway.deps.redis.ttl(key);
  assert.ok(ttl > 1200 * 86_400 && ttl <= 1201 * 86_400, `ttl ${ttl}`);
  assert.ok((await stack.gateway.deps.redis.ttl(countsKey(today()))) > 1200 * 86_400);
});

test('a flood is coalesced: 5000 refusals in a burst cost a few Redis writes, every one counted, examples capped', async () => {
  const redis = stack.gateway.deps.redis;
  let writes = 0;
  // The real Redis, with its writes counted.
  const counting = { eval: (script: string, o: { keys: string[]; arguments: string[] }) => { writes++; return redis.eval(script, o); }, hGetAll: (k: string) => redis.hGetAll(k), lRange: (k: string, a: number, b: number) => redis.lRange(k, a, b) };
  const day = new Date('2031-01-02T03:04:05Z');
  const denials = createAccessDenials(counting as never, stack.gateway.deps.log, { examplesPerKey: EXAMPLES, retentionDays: 1200, now: () => day });
  for (let i = 0; i < 5000; i++) denials.refused({ reason: 'tls_floor', client: null, remoteAddress: `10.0.${i % 250}.1` });
  await denials.settled();
  assert.ok(writes <= 2, `${writes} writes for 5000 refusals`);
  assert.equal(Number((await redis.hGetAll(countsKey(dayOf(day))))['unknown|tls_floor']), 5000);
  assert.equal(await redis.lLen(examplesKey(dayOf(day), 'unknown|tls_floor')), EXAMPLES);
});

test('GET /admin/v1/access-denials: auditor only, filtered, paged by day with a sealed cursor, and the read is logged', async () => {
  // An older day, written through the recorder as a refusal two days ago would have been.
  const old = new Date(Date.now() - 2 * 86_400_000);
  const recorder = new AccessDenialRecorder(stack.gateway.deps.redis, { examplesPerKey: EXAMPLES, retentionDays: 1200, now: () => old });
  recorder.add({ reason: 'bad_token', client: null, remoteAddress: '::ffff:10.1.2.3', requestId: 'r-old' });
  await recorder.flush();
  assert.equal((await admin('GET', '/admin/v1/access-denials')).status, 403);
  assert.equal((await adminApi(stack, '')('GET', '/admin/v1/access-denials', { token: null })).status, 401);

  const first = await auditor('GET', `/admin/v1/access-denials?reason=bad_token&limit=1&from=${dayOf(old)}`);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body.items.map((i: any) => [i.day, i.clientId, i.reason]), [[today(), 'unknown', 'bad_token']]);
  assert.ok(first.body.items[0].count >= 26);
  assert.ok(first.body.items[0].examples.length <= EXAMPLES);
  assert.equal(typeof first.body.nextCursor, 'string');
  const second = await auditor('GET', `/admin/v1/access-denials?reason=bad_token&limit=1&from=${dayOf(old)}&cursor=${first.body.nextCursor}`);
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(second.body.items.map((i: any) => [i.day, i.count]), [[dayOf(old), 1]]);
  assert.deepEqual(second.body.items[0].examples, [{ at: old.toISOString(), reason: 'bad_token', remotePrefix: '10.1.2.0/24', requestId: 'r-old' }]);
  assert.equal(second.body.nextCursor, null);
  // A cursor is bound to its filter.
  assert.equal((await auditor('GET', `/admin/v1/access-denials?reason=tls_floor&from=${dayOf(old)}&cursor=${first.body.nextCursor}`)).status, 400);

  const byClient = await auditor('GET', `/admin/v1/access-denials?clientId=${partner.clientId}`);
  assert.deepEqual(byClient.body.items.map((i: any) => i.reason).sort(), ['bad_secret', 'rate_limited']);
  const line = stack.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'access denials read').at(-1);
  assert.equal(line.actor.role, 'auditor');
  assert.equal(line.filter.clientId, partner.clientId);
  const typed = `typed-${randomBytes(4).toString('hex')}`;
  assert.equal((await auditor('GET', `/admin/v1/access-denials?clientId=${typed}`)).status, 200);
  assert.ok(!stack.logs.lines.some((l) => l.includes(typed)), 'a typed clientId filter reached the logs');
});

test('GET /admin/v1/access-denials: bad parameters are a 400 naming each field', async () => {
  const r = await auditor('GET', '/admin/v1/access-denials?from=2026-13-01&reason=nope&limit=0');
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors.map((e: any) => e.field).sort(), ['from', 'limit', 'reason']);
  const order = await auditor('GET', '/admin/v1/access-denials?from=2026-11-02&to=2026-11-01');
  assert.equal(order.status, 400);
  assert.equal(order.body.errors[0].field, 'from');
});

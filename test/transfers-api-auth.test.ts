// Issue 5 over HTTP: only the auditor role reads the transfer log (RULES 49: a query by someone
// outside the role → 403; no or unknown token, or a partner token → 401); recipients lists exactly
// the partners that got a user's data; verify reports ok, then names a tampered entry; the JWKS
// at /.well-known/jwks.json has no private member and its kid verifies a checkpoint JWS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import * as jose from 'jose';
import nodeJose from 'node-jose';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { released, denied } from './harness/transfer-log.ts';
import { PartnerTokens } from '../src/auth/partner-tokens.ts';
import { newSigningJwk } from '../src/keys/files.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

let stack: Stack;
let admin: Api;
const tokens: Record<string, string> = {};
const ROUTES = ['/admin/v1/transfers', '/admin/v1/transfers/export', '/admin/v1/transfers/verify', '/admin/v1/subjects/u_x/recipients', '/admin/v1/transfers/stream'];

before(async () => {
  stack = await startStack({ users: 5 });
  admin = adminApi(stack, stack.adminToken);
  for (const role of ['auditor', 'core_store']) {
    const r = await admin('POST', '/admin/v1/tokens', { body: { role } });
    assert.equal(r.status, 201, r.text);
    tokens[role] = r.body.token;
  }
  const pid = (await admin('POST', '/admin/v1/partners', { body: { id: 'x-partner', name: 'X', contactEmail: 'x@x.example' } })).body.id;
  const cred = await admin('POST', `/admin/v1/partners/${pid}/credentials`, { body: {} });
  tokens.partner = (await new PartnerTokens(stack.gateway.deps.redis).issue({ partnerId: pid, clientId: cred.body.clientId, scope: ['advertising'], cnf: null })).token;
  await stack.gateway.deps.transferLog.appendMany([released(), denied(), released({ partnerId: 'p_y' })]);
});
after(() => stack.close());

/** Status and content type only: the body of a 200 SSE stream never ends, so it is cancelled. */
async function statusOf(path: string, token: string | null): Promise<{ status: number; type: string; code?: string }> {
  const res = await fetch(`${stack.adminUrl}${path}`, { dispatcher: stack.client, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, type };
  }
  const body = await res.text();
  return { status: res.status, type, ...(/^application\/(problem\+)?json/.test(type) ? { code: JSON.parse(body).code } : {}) };
}

test('the auditor role reads every transfer-log route; admin and core_store get 403 (RULES 49)', async () => {
  for (const path of ROUTES) {
    const ok = await statusOf(path, tokens.auditor!);
    assert.equal(ok.status, 200, `auditor ${path}`);
    for (const role of ['admin', 'core_store']) {
      const r = await statusOf(path, role === 'admin' ? stack.adminToken : tokens[role]!);
      assert.deepEqual([r.status, r.code], [403, 'forbidden'], `${role} ${path}`);
      assert.match(r.type, /^application\/problem\+json/);
    }
  }
});

test('no token or an unknown token get 401, a partner access token 403 (RULES 43), on every route', async () => {
  for (const path of ROUTES) {
    for (const [who, token] of [['none', null], ['unknown', `pga_${'A'.repeat(43)}`]] as const) {
      const r = await statusOf(path, token);
      assert.deepEqual([r.status, r.code], [401, 'invalid_token'], `${who} ${path}`);
    }
    const r = await statusOf(path, tokens.partner!);
    assert.deepEqual([r.status, r.code], [403, 'forbidden'], `partner ${path}`);
  }
});

test('recipients lists exactly the partners that received the user\'s data, with purposes, categories and times', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const a1 = await tlog.append(released({ userId: 'u_rcpt_1', partnerId: 'p_x', purpose: 'advertising', categories: ['gender'] }));
  const y = await tlog.append(released({ userId: 'u_rcpt_1', partnerId: 'p_y', purpose: 'service_delivery', categories: ['phone'] }));
  await tlog.append(denied({ userId: 'u_rcpt_1', partnerId: 'p_z' })); // a denial released nothing
  await tlog.append(released({ userId: 'u_rcpt_2', partnerId: 'p_w' })); // another user
  const a2 = await tlog.append(released({ userId: 'u_rcpt_1', partnerId: 'p_x', purpose: 'marketing_research', categories: ['email'] }));
  const r = await adminApi(stack, tokens.auditor!)('GET', '/admin/v1/subjects/u_rcpt_1/recipients');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { items: [
    { partnerId: 'p_x', purposes: ['advertising', 'marketing_research'], categories: ['email', 'gender'], firstAt: a1.at, lastAt: a2.at, count: 2, keyVersions: [1], crossBorderPurposes: [], crossBorderCountries: [] },
    { partnerId: 'p_y', purposes: ['service_delivery'], categories: ['phone'], firstAt: y.at, lastAt: y.at, count: 1, keyVersions: [1], crossBorderPurposes: [], crossBorderCountries: [] },
  ] });
  assert.deepEqual((await adminApi(stack, tokens.auditor!)('GET', '/admin/v1/subjects/u_nobody/recipients')).body, { items: [] });
});

test('verify is ok, names an entry changed in Redis, and is ok again once it is restored', async () => {
  const auditor = adminApi(stack, tokens.auditor!);
  const { redis, transferLog: tlog } = stack.gateway.deps;
  const rows = ((await redis.xRange(tlog.keys.chain(tlog.writer.chain).entries, '-', '+')) ?? []);
  let v = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.ok, true);
  assert.equal(v.body.entries, rows.length);
  assert.equal(v.body.brokenAt, undefined);

  const victim = rows[2]!;
  const changed = { ...(JSON.parse(victim.message.e!) as TransferEntry), partnerId: 'p_someone_else' };
  const rewrite = async (swap: boolean) => {
    await redis.del(tlog.keys.chain(tlog.writer.chain).entries);
    for (const m of rows) await redis.xAdd(tlog.keys.chain(tlog.writer.chain).entries, m.id, swap && m.id === victim.id ? { e: JSON.stringify(changed) } : m.message);
  };
  await rewrite(true);
  v = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v.body.ok, false);
  assert.equal(v.body.brokenAt.reason, 'hash_mismatch');
  assert.equal(v.body.brokenAt.id, changed.id);
  assert.equal(v.body.brokenAt.streamId, victim.id);
  await rewrite(false);
  assert.equal((await auditor('GET', '/admin/v1/transfers/verify')).body.ok, true);
});

test('/.well-known/jwks.json: public, cacheable, no private member; its kid verifies a checkpoint JWS', async () => {
  const tlog = stack.gateway.deps.transferLog;
  await tlog.append(released());
  await tlog.checkpointNow();
  const [cp] = ((await stack.gateway.deps.redis.xRevRange(tlog.keys.chain(tlog.writer.chain).checkpoints, '+', '-', { COUNT: 1 })) ?? []);
  const jws = cp!.message.jws!;
  // Partner-facing (RULES 43): on the partner listener.
  const r = await adminApi({ url: stack.url, client: stack.client }, '')('GET', '/.well-known/jwks.json', { token: null });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
  for (const k of r.body.keys) assert.ok(!('d' in k), 'no private key member');
  assert.ok(!r.text.includes(String(stack.gateway.deps.keys.signingJwk.d)));
  const header = jose.decodeProtectedHeader(jws);
  assert.ok(r.body.keys.some((k: { kid: string }) => k.kid === header.kid), 'the checkpoint kid is published');
  const keySet = jose.createLocalJWKSet(r.body);
  const { payload } = await jose.compactVerify(jws, keySet, { algorithms: ['ES256'] });
  assert.equal(JSON.parse(new TextDecoder().decode(payload)).typ, 'tlog-checkpoint');
  // Control: the same payload signed by another key under the published kid does not verify.
  const other = { ...newSigningJwk(), kid: header.kid! };
  const forged = (await nodeJose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: other.kid } }, await nodeJose.JWK.asKey(other, 'json'))
    .update(Buffer.from(payload)).final()) as unknown as string;
  await assert.rejects(jose.compactVerify(forged, keySet, { algorithms: ['ES256'] }));
});

// Issue [3/6] item 3 over HTTP: GET /admin/v1/transfers/verify checks Redis against the gateway's
// own anchors file (transferLog.anchors.file) and names the chain and seq when they disagree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { released } from './harness/transfer-log.ts';
import { parseExposition, sampleValue, scrapeMetrics } from './harness/metrics.ts';

let stack: Stack;
let auditor: Api;
before(async () => {
  stack = await startStack({ users: 5 });
  const r = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  assert.equal(r.status, 201, r.text);
  auditor = adminApi(stack, r.body.token);
});
after(() => stack.close());

const payload = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

test('verify checks the anchors file: a deleted line, then a deleted chain, each ok:false naming the chain', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const { redis } = stack.gateway.deps;
  await tlog.appendMany([released(), released()]);
  const [e] = await tlog.appendMany([released()]);
  await tlog.checkpointNow();
  let v = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.ok, true, v.text);
  assert.ok(v.body.anchors.lines >= 3, v.text);
  assert.equal(v.body.unsigned, 0);

  const file = stack.config.transferLog.anchors.file;
  const original = readFileSync(file, 'utf8');
  const lines = original.split('\n').filter(Boolean);
  const first = lines.findIndex((l, i) => i > 0 && JSON.parse(l).stream === 'checkpoints' && payload(JSON.parse(l).jws).chain === e!.chain);
  writeFileSync(file, lines.filter((_, i) => i !== first).map((l) => `${l}\n`).join(''));
  v = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v.body.ok, false);
  assert.equal(v.body.brokenAt.reason, 'anchor_missing');
  assert.equal(v.body.brokenAt.chain, e!.chain);
  assert.equal(v.body.brokenAt.seq, 1);
  writeFileSync(file, original);
  assert.equal((await auditor('GET', '/admin/v1/transfers/verify')).body.ok, true, 'control: restored');

  // A Redis writer deletes the whole chain (entries, head, checkpoints, registry): the file still names it.
  await redis.del([tlog.keys.chain(e!.chain).entries, tlog.keys.chain(e!.chain).checkpoints, tlog.keys.registry]);
  await redis.del(tlog.keys.chain(e!.chain).head);
  v = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v.body.ok, false);
  assert.equal(v.body.brokenAt.reason, 'missing');
  assert.equal(v.body.brokenAt.chain, e!.chain);
  // Issue 16: each run's result is on /metrics for alert GatewayTransferLogVerifyFailed: ok, broken, ok, broken.
  const m = parseExposition(await scrapeMetrics(stack));
  assert.deepEqual(['ok', 'broken', 'recipients_drift', 'error'].map((result) => sampleValue(m, 'gateway_transfer_log_verify_total', { result })), [2, 2, 0, 0]);
});

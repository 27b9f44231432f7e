// Issue [1/6] item 7a: the Redis durability check fails closed. A Redis that hides CONFIG (renamed,
// as managed services do) is refused unless transferLog.durabilityAssertedBy vouches for it, and the
// check is repeated every transferLog.durabilityCheckIntervalMs, so a Redis switched to appendfsync
// everysec at run time is refused (503 audit_unavailable, nothing released) without a restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { startTestRedis } from './harness/redis.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { findUser, active } from './harness/users.ts';
import { entryCount } from './harness/transfer-log.ts';

const USERS = 50;
const TERMS = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } };
const ASSERTION = 'ops@example.kz: AOF appendfsync always on the managed instance, ticket OPS-123';
// service_delivery is contract-based: an active user passes every check but the log's.
const user = findUser(USERS, active);

const hidden = await startTestRedis(['--rename-command', 'CONFIG', '']);
after(() => hidden.stop());

async function pullOne(stack: Stack, p: TestPartner) {
  const subject = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(user.id, p.id, 1);
  return partnerGet(stack, await p.token('service_delivery'), `/v1/subjects/${subject}?purpose=service_delivery`);
}

const entries = (stack: Stack) => entryCount(stack.gateway.deps.redis, stack.gateway.deps.transferLog);

test('a Redis that hides CONFIG, with no durabilityAssertedBy: pulls answer 503 audit_unavailable and nothing is logged as released', async () => {
  const stack = await startStack({ users: USERS, redis: hidden });
  try {
    const p = await setupPartner(stack, TERMS);
    const before = await entries(stack);
    const one = await pullOne(stack, p);
    assert.equal(one.status, 503, one.text);
    assert.equal(one.body.code, 'audit_unavailable');
    assert.equal(one.body.data, undefined);
    const page = await partnerGet(stack, await p.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=10');
    assert.equal(page.status, 503, page.text);
    assert.equal(page.body.code, 'audit_unavailable');
    assert.equal(await entries(stack), before, 'no entry, released or not, reached the log');
    assert.match(stack.logs.text(), /hides CONFIG.*transferLog\.durabilityAssertedBy/, 'the refusal names the setting that would lift it');
  } finally {
    await stack.close();
  }
});

test('the same Redis with durabilityAssertedBy set: pulls are released, and the start-up log names the assertion', async () => {
  const stack = await startStack({ users: USERS, redis: hidden, extra: { transferLog: { durabilityAssertedBy: ASSERTION } } });
  try {
    const line = stack.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.setting === 'transferLog.durabilityAssertedBy');
    assert.ok(line, 'a start-up line names the setting');
    assert.equal(line.assertedBy, ASSERTION);
    const p = await setupPartner(stack, TERMS);
    const before = await entries(stack);
    const one = await pullOne(stack, p);
    assert.equal(one.status, 200, one.text);
    assert.ok(one.body.data.phone);
    assert.equal(await entries(stack), before + 1);
  } finally {
    await stack.close();
  }
});

test('appendfsync switched to everysec while the gateway runs: refused within the check interval; allowed again once restored', async () => {
  const stack = await startStack({ users: USERS, extra: { transferLog: { durabilityCheckIntervalMs: 200 } } });
  const redis = stack.gateway.deps.redis;
  try {
    const p = await setupPartner(stack, TERMS);
    assert.equal((await pullOne(stack, p)).status, 200, 'durable at first');
    await redis.configSet('appendfsync', 'everysec');
    // Without the periodic check the first (passed) check would stand for the chain's life: never 503.
    let last = { status: 0, body: null as any, text: '' };
    await waitFor(async () => (last = await pullOne(stack, p)).status === 503, 10_000, 50);
    assert.equal(last.body.code, 'audit_unavailable', last.text);
    const before = await entries(stack);
    assert.equal((await pullOne(stack, p)).status, 503, 'stays refused while everysec');
    assert.equal(await entries(stack), before, 'nothing written while refused');
    assert.match(stack.logs.text(), /appendfsync everysec/);
    await redis.configSet('appendfsync', 'always');
    const back = await pullOne(stack, p);
    assert.equal(back.status, 200, back.text);
  } finally {
    await redis.configSet('appendfsync', 'always').catch(() => undefined);
    await stack.close();
  }
});

// Issue 5 "Fail closed", must-show 4: when the append cannot be made durable (Redis killed, or
// hanging past the command timeout) the caller gets Problem 503 `audit_unavailable`; afterwards
// the writer continues on a fresh chain and the log still verifies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { logFixture, released, until, entryCount } from './harness/transfer-log.ts';
import { Problem } from '../src/http/problem.ts';

const fx = await logFixture();
after(() => fx.close());

const is503 = (e: unknown) => e instanceof Problem && e.status === 503 && e.code === 'audit_unavailable';

test('Redis killed: appends fail with 503 audit_unavailable; after restart a new chain continues and verify is ok', async () => {
  const log = await fx.newLog();
  const first = await log.append(released());
  await fx.redis.kill();
  const started = Date.now();
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => log.append(released())));
  assert.ok(results.every((r) => r.status === 'rejected' && is503(r.reason)), 'every concurrent append failed closed');
  assert.ok(Date.now() - started < 3000, 'fails fast, not after a long queue');

  await fx.redis.restart();
  const r = await fx.client();
  const next = await (async () => {
    for (;;) {
      try { return await log.append(released()); } catch (e) { assert.ok(is503(e)); await new Promise((res) => setTimeout(res, 100)); }
    }
  })();
  assert.notEqual(next.chain, first.chain, 'a failed batch ends the chain');
  assert.equal(next.seq, 1);
  await log.checkpointNow();
  const v = await log.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.equal(v.entries, await entryCount(r, log));
});

test('Redis hanging past the command timeout: 503, and the log verifies once it resumes', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog({ timeoutMs: 300 });
  await log.append(released());
  const pid = fx.redis.process.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    const settledAt: number[] = [];
    const results = await Promise.allSettled(Array.from({ length: 1500 }, () => log.append(released()).finally(() => settledAt.push(performance.now()))));
    assert.ok(results.every((r) => r.status === 'rejected' && is503(r.reason)));
    // 3 batches' worth: the queue behind the stuck batch fails with it, not one timeout per batch.
    // Judged by how far apart the failures land (one timeout per batch would spread them over 3 x
    // 300 ms), not by wall time from the start, which a loaded CI machine stretches.
    const spread = Math.max(...settledAt) - Math.min(...settledAt);
    assert.ok(spread < 300, `all failed together, not one timeout per batch (spread ${Math.round(spread)} ms)`);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await until(async () => (await log.append(released()).then(() => true, () => false)));
  await log.checkpointNow();
  const v = await log.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.ok(v.chains >= 2);
});

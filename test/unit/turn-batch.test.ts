// Group commit for hot-path Redis calls (src/redis/turn-batch.ts). With `oneInFlight`, callers that
// arrive while a key's call is in flight gather into one next call (issue 17 item 3: the deletion
// schedule made 3 to 4 calls for each of the transfer log's); a failure rejects exactly its group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { TurnBatch } from '../../src/redis/turn-batch.ts';

function recorder() {
  const calls: Array<{ key: string; items: number[]; done(fail?: boolean): void }> = [];
  const run = (key: string, items: number[]) => new Promise<number[]>((resolve, reject) => {
    calls.push({ key, items, done: (fail) => (fail ? reject(new Error('redis down')) : resolve(items.map((i) => i * 10))) });
  });
  return { calls, run };
}

test('one call in flight per key: what arrives meanwhile goes in one next call, in order, and each caller gets its own answer', async () => {
  const { calls, run } = recorder();
  const b = new TurnBatch<number, number>(run, { oneInFlight: true });
  const first = [b.add('k', 1), b.add('k', 2)];
  await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1, 2]]);
  // Three turns of callers while the first call is in flight: no call yet.
  const later: Promise<number>[] = [];
  for (const n of [3, 4, 5]) { later.push(b.add('k', n)); await turn(); }
  const other = b.add('other', 9); // another key is not held back
  await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1, 2], [9]]);
  calls[0]!.done();
  assert.deepEqual(await Promise.all(first), [10, 20]);
  await turn(); await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1, 2], [9], [3, 4, 5]]);
  calls[1]!.done(); calls[2]!.done();
  assert.deepEqual([await other, ...(await Promise.all(later))], [90, 30, 40, 50]);
});

test('a failed call rejects its own callers only; the group gathered behind it still runs', async () => {
  const { calls, run } = recorder();
  const b = new TurnBatch<number, number>(run, { oneInFlight: true });
  const failing = b.add('k', 1);
  await turn();
  const next = b.add('k', 2);
  await turn();
  calls[0]!.done(true);
  await assert.rejects(failing, /redis down/);
  await turn(); await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1], [2]]);
  calls[1]!.done();
  assert.equal(await next, 20);
});

test('maxSize still splits between callers, never within one; groups of a key go one after another', async () => {
  const { calls, run } = recorder();
  const b = new TurnBatch<number, number>(run, { oneInFlight: true, maxSize: 2 });
  const all = [b.add('k', 1), b.add('k', 2), b.add('k', 3)];
  await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1, 2]]);
  calls[0]!.done();
  await turn(); await turn();
  assert.deepEqual(calls.map((c) => c.items), [[1, 2], [3]]);
  calls[1]!.done();
  assert.deepEqual(await Promise.all(all), [10, 20, 30]);
});

test('without oneInFlight every turn sends its groups at once, as before', async () => {
  const { calls, run } = recorder();
  const b = new TurnBatch<number, number>(run);
  const a = b.add('k', 1);
  await turn();
  const c = b.add('k', 2);
  await turn();
  assert.deepEqual(calls.map((x) => x.items), [[1], [2]]);
  calls.forEach((x) => x.done());
  assert.deepEqual([await a, await c], [10, 20]);
});

// Issue [6/6] item 2: the transfer log shards by chain. Every per-entry key lives under its chain's
// own hash tag (so chains spread over cluster slots and an append stays single-slot); the global
// `{tlog}` part holds only what is written once per chain or off the append path; readers fan out
// over chains; a batch that does not continue its chain's head is refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released, denied } from './harness/transfer-log.ts';
import { runAppend } from '../src/transfer-log/append-script.ts';

const fx = await logFixture();
after(() => fx.close());

const tagOf = (key: string) => /^\{([^}]*)\}/.exec(key)?.[1] ?? null;

test('each chain\'s entries, head, checkpoints, subject index and recipients share the chain\'s own hash tag; {tlog} holds only the chain set and the registry', async () => {
  const r = await fx.client();
  await r.flushAll();
  const a = await fx.newLog();
  const b = await fx.newLog();
  await Promise.all([
    a.appendMany(Array.from({ length: 10 }, (_, i) => released({ userId: `u_shard_${i}` }))),
    b.appendMany(Array.from({ length: 10 }, (_, i) => released({ userId: `u_shard_${i}` }))),
    a.append(denied({ userId: 'u_shard_denied', reason: 'consent_required' })),
  ]);
  await Promise.all([a.checkpointNow(), b.checkpointNow()]);
  const keys: string[] = [];
  for await (const batch of r.scanIterator({ COUNT: 1000 })) keys.push(...(batch as unknown as string[]));
  const tags = new Map<string, string[]>();
  for (const k of keys) tags.set(tagOf(k) ?? '(none)', [...(tags.get(tagOf(k) ?? '(none)') ?? []), k]);
  assert.deepEqual([...tags.keys()].sort(), ['tlog', `tlog:${a.writer.chain}`, `tlog:${b.writer.chain}`].sort(), 'two chains, two tags, and the global one');
  assert.deepEqual(tags.get('tlog')!.sort(), ['{tlog}:chains', '{tlog}:registry'], 'nothing per entry in the global slot');
  for (const log of [a, b]) {
    const own = tags.get(`tlog:${log.writer.chain}`)!;
    const ck = log.keys.chain(log.writer.chain);
    for (const k of [ck.entries, ck.head, ck.checkpoints]) assert.ok(own.includes(k), k);
    assert.equal(own.filter((k) => k.startsWith(ck.recipients(''))).length, 10, 'a recipients record per subject released on this chain');
    assert.ok(own.filter((k) => k.startsWith(ck.bySubject(''))).length >= 10, 'a subject index per subject on this chain');
  }
  // Readers fan out: the same user's recipients from both chains add up, and verify covers both.
  assert.equal((await a.recipients('u_shard_3')).items[0]?.count, 2);
  const v = await a.verify();
  assert.deepEqual([v.ok, v.chains, v.entries], [true, 2, 21]);
});

test('a batch that does not continue its chain\'s head is refused, and the writer goes on on a new chain', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  const first = await log.append(released());
  // Someone else moved the head (a second writer on the same chain, or a closed chain): refused in Redis.
  await r.set(log.keys.chain(first.chain).head, `7:${'ab'.repeat(32)}`);
  await assert.rejects(log.append(released()), (e: { code?: string }) => e.code === 'audit_unavailable');
  assert.equal(await r.xLen(log.keys.chain(first.chain).entries), 1, 'nothing of the refused batch was stored');
  await assert.rejects(runAppend(r, log.keys.chain(first.chain), [{ ...first, seq: 2, prevHash: first.hash }], 'x'), /TLOGHEAD/);
  const next = await log.append(released());
  assert.notEqual(next.chain, first.chain);
  assert.equal(next.seq, 1);
});

test('follow delivers every chain\'s entries, each chain from its own position', async () => {
  const r = await fx.client();
  await r.flushAll();
  const a = await fx.newLog();
  const b = await fx.newLog();
  await a.append(released());
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of a.query.follow({}, null, { signal: ac.signal, pollMs: 20 })) {
      seen.push(e.entry.id);
      if (seen.length === 4) ac.abort();
    }
  })();
  await sleep(50);
  const want = [await b.append(released()), await a.append(released()), await b.append(released()), await a.append(released())];
  await done;
  assert.deepEqual(new Set(seen), new Set(want.map((e) => e.id)));
});

test('Redis memory per subject: a subject released once on a chain costs its index and recipients record well under 1 KB (a stream per subject cost 4.7 KB)', async () => {
  // Issue 17 item 3 (sizing): every subject a chain releases gets an index key and a recipients
  // record. Redis preallocates 4 KB for a new stream's first node, so a stream per subject made a
  // 100,000-user bulk pull cost about 470 MB of Redis memory for its index alone.
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  const [e] = await log.appendMany(Array.from({ length: 50 }, (_, i) => released({ userId: `u_mem_${i}` })));
  const ck = log.keys.chain(e!.chain);
  const index = await r.memoryUsage(ck.bySubject(e!.subjectRef!));
  const record = await r.memoryUsage(ck.recipients(e!.subjectRef!));
  assert.ok(index !== null && index > 0, 'the subject index exists');
  assert.ok(index! + record! < 1024, `index ${index} + recipients ${record} bytes for one subject`);
  // And it is still the subject's index: a query by subject finds the entry through it.
  const page = await log.query.page({ subject: 'u_mem_0' }, { limit: 10 });
  assert.deepEqual(page.items.map((x) => x.id), [e!.id]);
});

// Issue 5 "Append": durable before it returns, batched under concurrency, one gap-free chain per
// writer; must-show 1 (1,000 concurrent appends from two writers).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { logFixture, released, denied, entryRows, entryCount } from './harness/transfer-log.ts';
import { Problem } from '../src/http/problem.ts';
import { InvalidEntry } from '../src/transfer-log/index.ts';

const fx = await logFixture();
after(() => fx.close());
const reset = async () => (await fx.client()).flushAll();

test('1,000 concurrent appends from two writers: each entry once, each chain gap-free, verify ok', async () => {
  await reset();
  const a = await fx.newLog();
  const b = await fx.newLog();
  const stored = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).append(released())));
  assert.equal(new Set(stored.map((e) => e.id)).size, 1000);
  assert.notEqual(a.writer.chain, b.writer.chain);

  const r = await fx.client();
  const rows = await entryRows(r, a);
  assert.equal(rows.length, 1000, 'every entry present once');
  const inRedis = rows.map((m) => JSON.parse(m.message.e!) as { id: string; chain: string; seq: number });
  assert.deepEqual(new Set(inRedis.map((e) => e.id)), new Set(stored.map((e) => e.id)));
  for (const chain of [a.writer.chain, b.writer.chain]) {
    const seqs = inRedis.filter((e) => e.chain === chain).map((e) => e.seq);
    assert.deepEqual(seqs, Array.from({ length: 500 }, (_, i) => i + 1), `chain ${chain} is 1..500 in stream order`);
  }
  // Batched, not serialised: 500 appends each took far fewer round trips than entries.
  assert.ok(a.writer.stats.batches <= 10 && b.writer.stats.batches <= 10, JSON.stringify([a.writer.stats, b.writer.stats]));

  await Promise.all([a.checkpointNow(), b.checkpointNow()]);
  const { recipients, ...v } = await a.verify();
  // Issue [3/6]: one signed checkpoint per batch (each writer's batches), a registry statement per writer.
  const { checkpoints, anchors, ...rest } = v;
  assert.deepEqual(rest, { ok: true, entries: 1000, chains: 2, unsigned: 0, registry: 2 });
  assert.equal(checkpoints, a.writer.stats.batches + b.writer.stats.batches);
  assert.equal(anchors?.pending, 0);
  assert.equal(recipients?.driftCount, 0, 'the recipients index kept by both writers matches the entries');
});

test('an append that returned survives a crash of Redis right after (AOF, fsync always)', async () => {
  await reset();
  const log = await fx.newLog();
  const e = await log.append(released());
  await fx.redis.kill(); // SIGKILL: no shutdown save, only what was fsynced remains
  await fx.redis.restart();
  const r = await fx.client();
  const rows = await entryRows(r, log);
  assert.deepEqual(rows.map((m) => JSON.parse(m.message.e!).id), [e.id]);
});

test('with replicas configured, an append that no replica acknowledges fails closed', async () => {
  await reset();
  const log = await fx.newLog({ transferLog: { replicas: 1, waitTimeoutMs: 200 } });
  const err = await log.append(released()).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof Problem, String(err));
  assert.equal(err.status, 503);
  assert.equal(err.code, 'audit_unavailable');
  const control = await fx.newLog({ transferLog: { replicas: 0 } });
  await control.append(released());
});

test('a Redis without appendfsync always is refused: appends fail closed', async () => {
  await reset();
  const r = await fx.client();
  await r.configSet('appendfsync', 'everysec');
  try {
    const log = await fx.newLog();
    await assert.rejects(log.append(released()), (e: Problem) => e.code === 'audit_unavailable');
    assert.equal(await entryCount(r, log), 0);
  } finally {
    await r.configSet('appendfsync', 'always');
  }
  const log = await fx.newLog();
  await log.append(released());
});

test('an entry missing a field is rejected before anything is written (RULES 48)', async () => {
  await reset();
  const log = await fx.newLog();
  const bad = released();
  delete (bad as Partial<typeof bad>).deleteBy;
  await assert.rejects(log.append(bad), (e: Error) => e instanceof InvalidEntry && /deleteBy/.test(e.message));
  await assert.rejects(log.append(released({ tls: { protocol: 'TLSv1.1', cipher: 'AES128-SHA', clientCertThumbprint: null } })), InvalidEntry);
  await assert.rejects(log.append(denied({ reason: null })), InvalidEntry);
  await assert.rejects(log.appendMany([released(), released({ purpose: 'spying' as never })]), InvalidEntry);
  // Checked by plain code since issue 17 (it was a zod schema): the same strictness.
  const rejects = async (input: unknown, field: RegExp) => assert.rejects(log.append(input as never), (e: Error) => e instanceof InvalidEntry && field.test(e.message));
  await rejects({ ...released(), email: 'x' }, /email is not a field/);
  await rejects(released({ tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null, peer: 'x' } as never }), /tls\.peer/);
  await rejects(released({ legalEntity: null }), /legalEntity/);
  await rejects(released({ deleteBy: '2030-02-30T00:00:00Z' }), /deleteBy/);
  await rejects(released({ deleteBy: '2030-01-01T00:00Z' }), /deleteBy/);
  await rejects(released({ destinationCountries: ['XX'] }), /destinationCountries/);
  await rejects(released({ legalBasis: 'consent', consent: null }), /consent/);
  await rejects(released({ crossBorderBasis: 'adequacy', adequacyListVersion: null }), /adequacyListVersion/);
  await rejects(denied({ reason: 'Not A Code' }), /reason/);
  assert.equal(await entryCount(await fx.client(), log), 0);
  // ...and what a denial may leave open, it may.
  await log.append(denied({ partnerId: null, agreementId: null, agreementVersion: null, purpose: null, userId: null, legalBasis: null, crossBorderBasis: null, policyVersion: null, deleteBy: null, legalEntity: null, tls: { protocol: null, cipher: null, clientCertThumbprint: null } }));
});

test('appendMany stores a bulk pull in order on one chain; a denial without subject or partner is logged', async () => {
  await reset();
  const log = await fx.newLog({ transferLog: { maxBatch: 7 } });
  const many = await log.appendMany(Array.from({ length: 20 }, () => released()));
  assert.deepEqual(many.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(log.writer.stats.batches, 3);
  const d = await log.append(denied({ partnerId: null, agreementId: null, agreementVersion: null, userId: null, reason: 'invalid_token' }));
  assert.equal(d.subjectRef, null);
  assert.equal(d.seq, 21);
  assert.equal((await log.verify()).ok, true);
});

test('verify runs clean while two writers keep appending (no false alarm from live entries)', async () => {
  await reset();
  const a = await fx.newLog({ transferLog: { checkpointEvery: 50 } });
  const b = await fx.newLog({ transferLog: { checkpointEvery: 50 } });
  let stop = false;
  const writing = Promise.all([a, b].map(async (log) => { while (!stop) await log.appendMany(Array.from({ length: 20 }, () => released())); }));
  try {
    for (let i = 0; i < 10; i++) {
      const v = await a.verify();
      assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
    }
  } finally {
    stop = true;
    await writing;
  }
  assert.ok((await a.verify()).entries > 200);
});

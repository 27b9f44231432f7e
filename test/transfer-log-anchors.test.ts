// Issue [3/6] items 1-3, must-show: a Redis-writing attacker (a second real client editing keys
// directly) cuts a chain's tail, deletes a whole chain, or puts an older valid checkpoint in place
// of a newer one; a line of the anchors file is deleted; the anchors file cannot be written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logFixture, released, entryCount } from './harness/transfer-log.ts';
import { tmp } from './harness/certs.ts';
import { verifyLog } from '../src/transfer-log/verify.ts';
import { AnchorFile } from '../src/transfer-log/anchor-file.ts';
import type { TransferEntry } from '../src/transfer-log/entry.ts';
import type { TransferLog } from '../src/transfer-log/index.ts';
import type { Redis } from '../src/deps.ts';

const fx = await logFixture();
after(() => fx.close());

const payload = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

/** 30 entries on one chain in three signed batches, a registry statement after each; anchored to `anchors`. */
async function seeded() {
  const r = await fx.client();
  await r.flushAll();
  const anchors = join(tmp('anchors'), 'anchors.jsonl');
  const log = await fx.newLog({ anchorsFile: anchors });
  for (let i = 0; i < 3; i++) {
    await log.appendMany(Array.from({ length: 10 }, () => released()));
    await log.checkpointNow();
  }
  const entries = async () => ((await r.xRange(log.keys.chain(log.writer.chain).entries, '-', '+')) ?? []).map((m) => ({ id: m.id, e: JSON.parse(m.message.e!) as TransferEntry }));
  const checkpoints = async () => ((await r.xRange(log.keys.chain(log.writer.chain).checkpoints, '-', '+')) ?? []).map((m) => ({ id: m.id, jws: m.message.jws!, p: payload(m.message.jws!) }));
  const chain = (await entries())[0]!.e.chain;
  const v = await log.verify();
  assert.equal(v.ok, true, 'control: intact');
  assert.deepEqual({ unsigned: v.unsigned, registry: v.registry, anchors: v.anchors }, { unsigned: 0, registry: 3, anchors: { lines: 6, pending: 0 } });
  /** Verify from Redis alone (no anchors file), as `log verify` without --anchors. */
  const redisOnly = () => verifyLog(r, log.keys, log.jwks);
  return { log, r, anchors, entries, checkpoints, chain, redisOnly };
}

async function cutTail(r: Redis, log: TransferLog, s: Awaited<ReturnType<typeof seeded>>, keep: number) {
  const all = await s.entries();
  await r.xDel(log.keys.chain(s.chain).entries, all.slice(keep).map((x) => x.id));
  await r.set(log.keys.chain(s.chain).head, `${keep}:${all[keep - 1]!.e.hash}`);
  // ... and the batch checkpoints that covered the cut entries, so no checkpoint names them.
  for (const cp of await s.checkpoints()) if (cp.p.seq > keep) await r.xDel(log.keys.chain(s.chain).checkpoints, cp.id);
}

test('tail truncation plus head reset (and its checkpoint removed): verify ok:false naming the chain', async () => {
  const s = await seeded();
  await cutTail(s.r, s.log, s, 20);
  const v = await s.log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.chain, s.chain);
  // Redis alone: the signed registry still says the chain reached seq 30.
  const o = await s.redisOnly();
  assert.equal(o.ok, false);
  assert.equal(o.brokenAt?.chain, s.chain);
  assert.equal(o.brokenAt?.reason, 'missing');
  assert.equal(o.brokenAt?.seq, 21);
});

test('tail truncation with the registry rewound too: the anchors file names the chain and seq', async () => {
  const s = await seeded();
  await cutTail(s.r, s.log, s, 20);
  const reg = ((await s.r.xRange(s.log.keys.registry, '-', '+')) ?? []);
  await s.r.xDel(s.log.keys.registry, reg[2]!.id); // the statement that named seq 30
  // Chains, checkpoints and registry now agree; only the recipients index still remembers the cut
  // entries, and whoever writes Redis can recompute it as well (here with the gateway's own repair).
  const cut = await s.redisOnly();
  assert.equal(cut.brokenAt, undefined, 'chains, checkpoints and registry are consistent');
  assert.equal(cut.recipients?.ok, false, 'the recipients index still names the cut entries');
  // The attacker empties the index and has it recomputed from what is left.
  for (const d of cut.recipients!.drift) await s.r.del(s.log.keys.chain(s.chain).recipients(d.subjectRef));
  await verifyLog(s.r, s.log.keys, s.log.jwks, { repairRecipients: true });
  const o = await s.redisOnly();
  assert.equal(o.ok, true, 'Redis alone cannot see this (a consistent older state): why the anchors exist ' + JSON.stringify(o.recipients ?? o.brokenAt).slice(0, 600));
  const v = await s.log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'missing');
  assert.equal(v.brokenAt?.chain, s.chain);
  assert.equal(v.brokenAt?.seq, 30);
});

test('whole-chain deletion (entries, head and checkpoints): verify ok:false naming the chain', async () => {
  const s = await seeded();
  await s.r.del([s.log.keys.chain(s.chain).entries, s.log.keys.chain(s.chain).checkpoints]);
  await s.r.del(s.log.keys.chain(s.chain).head);
  const o = await s.redisOnly();
  assert.equal(o.ok, false);
  assert.equal(o.brokenAt?.chain, s.chain);
  assert.equal(o.brokenAt?.reason, 'missing');
  assert.equal(o.brokenAt?.seq, 1);
  const v = await s.log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.chain, s.chain);
});

test('a checkpoint replaced by an older valid one: verify ok:false naming the chain and seq', async () => {
  const s = await seeded();
  const cps = await s.checkpoints();
  await s.r.xDel(s.log.keys.chain(s.chain).checkpoints, cps[2]!.id);
  await s.r.xAdd(s.log.keys.chain(s.chain).checkpoints, '*', { jws: cps[0]!.jws }); // genuine, signed, older
  const o = await s.redisOnly();
  assert.equal(o.ok, false);
  assert.equal(o.brokenAt?.reason, 'checkpoint_chain_break');
  assert.equal(o.brokenAt?.chain, s.chain);
  assert.equal(o.brokenAt?.seq, 21);
  assert.equal((await s.log.verify()).ok, false);
});

test('a deleted anchors file line: verify ok:false naming the chain and seq', async () => {
  const s = await seeded();
  const lines = readFileSync(s.anchors, 'utf8').split('\n').filter(Boolean);
  const i = lines.findIndex((l) => JSON.parse(l).stream === 'checkpoints' && payload(JSON.parse(l).jws).seq === 20);
  assert.ok(i > 0);
  writeFileSync(s.anchors, [...lines.slice(0, i), ...lines.slice(i + 1)].map((l) => `${l}\n`).join(''));
  const v = await s.log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'anchor_missing');
  assert.equal(v.brokenAt?.chain, s.chain);
  assert.equal(v.brokenAt?.seq, 11);
  assert.equal((await s.redisOnly()).ok, true, 'control: Redis itself is intact');

  // The newest line (a registry statement) deleted instead: its statement is still in Redis.
  writeFileSync(s.anchors, lines.slice(0, -1).map((l) => `${l}\n`).join(''));
  const w = await verifyLog(s.r, s.log.keys, s.log.jwks, { anchorsFile: s.anchors, anchorGraceMs: 0 });
  assert.equal(w.ok, false);
  assert.equal(w.brokenAt?.reason, 'anchor_missing');
});

test('every batch is signed and anchored before the append resolves: 0 unsigned, no periodic checkpoint needed', async () => {
  const s = await seeded();
  const e = await s.log.append(released());
  const lines = readFileSync(s.anchors, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const covering = lines.filter((l) => l.stream === 'checkpoints').map((l) => payload(l.jws)).find((p) => p.chain === e.chain && p.first <= e.seq && p.seq >= e.seq);
  assert.ok(covering, 'the released entry is covered by an anchored batch checkpoint');
  assert.equal(covering.hash, e.hash);
  assert.equal((await s.log.verify()).unsigned, 0);
});

test('an anchors file that cannot be written: append fails with 503 audit_unavailable and nothing is stored', async () => {
  const r = await fx.client();
  await r.flushAll();
  // A path whose parent is a regular file: ENOTDIR, even for root.
  const parent = join(tmp('anchors'), 'not-a-dir');
  writeFileSync(parent, 'x');
  const log = await fx.newLog({ anchorsFile: join(parent, 'anchors.jsonl') });
  await assert.rejects(log.append(released()), (e: any) => e.status === 503 && e.code === 'audit_unavailable');
  assert.equal(await entryCount(r, log), 0, 'nothing stored, so nothing can be released');
});

test('a batch stored but not anchored is not released; its chain ends, the next append starts a new one, and verify says which line is missing', async () => {
  const r = await fx.client();
  await r.flushAll();
  const path = join(tmp('anchors'), 'anchors.jsonl');
  // The real file sink, made to fail its next write after the batch is in Redis (a disk that
  // fills up between the two): the only fault here that a root test process can cause on demand.
  const file = new AnchorFile(path);
  let failNext = false;
  const sink = {
    sinkId: () => file.sinkId(),
    append: (lines: Parameters<AnchorFile['append']>[0]) => (failNext ? (failNext = false, Promise.reject(new Error('ENOSPC'))) : file.append(lines)),
    close: () => file.close(),
  };
  const log = await fx.newLog({ anchorsFile: path, anchors: sink });
  const a = await log.append(released());
  failNext = true;
  await assert.rejects(log.append(released()), (e: any) => e.status === 503 && e.code === 'audit_unavailable');
  const c = await log.append(released());
  assert.notEqual(c.chain, a.chain, 'a new chain');
  assert.equal(c.seq, 1);
  assert.equal(await entryCount(r, log), 3, 'the refused batch is in Redis (never released)');
  const v = await log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'anchor_missing');
  assert.equal(v.brokenAt?.chain, a.chain);
  assert.equal(v.brokenAt?.seq, 2);
});

test('an emptied anchors file is no way out: verify ok:false', async () => {
  const s = await seeded();
  writeFileSync(s.anchors, '');
  const v = await s.log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'anchor_missing');
});

// Issue 5 "Integrity" and "Verify", must-show 2 and 3: tampering done directly in Redis (change,
// delete, insert, swap, truncate) and forged checkpoints each fail verification, naming the entry.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import jose from 'node-jose';
import { logFixture, released } from './harness/transfer-log.ts';
import { newSigningJwk } from '../src/keys/files.ts';
import { entryHash, type TransferEntry } from '../src/transfer-log/entry.ts';
import type { TransferLog } from '../src/transfer-log/index.ts';
import type { Redis } from '../src/deps.ts';

const fx = await logFixture();
after(() => fx.close());

interface Row { id: string; e: TransferEntry }

/** 30 entries on one chain, checkpoints at 10, 20, 30. */
async function seeded(): Promise<{ log: TransferLog; r: Redis; rows: () => Promise<Row[]> }> {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog({ transferLog: { checkpointEvery: 10 } });
  for (let i = 0; i < 3; i++) {
    await log.appendMany(Array.from({ length: 10 }, () => released()));
    await log.checkpointNow();
  }
  const rows = async () => ((await r.xRange(log.keys.chain(log.writer.chain).entries, '-', '+')) ?? []).map((m) => ({ id: m.id, e: JSON.parse(m.message.e!) as TransferEntry }));
  const { recipients, ...control } = await log.verify();
  assert.deepEqual(control, { ok: true, entries: 30, chains: 1, checkpoints: 3, unsigned: 0, registry: 3, anchors: { lines: 6, pending: 0 } }, 'control: intact');
  assert.equal(recipients?.driftCount, 0, 'control: the recipients index matches the entries');
  return { log, r, rows };
}

/** Rewrite the whole stream, as someone with write access to Redis could. */
async function rewrite(r: Redis, key: string, rows: Array<{ id: string; e: unknown }>, keepIds = true) {
  await r.del(key);
  for (const row of rows) await r.xAdd(key, keepIds ? row.id : '*', { e: JSON.stringify(row.e) });
}

test('a changed field fails verification naming that entry', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  all[11]!.e.partnerId = 'p_other';
  await rewrite(r, log.keys.chain(log.writer.chain).entries, all);
  const v = await log.verify();
  assert.equal(v.ok, false);
  assert.deepEqual(v.brokenAt, { reason: 'hash_mismatch', seq: 12, chain: all[11]!.e.chain, streamId: all[11]!.id, id: all[11]!.e.id,
    detail: 'entry seq 12 does not match its hash (modified)' });
});

test('a change with every later hash recomputed is caught by the next signed checkpoint', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  all[11]!.e.decision = 'denied';
  for (let i = 11; i < all.length; i++) {
    all[i]!.e.prevHash = all[i - 1]!.e.hash;
    all[i]!.e.hash = entryHash(all[i]!.e);
  }
  await rewrite(r, log.keys.chain(log.writer.chain).entries, all);
  await r.set(log.keys.chain(all[0]!.e.chain).head, `30:${all[29]!.e.hash}`);
  const v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'checkpoint_mismatch');
  assert.equal(v.brokenAt?.seq, 20);
  assert.equal(v.brokenAt?.id, all[19]!.e.id);
});

test('a deleted entry fails verification naming the missing seq and where the gap is', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  await r.xDel(log.keys.chain(log.writer.chain).entries, all[11]!.id);
  const v = await log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'sequence_break');
  assert.equal(v.brokenAt?.seq, 12);
  assert.equal(v.brokenAt?.streamId, all[12]!.id, 'found seq 13 where 12 should be');
});

test('two swapped entries fail verification naming the first position', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  const swapped = all.map((row) => ({ ...row }));
  [swapped[11]!.e, swapped[12]!.e] = [all[12]!.e, all[11]!.e];
  await rewrite(r, log.keys.chain(log.writer.chain).entries, swapped);
  const v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'sequence_break');
  assert.equal(v.brokenAt?.seq, 12);
  assert.equal(v.brokenAt?.streamId, all[11]!.id);
  assert.equal(v.brokenAt?.id, all[12]!.e.id, 'seq 13 sits where seq 12 should be');
});

test('an inserted entry (a replayed copy, or a forged one) fails verification naming it', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  await rewrite(r, log.keys.chain(log.writer.chain).entries, [...all.slice(0, 12), { id: '', e: all[4]!.e }, ...all.slice(12)], false);
  let v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'sequence_break');
  assert.equal(v.brokenAt?.seq, 13);
  assert.equal(v.brokenAt?.id, all[4]!.e.id, 'the replayed seq 5 sits where 13 should be');

  const forged = { ...all[12]!.e, id: 'f0f0f0f0-0000-4000-8000-000000000000' };
  await rewrite(r, log.keys.chain(log.writer.chain).entries, [...all.slice(0, 12), { id: '', e: forged }, ...all.slice(12)], false);
  v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'hash_mismatch');
  assert.equal(v.brokenAt?.id, forged.id);
});

test('an entry appended past the chain head with a valid hash is caught as inserted', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  const last = all[29]!.e;
  const forged = { ...last, id: 'f1f1f1f1-0000-4000-8000-000000000000', seq: 31, prevHash: last.hash } as TransferEntry;
  forged.hash = entryHash(forged);
  await r.xAdd(log.keys.chain(log.writer.chain).entries, '*', { e: JSON.stringify(forged) });
  const v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'head_mismatch');
  assert.equal(v.brokenAt?.seq, 31);
});

test('a removed tail fails verification (the recorded head and checkpoint reach further)', async () => {
  const { log, r, rows } = await seeded();
  const all = await rows();
  await r.xDel(log.keys.chain(log.writer.chain).entries, [all[28]!.id, all[29]!.id]);
  const v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'missing');
  assert.equal(v.brokenAt?.seq, 29);
});

async function forge(jwk: object & { kid: string }, payload: object): Promise<string> {
  const key = await jose.JWK.asKey(jwk, 'json');
  return (await jose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: jwk.kid } }, key).update(JSON.stringify(payload)).final()) as unknown as string;
}

test('a checkpoint signed with another key fails verification, with its own kid or the gateway\'s', async () => {
  for (const kid of ['own', 'gateway'] as const) {
    const { log, r, rows } = await seeded();
    const all = await rows();
    const other = newSigningJwk();
    const jwk = kid === 'own' ? other : { ...other, kid: fx.keys.signingJwk.kid };
    const body = { typ: 'tlog-checkpoint', kind: 'trim', chain: all[0]!.e.chain, seq: 30, hash: all[29]!.e.hash, at: new Date().toISOString() };
    const id = await r.xAdd(log.keys.chain(log.writer.chain).checkpoints, '*', { jws: await forge(jwk, body) });
    const v = await log.verify();
    assert.equal(v.ok, false, kid);
    assert.equal(v.brokenAt?.reason, 'checkpoint_invalid');
    assert.equal(v.brokenAt?.checkpoint, id);
  }
});

test('a genuine checkpoint with its payload edited fails verification', async () => {
  const { log, r } = await seeded();
  const [cp] = ((await r.xRange(log.keys.chain(log.writer.chain).checkpoints, '-', '+', { COUNT: 1 })) ?? []);
  const [h, p, s] = cp!.message.jws!.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  payload.seq = 9;
  await r.del(log.keys.chain(log.writer.chain).checkpoints);
  await r.xAdd(log.keys.chain(log.writer.chain).checkpoints, cp!.id, { jws: `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}` });
  const v = await log.verify();
  assert.equal(v.brokenAt?.reason, 'checkpoint_invalid');
});

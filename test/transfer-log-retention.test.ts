// Issue 5 "Retention" (RULES 49): entries older than the retention period are trimmed after a
// signed trim checkpoint, so verification still passes; a range that does not verify is never trimmed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released, until } from './harness/transfer-log.ts';
import { createLogger } from '../src/log.ts';
import { checkpointSigner } from '../src/transfer-log/checkpoint.ts';
import { publicJwks } from '../src/transfer-log/jwks.ts';
import { logKeys } from '../src/transfer-log/keys.ts';
import { retentionDays, scheduleRetention } from '../src/transfer-log/retention.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

const fx = await logFixture();
after(() => fx.close());
const DAY = 86_400_000;

async function pause(): Promise<number> {
  await sleep(15);
  const t = Date.now();
  await sleep(15);
  return t;
}

test('trim removes old entries after a signed trim checkpoint; verify passes; indexes and recipients follow', async () => {
  const r = await fx.client();
  await r.flushAll();
  const a = await fx.newLog();
  const b = await fx.newLog();
  const oldOnly = await a.append(released({ userId: 'u_old_only' }));
  await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? a : b).append(released({ userId: 'u_both' }))));
  const cutoff = await pause();
  const recent = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).append(released({ userId: 'u_both' }))));
  await Promise.all([a.checkpointNow(), b.checkpointNow()]);

  assert.deepEqual(await a.trimBefore(cutoff), { removed: 10, checkpoints: 2 });
  const v = await a.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.equal(v.entries, 10);
  const kinds = [...((await r.xRange(a.keys.chain(a.writer.chain).checkpoints, '-', '+')) ?? []), ...((await r.xRange(a.keys.chain(b.writer.chain).checkpoints, '-', '+')) ?? [])].map((m) => JSON.parse(Buffer.from(m.message.jws!.split('.')[1]!, 'base64url').toString()).kind);
  assert.deepEqual(kinds.filter((k) => k === 'trim').length, 2);

  assert.deepEqual(await a.recipients('u_old_only'), { items: [] }, 'recipients older than the cutoff are forgotten');
  assert.equal((await a.recipients('u_both')).items[0]?.count, 19, 'a partner still receiving keeps its row');
  const page = await a.query.page({ subject: 'u_both' }, { limit: 100 });
  assert.deepEqual(new Set(page.items.map((e) => e.id)), new Set(recent.map((e) => e.id)));
  assert.equal(await r.lLen(a.keys.chain(oldOnly.chain).bySubject(oldOnly.subjectRef!)), 0, 'index lists are trimmed too');

  // Still tamper-evident after the trim: removing the first remaining entry of a chain is caught.
  const first = ((await r.xRange(a.keys.chain(a.writer.chain).entries, '-', '+', { COUNT: 1 })) ?? [])[0]!;
  await r.xDel(a.keys.chain(a.writer.chain).entries, first.id);
  const broken = await a.verify();
  assert.equal(broken.ok, false);
  assert.equal(broken.brokenAt?.reason, 'missing');
});

test('a chain whose trim checkpoint is older than the next cutoff keeps a carried-forward proof', async () => {
  const r = await fx.client();
  await r.flushAll();
  const a = await fx.newLog();
  await a.appendMany(Array.from({ length: 5 }, () => released()));
  const cutoff1 = await pause();
  assert.equal((await a.trimBefore(cutoff1) as { removed: number }).removed, 5);
  const cutoff2 = await pause(); // after the first trim checkpoint was written
  const more = await a.appendMany(Array.from({ length: 5 }, () => released()));
  assert.equal(more[0]!.seq, 6);
  assert.deepEqual(await a.trimBefore(cutoff2), { removed: 0, checkpoints: 1 });
  const v = await a.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.equal(v.entries, 5);
});

test('a range that does not verify is not trimmed (a trim must not launder tampering)', async () => {
  const r = await fx.client();
  await r.flushAll();
  const a = await fx.newLog();
  await a.appendMany(Array.from({ length: 6 }, () => released()));
  const cutoff = await pause();
  await a.append(released());
  const rows = ((await r.xRange(a.keys.chain(a.writer.chain).entries, '-', '+')) ?? []);
  const e = JSON.parse(rows[2]!.message.e!) as TransferEntry;
  e.partnerId = 'p_someone_else';
  await r.del(a.keys.chain(a.writer.chain).entries);
  for (const [i, m] of rows.entries()) await r.xAdd(a.keys.chain(a.writer.chain).entries, m.id, { e: i === 2 ? JSON.stringify(e) : m.message.e! });
  const res = await a.trimBefore(cutoff);
  assert.equal(res.removed, 0);
  assert.match((res as { skipped: string }).skipped, /does not verify/);
  assert.equal(await r.xLen(a.keys.chain(a.writer.chain).entries), 7);
});

test('retention period: transferLogDays, else afterTerminationDays + the longest agreement term, else keep all', async () => {
  const cfg = (transferLogDays: number | null) => ({ retention: { afterTerminationDays: 1095, transferLogDays } });
  assert.equal(await retentionDays({ config: cfg(30) }), 30);
  assert.equal(await retentionDays({ config: cfg(null), longestAgreementTermDays: async () => 365 }), 1460);
  assert.equal(await retentionDays({ config: cfg(null) }), null);
  const log = await fx.newLog();
  assert.match(((await log.runRetention()) as { skipped: string }).skipped, /unknown/);
});

test('the scheduled job trims what is older than the period', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  await log.appendMany(Array.from({ length: 4 }, () => released()));
  const job = scheduleRetention({
    redis: r, keys: logKeys(), jwks: publicJwks(fx.keys.signingJwk), sign: checkpointSigner(fx.keys.signingJwk),
    log: createLogger('silent'), config: { retention: { afterTerminationDays: 1095, transferLogDays: 30 } },
    intervalMs: 50, now: () => Date.now() + 31 * DAY,
  });
  try {
    await until(async () => (await r.xLen(log.keys.chain(log.writer.chain).entries)) === 0, 5000);
  } finally {
    job.stop();
  }
  const v = await log.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.equal(v.entries, 0);
});

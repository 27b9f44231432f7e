// Issue 15 item 5 after a retention trim (RULES 12, 49): verify checks only what the remaining
// entries prove, still catches what they contradict, and rebuild-recipients keeps out of the
// retention job's way.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released } from './harness/transfer-log.ts';
import { rebuildRecipients } from '../src/transfer-log/rebuild-recipients.ts';

const fx = await logFixture();
after(() => fx.close());

test('after a trim: a partly trimmed record passes, what the remaining entries contradict is still drift, and a rebuild repairs it', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  await log.append(released({ userId: 'u_old_only', partnerId: 'p_a' }));
  await log.appendMany(Array.from({ length: 9 }, () => released({ userId: 'u_both', partnerId: 'p_a' })));
  await sleep(15);
  const cutoff = Date.now();
  await sleep(15);
  await log.appendMany(Array.from({ length: 10 }, () => released({ userId: 'u_both', partnerId: 'p_a' })));
  await log.checkpointNow();
  assert.deepEqual(await log.trimBefore(cutoff), { removed: 10, checkpoints: 1 });

  const ok = await log.verify();
  assert.equal(ok.ok, true, JSON.stringify(ok));
  assert.deepEqual([ok.recipients?.trimmed, ok.recipients?.driftCount], [true, 0], 'count 19 over 10 remaining entries is not drift');
  const ref = log.subjectRef('u_both');
  const record = log.keys.chain(log.writer.chain).recipients(ref);

  await r.hSet(record, 'p_a\x1fcount', '5'); // fewer than the 10 releases still in the log
  const low = await log.verify();
  assert.equal(low.ok, false);
  assert.deepEqual(low.recipients?.drift, [{ subjectRef: ref, partnerId: 'p_a', problem: 'count', expected: 10, found: 5 }]);

  // Not checkable after a trim (said in recipients-check.ts): a count above what remains.
  await r.hSet(record, 'p_a\x1fcount', '50');
  assert.equal((await log.verify()).ok, true);

  // A partner with a release newer than the oldest remaining entry must have entries to show for it.
  await r.hSet(record, { 'p_forged\x1fcount': '1', 'p_forged\x1flast': new Date().toISOString() });
  const forged = await log.verify();
  assert.deepEqual(forged.recipients?.drift.map((d) => [d.partnerId, d.problem]), [['p_forged', 'extra_partner']]);

  await r.del(record);
  const gone = await log.verify();
  assert.deepEqual(gone.recipients?.drift.map((d) => [d.subjectRef, d.problem]), [[ref, 'missing_record']]);
  const rebuilt = await rebuildRecipients(r, log.keys, log.jwks);
  assert.ok(rebuilt.ran && rebuilt.result.recipients?.repaired === 1, JSON.stringify(rebuilt));
  assert.equal((await log.verify()).ok, true);
  assert.equal((await log.recipients('u_both')).items[0]?.count, 10, 'rebuilt from what the log still holds');
});

test('rebuild-recipients does not run while the retention job holds the trim lock, and never from a log that does not verify', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  await log.appendMany(Array.from({ length: 3 }, () => released({ userId: 'u_lock' })));
  await log.checkpointNow();
  await r.set(log.keys.trimLock, 'someone-else');
  assert.deepEqual(await rebuildRecipients(r, log.keys, log.jwks), { ran: false, why: 'the retention job is running (trim lock held); try again when it is done' });
  assert.equal(await r.get(log.keys.trimLock), 'someone-else', 'the other holder\'s lock is left alone');
  await r.del(log.keys.trimLock);

  const record = log.keys.chain(log.writer.chain).recipients(log.subjectRef('u_lock'));
  await r.del(record);
  // The attacker rewrites the stream with the first entry's partner changed.
  const rows = ((await r.xRange(log.keys.chain(log.writer.chain).entries, '-', '+')) ?? []);
  await r.del(log.keys.chain(log.writer.chain).entries);
  for (const [i, m] of rows.entries()) {
    const e = JSON.parse(m.message.e!);
    if (i === 0) e.partnerId = 'p_tampered';
    await r.xAdd(log.keys.chain(log.writer.chain).entries, m.id, { e: JSON.stringify(e) });
  }
  const out = await rebuildRecipients(r, log.keys, log.jwks);
  assert.ok(out.ran && out.result.ok === false && out.result.brokenAt?.reason === 'hash_mismatch' && !out.result.recipients, JSON.stringify(out));
  assert.equal(await r.exists(record), 0, 'nothing rebuilt from a tampered log');
});

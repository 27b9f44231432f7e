// Issue 15 item 5: a log too long for one pass is checked in several, one partition of subjects
// each, so verify's memory stays bounded; every subject is still checked exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { logFixture, released } from './harness/transfer-log.ts';
import { checkRecipients } from '../src/transfer-log/recipients-check.ts';
import { RecipientsTally, recipientsTallies } from '../src/transfer-log/recipients-tally.ts';
import { singleTopology } from '../src/transfer-log/topology.ts';
import { scanStream } from '../src/transfer-log/scan.ts';

const fx = await logFixture();
after(() => fx.close());

test('checked in three passes: every record once, and a deleted one in any partition is drift', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  const users = Array.from({ length: 30 }, (_, i) => `u_pass_${i}`);
  await log.appendMany(users.map((userId) => released({ userId })));
  const chain = log.writer.chain;
  assert.equal((await recipientsTallies(r, log.keys, [chain], 10)).get(chain)!.parts, 3, '30 entries at 10 a pass');
  const firstPass = async () => {
    const t = new RecipientsTally(0, 3);
    for await (const raw of scanStream(r, log.keys.chain(chain).entries, { direction: 'asc' })) t.feed(raw);
    assert.ok(t.subjects.size > 0 && t.subjects.size < users.length, 'the first pass holds one partition only');
    return t;
  };
  const clean = await checkRecipients(r, singleTopology(r), log.keys, [chain], new Map([[chain, await firstPass()]]), { trimmed: false, repair: false });
  assert.deepEqual([clean.ok, clean.subjects, clean.driftCount], [true, users.length, 0]);

  // One subject of the first pass and one of a later pass (subjectRefs are keyed hashes, so look).
  const first = new RecipientsTally(0, 3);
  const gone = [users.find((u) => first.holds(log.subjectRef(u)))!, users.find((u) => !first.holds(log.subjectRef(u)))!];
  assert.ok(gone.every(Boolean));
  for (const u of gone) await r.del(log.keys.chain(chain).recipients(log.subjectRef(u)));
  const broken = await checkRecipients(r, singleTopology(r), log.keys, [chain], new Map([[chain, await firstPass()]]), { trimmed: false, repair: false });
  assert.equal(broken.ok, false);
  assert.deepEqual(broken.drift.map((d) => d.subjectRef).sort(), gone.map((u) => log.subjectRef(u)).sort());
  assert.ok(broken.drift.every((d) => d.problem === 'missing_record'));
});

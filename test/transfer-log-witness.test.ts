// Issue [3/6] item 3: the optional HTTPS witness. Every anchored statement is owed to it in Redis
// before the append resolves; the worker posts them in order, keeps them through failures and
// retries; the URL must be https (checked at start, naming the key).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logFixture, released } from './harness/transfer-log.ts';
import { startWebhookReceiver } from './harness/webhook.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { loadConfig } from '../src/config/load.ts';

const fx = await logFixture();
const rx = await startWebhookReceiver((n) => (n <= 2 ? { status: 503 } : { status: 204 }));
after(async () => { await fx.close(); await rx.close(); });

test('statements owed to the witness are kept in Redis through failed posts and delivered in order', async () => {
  const c = await testCerts();
  const r = await fx.client();
  await r.flushAll();
  const file = join(tmp('anchors'), 'anchors.jsonl');
  const log = await fx.newLog({
    anchorsFile: file, startWitness: false,
    transferLog: { anchors: { file, witnessUrl: rx.url('/witness') } },
    notices: { allowLoopbackWebhooks: true, webhookCa: c.ca },
  });
  await log.appendMany([released(), released()]);
  await log.appendMany([released()]);
  await log.checkpointNow();
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(1).map((l) => JSON.parse(l).jws as string);
  assert.equal(lines.length, 3, 'two batch checkpoints and one registry statement anchored');
  assert.equal(await r.lLen(log.keys.witness), 3, 'all three owed to the witness, in Redis');

  await log.witness!.drain(); // the witness answers 503
  assert.equal(await r.lLen(log.keys.witness), 3, 'kept after a failed post');
  await log.witness!.drain(); // 503 again
  await log.witness!.drain(); // now it takes them
  assert.equal(await r.lLen(log.keys.witness), 0);
  const ok = rx.received.filter((x) => x.status === 204);
  assert.deepEqual(ok.map((x) => x.body), lines, 'each statement once, oldest first, as the anchors file has them');
  assert.equal(ok[0]!.headers['content-type'], 'application/jose');
  assert.equal(rx.received.length, 5);
});

test('transferLog.anchors.witnessUrl must be https: start-up stops naming the key', () => {
  assert.throws(() => loadConfig({ requireFiles: [], overrides: { transferLog: { anchors: { witnessUrl: 'http://witness.example/' } } } }),
    /transferLog\.anchors\.witnessUrl/);
});

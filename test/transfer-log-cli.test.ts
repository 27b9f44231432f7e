// `partner-gateway log verify` (CONTRACT 10): exit 0 when intact; exit 1 naming the first broken
// entry; `--jwks` checks with a published public key; an unreachable Redis is never "intact".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logFixture, released } from './harness/transfer-log.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { runCli } from './harness/cli.ts';
import { initKeys, loadKeys, newSigningJwk } from '../src/keys/files.ts';
import { publicJwks } from '../src/transfer-log/jwks.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';
import { IncidentStore } from '../src/incidents/store.ts';

const c = await testCerts();
const keysDir = tmp('keys');
initKeys(keysDir);
const fx = await logFixture(undefined, loadKeys(keysDir));
after(() => fx.close());
const dir = tmp('cli');
const config = join(dir, 'gateway.json');
writeFileSync(config, JSON.stringify({
  redis: { url: fx.redis.url, tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') } },
  keys: { dir: keysDir },
}));
const env = { GATEWAY_CONFIG: config };

test('log verify: 0 when intact, 1 naming the first broken entry once an entry is changed in Redis', async () => {
  const log = await fx.newLog();
  await log.appendMany(Array.from({ length: 12 }, () => released()));
  await log.checkpointNow();
  const ok = await runCli(['log', 'verify'], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /transfer log intact: 12 entries in 1 chains, 1 signed checkpoints/);

  const r = await fx.client();
  const rows = ((await r.xRange(log.keys.chain(log.writer.chain).entries, '-', '+')) ?? []);
  const e = JSON.parse(rows[6]!.message.e!) as TransferEntry;
  e.categories = ['phone'];
  await r.del(log.keys.chain(log.writer.chain).entries);
  for (const [i, m] of rows.entries()) await r.xAdd(log.keys.chain(log.writer.chain).entries, m.id, { e: i === 6 ? JSON.stringify(e) : m.message.e! });
  const bad = await runCli(['log', 'verify'], env);
  assert.equal(bad.code, 1);
  assert.ok(bad.stdout.includes(`first broken entry: chain ${e.chain} seq 7 (stream id ${rows[6]!.id}, entry ${e.id}): hash_mismatch`), bad.stdout);

  // RULES 50: the failed verify opened an incident naming the chain and what was found.
  const open = await new IncidentStore(r).list({ limit: 10, status: 'open' });
  assert.deepEqual(open.items.map((i) => [i.kind, i.found, i.chain, i.count]), [['verify_failed', 'hash_mismatch', e.chain, 1]]);
  assert.match(bad.stderr, /incident inc_[0-9a-f]{16} opened: verify_failed \(hash_mismatch\)/);

  const json = await runCli(['log', 'verify', '--json'], env);
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).brokenAt.seq, 7);
  assert.equal((await new IncidentStore(r).list({ limit: 10, status: 'open' })).items[0]!.count, 2, 'the same finding counts on the open incident');
});

test('log verify --jwks: the published key verifies; another key does not', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  await log.append(released());
  await log.checkpointNow();
  const good = join(dir, 'good.jwks.json');
  const other = join(dir, 'other.jwks.json');
  writeFileSync(good, JSON.stringify(log.jwks));
  writeFileSync(other, JSON.stringify(publicJwks(newSigningJwk())));
  const a = await runCli(['log', 'verify', '--jwks', good], { ...env, KEYS_DIR: join(dir, 'nowhere') });
  assert.equal(a.code, 0, a.stderr + a.stdout);
  const b = await runCli(['log', 'verify', '--jwks', other], env);
  assert.equal(b.code, 1);
  assert.match(b.stdout, /checkpoint .*checkpoint_invalid/);
});

test('log verify with Redis down exits 1 and says it could not check', async () => {
  await fx.redis.stop();
  try {
    const r = await runCli(['log', 'verify'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot verify the transfer log/);
    assert.doesNotMatch(r.stdout, /intact/);
  } finally {
    await fx.redis.restart();
  }
});

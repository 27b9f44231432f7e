// Gateway signing key rotation (RULES 29, CONTRACT 7): `keys rotate-signing` writes a new key and
// keeps the old public key published, so checkpoints signed before and after both verify (in the
// app and with `log verify`); `keys prune-signing` drops the old key only once no stored
// checkpoint names it (after retention re-signed and trimmed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetch, Agent } from 'undici';
import { logFixture, released, type LogFixture } from './harness/transfer-log.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { runCli } from './harness/cli.ts';
import { testConfig, LogCapture } from './harness/stack.ts';
import { initKeys, loadKeys, RETIRED_SIGNING_FILE } from '../src/keys/files.ts';
import { checkpointKids } from '../src/keys/signing-rotation.ts';
import { publicJwks } from '../src/transfer-log/jwks.ts';
import { verifyLog } from '../src/transfer-log/verify.ts';
import { startGateway, type Gateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';

const keysDir = tmp('keys');
initKeys(keysDir);
const oldKid = loadKeys(keysDir).signingJwk.kid;
let fx: LogFixture;
let gw: Gateway;
let env: Record<string, string>;
let newKid: string;

before(async () => {
  const c = await testCerts();
  fx = await logFixture(undefined, loadKeys(keysDir));
  const config = join(tmp('keys-signing'), 'gateway.json');
  writeFileSync(config, JSON.stringify({
    redis: { url: fx.redis.url, tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') } },
    keys: { dir: keysDir },
  }));
  env = { GATEWAY_CONFIG: config };
});
after(async () => {
  await gw?.close();
  await fx.close();
});

test('rotate-signing: both keys in the JWKS; old and new checkpoints verify in the app and with log verify', async () => {
  const before = await fx.newLog();
  await before.appendMany(Array.from({ length: 5 }, () => released()));
  await before.checkpointNow();

  const r = await runCli(['keys', 'rotate-signing'], env);
  assert.equal(r.code, 0, r.stderr);
  const keys = loadKeys(keysDir);
  newKid = keys.signingJwk.kid;
  assert.notEqual(newKid, oldKid);
  assert.match(r.stdout, new RegExp(`new kid ${newKid}; retired kid ${oldKid}`));
  assert.deepEqual(keys.retiredSigningPublicJwks.map((k) => k.kid), [oldKid]);
  assert.ok(keys.retiredSigningPublicJwks.every((k) => k.d === undefined), 'the old private key is gone');
  assert.equal(statSync(join(keysDir, 'signing.jwk.json')).mode & 0o777, 0o600);

  // A gateway started on the rotated key dir: JWKS, new checkpoints, verify.
  const config = await testConfig({ redisUrl: fx.redis.url, keysDir });
  gw = await startGateway(config, { log: createLogger('info', new LogCapture()) });
  const c = await testCerts();
  const client = new Agent({ connect: { ca: readFileSync(c.ca) } });
  const res = await fetch(`https://localhost:${gw.port}/.well-known/jwks.json`, { dispatcher: client });
  const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
  await client.close();
  assert.deepEqual(jwks.keys.map((k) => k.kid), [newKid, oldKid], 'current first, then retired');
  assert.ok(jwks.keys.every((k) => k.d === undefined));

  await gw.deps.transferLog.appendMany(Array.from({ length: 5 }, () => released()));
  await gw.deps.transferLog.checkpointNow();
  assert.deepEqual([...(await checkpointKids(await fx.client(), gw.deps.transferLog.keys))!].sort(), [newKid, oldKid].sort());
  const v = await gw.deps.transferLog.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
  assert.ok(v.checkpoints >= 2);
  const cli = await runCli(['log', 'verify'], env);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.match(cli.stdout, /transfer log intact/);

  // Control: without the retired key the old checkpoint does not verify.
  const onlyNew = await verifyLog(await fx.client(), gw.deps.transferLog.keys, publicJwks(keys.signingJwk));
  assert.equal(onlyNew.ok, false);
  assert.equal(onlyNew.brokenAt?.reason, 'checkpoint_invalid');
});

test('prune-signing keeps the old key while a checkpoint names it, drops it once retention re-signed and trimmed', async () => {
  assert.ok(gw, 'needs the previous test');
  const keep = await runCli(['keys', 'prune-signing'], env);
  assert.equal(keep.code, 0, keep.stderr);
  assert.match(keep.stdout, new RegExp(`dropped: none; still needed by stored checkpoints: ${oldKid}`));
  assert.equal(loadKeys(keysDir).retiredSigningPublicJwks.length, 1);

  const trimmed = await gw.deps.transferLog.trimBefore(Date.now() + 1000);
  assert.ok('removed' in trimmed && trimmed.removed >= 10, JSON.stringify(trimmed));
  const drop = await runCli(['keys', 'prune-signing'], env);
  assert.equal(drop.code, 0, drop.stderr);
  assert.match(drop.stdout, new RegExp(`dropped: ${oldKid};`));
  assert.deepEqual(loadKeys(keysDir).retiredSigningPublicJwks, []);
  assert.deepEqual(JSON.parse(readFileSync(join(keysDir, RETIRED_SIGNING_FILE), 'utf8')), { keys: [] });
  const cli = await runCli(['log', 'verify'], env);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
});

test('rotate-signing without key files exits 1 naming the file', async () => {
  const r = await runCli(['keys', 'rotate-signing', '--out', join(tmp('empty'), 'nowhere')], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /signing\.jwk\.json not found; run `partner-gateway keys init`/);
});

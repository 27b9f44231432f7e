// `partner-gateway keys rotate --partner ID` (RULES 29) against a real TLS Redis: it starts the
// next version (audited as the CLI's user), a running gateway's cache would pick it up from the
// published change; an unknown partner exits 1 with a clear message, a missing --partner exits 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCerts, tmp } from './harness/certs.ts';
import { runCli } from './harness/cli.ts';
import { cliRedis, type CliRedis } from './harness/cli-redis.ts';
import { waitFor } from './harness/stack.ts';
import type { RedisClient as Redis } from '../src/deps.ts';
import { Partners } from '../src/agreements/partners.ts';
import { readAudit } from '../src/auth/admin-audit.ts';
import { PartnerKeyStore, KEY_VERSIONS_CHANNEL } from '../src/keys/partner-key-store.ts';

let ctx: CliRedis;
let redis: Redis;
let env: Record<string, string>;
const actor = { tokenId: 'test', role: 'admin' as const };

before(async () => {
  ctx = await cliRedis({ pseudonym: { rotationGraceSeconds: 600 } });
  ({ redis, env } = ctx);
});
after(() => ctx.close());

test('keys rotate --partner ID: version 2, then 3; published and audited', async () => {
  await new Partners(redis).create(actor, { id: 'acme-cli', name: 'Acme', contactEmail: 'privacy@acme.example' });
  const sub = redis.duplicate();
  sub.on('error', () => undefined);
  await sub.connect();
  const published: string[] = [];
  await sub.subscribe(KEY_VERSIONS_CHANNEL, (m) => { published.push(m); });
  try {
    const r = await runCli(['keys', 'rotate', '--partner', 'acme-cli'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /partner acme-cli: pseudonym key version 2 is current; version 1 pseudonyms resolve until \d{4}-\d\d-\d\dT/);
    const rec = await new PartnerKeyStore(redis).read('acme-cli');
    assert.equal(rec.current, 2);
    assert.equal(rec.retired[0]!.version, 1);
    const until = r.stdout.match(/until (\S+)/)![1]!;
    assert.equal(Date.parse(until) - Date.parse(rec.retired[0]!.retiredAt), 600_000, 'the configured grace');
    const again = await runCli(['keys', 'rotate', '--partner', 'acme-cli', '--grace-seconds', '0'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await new PartnerKeyStore(redis).read('acme-cli')).current, 3);
    await waitFor(() => published.length >= 2, 1000); // delivered to subscribers (every gateway instance)
    assert.deepEqual(published, ['acme-cli', 'acme-cli']);
    const audit = (await readAudit(redis, 10)).items.filter((e) => e.action === 'partner.keys.rotate');
    assert.equal(audit.length, 2);
    assert.match(audit[0]!.actor.tokenId, /^cli:/);
  } finally {
    sub.destroy();
  }
});

test('keys rotate: an unknown partner exits 1 naming it; bad usage exits 2; nothing is written', async () => {
  const r = await runCli(['keys', 'rotate', '--partner', 'nobody-here'], env);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'partner-gateway: no partner nobody-here');
  assert.equal((await new PartnerKeyStore(redis).read('nobody-here')).rev, 0);
  const missing = await runCli(['keys', 'rotate'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /keys rotate --partner ID/);
  const long = await runCli(['keys', 'rotate', '--partner', 'acme-cli', '--grace-seconds', '601'], env);
  assert.equal(long.code, 1);
  assert.match(long.stderr, /--grace-seconds must be an integer from 0 to pseudonym.rotationGraceSeconds \(600\)/);
});

test('keys rotate with Redis unreachable exits 1 and says so', async () => {
  const config = join(tmp('keys-cli'), 'down.json');
  const c = await testCerts();
  writeFileSync(config, JSON.stringify({ redis: { url: 'rediss://127.0.0.1:1', tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') } } }));
  const r = await runCli(['keys', 'rotate', '--partner', 'acme-cli'], { GATEWAY_CONFIG: config });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot rotate the key/);
});

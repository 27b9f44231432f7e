// CONTRACT 5: role tokens minted "or the CLI" — `partner-gateway tokens create|revoke` against a
// real TLS Redis; the token is printed once, stored hashed, audited as the CLI's user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './harness/cli.ts';
import { cliRedis, type CliRedis } from './harness/cli-redis.ts';
import { redisDump } from './harness/redis-dump.ts';
import type { Redis } from '../src/deps.ts';
import { AdminTokens } from '../src/auth/admin-tokens.ts';
import { readAudit } from '../src/auth/admin-audit.ts';

let ctx: CliRedis;
let redis: Redis;
let env: Record<string, string>;

before(async () => {
  ctx = await cliRedis();
  ({ redis, env } = ctx);
});
after(() => ctx.close());

test('tokens create prints an auditor token once; it verifies, is stored hashed, and revoke ends it', async () => {
  const r = await runCli(['tokens', 'create', '--role', 'auditor', '--label', 'ops-dashboard'], env);
  assert.equal(r.code, 0, r.stderr);
  const minted = JSON.parse(r.stdout.trim());
  assert.equal(minted.role, 'auditor');
  assert.match(minted.token, /^pga_/);
  const tokens = new AdminTokens(redis);
  assert.equal((await tokens.verify(minted.token))?.role, 'auditor');
  assert.ok(!(await redisDump(redis)).includes(minted.token), 'never stored in clear');
  const audit = await readAudit(redis, 10);
  assert.ok(JSON.stringify(audit).includes('cli:'), 'audited as the CLI user');
  const rv = await runCli(['tokens', 'revoke', '--id', minted.id], env);
  assert.equal(rv.code, 0, rv.stderr);
  assert.equal(await tokens.verify(minted.token), null);
});

test('an unknown role exits 1 naming --role; a missing subcommand exits 2', async () => {
  const bad = await runCli(['tokens', 'create', '--role', 'root'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr.trim(), /^partner-gateway: --role: /);
  assert.equal((await runCli(['tokens'], env)).code, 2);
});

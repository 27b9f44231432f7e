// RULES 18: the gateway stays in KZ. Start-up refuses, with one line naming the setting, when Redis
// or the log sink is declared outside the home jurisdiction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './harness/cli.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { loadConfig, ConfigError } from '../src/config/load.ts';

/** A configuration `serve` would start with (its Redis is simply unreachable). */
async function configFile(): Promise<string> {
  const c = await testCerts();
  const path = join(tmp('cfg'), 'gateway.json');
  writeFileSync(path, JSON.stringify({
    server: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    upstream: { tls: { ca: c.ca, cert: null, key: null } },
    redis: { url: 'rediss://127.0.0.1:1', tls: { ca: c.ca, cert: null, key: null } },
    keys: { dir: tmp('keys') },
  }));
  return path;
}

async function expectRefusal(env: Record<string, string>, line: RegExp) {
  const r = await runCli(['serve'], { GATEWAY_CONFIG: await configFile(), ...env });
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0]!, line);
}

test('REDIS_REGION=DE stops `serve` with one line naming redis.region', () =>
  expectRefusal({ REDIS_REGION: 'DE' }, /redis\.region must be the home jurisdiction KZ \(got DE\).*RULES 18/));

test('LOG_SINK_REGION=DE stops `serve` with one line naming logSink.region', () =>
  expectRefusal({ LOG_SINK_REGION: 'DE' }, /logSink\.region must be the home jurisdiction KZ \(got DE\).*RULES 18/));

test('LOG_SINK_REGION=eu-west (not even a country) is refused naming logSink.region', () =>
  expectRefusal({ LOG_SINK_REGION: 'eu-west' }, /logSink\.region .*\(got eu-west\)/));

test('home regions load; a home country on the configured adequacy list is refused', () => {
  const ok = loadConfig({ env: { REDIS_REGION: 'KZ', LOG_SINK_REGION: 'KZ' }, requireFiles: [] });
  assert.deepEqual([ok.redis.region, ok.logSink.region, ok.jurisdiction.home], ['KZ', 'KZ', 'KZ']);
  assert.throws(() => loadConfig({ requireFiles: [], overrides: { jurisdiction: { adequate: ['DE', 'KZ'] } } }),
    (e: unknown) => e instanceof ConfigError && /^jurisdiction\.adequate must not list the home jurisdiction KZ/.test(e.message));
});

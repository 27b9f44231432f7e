// CONTRACT 9: a bad or insecure setting stops start-up with one line naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './harness/cli.ts';
import { testCerts, tmp } from './harness/certs.ts';

async function configFile(over: object): Promise<string> {
  const c = await testCerts();
  const keys = tmp('keys');
  const base = {
    server: { tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    upstream: { tls: { ca: c.ca, cert: null, key: null } },
    redis: { url: 'rediss://127.0.0.1:1', tls: { ca: c.ca, cert: null, key: null } },
    keys: { dir: keys },
  };
  const merged = JSON.parse(JSON.stringify(base));
  for (const [k, v] of Object.entries(over)) merged[k] = { ...merged[k], ...(v as object) };
  const path = join(tmp('cfg'), 'gateway.json');
  writeFileSync(path, JSON.stringify(merged));
  return path;
}

async function expectRefusal(over: object, env: Record<string, string>, pattern: RegExp) {
  const r = await runCli(['serve'], { GATEWAY_CONFIG: await configFile(over), ...env });
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

test('redis:// stops start-up naming redis.url', () =>
  expectRefusal({ redis: { url: 'redis://127.0.0.1:6379' } }, {}, /redis\.url must start with rediss:\/\//));

test('an http:// upstream (from the environment) stops start-up naming upstream.url', () =>
  expectRefusal({}, { UPSTREAM_URL: 'http://core:8080' }, /upstream\.url must start with https:\/\/ \(got http:\/\/core:8080\)/));

test('a missing certificate file stops start-up naming the key', () =>
  expectRefusal({ server: { tls: { cert: '/nonexistent/gateway.crt' } } }, {}, /server\.tls\.cert: file not found \(\/nonexistent\/gateway\.crt\)/));

test('an unknown country code stops start-up naming the key', () =>
  expectRefusal({ jurisdiction: { home: 'KZ', adequate: ['DE', 'XY'] } }, {}, /jurisdiction\.adequate\.1 must be an ISO 3166-1 alpha-2 country code \(got XY\)/));

test('a malformed policy version stops start-up naming the key', () =>
  expectRefusal({ policy: { versions: [{ version: '2024-13', publishedAt: '2024-03-01T00:00:00Z' }] } }, {}, /policy\.versions\.0\.version must look like 2024-03/));

test('RULES 43: staff mTLS without a staff CA stops start-up naming admin.tls.ca', () =>
  expectRefusal({ admin: { tls: { requireClientCert: true } } }, {}, /^partner-gateway: admin\.tls\.ca is required when admin\.tls\.requireClientCert is true/));

test('RULES 43: the control plane on the partner port (GATEWAY_ADMIN_PORT) stops start-up naming admin.port', () =>
  expectRefusal({}, { GATEWAY_PORT: '18443', GATEWAY_ADMIN_PORT: '18443' }, /admin\.port must differ from server\.port \(both 18443\)/));

test('a missing control-plane certificate stops start-up naming admin.tls.cert', () =>
  expectRefusal({ admin: { tls: { cert: '/nonexistent/admin.crt', key: '/nonexistent/admin.key' } } }, {}, /admin\.tls\.cert: file not found \(\/nonexistent\/admin\.crt\)/));

test('an unknown setting is refused rather than ignored', () =>
  expectRefusal({ server: { tls: { cert: '/x' }, colour: 'blue' } }, {}, /server.*colour|Unrecognized key.*colour/));

test('keys init writes 0600 files and refuses to overwrite without --force', async () => {
  const dir = tmp('keys-init');
  const first = await runCli(['keys', 'init', '--out', dir]);
  assert.equal(first.code, 0, first.stderr);
  for (const f of ['pseudonym-master.key', 'transfer-log.key', 'signing.jwk.json']) {
    assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  }
  const jwk = JSON.parse(readFileSync(join(dir, 'signing.jwk.json'), 'utf8'));
  assert.equal(jwk.crv, 'P-256');
  assert.ok(jwk.kid && jwk.d);
  const before = readFileSync(join(dir, 'pseudonym-master.key'), 'utf8');
  const again = await runCli(['keys', 'init', '--out', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exist.*--force/);
  assert.equal(readFileSync(join(dir, 'pseudonym-master.key'), 'utf8'), before);
  const forced = await runCli(['keys', 'init', '--out', dir, '--force']);
  assert.equal(forced.code, 0);
  assert.notEqual(readFileSync(join(dir, 'pseudonym-master.key'), 'utf8'), before);
});

test('certs writes a CA and P-256 leaves valid for at most 398 days', async () => {
  const dir = tmp('certs-cli');
  const r = await runCli(['certs', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  const { X509Certificate } = await import('node:crypto');
  const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
  for (const name of ['gateway', 'core-store', 'redis', 'partner', 'gateway-client']) {
    const cert = new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
    assert.ok(cert.verify(ca.publicKey), `${name} signed by the CA`);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(days <= 398, `${name} valid ${days} days`);
    assert.equal(statSync(join(dir, `${name}.key`)).mode & 0o777, 0o600);
    if (['gateway', 'core-store', 'redis'].includes(name)) assert.ok(cert.checkHost('localhost') && cert.checkIP('127.0.0.1') && cert.checkIP('::1'));
  }
});

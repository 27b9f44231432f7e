// CONTRACT 9: a bad or insecure setting stops start-up with one line naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { runCli } from './harness/cli.ts';
import { testCerts, testCertWithValidity, validFor, tmp } from './harness/certs.ts';

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

test('issue [6/6]: a plain-text cluster seed stops start-up naming its position in redis.cluster.nodes', () =>
  expectRefusal({ redis: { mode: 'cluster', cluster: { nodes: ['rediss://127.0.0.1:7000', 'redis://127.0.0.1:7001'] } } }, {}, /^partner-gateway: redis\.cluster\.nodes\[1\] must start with rediss:\/\//));

test('issue [6/6]: sentinel mode without the primary\'s name stops start-up naming redis.sentinel.name', () =>
  expectRefusal({ redis: { mode: 'sentinel', sentinel: { name: null, nodes: ['rediss://127.0.0.1:26379'] } } }, {}, /^partner-gateway: redis\.sentinel\.name must name the primary/));

test('issue [6/6]: an unknown redis.mode stops start-up naming it', () =>
  expectRefusal({ redis: { mode: 'replicated' } }, {}, /^partner-gateway: redis\.mode /));

test('an http:// upstream (from the environment) stops start-up naming upstream.url', () =>
  expectRefusal({}, { UPSTREAM_URL: 'http://core:8080' }, /upstream\.url must start with https:\/\/ \(got http:\/\/core:8080\)/));

test('a missing certificate file stops start-up naming the key', () =>
  expectRefusal({ server: { tls: { cert: '/nonexistent/gateway.crt' } } }, {}, /server\.tls\.cert: file not found \(\/nonexistent\/gateway\.crt\)/));

test('an unknown country code stops start-up naming the key', () =>
  expectRefusal({ jurisdiction: { home: 'KZ', adequate: ['DE', 'XY'] } }, {}, /jurisdiction\.adequate\[1\] must be an ISO 3166-1 alpha-2 country code \(got XY\)/));

test('a malformed policy version stops start-up naming the key', () =>
  expectRefusal({ policy: { versions: [{ version: '2024-13', publishedAt: '2024-03-01T00:00:00Z' }] } }, {}, /policy\.versions\[0\]\.version must look like 2024-03/));

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

test('RULES 36: certs writes a CA and P-256 leaves valid for at most 366 days', async () => {
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
    assert.ok(days <= 366, `${name} valid ${days} days`);
    assert.equal(statSync(join(dir, `${name}.key`)).mode & 0o777, 0o600);
    if (['gateway', 'core-store', 'redis'].includes(name)) assert.ok(cert.checkHost('localhost') && cert.checkIP('127.0.0.1') && cert.checkIP('::1'));
  }
});

// RULES 34: the environment cannot weaken TLS; start-up names the variable in one line.
test('RULES 34: NODE_TLS_REJECT_UNAUTHORIZED=0 stops serve naming the variable', () =>
  expectRefusal({}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, /^partner-gateway: NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate verification off/));

for (const flag of ['--tls-min-v1.0', '--tls-min-v1.1', '--tls-max-v1.2', '--tls-cipher-list=AES128-SHA']) {
  test(`RULES 34: NODE_OPTIONS with ${flag} stops serve naming NODE_OPTIONS and the flag`, () =>
    expectRefusal({}, { NODE_OPTIONS: `--max-old-space-size=512 ${flag}` }, new RegExp(`^partner-gateway: NODE_OPTIONS must not contain ${flag.split('=')[0]!.replace(/\./g, '\\.')}`)));
}

test('RULES 34: demo, core-store and the Redis commands refuse the same environment before starting anything', async () => {
  for (const cmd of ['demo', 'core-store']) {
    const r = await runCli([cmd], { NODE_OPTIONS: '--tls-min-v1.1' });
    assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr.trim(), /^partner-gateway: NODE_OPTIONS must not contain --tls-min-v1\.1/);
    const r0 = await runCli([cmd], { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    assert.equal(r0.code, 1, `${cmd}: ${r0.stderr}`);
    assert.match(r0.stderr.trim(), /^partner-gateway: NODE_TLS_REJECT_UNAUTHORIZED=0/);
  }
  for (const args of [['tokens', 'create', '--role', 'auditor'], ['log', 'verify'], ['keys', 'rotate', '--partner', 'p_x']]) {
    const r = await runCli(args, { NODE_OPTIONS: '--tls-cipher-list=AES128-SHA' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), /^partner-gateway: NODE_OPTIONS must not contain --tls-cipher-list/, args.join(' '));
  }
});

// RULES 36: certificates the gateway presents are checked at start-up, naming the setting.
test('RULES 36: an expired server certificate stops serve naming server.tls.cert', async () => {
  const expired = await testCertWithValidity('expired', validFor(100, -1));
  await expectRefusal({ server: { tls: { ...expired, ca: (await testCerts()).ca } } }, {}, /^partner-gateway: server\.tls\.cert: the certificate expired on /);
});

test('RULES 36: a 400-day server certificate stops serve naming server.tls.cert', async () => {
  const long = await testCertWithValidity('400-days', validFor(1, 399));
  await expectRefusal({ server: { tls: { ...long, ca: (await testCerts()).ca } } }, {}, /^partner-gateway: server\.tls\.cert: the certificate is valid for 400 days, more than 398/);
});

test('RULES 36: an expired client certificate towards the core store stops serve naming upstream.tls.cert', async () => {
  const expired = await testCertWithValidity('expired-client', validFor(100, -1), 'client');
  await expectRefusal({ upstream: { tls: { ...expired, ca: (await testCerts()).ca } } }, {}, /^partner-gateway: upstream\.tls\.cert: the certificate expired on /);
});

test('RULES 36: an expired control-plane certificate stops serve naming admin.tls.cert', async () => {
  const expired = await testCertWithValidity('expired-admin', validFor(100, -1));
  await expectRefusal({ admin: { tls: expired } }, {}, /^partner-gateway: admin\.tls\.cert: the certificate expired on /);
});

test('RULES 36: an expired core-store certificate stops core-store naming coreStore.tls.cert', async () => {
  const expired = await testCertWithValidity('expired-store', validFor(100, -1));
  const path = join(tmp('cfg'), 'store.json');
  writeFileSync(path, JSON.stringify({ coreStore: { port: 0, tls: { ...expired } } }));
  const r = await runCli(['core-store'], { GATEWAY_CONFIG: path });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr.trim(), /^partner-gateway: coreStore\.tls\.cert: the certificate expired on /);
});

// RULES 49: the log outlives the data it describes.
test('RULES 49: retention.transferLogDays below retention.afterTerminationDays stops start-up naming the setting', () =>
  expectRefusal({ retention: { afterTerminationDays: 1095, transferLogDays: 365 } }, {}, /^partner-gateway: retention\.transferLogDays must be at least retention\.afterTerminationDays \(1095\)/));

// Issue [6/6] item 6: `config check FILE` validates a file as serve would load it and opens nothing.
async function keysDir(): Promise<string> {
  const dir = tmp('check-keys');
  const r = await runCli(['keys', 'init', '--out', dir, '--force']);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

/** A TCP listener that counts the connections it is offered (config check must offer none). */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => { n += 1; s.destroy(); });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as { port: number }).port, connections: () => n };
}

test('issue [6/6]: config check FILE on a sentinel config prints ok and a summary, connecting to nothing and listening on nothing', async () => {
  const c = await testCerts();
  const [a, b] = [await countingListener(), await countingListener()];
  try {
    const path = join(tmp('check'), 'gateway.json');
    writeFileSync(path, JSON.stringify({
      // Both listener ports are taken by the counting listeners: a check that tried to listen would fail.
      server: { host: '127.0.0.1', port: a.port, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
      admin: { host: '127.0.0.1', port: b.port },
      upstream: { url: `https://127.0.0.1:${a.port}`, tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') } },
      redis: { mode: 'sentinel', sentinel: { name: 'gateway-primary', nodes: [`rediss://127.0.0.1:${a.port}`, `rediss://127.0.0.1:${b.port}`] },
        tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') } },
      keys: { dir: await keysDir() },
    }));
    const r = await runCli(['config', 'check', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout.trim(), new RegExp(`^ok: ${path.replace(/[.\\/]/g, '\\$&')} \\(redis\\.mode sentinel, 2 sentinel nodes, primary gateway-primary, transferLog\\.replicas 1, .*4 certificates valid`));
    assert.equal(a.connections() + b.connections(), 0, 'config check connected to something');
  } finally {
    a.server.close();
    b.server.close();
  }
});

test('issue [6/6]: relative paths in a config file resolve against its directory, for config check and serve alike', async () => {
  const dir = tmp('check-rel');
  const made = await Promise.all([runCli(['certs', '--out', join(dir, 'certs')]), runCli(['keys', 'init', '--out', join(dir, 'keys')])]);
  assert.deepEqual(made.map((r) => r.code), [0, 0]);
  const client = { ca: 'certs/ca.crt', cert: 'certs/gateway-client.crt', key: 'certs/gateway-client.key' };
  const config = (cert: string) => ({
    server: { tls: { cert, key: 'certs/gateway.key', ca: 'certs/ca.crt' } },
    upstream: { tls: client },
    redis: { url: 'rediss://127.0.0.1:1', tls: client },
    keys: { dir: 'keys' },
    transferLog: { anchors: { file: 'anchors.jsonl' } },
  });
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config('certs/gateway.crt')));
  // The CLI runs from the repository root: these paths only exist beside the file.
  // The environment applies as it would to serve, and the summary says which variables did.
  const ok = await runCli(['config', 'check', join(dir, 'gateway.json')], { LOG_LEVEL: 'warn' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: .*\(redis\.mode single, transferLog\.replicas 0, .*, environment overrides (\w+, )*LOG_LEVEL(, \w+)*\)$/m);
  writeFileSync(join(dir, 'missing.json'), JSON.stringify(config('certs/missing.crt')));
  const expected = `partner-gateway: server.tls.cert: file not found (${join(dir, 'certs/missing.crt')}); run \`partner-gateway certs\` or fix the path`;
  const check = await runCli(['config', 'check', join(dir, 'missing.json')]);
  assert.equal(check.code, 1);
  assert.equal(check.stderr.trim(), expected);
  const serve = await runCli(['serve'], { GATEWAY_CONFIG: join(dir, 'missing.json') });
  assert.equal(serve.code, 1);
  assert.equal(serve.stderr.trim(), expected);
});

test('issue [6/6]: config check refuses with the very line serve prints (schema, RULES 36, bootstrap token), exit 1', async () => {
  const expired = await testCertWithValidity('check-expired', validFor(100, -1));
  const cases: Array<[object, Record<string, string>, RegExp]> = [
    [{ redis: { mode: 'cluster', cluster: { nodes: ['rediss://127.0.0.1:7000', 'redis://127.0.0.1:7001'] } } }, {}, /^partner-gateway: redis\.cluster\.nodes\[1\] must start with rediss:\/\//],
    [{ server: { tls: { ...expired, ca: (await testCerts()).ca } } }, {}, /^partner-gateway: server\.tls\.cert: the certificate expired on /],
    [{}, { BOOTSTRAP_ADMIN_TOKEN: 'short' }, /^partner-gateway: BOOTSTRAP_ADMIN_TOKEN must be at least 32 characters/],
    [{}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, /^partner-gateway: NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate verification off/],
  ];
  for (const [over, env, pattern] of cases) { // one case at a time: 2 cores (and runCli's timeout)
    const path = await configFile(over);
    const [check, serve] = await Promise.all([runCli(['config', 'check', path], env), runCli(['serve'], { GATEWAY_CONFIG: path, ...env })]);
    assert.equal(check.code, 1, `${pattern}: ${check.stdout}${check.stderr}`);
    assert.equal(check.stderr.trim().split('\n').length, 1, check.stderr);
    assert.match(check.stderr.trim(), pattern);
    assert.equal(check.stderr, serve.stderr, 'the same line as serve');
  }
});

test('issue [6/6]: config check reads keys.dir as serve does: missing key material names keys.dir', async () => {
  const path = await configFile({}); // its keys.dir is an empty directory
  const r = await runCli(['config', 'check', path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^partner-gateway: keys\.dir: .*pseudonym-master\.key not found; run `partner-gateway keys init`$/);
});

test('issue [6/6]: config check --for core-store validates the reference store\'s file as core-store loads it', async () => {
  const c = await testCerts();
  const dir = tmp('check-store');
  writeFileSync(join(dir, 'store.json'), JSON.stringify({ coreStore: { host: '0.0.0.0', port: 8444, tls: { cert: c.cert('core-store'), key: c.key('core-store') } } }));
  const ok = await runCli(['config', 'check', '--for', 'core-store', join(dir, 'store.json')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: .*store\.json \(core store 0\.0\.0\.0:8444, \d+ synthetic users, 1 certificate valid/);
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ coreStore: { data: 'users.ndjson', tls: { cert: c.cert('core-store'), key: c.key('core-store') } } }));
  const missing = await runCli(['config', 'check', '--for', 'core-store', join(dir, 'data.json')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), `partner-gateway: coreStore.data: file not found (${join(dir, 'users.ndjson')})`);
  const usage = await runCli(['config', 'check', '--for', 'redis', join(dir, 'store.json')]);
  assert.equal(usage.code, 2);
  const absent = await runCli(['config', 'check', join(dir, 'nope.json')]);
  assert.equal(absent.code, 1);
  assert.equal(absent.stderr.trim(), `partner-gateway: ${join(dir, 'nope.json')}: file not found`);
});

test('issue [6/6]: certs --host adds the name to the server certificates only (compose service names are verified); the redis certificate is also a client certificate', async () => {
  const dir = tmp('certs-hosts');
  const r = await runCli(['certs', '--out', dir, '--host', 'redis-primary', '--host', '10.20.0.5']);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['gateway', 'core-store', 'redis']) {
    const cert = new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
    assert.ok(cert.checkHost('redis-primary') && cert.checkIP('10.20.0.5') && cert.checkHost('localhost'), name);
  }
  assert.equal(new X509Certificate(readFileSync(join(dir, 'gateway-client.crt'))).checkHost('redis-primary'), undefined);
  // A Redis node is a TLS client of its primary and of the Sentinels too (tls-replication, tls-auth-clients yes).
  const [serverAuth, clientAuth] = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];
  assert.deepEqual(new X509Certificate(readFileSync(join(dir, 'redis.crt'))).keyUsage?.sort(), [serverAuth, clientAuth]);
  assert.deepEqual(new X509Certificate(readFileSync(join(dir, 'gateway.crt'))).keyUsage, [serverAuth]);
  const bad = await runCli(['certs', '--out', tmp('certs-bad'), '--host', 'a b']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr.trim(), /^partner-gateway: --host: not a host name or IP address/);
});

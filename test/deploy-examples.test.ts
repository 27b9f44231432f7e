// Issue [6/6] item 6: deploy/ is checked statically. Every file parses; every Redis and Sentinel
// configuration is TLS only (port 0, tls-port, tls-replication yes) with AOF fsync always on data
// nodes; the compose file's mounts and GATEWAY_CONFIGs exist; every service's configuration passes
// `partner-gateway config check` with certificates and keys made as deploy/README.md says; every
// host a service is told to reach is a compose service its certificate names. The self-tests show
// each check failing on a broken copy. Nothing is started.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './harness/cli.ts';
import { tmp } from './harness/certs.ts';
import {
  deployFiles, fileProblems, composeProblems, serviceConfigs, redisConfProblems, confDirectives, parseYaml, bindMounts, rel,
  type ComposeService,
} from './harness/deploy-checks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const DEPLOY = join(root, 'deploy');
const COMPOSE_DIR = join(DEPLOY, 'compose');
/** Made on the machine by `partner-gateway certs` / `keys init`, git-ignored (deploy/compose/.gitignore). */
const GENERATED = new Set(['certs', 'keys']);

/** The --host names of deploy/README.md's `partner-gateway certs` command. */
function readmeCertHosts(): string[] {
  const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
  const cmd = /npx partner-gateway certs --out deploy\/compose\/certs([^`]*?)\n\n/s.exec(readme);
  assert.ok(cmd, 'deploy/README.md shows the certs command');
  return [...cmd[1]!.matchAll(/--host (\S+)/g)].map((m) => m[1]!);
}

/** A copy of deploy/compose with certs/ and keys/ made as deploy/README.md says. */
async function preparedCopy(): Promise<string> {
  const dir = join(tmp('deploy'), 'compose');
  cpSync(COMPOSE_DIR, dir, { recursive: true, filter: (src) => !GENERATED.has(rel(COMPOSE_DIR, src)) });
  const made = await Promise.all([
    runCli(['certs', '--out', join(dir, 'certs'), ...readmeCertHosts().flatMap((h) => ['--host', h])]),
    runCli(['keys', 'init', '--out', join(dir, 'keys')]),
  ]);
  for (const r of made) assert.equal(r.code, 0, r.stderr);
  return dir;
}

async function configCheck(file: string, as: 'serve' | 'core-store') {
  return runCli(['config', 'check', ...(as === 'core-store' ? ['--for', 'core-store'] : []), file]);
}

/** Every host name a service is told to reach (gateway configs, Redis replicaof, Sentinel monitor, announced names). */
function hostsReached(composeDir: string): Array<{ where: string; host: string }> {
  const out: Array<{ where: string; host: string }> = [];
  const doc = parseYaml(readFileSync(join(composeDir, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  for (const { service, file } of serviceConfigs(join(composeDir, 'compose.yaml'))) {
    const c = JSON.parse(readFileSync(file, 'utf8'));
    const urls: string[] = [c.upstream?.url, c.redis?.url, ...(c.redis?.sentinel?.nodes ?? []), ...(c.redis?.cluster?.nodes ?? [])].filter(Boolean);
    for (const u of urls) out.push({ where: `${service} config`, host: new URL(u).hostname });
  }
  for (const [service, svc] of Object.entries(doc.services)) {
    for (const m of bindMounts(svc).filter((x) => x.source.endsWith('.conf'))) {
      const d = confDirectives(readFileSync(join(composeDir, m.source), 'utf8'));
      for (const v of [...(d.get('replicaof') ?? []), ...(d.get('replica-announce-ip') ?? [])]) out.push({ where: `${m.source}`, host: v.split(' ')[0]! });
      for (const v of d.get('sentinel monitor') ?? []) out.push({ where: m.source, host: v.split(' ')[1]! });
    }
    const announced = /announce-ip (\S+)/.exec([svc.command ?? []].flat().join(' '));
    if (announced) out.push({ where: `${service} command`, host: announced[1]! });
  }
  return out;
}

let copy: string;
before(async () => { copy = await preparedCopy(); });

test('every file in deploy/ parses and passes the check for its kind (YAML, JSON, Redis .conf, sh, links in READMEs); none holds a private key', () => {
  const files = deployFiles(DEPLOY);
  for (const must of ['compose/compose.yaml', 'compose/redis/sentinel.conf', 'compose/config/gateway-a.json', 'monitoring/alerts.yml', 'README.md']) {
    assert.ok(files.includes(join(DEPLOY, must)), `deploy/${must} is checked`);
  }
  const problems = files.flatMap((f) => fileProblems(f).map((p) => `deploy/${rel(DEPLOY, f)}: ${p}`));
  assert.deepEqual(problems, []);
});

test('the compose example: two gateways, three Redis nodes, three Sentinels, the core store; mounts and GATEWAY_CONFIGs exist; gateways are healthy on /readyz', () => {
  assert.deepEqual(composeProblems(join(COMPOSE_DIR, 'compose.yaml'), GENERATED), []);
  const configs = serviceConfigs(join(COMPOSE_DIR, 'compose.yaml'));
  assert.deepEqual(configs.map((c) => `${c.service}:${c.as}`).sort(), ['core-store:core-store', 'gateway-a:serve', 'gateway-b:serve']);
  const doc = parseYaml(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  const confs = Object.values(doc.services).flatMap((s) => bindMounts(s).filter((m) => m.source.endsWith('.conf')).map((m) => m.source));
  assert.deepEqual(confs.sort(), ['./redis/redis-1.conf', './redis/redis-2.conf', './redis/redis-3.conf', './redis/sentinel.conf', './redis/sentinel.conf', './redis/sentinel.conf']);
  // One primary, two replicas of it; three Sentinels with a quorum of 2 watching the name the gateways use.
  const replicaof = ['redis-1', 'redis-2', 'redis-3'].map((n) => confDirectives(readFileSync(join(COMPOSE_DIR, `redis/${n}.conf`), 'utf8')).get('replicaof')?.[0]);
  assert.deepEqual(replicaof, [undefined, 'redis-1 6379', 'redis-1 6379']);
  const monitor = confDirectives(readFileSync(join(COMPOSE_DIR, 'redis/sentinel.conf'), 'utf8')).get('sentinel monitor');
  for (const g of ['gateway-a', 'gateway-b']) {
    const c = JSON.parse(readFileSync(join(COMPOSE_DIR, `config/${g}.json`), 'utf8'));
    assert.equal(c.redis.mode, 'sentinel');
    assert.deepEqual(monitor, [`${c.redis.sentinel.name} redis-1 6379 2`]);
    assert.equal(c.redis.sentinel.nodes.length, 3);
  }
  // Private keys made by the README's steps stay out of git.
  const ignored = readFileSync(join(COMPOSE_DIR, '.gitignore'), 'utf8').split('\n');
  for (const g of GENERATED) assert.ok(ignored.includes(`${g}/`), `deploy/compose/.gitignore lists ${g}/`);
});

test('every host a service reaches is a compose service, and the README\'s certs command names it (host names are verified, RULES 34)', () => {
  const doc = parseYaml(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  const services = new Set(Object.keys(doc.services));
  const named = new Set(readmeCertHosts());
  const reached = hostsReached(COMPOSE_DIR);
  assert.ok(reached.length >= 8, 'sentinels, upstream, replicaof, monitor and announced names found');
  for (const { where, host } of reached) {
    assert.ok(services.has(host), `${where}: ${host} is not a compose service`);
    assert.ok(named.has(host), `${where}: ${host} is not among the README's certs --host names`);
  }
});

test('every service\'s configuration passes `partner-gateway config check` (certificates and keys made as deploy/README.md says)', async () => {
  for (const { service, file, as } of serviceConfigs(join(copy, 'compose.yaml'))) {
    const r = await configCheck(file, as);
    assert.equal(r.code, 0, `${service}: ${r.stderr}`);
    assert.match(r.stdout, as === 'serve' ? /^ok: .*\(redis\.mode sentinel, 3 sentinel nodes, primary gateway-primary, transferLog\.replicas 1, / : /^ok: .*\(core store 0\.0\.0\.0:8444, /, service);
  }
});

// Self-tests: each check above fails on a broken copy.
test('self-test: the Redis .conf check finds a plain-text port, a missing tls-port, plain replication, TLS 1.1 and missing fsync', () => {
  const good = readFileSync(join(COMPOSE_DIR, 'redis/redis-2.conf'), 'utf8');
  assert.deepEqual(redisConfProblems(good), []);
  const cases: Array<[string, RegExp]> = [
    [good.replace(/^port 0$/m, 'port 6379'), /port must be 0/],
    [good.replace(/^tls-port .*$/m, ''), /tls-port must be set/],
    [good.replace(/^tls-replication yes$/m, 'tls-replication no'), /replicaof without tls-replication yes/],
    [good.replace(/^tls-protocols .*$/m, 'tls-protocols "TLSv1.1 TLSv1.2"'), /tls-protocols/],
    [good.replace(/^appendfsync always$/m, 'appendfsync everysec'), /appendfsync must be always/],
    [good.replace(/^tls-auth-clients yes$/m, 'tls-auth-clients no'), /tls-auth-clients/],
  ];
  for (const [text, pattern] of cases) assert.match(redisConfProblems(text).join('; '), pattern);
  const sentinel = readFileSync(join(COMPOSE_DIR, 'redis/sentinel.conf'), 'utf8');
  assert.deepEqual(redisConfProblems(sentinel), []);
  assert.match(redisConfProblems(sentinel.replace(/^tls-replication yes$/m, '')).join('; '), /sentinel without tls-replication yes/);
});

test('self-test: a broken YAML, JSON or shell file, a dead README link, a private key and an unknown kind of file are each reported', () => {
  const dir = tmp('deploy-broken');
  const cases: Array<[string, string, RegExp]> = [
    ['x.yaml', 'services:\n  a: [1, 2\n', /does not parse/],
    ['dup.yaml', 'a: 1\na: 2\n', /does not parse/],
    ['x.json', '{"a": 1,}', /does not parse/],
    ['x.sh', 'if then fi\n', /sh -n/],
    ['x.md', 'see [this](nowhere/file.md)', /links to nowhere\/file\.md/],
    ['key.yaml', 'k: |\n  -----BEGIN PRIVATE KEY-----\n', /private key/],
    ['x.toml', 'a = 1', /no check for this kind of file/],
  ];
  for (const [name, text, pattern] of cases) {
    writeFileSync(join(dir, name), text);
    assert.match(fileProblems(join(dir, name)).join('; '), pattern, name);
  }
});

test('self-test: the compose check finds a mount or GATEWAY_CONFIG that does not exist and a gateway health check off /readyz', () => {
  const dir = join(tmp('deploy-compose'), 'compose');
  cpSync(COMPOSE_DIR, dir, { recursive: true, filter: (src) => !GENERATED.has(rel(COMPOSE_DIR, src)) });
  const original = readFileSync(join(dir, 'compose.yaml'), 'utf8');
  writeFileSync(join(dir, 'compose.yaml'), original.replace('./config/gateway-b.json:/etc/partner-gateway/config/gateway-b.json', './config/gateway-c.json:/etc/partner-gateway/config/gateway-b.json'));
  assert.match(composeProblems(join(dir, 'compose.yaml'), GENERATED).join('; '), /gateway-b: mounts \.\/config\/gateway-c\.json, which does not exist.*gateway-b: GATEWAY_CONFIG/);
  writeFileSync(join(dir, 'compose.yaml'), original.replace("path:'/readyz'", "path:'/healthz'"));
  assert.match(composeProblems(join(dir, 'compose.yaml'), GENERATED).join('; '), /gateway-a: the health check must ask \/readyz/);
  rmSync(join(dir, 'redis/redis-3.conf'));
  writeFileSync(join(dir, 'compose.yaml'), original);
  assert.match(composeProblems(join(dir, 'compose.yaml'), GENERATED).join('; '), /redis-3: mounts \.\/redis\/redis-3\.conf, which does not exist/);
});

test('self-test: config check refuses a broken service configuration, and a host missing from the certificates is found', async () => {
  const file = join(copy, 'config/gateway-b.json');
  const original = readFileSync(file, 'utf8');
  try {
    writeFileSync(file, original.replace('rediss://sentinel-2:26379', 'redis://sentinel-2:26379'));
    const r = await configCheck(file, 'serve');
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^partner-gateway: redis\.sentinel\.nodes\[1\] must start with rediss:\/\//);
    writeFileSync(file, original.replace('rediss://sentinel-2:26379', 'rediss://sentinel-9:26379'));
    assert.ok(hostsReached(copy).some((h) => h.host === 'sentinel-9'), 'the unknown host is among those reached, so the host test would fail on it');
  } finally {
    writeFileSync(file, original);
  }
});

// What a user installs ([5/6] Performance, item 1): `npm pack` (which runs `prepare`, the build, as
// `npm publish` does) makes the tarball; it holds the compiled dist/, the bin, the default
// configuration and the docs, and nothing else. Installed into an empty directory with production
// dependencies only (no tsx, no TypeScript), its `partner-gateway` command runs and finds its own
// config/default.json from dist/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmp } from '../harness/certs.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

let dir: string;
let tarball: string;
let files: string[];
let app: string;

before(async () => {
  dir = tmp('pack');
  const packed = await run(NPM, ['pack', '--json', '--pack-destination', dir], ROOT);
  assert.equal(packed.code, 0, packed.stderr);
  // The JSON report is the last thing on stdout; lifecycle script banners may come before it.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const first = report[0];
  assert.ok(first);
  tarball = join(dir, first.filename);
  files = first.files.map((f) => f.path);
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pg-install-check', version: '0.0.0', private: true }));
  const installed = await run(NPM, ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], app);
  assert.equal(installed.code, 0, installed.stderr);
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('the tarball holds dist/, the bin, the default configuration and docs only', () => {
  for (const must of ['bin/partner-gateway.js', 'dist/cli/main.js', 'dist/config/load.js', 'config/default.json', 'package.json', 'README.md', 'scripts/ensure-redis.sh']) {
    assert.ok(files.includes(must), `${must} is in the tarball`);
  }
  const allowed = /^(dist\/.+\.js|bin\/partner-gateway\.js|config\/default\.json|scripts\/ensure-redis\.sh|certs\/README\.md|package\.json|README\.md|LICENSE)$/;
  assert.deepEqual(files.filter((f) => !allowed.test(f)), [], 'nothing outside the files list');
  // No tests, benches or TypeScript sources: the registry tarball ships the compiled build only.
  assert.deepEqual(files.filter((f) => /(^|\/)(test|bench|src)\//.test(f) || /\.ts$/.test(f)), []);
  // No key material or certificates, not even dev ones (certs/dev, keys/dev are made on the machine).
  assert.deepEqual(files.filter((f) => /\.(key|crt|pem|p12|pfx|jwk\.json|jwks\.json)$/.test(f) || /^(certs|keys)\/dev\//.test(f)), []);
});

test('the packed package.json needs no tsx at run time', () => {
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/partner-gateway/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  assert.equal(pkg.dependencies?.tsx, undefined);
  assert.equal(existsSync(join(app, 'node_modules/tsx')), false, 'tsx is not installed with production dependencies');
  assert.equal(existsSync(join(app, 'node_modules/typescript')), false, 'typescript is not installed with production dependencies');
});

// A minimal environment: no NODE_OPTIONS or loader hooks inherited from the test runner (tsx).
const plainEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir });

test('the installed `partner-gateway --help` runs from a temporary directory: exit 0 and the usage', async () => {
  const r = await run(join(app, 'node_modules/.bin/partner-gateway'), ['--help'], app, plainEnv(), 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: partner-gateway <command>\n/);
  assert.match(r.stdout, /\n {2}serve \[--workers N\] {2,}the gateway alone, from configuration;/);
  assert.equal(r.stderr, '');
});

test('the installed command finds its config/default.json from dist/: keys init writes key material', async () => {
  // loadConfig reads config/default.json relative to dist/config/load.js (REPO_ROOT); a wrong
  // depth in the build layout would fail here with "config/default.json" unreadable.
  const out = join(dir, 'keys');
  const r = await run(join(app, 'node_modules/.bin/partner-gateway'), ['keys', 'init', '--out', out], app, plainEnv(), 60_000);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['signing.jwk.json', 'transfer-log.key', 'pseudonym-master.key']) assert.ok(existsSync(join(out, f)), f);
});

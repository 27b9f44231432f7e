// RULES 34: start-up refuses an environment that weakens TLS, naming the variable; the checks
// themselves (pure) and startGateway's own call (for embedders that skip the CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTlsEnvironment } from '../src/tls/environment-guard.ts';
import { startGateway } from '../src/main.ts';
import { ConfigError } from '../src/config/load.ts';
import { testConfig } from './harness/stack.ts';

test('NODE_TLS_REJECT_UNAUTHORIZED=0 is refused naming the variable; 1 or unset passes', () => {
  assert.throws(() => assertTlsEnvironment({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }), (e: Error) => e instanceof ConfigError && /^NODE_TLS_REJECT_UNAUTHORIZED=0 /.test(e.message));
  assert.doesNotThrow(() => assertTlsEnvironment({ NODE_TLS_REJECT_UNAUTHORIZED: '1' }));
  assert.doesNotThrow(() => assertTlsEnvironment({}));
});

test('NODE_OPTIONS flags that lower the floor, replace the suites, cap at 1.2 or log keys are refused naming NODE_OPTIONS', () => {
  for (const flag of ['--tls-min-v1.0', '--tls-min-v1.1', '--tls-max-v1.2', '--tls-cipher-list=DEFAULT', '--tls-keylog=/tmp/keys.log']) {
    assert.throws(() => assertTlsEnvironment({ NODE_OPTIONS: `--enable-source-maps  ${flag}` }), new RegExp(`: NODE_OPTIONS must not contain ${flag.split('=')[0]!.replace(/\./g, '\\.')}:`), flag);
  }
  // Raising the floor, or unrelated options, is fine.
  assert.doesNotThrow(() => assertTlsEnvironment({ NODE_OPTIONS: '--tls-min-v1.3 --max-old-space-size=512 --use-openssl-ca' }));
});

test('the same flags on the node command line (execArgv) are refused', () => {
  assert.throws(() => assertTlsEnvironment({}, ['--import', 'tsx', '--tls-min-v1.0']), /: the node command line must not contain --tls-min-v1\.0:/);
  assert.throws(() => assertTlsEnvironment({}, ['--tls-cipher-list=AES128-SHA']), /--tls-cipher-list/);
  assert.doesNotThrow(() => assertTlsEnvironment({}, ['--import', 'tsx', '--test']));
});

test('startGateway itself refuses such an environment before opening anything', async () => {
  const config = await testConfig();
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    await assert.rejects(startGateway(config), (e: Error) => e instanceof ConfigError && /NODE_TLS_REJECT_UNAUTHORIZED=0/.test(e.message));
  } finally {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  }
});

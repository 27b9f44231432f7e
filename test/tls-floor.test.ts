// RULES 32, 33, 37: the gateway's listener speaks only TLS 1.2/1.3 with ECDHE-AEAD suites.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { testCerts } from './harness/certs.ts';
import { handshake, legacyClient, permissiveServer, plainHttpServer, rawHttp } from './harness/tls-probe.ts';
import { fetch } from 'undici';
import { TLS12_SUITES, TLS13_SUITES } from '../src/tls/options.ts';

let stack: Stack;
let permissive: Awaited<ReturnType<typeof permissiveServer>>;
let ca: string;

before(async () => {
  const c = await testCerts();
  ca = c.ca;
  stack = await startStack({ users: 10 });
  permissive = await permissiveServer(c.cert('gateway'), c.key('gateway'));
});
after(async () => {
  await permissive.close();
  await stack.close();
});

for (const version of ['TLSv1', 'TLSv1.1'] as const) {
  test(`a ${version} client is refused (and the same client works against a permissive server)`, async () => {
    const control = await handshake(permissive.port, ca, legacyClient(version));
    assert.equal(control.ok, true, `control handshake failed: ${control.error}`);
    assert.equal(control.protocol, version);
    const r = await handshake(stack.gateway.port, ca, legacyClient(version));
    assert.equal(r.ok, false, `gateway accepted ${version}`);
  });
}

test('TLS 1.2 and TLS 1.3 clients succeed with a listed AEAD suite', async () => {
  const r12 = await handshake(stack.gateway.port, ca, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  assert.equal(r12.ok, true, r12.error);
  assert.equal(r12.protocol, 'TLSv1.2');
  assert.ok((TLS12_SUITES as readonly string[]).includes(r12.cipher!), r12.cipher);
  const r13 = await handshake(stack.gateway.port, ca, { minVersion: 'TLSv1.3' });
  assert.equal(r13.ok, true, r13.error);
  assert.equal(r13.protocol, 'TLSv1.3');
  assert.ok((TLS13_SUITES as readonly string[]).includes(r13.cipher!), r13.cipher);
});

test('a TLS 1.2 client offering only CBC suites is refused (and succeeds against a permissive server)', async () => {
  const cbc = { maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' } as const;
  const control = await handshake(permissive.port, ca, cbc);
  assert.equal(control.ok, true, `control handshake failed: ${control.error}`);
  assert.match(control.cipher!, /AES128-SHA/);
  const r = await handshake(stack.gateway.port, ca, cbc);
  assert.equal(r.ok, false, `gateway accepted ${r.cipher}`);
});

test('a TLS 1.3 client offering only ChaCha20 is refused (NIST list has no ChaCha20)', async () => {
  const chacha = { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' } as const;
  const control = await handshake(permissive.port, ca, chacha);
  assert.equal(control.ok, true, control.error);
  assert.equal((await handshake(stack.gateway.port, ca, chacha)).ok, false);
});

test('a plain HTTP request to the gateway port gets no HTTP response', async () => {
  const plain = await plainHttpServer();
  try {
    assert.match(await rawHttp(plain.port), /^HTTP\/1\.1 200/, 'control: the raw client reads a plain server');
  } finally {
    await plain.close();
  }
  const got = await rawHttp(stack.gateway.port);
  assert.doesNotMatch(got, /HTTP\/1\./);
});

test('responses carry HSTS for two years with subdomains', async () => {
  const res = await fetch(`${stack.url}/healthz`, { dispatcher: stack.client });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
});

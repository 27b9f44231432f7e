// DESIGN 1: a Redis that hangs (stopped, not closed) must not hold partner requests or readiness
// forever: they fail closed within the configured Redis timeout, and recover when it resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, waitFor } from './harness/stack.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';

test('with Redis stopped, a data call is 503 within the timeout and /readyz is not ready; both recover', { timeout: 30_000 }, async () => {
  const stack = await startStack({ users: 20 });
  try {
    const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
    const token = await p.token('service_delivery');
    const path = '/v1/subjects?purpose=service_delivery&limit=3';
    assert.equal((await partnerGet(stack, token, path)).status, 200, 'control');
    stack.redis.process.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await partnerGet(stack, token, path);
      assert.equal(r.status, 503, r.text);
      assert.ok(Date.now() - t0 < stack.config.redis.commandTimeoutMs + 1500, `took ${Date.now() - t0} ms`);
      const ready = await fetch(`${stack.url}/readyz`, { dispatcher: stack.client });
      assert.equal(ready.status, 503);
    } finally {
      stack.redis.process.kill('SIGCONT');
    }
    await waitFor(async () => (await partnerGet(stack, token, path)).status === 200, 10_000, 200);
  } finally {
    await stack.close();
  }
});

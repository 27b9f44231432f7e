// RULES 37 with issue 17 item 4: helmet's headers are computed once at start and set as a fixed
// list. They must be exactly what helmet itself sets on a request, no more, no less.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import helmet from 'helmet';
import { HELMET_OPTIONS, helmetHeaders, securityHeaders } from '../../src/http/security-headers.ts';

function recorder() {
  const headers = new Map<string, string>();
  return { headers, res: { setHeader: (k: string, v: unknown) => { headers.set(k.toLowerCase(), String(v)); }, removeHeader: (k: string) => { headers.delete(k.toLowerCase()); } } };
}

test('the fixed list equals what helmet sets per request, HSTS two years with subdomains and no preload', () => {
  const live = recorder();
  helmet(HELMET_OPTIONS)({} as never, live.res as never, () => undefined);
  const fixed = recorder();
  securityHeaders()({} as never, fixed.res as never, () => undefined);
  assert.deepEqual(Object.fromEntries(fixed.headers), Object.fromEntries(live.headers));
  assert.equal(fixed.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
  assert.ok(fixed.headers.has('content-security-policy') && fixed.headers.get('x-content-type-options') === 'nosniff');
  assert.equal(helmetHeaders().length, live.headers.size);
});

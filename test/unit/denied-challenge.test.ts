// RFC 6750 §3: every 401 carries the Bearer challenge. partner-auth sets it when authentication
// fails; a token the decision refuses (revoked or expired between authentication and the decision,
// RULES 41) must answer the same way. Found by the OpenAPI response check in CI (issue 19):
// "GET /v1/subjects 401: required header WWW-Authenticate missing".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denial } from '../../src/transfers/pull-one.ts';
import { deny } from '../../src/policy/denial.ts';

test('a decision that refuses the token (401 invalid_token) carries the Bearer challenge; a 403 does not', () => {
  const p = denial(deny('invalid_token'));
  assert.equal(p.status, 401);
  assert.equal(p.headers['WWW-Authenticate'], 'Bearer realm="partner", error="invalid_token"');
  assert.equal(denial(deny('consent_required')).headers['WWW-Authenticate'], undefined);
});

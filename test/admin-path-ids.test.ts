// Issue [1/6] item 3: ids taken from the path of admin and partner routes are validated before any
// store sees them. A malformed id is a 400 validation_failed naming the parameter; a path that is
// not valid percent-encoding is a 400 naming `path` (it was a 500 whose log line quoted the raw
// path); a well-formed id of nothing stays a 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { generateKeyPairSync } from 'node:crypto';
import { adminApi, newPartner, type Api, type Res } from './harness/admin.ts';

let stack: Stack;
let admin: Api;
let auditor: Api;
let partner = '';

before(async () => {
  stack = await startStack({ users: 5 });
  admin = adminApi(stack, stack.adminToken);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  partner = await newPartner(admin);
});
after(() => stack.close());

function assert400(r: Res, field: string, what: string) {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/, what);
  assert.equal(r.body.code, 'validation_failed', what);
  assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field), [field], what);
}

const CID = `cid_${'A'.repeat(22)}`;
const JWKS = { keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'sig-1', use: 'sig', alg: 'ES256' }] };
// [method, path with :x for the id under test, field named, a well-formed id of nothing, body]
const ROUTES: Array<[string, string, string, string, unknown?]> = [
  ['GET', '/admin/v1/partners/:x', 'id', 'nobody'],
  ['PUT', '/admin/v1/partners/:x/jwks', 'id', 'nobody', JWKS],
  ['POST', '/admin/v1/partners/:x/credentials', 'id', 'nobody', {}],
  ['DELETE', `/admin/v1/partners/:x/credentials/${CID}`, 'id', 'nobody'],
  ['DELETE', '/admin/v1/partners/PARTNER/credentials/:x', 'clientId', CID],
  ['GET', '/admin/v1/partners/:x/agreements', 'id', 'nobody'],
  ['POST', '/admin/v1/agreements/:x/suspend', 'id', 'agr_nobody'],
  ['POST', '/admin/v1/agreements/:x/approve', 'id', 'agr_nobody', { version: 1 }],
  ['POST', '/admin/v1/agreements/:x/reject', 'id', 'agr_nobody', { version: 1 }],
  ['GET', '/admin/v1/reidentifications/:x', 'id', `reid_${'A'.repeat(22)}`],
  ['POST', '/admin/v1/reidentifications/:x/approve', 'id', `reid_${'A'.repeat(22)}`],
  ['POST', '/admin/v1/partners/:x/keys/rotate', 'id', 'nobody', {}],
  ['GET', '/admin/v1/partners/:x/keys', 'id', 'nobody'],
  ['DELETE', '/admin/v1/tokens/:x', 'id', 'tok_nothing'],
];

test('a malformed id in the path → 400 naming it; a well-formed id of nothing → 404 (control)', async () => {
  for (const [method, path, field, unknown, body] of ROUTES) {
    const at = (id: string) => path.replace('PARTNER', partner).replace(':x', id);
    const opts = body === undefined ? {} : { body };
    for (const bad of ['A', 'x'.repeat(300), '%00', 'a%20b', '%E2%82%AC', "o'brien"]) {
      assert400(await admin(method, at(bad), opts), field, `${method} ${path} ${bad.slice(0, 10)}`);
    }
    const none = await admin(method, at(unknown), opts);
    assert.equal(none.status, 404, `${method} ${path}: control ${none.text}`);
  }
});

test('a path that is not valid percent-encoding → 400 naming path on every route with a path id, and nothing of it logged', async () => {
  const paths: Array<[string, string, Api]> = [
    ...ROUTES.map(([m, p]) => [m, p.replace('PARTNER', partner), admin] as [string, string, Api]),
    ['GET', '/admin/v1/subjects/:x/recipients', auditor],
    ['PUT', '/admin/v1/jurisdiction/blocked/:x', admin],
    // the partner listener: the path is refused before authentication
    ['GET', '/v1/subjects/:x', adminApi({ url: stack.url, client: stack.client }, 'none')],
  ];
  for (const [method, path, api] of paths) {
    assert400(await api(method, path.replace(':x', '%FFzz%C0'), {}), 'path', `${method} ${path}`);
  }
  assert.ok(!stack.logs.text().includes('%FFzz'), 'the raw path is not in the logs');
  assert.ok(!stack.logs.text().includes('Failed to decode'), 'no 500 was logged for bad input');
});

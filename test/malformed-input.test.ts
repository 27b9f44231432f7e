// Issue [1/6] item 3: malformed input is a 4xx, never a 5xx, and no request value reaches the
// service's own log (RULES 24). Each case below answered 500 before, and the bad path segment of
// the first went into the error log verbatim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { fetch } from 'undici';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { testCerts } from './harness/certs.ts';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, agreementBody, type Api } from './harness/admin.ts';

let s: Stack;
let p: TestPartner;
let token: string;
let admin: Api;
const CANARY = 'canary.person@example.kz';

before(async () => {
  s = await startStack({ users: 50 });
  p = await setupPartner(s);
  token = await p.token('advertising');
  admin = adminApi(s, s.adminToken);
});
after(async () => s.close());

// The control plane may sit on its own listener (issue [1/6] item 4).
const adminUrl = () => (s as Stack & { adminUrl?: string }).adminUrl ?? s.url;

function problemOf(r: { status: number; headers: Headers | { get(n: string): string | null }; body: any }, status: number, code: string) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /application\/problem\+json/);
  assert.equal(r.body?.code, code);
}

test('a bad percent-encoding in a partner path is 400 validation_failed, and the segment is not logged', async () => {
  const r = await partnerGet(s, token, `/v1/subjects/${encodeURIComponent(CANARY)}%ZZ?purpose=advertising`);
  problemOf(r, 400, 'validation_failed');
  assert.ok(!s.logs.text().includes('canary.person'), 'the raw path segment reached the log');
});

test('a bad percent-encoding in an admin path is 400 validation_failed, and the segment is not logged', async () => {
  const r = await admin('GET', `/admin/v1/subjects/${encodeURIComponent(CANARY)}%ZZ/recipients`);
  problemOf(r, 400, 'validation_failed');
  assert.ok(!s.logs.text().includes('canary.person'), 'the raw path segment reached the log');
});

test('a JSON body declared gzip that is not gzip is 400, a real gzip body still works', async () => {
  const url = adminUrl();
  const bad = await fetch(`${url}/admin/v1/partners`, {
    method: 'POST', dispatcher: s.client,
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: '{"name":"not gzip at all"}',
  });
  const badBody = (await bad.json()) as any;
  problemOf({ status: bad.status, headers: bad.headers, body: badBody }, 400, 'validation_failed');
  assert.deepEqual(badBody.errors.map((e: any) => e.field), ['body']);
  const good = await fetch(`${url}/admin/v1/partners`, {
    method: 'POST', dispatcher: s.client,
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify({ name: 'Gzip Partner', contactEmail: 'privacy@gzip.example' })),
  });
  assert.equal(good.status, 201, await good.text());
});

test('a form body declared gzip that is not gzip is 400 at the token endpoint', async () => {
  const r = await fetch(`${s.url}/oauth/token`, {
    method: 'POST', dispatcher: s.client,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
    body: 'grant_type=client_credentials',
  });
  assert.ok(r.status >= 400 && r.status < 500, `got ${r.status}`);
  await r.text();
});

test('JSON nested 30,000 levels deep in an agreement is 400 naming the body, and the service keeps working', async () => {
  const deep = '['.repeat(30_000) + ']'.repeat(30_000);
  const text = `{"purposes":{"advertising":{"categories":${deep}}}}`;
  const res = await fetch(`${adminUrl()}/admin/v1/partners/${p.id}/agreements`, {
    method: 'POST', dispatcher: s.client, body: text,
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
  });
  const r = { status: res.status, headers: res.headers, body: (await res.json()) as any };
  problemOf(r, 400, 'validation_failed');
  assert.ok(r.body.errors.some((e: any) => e.field === 'body' && /nest/.test(e.reason)), JSON.stringify(r.body));
  const ok = await admin('POST', `/admin/v1/partners/${p.id}/agreements`, { body: agreementBody() });
  assert.equal(ok.status, 201, ok.text);
  const ready = await fetch(`${s.url}/readyz`, { dispatcher: s.client });
  assert.equal(ready.status, 200);
  await ready.text();
});

test('a 5xx log line carries the route pattern and request id, never the message of a request-derived error', async () => {
  // A decode failure is the router's own 400 now; nothing of the request may be logged at any level.
  await partnerGet(s, token, `/v1/subjects/${encodeURIComponent(CANARY)}%E0%A4%A?purpose=advertising`);
  for (const line of s.logs.lines) assert.ok(!line.includes('%E0') && !line.includes('canary.person'), line);
});

/** One raw HTTP/1.1 exchange over a verified TLS connection (test CA); resolves when the server closes. */
async function rawExchange(base: string, request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const ca = readFileSync((await testCerts()).ca);
  const port = Number(new URL(base).port);
  const text = await new Promise<string>((resolve, reject) => {
    const sock = tls.connect({ host: 'localhost', port, ca, servername: 'localhost' }, () => sock.write(request));
    const chunks: Buffer[] = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('no answer within 5 s')));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    sock.on('error', reject);
  });
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

function parserProblem(r: { status: number; headers: Record<string, string>; body: string }, status: number, code: string) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.headers.connection, 'close');
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
  const body = JSON.parse(r.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
  assert.equal(body.type, `urn:partner-gateway:problem:${code}`);
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.requestId, r.headers['x-request-id']);
}

test('a request whose headers exceed the parser limit (16 KB) gets 431 problem+json on both listeners, and nothing of it is logged', async () => {
  for (const base of [s.url, adminUrl()]) {
    const r = await rawExchange(base, `GET /healthz?q=${CANARY} HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'canary.person'.repeat(1400)}\r\n\r\n`);
    parserProblem(r, 431, 'request_header_too_large');
    assert.ok(!r.body.includes('canary.person'), 'the request reached the answer');
  }
  // Through the tests' checked client: the answer matches the listener's documented x-listener-responses.
  const res = await fetch(`${s.url}/healthz`, { dispatcher: s.client, headers: { 'x-big': 'a'.repeat(20_000) } });
  assert.equal(res.status, 431);
  assert.equal((await res.json() as { code: string }).code, 'request_header_too_large');
  assert.ok(!s.logs.text().includes('canary.person'), 'the request reached the log');
});

test('a malformed request line (400) and an oversized chunk extension (413) get problem+json from the listener, not a bare status line', async () => {
  const r = await rawExchange(s.url, `GET /healthz HTTP/1.1 ${CANARY}\r\nHost: localhost\r\n\r\n`);
  parserProblem(r, 400, 'malformed_request');
  // A chunk extension over Node's 16 KB limit, while the token endpoint reads the body: 413.
  const big = await rawExchange(s.url, `POST /oauth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n1;x=${'canary.person'.repeat(1400)}\r\na\r\n0\r\n\r\n`);
  parserProblem(big, 413, 'payload_too_large');
  assert.ok(!r.body.includes('canary.person') && !big.body.includes('canary.person') && !s.logs.text().includes('canary.person'));
});

test('each listener documents its parser refusals (400, 408, 413, 431) as x-listener-responses, and every operation\'s default lists their codes', async () => {
  for (const base of [s.url, adminUrl()]) {
    const doc = await (await fetch(`${base}/openapi.json`, { dispatcher: s.client })).json() as { 'x-listener-responses': Record<string, { content: Record<string, unknown> }>; paths: Record<string, Record<string, { responses: { default: { content: Record<string, { schema: { allOf: Array<{ properties?: { code?: { enum?: string[] } } }> } }> } } }>> };
    assert.deepEqual(Object.keys(doc['x-listener-responses']).sort(), ['400', '408', '413', '431']);
    for (const r of Object.values(doc['x-listener-responses'])) assert.deepEqual(Object.keys(r.content), ['application/problem+json']);
    const healthz = doc.paths['/healthz']!.get!.responses.default.content['application/problem+json']!.schema.allOf[1]!.properties!.code!.enum!;
    for (const code of ['malformed_request', 'request_timeout', 'payload_too_large', 'request_header_too_large']) assert.ok(healthz.includes(code), code);
  }
});

test('an operation the listener does not document is 404 not_found before any body parser, role guard or Origin check (RULES 46)', async () => {
  // Each of these answered 400, 403, 415 or express's own OPTIONS 200 before (found by the route fuzzer).
  const cases: Array<[string, string, string, Record<string, string>, string?]> = [
    [adminUrl(), 'POST', '/admin/v1/partners/x/nothing', { 'content-type': 'application/json' }, '{"truncated":'],
    [adminUrl(), 'DELETE', '/admin/v1/partners', {}],
    [adminUrl(), 'POST', '/console/nothing-here', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://elsewhere.example' }, 'a=1'],
    [s.url, 'PATCH', '/v1/agreement', { 'content-type': 'text/xml' }, '<x/>'],
    [s.url, 'OPTIONS', '/v1/agreement', {}],
  ];
  for (const [base, method, path, headers, body] of cases) {
    const r = await fetch(`${base}${path}`, { dispatcher: s.client, method, headers, ...(body ? { body } : {}) });
    const problem = await r.json() as { code: string };
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(problem.code, 'not_found', `${method} ${path}`);
  }
  // HEAD is GET without the content (RFC 9110): a documented GET still answers it.
  const head = await fetch(`${s.url}/healthz`, { dispatcher: s.client, method: 'HEAD' });
  assert.equal(head.status, 200);
  // One trailing slash is the same route, as for express's router: /console (the README's address)
  // and the documented /console/ both lead to the overview; a doubled slash is no route.
  for (const path of ['/console', '/console/']) {
    const r = await fetch(`${adminUrl()}${path}`, { dispatcher: s.client, redirect: 'manual' });
    assert.equal(r.status, 303, path);
    assert.equal(r.headers.get('location'), '/console/overview', path);
    await r.arrayBuffer();
  }
  const doubled = await fetch(`${s.url}/healthz//`, { dispatcher: s.client });
  assert.equal(doubled.status, 404);
  await doubled.arrayBuffer();
});

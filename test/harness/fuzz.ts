// fast-check generators for hostile HTTP requests (issue [1/6] item 3): a route from the served
// OpenAPI documents, then its path segments, query string, headers and body bent in every way a
// careless or malicious client might, each value carrying the canary.
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';

export interface Route { base: string; method: string; path: string; query: string[] }
export interface Credential { label: string; value: string | null }

export interface FuzzRequest {
  origin: string;
  method: string;
  path: string;
  headers: string[];
  body: Buffer | undefined;
  bodyBytes: number;
  describe: string;
}

const pct = (bytes: Uint8Array) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/** One path segment or query value; always holds the canary. */
function hostileValue(canary: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(canary),
    fc.constantFrom(`${canary}%ZZ`, `%${canary}`, `${canary}%E0%A4%A`, `${canary}%`, `${canary}%00`, `%2e%2e%2F${canary}`, `..%2F..%2F${canary}`),
    fc.uint8Array({ maxLength: 24 }).map((b) => `${canary}${pct(b)}`),
    fc.string({ unit: 'grapheme', maxLength: 12 }).map((u) => encodeURIComponent(`${u}${canary}`)),
    fc.integer({ min: 20, max: 6000 }).map((n) => `${canary}${'A'.repeat(n)}`),
    fc.constantFrom(`99999999999999999999999-0.${canary}`, `99999999999999999999999-0`, `-1-${canary}`, `1e309${canary}`),
    fc.constantFrom(`u_000001${canary}`, `${canary}@example.kz`, `__proto__${canary}`, `constructor${canary}`),
  );
}

function pathOf(template: string, canary: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const tail = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/..', '/%2e%2e', '//', `/${canary}`, '/.') });
  return fc.tuple(fc.array(hostileValue(canary), { minLength: names.length, maxLength: names.length }), tail).map(([vals, t]) => {
    let i = 0;
    return template.replace(/\{[^}]+\}/g, () => vals[i++]!) + t;
  });
}

function queryOf(known: string[], canary: string): fc.Arbitrary<string> {
  const key = fc.oneof(
    ...(known.length ? [{ weight: 4, arbitrary: fc.constantFrom(...known) }] : []),
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', `${canary}`, 'purpose[a]', 'a[]', '') },
  );
  const pair = fc.tuple(key, hostileValue(canary)).map(([k, v]) => `${k}=${v}`);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: fc.array(pair, { maxLength: 6 }).map((ps) => (ps.length ? `?${ps.join('&')}` : '')) },
    // the same key twice or more
    { weight: 2, arbitrary: fc.tuple(key, fc.array(hostileValue(canary), { minLength: 2, maxLength: 4 })).map(([k, vs]) => `?${vs.map((v) => `${k}=${v}`).join('&')}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 12_000 }).map((n) => `?purpose=${canary}${'x'.repeat(n)}`) },
  );
}

function jsonBody(canary: string): fc.Arbitrary<{ text: Buffer; type: string; what: string }> {
  const depth = fc.integer({ min: 40, max: 30_000 });
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  return fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: json({ v, name: canary, [canary]: v }), type: 'application/json', what: 'random json' })),
    fc.constant({ text: Buffer.from(`{"__proto__":{"admin":true,"x":"${canary}"},"constructor":{"prototype":{"y":"${canary}"}}}`), type: 'application/json', what: 'proto keys' }),
    depth.map((d) => ({ text: Buffer.from(`{"a":${'['.repeat(d)}"${canary}"${']'.repeat(d)}}`), type: 'application/json', what: `nested ${d}` })),
    fc.constant({ text: Buffer.from(`{"name":"${canary}",`), type: 'application/json', what: 'truncated json' }),
    fc.constant({ text: Buffer.concat([Buffer.from(`{"name":"${canary}`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), type: 'application/json; charset=utf-8', what: 'invalid utf-8' }),
    fc.constant({ text: Buffer.from(`{"name":"${canary}"}`), type: 'application/json; charset=ebcdic', what: 'odd charset' }),
    fc.constant({ text: Buffer.from(`grant_type=${canary}&scope=${canary}&client_id=${canary}`), type: 'application/x-www-form-urlencoded', what: 'form' }),
    fc.constant({ text: Buffer.from(`<x>${canary}</x>`), type: 'text/xml', what: 'xml' }),
    fc.constant({ text: Buffer.from(`{"name":"${canary}"}`), type: 'text/plain', what: 'json as text/plain' }),
  );
}

type Body = { buf: Buffer | undefined; headers: string[]; what: string };

function bodyOf(canary: string): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Body>({ buf: undefined, headers: [], what: 'no body' }) },
    { weight: 8, arbitrary: jsonBody(canary).map((b) => ({ buf: b.text, headers: ['content-type', b.type], what: b.what })) },
    // declared gzip: sometimes really gzip, sometimes not
    { weight: 2, arbitrary: fc.tuple(jsonBody(canary), fc.boolean(), fc.constantFrom('gzip', 'deflate', 'br', 'x-unknown')).map(([b, real, enc]) => ({
      buf: real && enc === 'gzip' ? gzipSync(b.text) : b.text, headers: ['content-type', b.type, 'content-encoding', enc], what: `${b.what} as ${real ? '' : 'fake '}${enc}`,
    })) },
    // 5 MB: far past the body limit
    { weight: 1, arbitrary: fc.constant<Body>({ buf: Buffer.from(`{"name":"${canary}${'x'.repeat(5 * 1024 * 1024)}"}`), headers: ['content-type', 'application/json'], what: '5 MB' }) },
  );
}

function authOf(creds: Credential[], canary: string): fc.Arbitrary<{ headers: string[]; what: string }> {
  const one = fc.constantFrom(...creds);
  return fc.oneof(
    { weight: 8, arbitrary: one.map((c) => ({ headers: c.value ? ['authorization', `Bearer ${c.value}`] : [], what: c.label })) },
    { weight: 1, arbitrary: fc.tuple(one, one).map(([a, b]) => ({ headers: ['authorization', `Bearer ${a.value ?? canary}`, 'authorization', `Bearer ${b.value ?? canary}`], what: `duplicated ${a.label}+${b.label}` })) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 12_000 }).map((n) => ({ headers: ['authorization', `Bearer ${canary}${'A'.repeat(n)}`], what: `oversized ${n}` })) },
    { weight: 1, arbitrary: fc.constantFrom('Basic', 'Bearer', 'bearer  ', `Basic ${Buffer.from(`${canary}:${canary}`).toString('base64')}`, `Digest ${canary}`).map((v) => ({ headers: ['authorization', v], what: 'odd scheme' })) },
  );
}

export function fuzzRequest(routes: Route[], creds: Credential[], canary: string): fc.Arbitrary<FuzzRequest> {
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
  return fc.constantFrom(...routes).chain((route) => fc.record({
    route: fc.constant(route),
    method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...methods) }),
    path: pathOf(route.path, canary),
    query: queryOf(route.query, canary),
    auth: authOf(creds, canary),
    body: bodyOf(canary),
    accept: fc.constantFrom('application/json', 'application/x-ndjson', 'application/jose', 'text/html', '*/*', `${canary}/x`, ''),
    extra: fc.constantFrom<string[]>([], ['x-request-id', canary], ['x-forwarded-for', `${canary}`], ['ssl-client-cert', canary], ['cookie', `sid=${canary}`], ['origin', `https://${canary}.example`], ['range', `bytes=0-${canary}`], ['if-none-match', `"${canary}"`]),
  })).map(({ route, method, path, query, auth, body, accept, extra }) => {
    const headers = [...auth.headers, ...body.headers, ...(accept ? ['accept', accept] : []), ...extra];
    const sendBody = method === 'GET' || method === 'HEAD' ? (body.buf && body.buf.length < 1_000_000 ? body.buf : undefined) : body.buf;
    return {
      origin: route.base, method, path: `${path}${query}`, headers, body: sendBody, bodyBytes: sendBody?.length ?? 0,
      describe: `${route.method} ${route.path}; auth ${auth.what}; body ${body.what}; accept ${accept}; ${extra[0] ?? ''}`,
    };
  });
}

// The reference core store over real HTTPS with a test CA (verification on): CONTRACT 3's API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { writeDevCerts, type CertPaths } from '../src/tls/dev-certs.ts';
import { startCoreStore, type RunningCoreStore } from '../src/core-store/server.ts';
import { loadNdjsonSource, syntheticSource, type UserSource } from '../src/core-store/source.ts';
import { syntheticUpdatedAt, syntheticUser, userIdAt } from '../src/core-store/synthetic.ts';

const USERS = 2500;
// CONTRACT 3's record, key by key; written out here so a drift in record.ts cannot hide.
const CONTRACT_KEYS = [
  'id', 'updatedAt', 'phone', 'email', 'ipAddress', 'geolocation', 'searchHistory', 'visits', 'cookies',
  'browser', 'os', 'avatarUrl', 'username', 'gender', 'dateOfBirth', 'consents', 'policyAcceptance',
  'lastActiveAt', 'userAgreement', 'correspondence',
];
const dir = mkdtempSync(join(tmpdir(), 'core-store-test-'));
let certs: CertPaths;
let agent: Agent;
let store: RunningCoreStore;

const serve = (source: UserSource) =>
  startCoreStore({ port: 0, host: '127.0.0.1', source, tls: { cert: certs.cert('core-store'), key: certs.key('core-store') } });

async function get(path: string, on: RunningCoreStore = store) {
  const res = await request(`https://localhost:${on.port}${path}`, { dispatcher: agent });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

async function allPages(query: string, on: RunningCoreStore = store): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { status, body } = await get(`/users?${query}${cursor ? `&cursor=${cursor}` : ''}`, on);
    assert.equal(status, 200);
    ids.push(...body.items.map((u: { id: string }) => u.id));
    cursor = body.nextCursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { ids, pages };
}

before(async () => {
  certs = await writeDevCerts(join(dir, 'certs'));
  agent = new Agent({ connect: { ca: readFileSync(certs.ca) } });
  store = await serve(syntheticSource(USERS));
});
after(async () => Promise.all([store.close(), agent.close()]));

test('GET /users/:id serves the generator\'s record with every CONTRACT 3 key; /healthz answers', async () => {
  const { status, headers, body } = await get('/users/u_000123');
  assert.equal(status, 200);
  assert.match(String(headers['content-type']), /^application\/json/);
  assert.equal(headers['x-powered-by'], undefined);
  assert.deepEqual(Object.keys(body), CONTRACT_KEYS);
  assert.deepEqual(Object.keys(body.consents), ['purposes', 'crossBorder']);
  assert.deepEqual(Object.keys(body.geolocation), ['lat', 'lon', 'city', 'country']);
  assert.deepEqual(body, syntheticUser(123));
  assert.deepEqual((await get('/healthz')).body, { status: 'ok' });
});

test('unknown, out-of-range and non-canonical ids answer 404 problem+json', async () => {
  for (const id of ['nobody', `u_00${USERS}`, 'u_0000123', 'u_12']) {
    const { status, headers, body } = await get(`/users/${id}`);
    assert.equal(status, 404, id);
    assert.equal(headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual(body, { type: 'about:blank', title: 'Not Found', status: 404, code: 'not_found' });
  }
});

test('paging with the cursor visits every one of 2,500 users exactly once, in order', async () => {
  for (const limit of [1000, 333]) {
    const { ids, pages } = await allPages(`limit=${limit}`);
    assert.equal(pages, Math.ceil(USERS / limit));
    assert.equal(new Set(ids).size, USERS);
    assert.deepEqual(ids, Array.from({ length: USERS }, (_, i) => userIdAt(i)));
  }
  assert.equal((await get('/users')).body.items.length, 100, 'default limit');
});

test('updatedSince keeps exactly the users updated at or after the instant, in any zone notation', async () => {
  const since = Date.parse('2026-06-01T00:00:00Z');
  const expected = Array.from({ length: USERS }, (_, i) => i)
    .filter((i) => Date.parse(syntheticUpdatedAt(i)) >= since)
    .map(userIdAt);
  assert.ok(expected.length > 100 && expected.length < USERS - 100, 'the filter must be meaningful');
  assert.deepEqual((await allPages('limit=250&updatedSince=2026-06-01T00:00:00Z')).ids, expected);
  assert.deepEqual((await allPages('limit=1000&updatedSince=2026-06-01T05:00:00.000%2B05:00')).ids, expected);
});

test('malformed limit, cursor and updatedSince answer 400 problem+json naming the parameter', async () => {
  const valid = (await get('/users?limit=1')).body.nextCursor as string;
  const cases: [string, string][] = [
    ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=1.5', 'limit'], ['limit=abc', 'limit'],
    ['limit=-1', 'limit'], ['limit=10&limit=20', 'limit'], ['limit=', 'limit'],
    ['cursor=not*a*cursor', 'cursor'], [`cursor=${Buffer.from('x1').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from(`i${USERS + 1}`).toString('base64url')}`, 'cursor'], [`cursor=${valid}A`, 'cursor'],
    ['updatedSince=yesterday', 'updatedSince'], ['updatedSince=2026-02-30T00:00:00Z', 'updatedSince'],
    ['updatedSince=2026-06-01', 'updatedSince'], ['updatedSince=2026-06-01T00:00:00', 'updatedSince'],
  ];
  for (const [query, parameter] of cases) {
    const { status, headers, body } = await get(`/users?${query}`);
    assert.equal(status, 400, query);
    assert.match(String(headers['content-type']), /^application\/problem\+json/, query);
    assert.equal(body.code, 'validation_failed', query);
    assert.equal(body.errors[0].parameter, parameter, query);
    assert.match(body.detail, new RegExp(parameter), query);
  }
  assert.equal((await get(`/users?limit=1&cursor=${valid}`)).body.items[0].id, 'u_000001', 'the valid cursor works');
});

test('an NDJSON file (CORE_STORE_DATA) is served: get by id, paging, updatedSince', async () => {
  const records = [
    { id: 'alpha', updatedAt: '2026-01-01T00:00:00Z', email: 'a@example.kz' },
    { id: 'beta', updatedAt: '2026-09-01T00:00:00Z', email: 'b@example.kz' },
    { id: 'gamma', updatedAt: '2026-10-01T00:00:00Z', email: 'c@example.kz' },
  ];
  const file = join(dir, 'users.ndjson');
  writeFileSync(file, `${JSON.stringify(records[0])}\n\n${JSON.stringify(records[1])}\r\n${JSON.stringify(records[2])}\n`);
  const fileStore = await serve(await loadNdjsonSource(file));
  try {
    for (const r of records) assert.deepEqual((await get(`/users/${r.id}`, fileStore)).body, r);
    assert.equal((await get('/users/u_000000', fileStore)).status, 404);
    assert.deepEqual(await allPages('limit=2', fileStore), { ids: ['alpha', 'beta', 'gamma'], pages: 2 });
    assert.deepEqual((await allPages('updatedSince=2026-06-01T00:00:00Z', fileStore)).ids, ['beta', 'gamma']);
  } finally {
    await fileStore.close();
  }
});

test('a bad NDJSON line fails loading with an error naming its line number', async () => {
  const good = JSON.stringify({ id: 'alpha' });
  const cases: [string, RegExp][] = [
    [`${good}\n\n{"id": "beta",\n`, /line 3: not valid JSON/],
    [`${good}\n{"name": "no id"}\n`, /line 2: .*"id"/],
    [`${good}\n[1,2]\n`, /line 2: .*"id"/],
    [`${good}\n${good}\n`, /line 2: duplicate id, first used on line 1/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, text);
    await assert.rejects(loadNdjsonSource(file), message);
  }
});

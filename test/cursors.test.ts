// Issue [1/6] items 2 and 3 over real HTTPS, Redis and core store (DESIGN 9, RULES 42, CONTRACT
// 11): every cursor handed out is encrypted and reveals neither the store's cursor nor a user id;
// a cursor of another partner, purpose, filter or list, an expired, altered or malformed one is a
// 400 naming `cursor`; valid cursors still walk every page once; and a stream id beyond Redis's
// 64-bit range is a 400 before Redis sees it, never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, type Api, type Res } from './harness/admin.ts';
import { encodeCursor } from '../src/core-store/query.ts';
import { userIdAt } from '../src/core-store/synthetic.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { CursorCodec, cursorKey, type CursorKind } from '../src/cursors/codec.ts';

const USERS = 1100;
const OUT_OF_RANGE = ['99999999999999999999-0', '0-99999999999999999999', '99999999999999999999999-0'];

let stack: Stack;
let admin: Api;
let auditor: Api;
let core: Api;
let a: TestPartner;
let b: TestPartner;
let n: TestPartner;
let ttl = 0;

before(async () => {
  stack = await startStack({ users: USERS });
  ttl = stack.config.limits.cursorTtlSeconds;
  admin = adminApi(stack, stack.adminToken);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  const terms = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } }, advertising: { categories: { gender: 'clear' } } } };
  a = await setupPartner(stack, terms);
  b = await setupPartner(stack, terms);
  n = await setupPartner(stack, terms);
});
after(() => stack.close());

/** A codec with the gateway's own key and a clock of the test's choosing. */
const codecAt = (now: number) => new CursorCodec(cursorKey(stack.gateway.deps.keys.pseudonymMaster), { ttlSeconds: ttl, now: () => now });

/** 400 validation_failed, problem+json, naming `cursor` (or `field`). */
function assertRefused(r: Res | { status: number; body: any; headers: Headers }, what: string, field = 'cursor'): string {
  assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/, what);
  assert.equal(r.body.code, 'validation_failed', what);
  assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field), [field], what);
  return r.body.errors[0].reason as string;
}

/** Flip one bit in the middle of a cursor's bytes. */
function altered(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url');
  raw[raw.length >> 1]! ^= 0x01;
  return raw.toString('base64url');
}

/** Every reading of a cursor someone might try. */
function readings(cursor: string): string[] {
  const out = [cursor];
  const decode = (s: string) => [Buffer.from(s, 'base64url'), Buffer.from(s, 'base64')].flatMap((b) => [b.toString('utf8'), b.toString('latin1'), b.toString('hex')]);
  for (const once of decode(cursor)) out.push(once, ...decode(once));
  for (const part of cursor.split('.')) out.push(part, ...decode(part));
  if (/^[0-9a-f]+$/i.test(cursor)) out.push(Buffer.from(cursor, 'hex').toString('latin1'));
  return out;
}

test('bulk cursors (limit=1, page after page) reveal neither the store\'s cursor nor any user id, however decoded', async () => {
  const token = await a.token('service_delivery');
  // Start deep in the store so its cursors are long enough (`i1000` → `aTEwMDA`) that finding one by
  // chance in random bytes is out of the question.
  let r = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=1000');
  assert.equal(r.status, 200, r.text);
  const cursors: Array<{ cursor: string; store: string }> = [];
  for (let page = 1; page <= 8; page++) {
    const prev = r.body.nextCursor as string;
    cursors.push({ cursor: prev, store: encodeCursor(999 + page) });
    r = await partnerGet(stack, token, `/v1/subjects?purpose=service_delivery&limit=1&cursor=${prev}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.items.length + r.body.omitted, 1);
  }
  // Control: the store's cursor really is what the gateway walks on (its next page starts there).
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  if (r.body.items[0]) assert.equal(ps.decode(r.body.items[0].subject, a.id, [1])!.userId, userIdAt(1007));
  const ids = Array.from({ length: USERS }, (_, i) => userIdAt(i));
  for (const { cursor, store } of cursors) {
    const inner = Buffer.from(store, 'base64url').toString(); // `i1000`
    for (const v of readings(cursor)) {
      assert.ok(!v.includes(store) && !v.includes(inner), `the store's cursor ${store} shows in ${cursor}`);
      const id = ids.find((u) => v.includes(u));
      assert.equal(id, undefined, `user id ${id} shows in ${cursor}`);
    }
  }
  assert.equal(new Set(cursors.map((c) => c.cursor.length)).size, 1, 'the length does not follow the position');
});

test('bulk: another partner\'s or purpose\'s cursor, an expired, altered or malformed one → 400 naming cursor', async () => {
  const sd = await a.token('service_delivery');
  const page = await partnerGet(stack, sd, '/v1/subjects?purpose=service_delivery&limit=5');
  const cursor = page.body.nextCursor as string;
  assert.equal((await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${cursor}`)).status, 200, 'control: valid for its own partner and purpose');

  assertRefused(await partnerGet(stack, await b.token('service_delivery'), `/v1/subjects?purpose=service_delivery&limit=5&cursor=${cursor}`), 'another partner');
  assertRefused(await partnerGet(stack, await a.token('advertising'), `/v1/subjects?purpose=advertising&limit=5&cursor=${cursor}`), 'another purpose');
  assertRefused(await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${altered(cursor)}`), 'altered');
  for (const bad of ['abc', encodeCursor(5), `${cursor}A`, cursor.slice(0, -2), 'A'.repeat(200)]) {
    assertRefused(await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${bad}`), `malformed ${bad.slice(0, 12)}`);
  }

  // Expired: sealed by the gateway's key, issued just over the TTL ago; the same one issued now works.
  const bound = [a.id, 'service_delivery'];
  const old = codecAt(Date.now() - (ttl + 60) * 1000).seal('bulk', bound, encodeCursor(5));
  assert.match(assertRefused(await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${old}`), 'expired'), /expired/);
  const fresh = codecAt(Date.now()).seal('bulk', bound, encodeCursor(5));
  assert.equal((await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${fresh}`)).status, 200, 'control: the same cursor, fresh');
  // Another kind sealed for the same partner and purpose.
  const foreign = codecAt(Date.now()).seal('notifications', bound, encodeCursor(5));
  assertRefused(await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=5&cursor=${foreign}`), 'foreign kind');

  // NDJSON: the last line's cursor is sealed too and opens for the next JSON page.
  const nd = await partnerGet(stack, sd, '/v1/subjects?purpose=service_delivery&limit=3', { accept: 'application/x-ndjson' });
  const last = JSON.parse(nd.text.trim().split('\n').at(-1)!);
  assert.ok(!readings(last.nextCursor).some((v) => v.includes(encodeCursor(3))));
  assert.equal((await partnerGet(stack, sd, `/v1/subjects?purpose=service_delivery&limit=3&cursor=${last.nextCursor}`)).status, 200);
});

test('notifications: cursors walk every notice once, stay valid on empty polls, and are refused altered, malformed, foreign, expired or out of range', async () => {
  const token = await n.token('advertising');
  const pulled = await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=40');
  assert.equal(pulled.status, 200, pulled.text);
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  const users = pulled.body.items.slice(0, 3).map((i: { subject: string }) => ps.decode(i.subject, n.id, [1])!.userId);
  assert.equal(users.length, 3);
  for (const [k, userId] of users.entries()) {
    const r = await core('POST', '/admin/v1/events', { body: { type: 'consent_withdrawn', userId, purposes: ['advertising'], at: '2026-11-24T10:00:00Z', id: `evt-cursor-${k}` } });
    assert.equal(r.status, 202, r.text);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const r = await partnerGet(stack, token, `/v1/notifications?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    if (r.body.items.length === 0) break;
    seen.push(...r.body.items.map((x: { id: string }) => x.id));
    assert.ok(r.body.nextCursor);
    assert.ok(!readings(r.body.nextCursor).some((v) => /\d{13}-\d+/.test(v)), 'no stream id inside');
    cursor = r.body.nextCursor;
  }
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen).size, 3, 'no notice twice');
  // An empty poll hands back a fresh cursor that still works.
  const empty = await partnerGet(stack, token, `/v1/notifications?cursor=${cursor}`);
  assert.deepEqual([empty.status, empty.body.items], [200, []]);
  assert.notEqual(empty.body.nextCursor, cursor);
  assert.deepEqual((await partnerGet(stack, token, `/v1/notifications?cursor=${empty.body.nextCursor}`)).body.items, []);

  assertRefused(await partnerGet(stack, token, `/v1/notifications?cursor=${altered(cursor!)}`), 'altered');
  for (const bad of ['abc', '1-0', '1795756164336-0']) assertRefused(await partnerGet(stack, token, `/v1/notifications?cursor=${bad}`), `malformed ${bad}`);
  assertRefused(await partnerGet(stack, await b.token('advertising'), `/v1/notifications?cursor=${cursor}`), 'another partner');
  const bulk = (await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=1')).body.nextCursor;
  assertRefused(await partnerGet(stack, token, `/v1/notifications?cursor=${bulk}`), 'a bulk cursor');
  const old = codecAt(Date.now() - (ttl + 60) * 1000).seal('notifications', [n.id], '1-0');
  assert.match(assertRefused(await partnerGet(stack, token, `/v1/notifications?cursor=${old}`), 'expired'), /expired/);
  for (const id of [...OUT_OF_RANGE, '18446744073709551615-18446744073709551615']) {
    const sealed = codecAt(Date.now()).seal('notifications', [n.id], id);
    assertRefused(await partnerGet(stack, token, `/v1/notifications?cursor=${sealed}`), `out of range ${id}`);
  }
});

/** Every page of an admin list, by its nextCursor; the ids in order. */
async function walk(api: Api, path: string, limit: number, idOf: (x: any) => string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 500; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    ids.push(...r.body.items.map(idOf));
    if (r.body.nextCursor === null) return ids;
    assert.ok(!readings(r.body.nextCursor).some((v) => /\d{13}-\d+/.test(v)), 'no stream id inside');
    cursor = r.body.nextCursor;
  }
  throw new Error('too many pages');
}

async function firstCursor(api: Api, path: string): Promise<string> {
  const r = await api('GET', path);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.nextCursor, `${path} has a next page`);
  return r.body.nextCursor;
}

test('transfers, audit and jurisdiction history: valid cursors walk every page once; altered, malformed, foreign-kind, expired and out-of-range → 400', async () => {
  // Three jurisdiction changes, so its history has pages to walk (domestic partners: no effect on pulls).
  for (const [m, p] of [['PUT', 'adequate/CH'], ['DELETE', 'adequate/CH'], ['PUT', 'adequate/CH']] as const) {
    const r = await admin(m, `/admin/v1/jurisdiction/${p}`, m === 'PUT' ? { body: { justification: 'FADP', reviewBy: '2030-01-01' } } : {});
    assert.equal(r.status, 200, r.text);
  }
  const lists: Array<{ kind: CursorKind; api: Api; path: string; bind: string[] }> = [
    { kind: 'transfers', api: auditor, path: `/admin/v1/transfers?partnerId=${n.id}`, bind: [JSON.stringify([n.id, null, null, null, null, null])] },
    { kind: 'audit', api: auditor, path: '/admin/v1/audit', bind: [] },
    { kind: 'jurisdiction', api: admin, path: '/admin/v1/jurisdiction/history', bind: [] },
  ];
  const firsts = new Map<CursorKind, string>();
  for (const l of lists) {
    const whole = await l.api('GET', `${l.path}${l.path.includes('?') ? '&' : '?'}limit=1000`);
    assert.equal(whole.status, 200, whole.text);
    const all = whole.body.items.map((x: { id: string }) => x.id);
    assert.ok(all.length >= 3, `${l.kind} has ${all.length}`);
    const walked = await walk(l.api, l.path, 2, (x) => x.id);
    assert.deepEqual(walked, all, `${l.kind}: every item once, in order`);
    firsts.set(l.kind, await firstCursor(l.api, `${l.path}${l.path.includes('?') ? '&' : '?'}limit=1`));
  }
  for (const l of lists) {
    const sep = l.path.includes('?') ? '&' : '?';
    const get = (c: string) => l.api('GET', `${l.path}${sep}limit=1&cursor=${c}`);
    const mine = firsts.get(l.kind)!;
    assert.equal((await get(mine)).status, 200, `${l.kind}: control`);
    assertRefused(await get(altered(mine)), `${l.kind} altered`);
    for (const bad of ['nope', '1-0', '1795756164336-0', 'A'.repeat(64)]) assertRefused(await get(bad), `${l.kind} malformed ${bad}`);
    for (const [other, c] of firsts) if (other !== l.kind) assertRefused(await get(c), `${l.kind} given a ${other} cursor`);
    const old = codecAt(Date.now() - (ttl + 60) * 1000).seal(l.kind, l.bind, '1795756164336-0');
    assert.match(assertRefused(await get(old), `${l.kind} expired`), /expired/);
    assert.equal((await get(codecAt(Date.now()).seal(l.kind, l.bind, '1795756164336-0'))).status, 200, `${l.kind}: control, sealed by the test`);
    for (const id of [...OUT_OF_RANGE, '0-0']) assertRefused(await get(codecAt(Date.now()).seal(l.kind, l.bind, id)), `${l.kind} out of range ${id}`);
  }
});

test('transfers: a cursor is bound to its filter; reused with another filter → 400', async () => {
  const cursor = await firstCursor(auditor, `/admin/v1/transfers?partnerId=${n.id}&limit=1`);
  assert.equal((await auditor('GET', `/admin/v1/transfers?partnerId=${n.id}&limit=1&cursor=${cursor}`)).status, 200, 'control');
  for (const q of [`partnerId=${a.id}`, '', `partnerId=${n.id}&purpose=advertising`, `partnerId=${n.id}&decision=released`]) {
    assertRefused(await auditor('GET', `/admin/v1/transfers?${q}&limit=1&cursor=${cursor}`), `filter ${q}`);
  }
});

test('SSE Last-Event-ID beyond 64 bits, or the last id there can be → 400 naming it, never 500', async () => {
  for (const id of [...OUT_OF_RANGE, '18446744073709551615-18446744073709551615']) {
    const r = await auditor('GET', '/admin/v1/transfers/stream', { headers: { 'last-event-id': id } });
    assertRefused(r, `Last-Event-ID ${id}`, 'Last-Event-ID');
  }
});

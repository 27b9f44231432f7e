// Issue 5, ops API over HTTP: GET /admin/v1/transfers filters and cursor paging return exactly
// the expected entries, newest first; bad parameters are a 400 naming each one; every read is
// logged without the raw subject (RULES 49, 24); /openapi.json lists the new routes (RULES 46).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, fieldsOf, type Api } from './harness/admin.ts';
import { released, denied, entryRows } from './harness/transfer-log.ts';
import type { TransferEntry, TransferFilter, AppendInput } from '../src/transfer-log/index.ts';

let stack: Stack;
let auditor: Api;
let auditorTokenId = '';
let all: Array<{ e: TransferEntry; userId: string }> = [];
let from = '';
let to = '';

before(async () => {
  stack = await startStack({ users: 5 });
  const minted = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  assert.equal(minted.status, 201, minted.text);
  auditor = adminApi(stack, minted.body.token);
  auditorTokenId = minted.body.id;
  const tlog = stack.gateway.deps.transferLog;
  const users = ['u_api_1', 'u_api_2', 'u_api_3'];
  const byId = new Map<string, string>();
  for (let g = 0; g < 3; g++) { // three groups apart in time, for from/to
    const inputs: AppendInput[] = [];
    for (let i = g * 8; i < g * 8 + 8; i++) {
      const over = { userId: users[i % 3]!, partnerId: i % 4 < 2 ? 'p_a' : 'p_b', purpose: i % 5 < 3 ? 'advertising' : 'service_delivery' } as const;
      inputs.push(i % 6 === 5 ? denied(over) : released(over));
    }
    const stored = await Promise.all(inputs.map((inp) => tlog.append(inp)));
    stored.forEach((e, i) => byId.set(e.id, inputs[i]!.userId!));
    if (g === 1) from = stored.map((e) => e.at).sort()[0]!;
    if (g === 2) to = stored.map((e) => e.at).sort()[0]!;
    await sleep(25);
  }
  const rows = await entryRows(stack.gateway.deps.redis, tlog);
  all = rows.map((m) => { const e = JSON.parse(m.message.e!) as TransferEntry; return { e, userId: byId.get(e.id)! }; });
  assert.equal(all.length, 24);
});
after(() => stack.close());

/** The oracle: ids of matching entries, newest first. */
const expected = (f: TransferFilter) => all.filter(({ e, userId }) =>
  (f.partnerId === undefined || e.partnerId === f.partnerId) && (f.purpose === undefined || e.purpose === f.purpose) &&
  (f.decision === undefined || e.decision === f.decision) && (f.subject === undefined || userId === f.subject) &&
  (f.from === undefined || e.at >= f.from) && (f.to === undefined || e.at < f.to)).map(({ e }) => e.id).reverse();

async function allPages(f: TransferFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 50; n++) {
    const q = new URLSearchParams({ ...(f as Record<string, string>), limit: String(limit), ...(cursor ? { cursor } : {}) });
    const r = await auditor('GET', `/admin/v1/transfers?${q}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.items.length <= limit);
    ids.push(...r.body.items.map((e: TransferEntry) => e.id));
    if (r.body.nextCursor === null) return ids;
    cursor = r.body.nextCursor;
  }
  throw new Error('paging did not end');
}

test('every filter, paged 3 at a time and in one page, returns exactly the matching entries, newest first', async () => {
  const filters: TransferFilter[] = [
    {}, { partnerId: 'p_a' }, { purpose: 'service_delivery' }, { decision: 'denied' }, { subject: 'u_api_2' },
    { subject: 'u_api_2', partnerId: 'p_b' }, { partnerId: 'p_a', decision: 'released', purpose: 'advertising' },
    { from, to }, { subject: 'u_api_1', from }, { partnerId: 'p_nobody' }, { subject: 'u_nobody' },
  ];
  for (const f of filters) {
    const want = expected(f);
    assert.deepEqual(await allPages(f, 3), want, JSON.stringify(f));
    assert.deepEqual(await allPages(f, 100), want, JSON.stringify(f));
  }
  assert.equal(expected({ from, to }).length, 8, 'control: the time range picks the middle group');
});

test('entries come back whole (CONTRACT 7) and with subjectRef, never the user id', async () => {
  const r = await auditor('GET', '/admin/v1/transfers?subject=u_api_3&limit=1');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const newest = all.filter((x) => x.userId === 'u_api_3').at(-1)!;
  assert.deepEqual(r.body.items, [newest.e]);
  assert.equal(r.body.items[0].subjectRef, stack.gateway.deps.transferLog.subjectRef('u_api_3'));
  assert.ok(!r.text.includes('u_api_3'));
});

test('bad parameters are one 400 validation_failed naming every one of them', async () => {
  const r = await auditor('GET', '/admin/v1/transfers?purpose=spying&decision=maybe&from=yesterday&limit=0&cursor=nope&extra=1&partnerId=a%20b');
  assert.equal(r.status, 400);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, 'validation_failed');
  assert.deepEqual([...fieldsOf(r).keys()].sort(), ['cursor', 'decision', 'extra', 'from', 'limit', 'partnerId', 'purpose']);
  const twice = await auditor('GET', '/admin/v1/transfers?partnerId=p_a&partnerId=p_b&to=2026-13-40T00:00:00Z');
  assert.deepEqual([...fieldsOf(twice).keys()].sort(), ['partnerId', 'to']);
  for (const path of ['/admin/v1/transfers/export?decision=x', '/admin/v1/transfers/verify?x=1', '/admin/v1/subjects/u_api_1/recipients?limit=1']) {
    const b = await auditor('GET', path);
    assert.equal(b.status, 400, path);
    assert.equal(b.body.code, 'validation_failed', path);
  }
});

const READ_ID = '0b6a8f52-3f0e-4f7e-9a55-6d1f4c2a9e11';

test('each read is logged with the auditor\'s token id and the subject only as its subjectRef (RULES 49, 24); p_b is not registered, so it is not echoed', async () => {
  const r = await auditor('GET', '/admin/v1/transfers?subject=u_api_2&partnerId=p_b', { headers: { 'x-request-id': READ_ID } });
  assert.equal(r.status, 200);
  const line = () => stack.logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'transfer log read' && l.requestId === READ_ID);
  await waitFor(() => Boolean(line()), 2000);
  assert.deepEqual(line().actor, { tokenId: auditorTokenId, role: 'auditor' });
  assert.equal(line().action, 'transfers.list');
  assert.deepEqual(line().filter, { partnerId: '(unregistered)', subjectRef: stack.gateway.deps.transferLog.subjectRef('u_api_2') });
  assert.ok(!stack.logs.text().includes('u_api_'), 'no raw user id in any log line');
});

test('/openapi.json lists every new route with its auth and query parameters', async () => {
  const r = await auditor('GET', '/openapi.json', { token: null });
  const paths = r.body.paths;
  for (const p of ['/admin/v1/transfers', '/admin/v1/transfers/stream', '/admin/v1/transfers/export', '/admin/v1/transfers/verify', '/admin/v1/subjects/{userId}/recipients']) {
    assert.equal(paths[p]?.get?.['x-auth'], 'auditor', p);
  }
  // RULES 43: the JWKS is partner-facing, so it is in the partner listener's document.
  const partnerPaths = (await adminApi({ url: stack.url, client: stack.client }, '')('GET', '/openapi.json', { token: null })).body.paths;
  assert.equal(partnerPaths['/.well-known/jwks.json']?.get?.['x-auth'], 'public');
  const names = paths['/admin/v1/transfers'].get.parameters.map((x: { name: string }) => x.name).sort();
  assert.deepEqual(names, ['cursor', 'decision', 'from', 'limit', 'partnerId', 'purpose', 'subject', 'to']);
  assert.equal(paths['/admin/v1/subjects/{userId}/recipients'].get.parameters[0].in, 'path');
});

// Issue 16 (each page under 1 s with 100,000 entries): the search's detail drawer stops reading at
// the entry it opens, from just before its time, so a busy partner's later entries around it are
// not all read first. With the read cap (transferLog.maxScan) below the number of the partner's
// entries logged after it, a search that read them newest first could not reach the entry at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { released } from './harness/transfer-log.ts';
import { entryHref } from '../src/console/transfer-rows.ts';

let stack: Stack;
let cookie: string;

before(async () => {
  stack = await startStack({ users: 20, extra: { console: { tokenLogin: true }, transferLog: { maxScan: 100 } } });
  const res = await fetch(`${stack.adminUrl}/console/sign-in`, {
    method: 'POST', redirect: 'manual', dispatcher: stack.client, body: new URLSearchParams({ token: stack.adminToken }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.adminUrl },
  });
  assert.equal(res.status, 303, await res.text());
  cookie = `__Host-pg-console=${/__Host-pg-console=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]}`;
});
after(() => stack?.close());

const drawer = async (path: string) => {
  const res = await fetch(`${stack.adminUrl}${path}`, { headers: { cookie, 'hx-request': 'true' }, redirect: 'manual', dispatcher: stack.client });
  return { status: res.status, text: await res.text() };
};

test('the drawer opens an entry of a busy partner with more of its entries after it than one read may take', async () => {
  const log = stack.gateway.deps.transferLog;
  const [target] = await log.appendMany([released({ partnerId: 'p_busy', requestId: 'req-drawer-target' })]);
  await log.appendMany(Array.from({ length: 300 }, () => released({ partnerId: 'p_busy' })));
  const r = await drawer(entryHref(target!));
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, new RegExp(target!.id));
  assert.match(r.text, /req-drawer-target/);
  // A link from before rows named the chain and seq still opens it (read from just before its time).
  const old = await drawer(entryHref(target!).replace(/&chain=[^&]+&seq=\d+$/, ''));
  assert.ok(!entryHref(target!).replace(/&chain=[^&]+&seq=\d+$/, '').includes('chain='));
  assert.equal(old.status, 200, old.text);
  assert.match(old.text, /req-drawer-target/);
});

test('an id that is not in the log at that time is a 404 page, not an endless read', async () => {
  const [e] = await stack.gateway.deps.transferLog.appendMany([released({ partnerId: 'p_busy' })]);
  const r = await drawer(entryHref({ ...e!, id: e!.id.replace(/^./, (c) => (c === '0' ? '1' : '0')) }));
  assert.equal(r.status, 404, r.text);
});

test('the drawer opens an entry with more entries just before it than one read may take (a busy log: found by chain and seq)', async () => {
  // The bench's console pages met this: 100,000 entries seeded within seconds, more than
  // transferLog.maxScan of them in the second before the entry a search row links to, so the
  // drawer read its cap of them and answered 404 for an entry that is there.
  const log = stack.gateway.deps.transferLog;
  await log.appendMany(Array.from({ length: 300 }, () => released({ partnerId: 'p_busy' })));
  const [target] = await log.appendMany([released({ partnerId: 'p_busy', requestId: 'req-drawer-after-many' })]);
  const r = await drawer(entryHref(target!));
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /req-drawer-after-many/);
  // The link's chain and seq are a locator only: a row of another partner, or an id that is not the
  // one at that seq, is not shown through them.
  assert.equal((await drawer(entryHref({ ...target!, partnerId: 'p_other' }))).status, 404);
  assert.equal((await drawer(entryHref({ ...target!, id: target!.id.replace(/^./, (c) => (c === '0' ? '1' : '0')) }))).status, 404);
});

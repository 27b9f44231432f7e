// Issue 5 over HTTP: the SSE stream delivers entries appended after connecting (filtered), resumes
// with Last-Event-ID without duplicates or gaps, stops reading the log when the client leaves, and
// refuses bad filters with problem+json; the NDJSON export returns exactly the range.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, fieldsOf, type Api } from './harness/admin.ts';
import { released, denied, entryRows } from './harness/transfer-log.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

let stack: Stack;
let token = '';
let auditor: Api;
before(async () => {
  stack = await startStack({ users: 5 });
  const r = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  token = r.body.token;
  auditor = adminApi(stack, token);
});
after(() => stack.close());

interface Ev { id?: string; event?: string; data?: string }

/** A Server-Sent Events reader over the raw response body (the text/event-stream grammar). */
async function openStream(query: string, lastEventId?: string) {
  const ac = new AbortController();
  const res = await fetch(`${stack.adminUrl}/admin/v1/transfers/stream${query}`, {
    dispatcher: stack.client, signal: ac.signal,
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
  });
  const events: Ev[] = [];
  let buf = '';
  const pump = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of res.body!) {
      buf += dec.decode(chunk as Uint8Array, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const ev: Record<string, string> = {};
        for (const line of buf.slice(0, i).split('\n')) {
          if (line.startsWith(':')) continue; // comment (heartbeat)
          const c = line.indexOf(':');
          ev[line.slice(0, c)] = line.slice(c + 1).replace(/^ /, '');
        }
        buf = buf.slice(i + 2);
        if (ev.data !== undefined) events.push(ev);
      }
    }
  })().catch(() => undefined);
  return { res, events, close: async () => { ac.abort(); await pump; } };
}

const streamIdOf = async (id: string) => {
  const rows = await entryRows(stack.gateway.deps.redis, stack.gateway.deps.transferLog);
  return rows.find((m) => (JSON.parse(m.message.e!) as TransferEntry).id === id)!.id;
};

test('SSE: entries appended after connecting arrive live, filtered; Last-Event-ID resumes without duplicates or gaps', async () => {
  const tlog = stack.gateway.deps.transferLog;
  await tlog.append(released({ partnerId: 'p_live' })); // before connecting: not part of a live stream
  const s1 = await openStream('?partnerId=p_live');
  assert.equal(s1.res.status, 200);
  assert.match(s1.res.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(s1.res.headers.get('cache-control'), 'no-store');
  assert.equal(s1.res.headers.get('x-accel-buffering'), 'no');
  const want: TransferEntry[] = [];
  for (const p of ['p_live', 'p_other', 'p_live', 'p_other', 'p_live']) {
    const e = await tlog.append(released({ partnerId: p }));
    if (p === 'p_live') want.push(e);
  }
  await waitFor(() => s1.events.length >= 3, 5000);
  await sleep(600); // one more poll: nothing else may come
  assert.deepEqual(s1.events.map((e) => JSON.parse(e.data!)), want);
  assert.ok(s1.events.every((e) => e.event === 'transfer'));
  assert.deepEqual(s1.events.map((e) => e.id), await Promise.all(want.map((e) => streamIdOf(e.id))));
  await s1.close();

  for (let i = 0; i < 2; i++) want.push(await tlog.append(released({ partnerId: 'p_live' }))); // while disconnected
  await tlog.append(denied({ partnerId: 'p_other' }));
  const s2 = await openStream('?partnerId=p_live', s1.events.at(-1)!.id);
  await waitFor(() => s2.events.length >= 2, 5000);
  want.push(await tlog.append(released({ partnerId: 'p_live' })));
  await waitFor(() => s2.events.length >= 3, 5000);
  await sleep(600);
  const got = [...s1.events, ...s2.events];
  assert.deepEqual(got.map((e) => JSON.parse(e.data!).id), want.map((e) => e.id), 'all six, in order, once each');
  await s2.close();
});

const xrangeCalls = async () => Number(/cmdstat_xrange:calls=(\d+)/.exec(await stack.gateway.deps.redis.info('commandstats'))?.[1] ?? 0);

test('SSE: the server stops reading the log once the client closes the stream', async () => {
  const s = await openStream('?decision=denied');
  await sleep(100);
  const a = await xrangeCalls();
  await sleep(1200);
  assert.ok((await xrangeCalls()) > a, 'control: an open stream polls the log');
  await s.close();
  await sleep(700); // let a poll already in flight finish
  const c = await xrangeCalls();
  await sleep(1200);
  assert.equal(await xrangeCalls(), c, 'no polling after the client left');
});

test('SSE: a bad filter or Last-Event-ID is a problem+json 400, not a stream', async () => {
  for (const [query, last, field] of [['?purpose=spying', undefined, 'purpose'], ['?from=yesterday', undefined, 'from'], ['', 'not-an-id', 'Last-Event-ID']] as const) {
    const r = await auditor('GET', `/admin/v1/transfers/stream${query}`, { headers: last ? { 'last-event-id': last } : {} });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.ok(fieldsOf(r).has(field), field);
  }
});

test('export: NDJSON of exactly the entries of the range (and filter), oldest first', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const group = async () => { const g = await tlog.appendMany([released(), denied(), released(), denied({ partnerId: 'p_exp' })]); await sleep(25); return g; };
  await group();
  const middle = await group();
  const last = await group();
  const from = middle.map((e) => e.at).sort()[0]!;
  const to = last.map((e) => e.at).sort()[0]!;
  const lines = async (q: Record<string, string>) => {
    const r = await auditor('GET', `/admin/v1/transfers/export?${new URLSearchParams(q)}`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.ok(r.text === '' || r.text.endsWith('\n'));
    return r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TransferEntry);
  };
  assert.deepEqual(await lines({ from, to }), middle);
  assert.deepEqual(await lines({ from, to, decision: 'denied' }), middle.filter((e) => e.decision === 'denied'));
  assert.deepEqual(await lines({ from, partnerId: 'p_exp' }), [middle[3], last[3]]);
  assert.deepEqual(await lines({ from: to, to }), []);
});

// Bulk NDJSON under pressure: a slow reader holds the upstream still (backpressure), and a Redis
// that dies mid-stream cuts the stream without ever sending a subject that is not logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner } from './harness/partner.ts';
import { syntheticSource, type UserSource } from '../src/core-store/source.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';

// RULES 30: the stored visit times and browser keep the payload heavy; clear needs a justification.
const JUSTIFIED = 'the test needs heavy records';
const heavy = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { search_history: 'clear', visit_times: { treatment: 'clear', justification: JUSTIFIED }, cookies: 'clear', browser: { treatment: 'clear', justification: JUSTIFIED }, username: 'clear', phone: 'clear' } } } };

function counted(users: number): { source: UserSource; pages: () => number } {
  const inner = syntheticSource(users);
  let pages = 0;
  const source: UserSource = { get count() { return inner.count; }, get: (id) => inner.get(id), page: (q) => { pages++; return inner.page(q); } };
  return { source, pages: () => pages };
}

/** A partner with the heavy agreement, and its whole-store NDJSON pull started but not read. */
async function startNdjsonPull(stack: Stack) {
  const p = await setupPartner(stack, heavy);
  const token = await p.token('service_delivery');
  const res = await request(`${stack.url}/v1/subjects?purpose=service_delivery`, {
    dispatcher: stack.client, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
  });
  assert.equal(res.statusCode, 200, res.statusCode === 200 ? '' : await res.body.text());
  return { p, res };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a client that stops reading stops the gateway reading the store; the stream completes when it reads again', async () => {
  const USERS = 40_000; // ~16 MB of NDJSON in 40 store pages, far more than socket buffers hold
  const store = counted(USERS);
  // The pause below can pass 30 s on a loaded machine, and a 1000-entry append can pass 2 s there:
  // the idle cut-off and the Redis deadline (tested elsewhere) must not end this stream, which is
  // about backpressure.
  const stack = await startStack({ source: store.source, extra: { limits: { streamIdleTimeoutMs: 300_000 }, redis: { commandTimeoutMs: 10_000 } } });
  try {
    const { res } = await startNdjsonPull(stack);
    // Not reading: kernel and client buffers fill (a few MB), then the count must stop moving.
    // Stalled once the count holds over three samples in a row: on a loaded machine one page can
    // take longer than a sample, and a single quiet sample is not yet a stall.
    let stalled = -1;
    for (let i = 0, quiet = 0; i < 40 && quiet < 3; i++) {
      const before = store.pages();
      await sleep(750);
      quiet = store.pages() === before ? quiet + 1 : 0;
      stalled = store.pages();
    }
    assert.equal(store.pages(), stalled, 'the gateway kept fetching while the client did not read');
    await sleep(1500);
    assert.equal(store.pages(), stalled, 'the gateway kept fetching while the client did not read');
    const text = await res.body.text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const last = lines.at(-1);
    assert.equal(last.nextCursor, null, JSON.stringify(last));
    assert.equal(lines.length - 1 + last.omitted, USERS);
    const total = store.pages();
    assert.ok(stalled < total / 2, `fetched ${stalled} of ${total} pages while paused`);
  } finally {
    await stack.close();
  }
});

test('Redis killed during a bulk pull: the stream ends early, and every subject received has a log entry', async () => {
  const stack = await startStack({ users: 20_000 });
  try {
    const { p, res } = await startNdjsonPull(stack);
    await sleep(800); // some pages are logged and written, then the writer waits for the reader
    await stack.redis.kill();
    let text = '';
    try {
      for await (const chunk of res.body) text += chunk.toString();
    } catch { /* a cut stream is an acceptable end */ }
    const lines = text.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
    const items = lines.filter((l) => l.subject);
    const tail = lines.at(-1);
    assert.ok(items.length > 0 && items.length < 20_000, `received ${items.length}`);
    assert.ok(!('nextCursor' in tail), 'the stream did not claim to be complete');
    if (tail.error) assert.ok(['audit_unavailable', 'store_unavailable'].includes(tail.error), tail.error);

    await stack.redis.restart();
    await waitFor(() => stack.gateway.deps.redis.isReady, 10_000);
    const pseudonyms = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
    const log = stack.gateway.deps.transferLog;
    // Every received subject, checked against the durable log (sampled evenly, at most 200 lookups).
    const step = Math.max(1, Math.floor(items.length / 200));
    for (let i = 0; i < items.length; i += step) {
      const userId = pseudonyms.decode(items[i].subject, p.id, [1])!.userId;
      const found = await log.query.page({ partnerId: p.id, subject: userId, decision: 'released' }, { limit: 1 });
      assert.equal(found.items.length, 1, `no log entry for received subject #${i}`);
    }
    const last = pseudonyms.decode(items.at(-1).subject, p.id, [1])!.userId;
    assert.equal((await log.query.page({ partnerId: p.id, subject: last, decision: 'released' }, { limit: 1 })).items.length, 1);
  } finally {
    await stack.close();
  }
});

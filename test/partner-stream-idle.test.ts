// limits.streamIdleTimeoutMs: a reader that stops reading cannot hold an NDJSON stream (and the
// permission it began under) open forever. The gateway cuts it and logs nothing after the cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack } from './harness/stack.ts';
import { setupPartner } from './harness/partner.ts';

// RULES 30: the stored visit times and browser keep the payload heavy; clear needs a justification.
const JUSTIFIED = 'the test needs heavy records';
const heavy = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { search_history: 'clear', visit_times: { treatment: 'clear', justification: JUSTIFIED }, cookies: 'clear', browser: { treatment: 'clear', justification: JUSTIFIED }, username: 'clear', phone: 'clear' } } } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stalled NDJSON reader is cut after limits.streamIdleTimeoutMs, and nothing is logged after the cut', async () => {
  const USERS = 20_000;
  const stack = await startStack({ users: USERS, extra: { limits: { streamIdleTimeoutMs: 500 }, redis: { commandTimeoutMs: 5000 } } });
  try {
    const p = await setupPartner(stack, heavy);
    const token = await p.token('service_delivery');
    const res = await request(`${stack.url}/v1/subjects?purpose=service_delivery`, {
      dispatcher: stack.client, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
    });
    assert.equal(res.statusCode, 200);
    const newest = async () => (await stack.gateway.deps.transferLog.query.page({ partnerId: p.id }, { limit: 1 })).items[0]?.id ?? null;
    // Not reading: the buffers fill and the gateway stops logging (it waits for 'drain').
    let last: string | null = 'none';
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      const now = await newest();
      if (now !== null && now === last) break;
      last = now;
    }
    assert.ok(last !== null && last !== 'none', 'the stream logged something before it stalled');
    await sleep(1500); // three idle timeouts
    const atCut = await newest();
    // The reader comes back: a cut stream gives it only what was already in the buffers.
    let text = '';
    try {
      for await (const chunk of res.body) text += chunk.toString();
    } catch { /* the connection was closed under it */ }
    const lines = text.split('\n').filter(Boolean);
    const tail = (() => { try { return JSON.parse(lines.at(-1)!); } catch { return null; } })();
    assert.ok(!tail || !('nextCursor' in tail), 'the stream ran to its end: it was not cut');
    await sleep(1000);
    assert.equal(await newest(), atCut, 'entries were logged after the cut');
  } finally {
    await stack.close();
  }
});

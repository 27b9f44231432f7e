// Issue 5, the pieces behind the auditor routes, on a real HTTPS server and a real Redis: SSE
// heartbeat comments and stop on client close, NDJSON export backpressure (nothing is produced
// faster than the client reads), and the verify time budget (single flight, 503 then the result).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import express from 'express';
import { Agent, fetch } from 'undici';
import { createHttpsServer, listen } from '../src/tls/server.ts';
import { streamSse, type SseEvent } from '../src/http/sse.ts';
import { closeSignal, sendNdjson } from '../src/http/stream-write.ts';
import { VerifyRunner } from '../src/http/verify-budget.ts';
import { testCerts } from './harness/certs.ts';
import { logFixture, released } from './harness/transfer-log.ts';

const c = await testCerts();
const state = { produced: 0, sseStopped: false };
const app = express();
app.get('/sse', async (_req, res) => {
  const signal = closeSignal(res);
  async function* events(): AsyncGenerator<SseEvent> {
    try {
      yield { id: '1-0', event: 'transfer', data: { n: 1 } };
      if (!signal.aborted) await once(signal, 'abort');
    } finally {
      state.sseStopped = true;
    }
  }
  await streamSse(res, events(), { heartbeatMs: 50 });
});
app.get('/ndjson', async (_req, res) => {
  async function* lines() {
    for (state.produced = 0; state.produced < 20_000; state.produced++) yield { n: state.produced, pad: 'x'.repeat(1000) };
  }
  await sendNdjson(res, lines(), {}, () => undefined);
});
const server = createHttpsServer({ cert: c.cert('gateway'), key: c.key('gateway') }, app);
const url = `https://localhost:${await listen(server, 0, '127.0.0.1')}`;
const client = new Agent({ connect: { ca: readFileSync(c.ca) } });
const fx = await logFixture();
after(async () => {
  server.closeAllConnections();
  server.close();
  await client.close();
  await fx.close();
});

test('SSE sends the event, then heartbeat comments while quiet, and stops its source when the client leaves', async () => {
  const ac = new AbortController();
  const res = await fetch(`${url}/sse`, { dispatcher: client, signal: ac.signal });
  let text = '';
  const dec = new TextDecoder();
  const reader = (async () => { for await (const chunk of res.body!) text += dec.decode(chunk as Uint8Array, { stream: true }); })().catch(() => undefined);
  await sleep(400);
  assert.match(text, /^retry: \d+\n\nid: 1-0\nevent: transfer\ndata: \{"n":1\}\n\n/);
  assert.ok((text.match(/^: keep-alive\n\n/gm) ?? []).length >= 3, text);
  assert.equal(state.sseStopped, false);
  ac.abort();
  await reader;
  await sleep(100);
  assert.equal(state.sseStopped, true, 'the source is closed once the client leaves');
});

test('NDJSON export waits for the client: a client that does not read holds the producer back', async () => {
  const res = await fetch(`${url}/ndjson`, { dispatcher: client });
  await sleep(800); // not reading: socket and stream buffers fill, then writes wait for 'drain'
  const stalled = state.produced;
  await sleep(400);
  assert.equal(state.produced, stalled, 'no progress while the client does not read');
  assert.ok(stalled < 20_000, `held back at ${stalled} of 20000 lines`);
  const body = await res.text();
  assert.equal(body.split('\n').filter(Boolean).length, 20_000, 'then everything arrives');
});

test('verify budget: one run for concurrent callers, 503-worthy null past the budget, then the kept result', async () => {
  const log = await fx.newLog();
  await log.appendMany([released(), released()]);
  let calls = 0;
  const slow = async () => { calls++; await sleep(300); return log.verify(); }; // stands in for a huge log
  const runner = new VerifyRunner(slow, { budgetMs: 100, keepMs: 1000 });
  assert.deepEqual(await Promise.all([runner.run(), runner.run()]), [null, null]);
  assert.equal(calls, 1, 'single flight');
  assert.equal(await runner.run(), null, 'a retry joins the run still going');
  await sleep(300);
  const out = await runner.run();
  assert.equal(out?.result.ok, true);
  assert.equal(out?.result.entries, 2);
  assert.equal(calls, 1, 'the retry got the result of the long run');

  let fast = 0;
  const quick = new VerifyRunner(() => { fast++; return log.verify(); }, { budgetMs: 5000 });
  assert.equal((await quick.run())?.result.ok, true);
  await log.append(released());
  assert.equal((await quick.run())?.result.entries, 3, 'a run within budget is never cached');
  assert.equal(fast, 2);
});

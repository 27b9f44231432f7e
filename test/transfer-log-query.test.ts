// Issue 5 "Query", must-show 5: filters, cursor paging newest first, the `since` layer used by
// SSE resume (Last-Event-ID), live follow and the streamed export return exactly the expected entries.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released, denied, entryRows } from './harness/transfer-log.ts';
import { Problem } from '../src/http/problem.ts';
import type { TransferLog, TransferEntry, TransferFilter, AppendInput } from '../src/transfer-log/index.ts';

const fx = await logFixture();
after(() => fx.close());

let log: TransferLog;
/** Every entry in stream order, with the user id it was appended for (the test's oracle). */
let all: Array<{ streamId: string; e: TransferEntry; userId: string | null }> = [];
let from = '';
let to = '';
let middleGroup: string[] = [];

before(async () => {
  await (await fx.client()).flushAll();
  const a = await fx.newLog();
  const b = await fx.newLog(); // two chains interleaved in the stream
  log = a;
  const users = ['u_query_1', 'u_query_2', 'u_query_3'];
  const inputs: AppendInput[] = [];
  for (let i = 0; i < 24; i++) {
    const over = { userId: users[i % 3]!, partnerId: i % 4 < 2 ? 'p_a' : 'p_b', purpose: i % 5 < 3 ? 'advertising' : 'service_delivery' } as const;
    inputs.push(i % 6 === 5 ? denied({ ...over, reason: 'consent_required' }) : released(over));
  }
  const byId = new Map<string, string | null>();
  for (let g = 0; g < 3; g++) { // three groups, apart in time, for the time-range filter
    const group = inputs.slice(g * 8, g * 8 + 8);
    const stored = await Promise.all(group.map((inp, i) => (i % 2 ? a : b).append(inp)));
    stored.forEach((e, i) => byId.set(e.id, group[i]!.userId ?? null));
    if (g === 1) from = stored.map((e) => e.at).sort()[0]!;
    if (g === 2) to = stored.map((e) => e.at).sort()[0]!;
    await sleep(25);
  }
  const rows = await entryRows(await fx.client(), a);
  all = rows.map((m) => { const e = JSON.parse(m.message.e!) as TransferEntry; return { streamId: m.id, e, userId: byId.get(e.id)! }; });
  assert.equal(all.length, 24);
  middleGroup = expected({ from, to });
});

function expected(f: TransferFilter): string[] {
  return all.filter(({ e, userId }) =>
    (f.partnerId === undefined || e.partnerId === f.partnerId) && (f.purpose === undefined || e.purpose === f.purpose) &&
    (f.decision === undefined || e.decision === f.decision) && (f.subject === undefined || userId === f.subject) &&
    (f.from === undefined || e.at >= f.from) && (f.to === undefined || e.at < f.to)).map(({ e }) => e.id);
}

async function allPages(f: TransferFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const p = await log.query.page(f, { limit, cursor });
    assert.ok(p.items.length <= limit);
    ids.push(...p.items.map((e) => e.id));
    if (!p.nextCursor) return ids;
    cursor = p.nextCursor;
  }
  throw new Error('paging did not end');
}

const FILTERS: TransferFilter[] = [
  {}, { partnerId: 'p_a' }, { purpose: 'advertising' }, { decision: 'denied' }, { subject: 'u_query_2' },
  { subject: 'u_query_2', partnerId: 'p_b' }, { partnerId: 'p_a', decision: 'released', purpose: 'service_delivery' },
  { from: '', to: '' }, { subject: 'u_query_1', from: '' }, { partnerId: 'p_nobody' }, { subject: 'u_unknown' },
];

test('every filter, paged 3 at a time, returns exactly the matching entries, newest first', async () => {
  for (const raw of FILTERS) {
    const f = { ...raw, ...(raw.from !== undefined ? { from } : {}), ...(raw.to !== undefined ? { to } : {}) };
    const want = expected(f).reverse();
    assert.deepEqual(await allPages(f, 3), want, JSON.stringify(f));
    assert.deepEqual(await allPages(f, 100), want, JSON.stringify(f));
  }
});

test('`since` (SSE resume after Last-Event-ID) returns the later matching entries, oldest first', async () => {
  const resumeAt = all[9]!.streamId;
  const later = all.slice(10);
  for (const f of [{}, { partnerId: 'p_b' }, { subject: 'u_query_3' }, { decision: 'denied' }] as TransferFilter[]) {
    const r = await log.query.since(f, resumeAt);
    const want = later.filter(({ e }) => expected(f).includes(e.id));
    assert.deepEqual(r.items.map((i) => i.streamId), want.map((w) => w.streamId), JSON.stringify(f));
    assert.deepEqual(r.items.map((i) => i.entry.id), want.map((w) => w.e.id));
  }
  assert.deepEqual((await log.query.since({}, all[23]!.streamId)).items, []);
});

test('follow yields entries appended after it started, with the filter applied, until aborted', async () => {
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of log.query.follow({ partnerId: 'p_live' }, null, { signal: ac.signal, pollMs: 20 })) {
      seen.push(e.entry.id);
      if (seen.length === 2) ac.abort();
    }
  })();
  await sleep(50);
  const x = await log.append(released({ partnerId: 'p_live' }));
  await log.append(released({ partnerId: 'p_other' }));
  const y = await log.append(released({ partnerId: 'p_live' }));
  await done;
  assert.deepEqual(seen, [x.id, y.id]);
  all = []; // the oracle no longer describes the log
});

test('export streams every entry of the range, oldest first', async () => {
  const got: string[] = [];
  for await (const e of log.query.export({ from, to })) got.push(e.id);
  assert.equal(middleGroup.length, 8);
  assert.deepEqual(got, middleGroup);
});

test('a sparse filter answers with a cursor after maxScan entries instead of scanning on', async () => {
  await (await fx.client()).flushAll();
  const small = await fx.newLog({ transferLog: { maxScan: 100 } });
  const target = await small.append(denied({ reason: 'purpose_not_allowed' }));
  await small.appendMany(Array.from({ length: 250 }, () => released()));
  let p = await small.query.page({ decision: 'denied' }, { limit: 10 });
  assert.deepEqual(p.items, []);
  assert.ok(p.nextCursor);
  const found: string[] = [];
  while (p.nextCursor) {
    p = await small.query.page({ decision: 'denied' }, { limit: 10, cursor: p.nextCursor });
    found.push(...p.items.map((e) => e.id));
  }
  assert.deepEqual(found, [target.id]);
});

test('bad filters and cursors are 400 validation_failed', async () => {
  const bad = [{ decision: 'maybe' }, { purpose: 'spying' }, { from: 'yesterday' }, { partnerId: 'a b' }] as TransferFilter[];
  for (const f of bad) assert.throws(() => log.query.compile(f), (e: Problem) => e.status === 400 && e.code === 'validation_failed');
  await assert.rejects(log.query.page({}, { limit: 5, cursor: 'nope' }), (e: Problem) => e.code === 'validation_failed');
});

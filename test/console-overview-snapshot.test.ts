// Issue 16: the Overview page answers in under 1 s whatever the log size. A view waits a bounded
// time for the read under way and otherwise shows what has been read so far, with a note; the
// buckets and the cursor they cover are shared through one Redis key, so a second instance folds
// only what came after; the snapshot never goes backwards. Real TLS Redis and HTTPS gateways; the
// log reads are counted (and held) by wrapping the real query, never by faking Redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { released, denied } from './harness/transfer-log.ts';
import { redisSnapshotStore, SNAPSHOT_KEY } from '../src/console/overview-snapshot.ts';
import { OverviewBuckets } from '../src/console/overview-stats.ts';
import type { TransferQuery } from '../src/transfer-log/query.ts';

const CONSOLE = { console: { tokenLogin: true, overview: { budgetMs: 600, snapshotSeconds: 1 } } };
let a: Stack;
let b: Stack | undefined;

async function get(s: Stack, path: string, cookie?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.adminUrl}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual', dispatcher: s.client });
  return { status: res.status, text: await res.text() };
}

async function signIn(s: Stack): Promise<string> {
  const res = await fetch(`${s.adminUrl}/console/sign-in`, {
    method: 'POST', redirect: 'manual', dispatcher: s.client, body: new URLSearchParams({ token: s.adminToken }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: s.adminUrl },
  });
  assert.equal(res.status, 303, await res.text());
  return `__Host-pg-console=${/__Host-pg-console=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]}`;
}

/** The week's figures as the page shows them, and the note of a read not finished yet. */
async function overview(s: Stack, cookie: string): Promise<{ released: number; denied: number; partial: string | null }> {
  const r = await get(s, '/console/overview?window=week', cookie);
  assert.equal(r.status, 200, r.text);
  const fig = (cls: string) => Number(new RegExp(`<p class="figure ${cls}">(\\d+)</p>`).exec(r.text)?.[1]);
  return { released: fig('released'), denied: fig('denied'), partial: /still reading the log: (\d+) entries so far/.exec(r.text)?.[1] ?? null };
}

/** Wraps the gateway's real log query: counts the entries the overview reads, and can hold its reads. */
function countReads(s: Stack): { read: () => number; hold: () => void; release: () => void } {
  const q = s.gateway.deps.transferLog.query as TransferQuery;
  const since = q.since.bind(q);
  let read = 0;
  let gate: Promise<void> | null = null;
  let open = () => {};
  q.since = async (...args: Parameters<TransferQuery['since']>) => {
    if (gate) await gate;
    const r = await since(...args);
    read += r.items.length;
    return r;
  };
  return {
    read: () => read,
    hold: () => { gate = new Promise((r) => { open = r; }); },
    release: () => { gate = null; open(); },
  };
}

const snapshotCursor = async (s: Stack) => (await s.gateway.deps.redis.hGet(SNAPSHOT_KEY, 'cursor')) ?? null;

before(async () => {
  a = await startStack({ users: 20, extra: CONSOLE });
});
after(async () => {
  await b?.close();
  await a?.close();
});

test('a view that the read has not caught up with shows what was read so far and says so; the read goes on', async () => {
  const reads = countReads(a);
  const log = a.gateway.deps.transferLog;
  await log.appendMany(Array.from({ length: 1200 }, () => released()));
  await log.appendMany(Array.from({ length: 300 }, () => denied()));
  // The first batch (500 entries) goes through, the next one is held until released below.
  let first = true;
  const q = log.query as TransferQuery;
  const counted = q.since.bind(q);
  q.since = async (...args: Parameters<TransferQuery['since']>) => {
    if (!first) reads.hold();
    first = false;
    return counted(...args);
  };
  const cookie = await signIn(a);
  const partial = await overview(a, cookie);
  assert.equal(partial.partial, '500', 'the page answers before the week is read, naming how far the read got');
  assert.equal(partial.released, 500);
  assert.equal(partial.denied, 0);
  reads.release();
  q.since = counted;
  let full = partial;
  await waitFor(async () => (full = await overview(a, cookie)).partial === null, 20_000, 200);
  assert.deepEqual(full, { released: 1200, denied: 300, partial: null }, 'the read went on in the background to the end of the week');
  assert.equal(reads.read(), 1500, 'each entry read once');
});

test('a second gateway on the same Redis starts from the snapshot and reads only what came after it', async () => {
  const cookieA = await signIn(a);
  const latest = await a.gateway.deps.transferLog.query.latestId();
  // The snapshot catches up with the first gateway's cursor at its next refresh.
  await waitFor(async () => { await overview(a, cookieA); return (await snapshotCursor(a)) === latest; }, 20_000, 250);
  const raw = JSON.stringify(await redisSnapshotStore(a.gateway.deps.redis).read());
  assert.match(raw, /p_acme/, 'the snapshot is read back');
  assert.ok(!/u_\d{6}|req-\d/.test(raw), 'counts only: no user id or request id in the snapshot');
  assert.ok((await a.gateway.deps.redis.pTTL(SNAPSHOT_KEY)) > 0, 'the key expires (bounded)');

  await a.gateway.deps.transferLog.appendMany([released(), released(), denied()]);
  b = await startStack({ users: 20, extra: CONSOLE, redis: a.redis, adminToken: a.adminToken });
  const reads = countReads(b);
  const cookieB = await signIn(b);
  let seen = await overview(b, cookieB);
  await waitFor(async () => (seen = await overview(b!, cookieB)).partial === null, 20_000, 200);
  assert.deepEqual(seen, { released: 1202, denied: 301, partial: null }, 'the whole week, from the snapshot plus what came after');
  assert.equal(reads.read(), 3, 'the second gateway read only the 3 entries after the snapshot, not the 1,500 before');
});

test('the snapshot never goes backwards: an older cursor does not overwrite a newer one', async () => {
  const store = redisSnapshotStore(a.gateway.deps.redis);
  const before = await store.read();
  assert.ok(before, 'a snapshot is there');
  const [ms, seq] = before.cursor.split('-').map(Number) as [number, number];
  const older = { cursor: `${ms}-${Math.max(0, seq - 1)}`, complete: true, scanned: 1, buckets: [] };
  assert.equal(await store.write(seq > 0 ? older : { ...older, cursor: `${ms - 1}-999` }), false);
  assert.equal(await store.write({ ...older, cursor: `${ms - 5000}-0` }), false);
  assert.equal(await store.write({ ...older, cursor: before.cursor }), false, 'the same cursor is not rewritten');
  assert.deepEqual(await store.read(), before, 'unchanged');
  const newer = { cursor: `${ms + 1}-0`, complete: true, scanned: 7, buckets: [] };
  assert.equal(await store.write(newer), true);
  assert.deepEqual(await store.read(), newer);
  assert.equal(await store.write(before), false, 'the earlier one cannot come back');
});

test('buckets older than a week are dropped from what the snapshot keeps', () => {
  const now = Date.UTC(2026, 10, 27, 12, 0, 0);
  const b = new OverviewBuckets();
  const at = (ms: number) => ({ ...released(), at: new Date(ms).toISOString(), chain: 'c', seq: 1, prevHash: '', hash: '' }) as never;
  b.add(at(now - 8 * 86_400_000));
  b.add(at(now - 6 * 86_400_000));
  b.add(at(now - 60_000));
  const kept = b.export(now).map(([m]) => m);
  assert.deepEqual(kept, [now - 6 * 86_400_000, now - 60_000]);
});

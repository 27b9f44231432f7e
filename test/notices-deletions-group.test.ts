// RULES 23 with grouped scheduling: the schedules made in one event-loop turn go to Redis in one
// script call, land exactly as one call each would (the latest release decides deleteBy, purposes
// gather), a failing call rejects every caller in it, and a group stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testCerts } from './harness/certs.ts';
import { startTestRedis } from './harness/redis.ts';
import { createRedisClient, type RedisClient } from '../src/deps.ts';
import { DeletionSchedule, MAX_GROUP_ITEMS, type DeletionItem, type DeletionRedis } from '../src/notices/deletions.ts';
import { noticeKeys } from '../src/notices/keys.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';

let server: LocalRedis;
let redis: RedisClient;
before(async () => {
  const c = await testCerts();
  server = await startTestRedis();
  redis = createRedisClient(server.url, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, 1000);
  redis.on('error', () => undefined);
  await redis.connect();
});
after(async () => {
  redis.destroy();
  await server.stop();
});

async function calls(cmd: 'eval' | 'evalsha'): Promise<number> {
  return Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await redis.info('commandstats'))?.[1] ?? 0);
}
const iso = (day: number) => new Date(Date.UTC(2030, 0, day)).toISOString();
interface Call { partnerId: string; purpose: string; items: DeletionItem[] }

test('30 schedules from concurrent callers in one turn: one script call, every member and deleteBy as if called one by one', async () => {
  const keys = noticeKeys('g1');
  const s = new DeletionSchedule(redis, keys);
  await s.schedule('warm', 'service_delivery', [{ subject: 'x', deleteBy: iso(1) }]); // the script is loaded now
  const todo: Call[] = Array.from({ length: 30 }, (_, i) => ({
    partnerId: `p${i % 2}`,
    purpose: i % 3 ? 'service_delivery' : 'advertising',
    // Subjects recur across callers: the later call's deleteBy must win, purposes must gather.
    items: [{ subject: `s${i % 7}`, deleteBy: iso(1 + i) }, { subject: `t${i}`, deleteBy: iso(40 + i) }],
  }));
  const before = await calls('evalsha');
  await Promise.all(todo.map((c) => s.schedule(c.partnerId, c.purpose, c.items)));
  assert.equal(await calls('evalsha') - before, 1, 'one EVALSHA for 30 callers');
  // The expected state, applying the calls one at a time in order.
  const want = new Map<string, { at: string; purposes: string[] }>();
  for (const c of todo) for (const it of c.items) {
    const m = `${c.partnerId}/${it.subject}`;
    const cur = want.get(m);
    want.set(m, { at: it.deleteBy, purposes: cur ? [...new Set([...cur.purposes, c.purpose])] : [c.purpose] });
  }
  for (const [m, w] of want) {
    assert.equal(await redis.hGet(keys.deleteInfo, m), `${w.at} ${w.purposes.join(',')}`, m);
    assert.equal(await redis.zScore(keys.deleteBy, m), Date.parse(w.at), m);
  }
  assert.equal(await redis.zCard(keys.deleteBy), want.size + 1);
  assert.equal(await s.when('p1', 't29'), iso(69));
});

test('after SCRIPT FLUSH (a restarted Redis) the grouped call loads the script and still lands', async () => {
  const keys = noticeKeys('g2');
  const s = new DeletionSchedule(redis, keys);
  await redis.scriptFlush();
  const evals = await calls('eval');
  await Promise.all([1, 2, 3].map((i) => s.schedule('p', 'service_delivery', [{ subject: `s${i}`, deleteBy: iso(i) }])));
  assert.equal(await calls('eval') - evals, 1, 'one EVAL after NOSCRIPT');
  assert.equal(await redis.zCard(keys.deleteBy), 3);
});

test('a failing grouped call rejects every caller in it; a bad caller fails alone', async () => {
  const keys = noticeKeys('g3');
  const s = new DeletionSchedule(redis, keys);
  // The schedule's hash is not a hash: the script errors, so nothing of the group may count.
  await redis.set(keys.deleteInfo, 'not a hash');
  const out = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => s.schedule(`p${i}`, 'service_delivery', [{ subject: 's', deleteBy: iso(i) }])));
  assert.deepEqual(out.map((o) => o.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
  assert.match(String((out[0] as PromiseRejectedResult).reason), /WRONGTYPE/);
  await redis.del(keys.deleteInfo);
  // An invalid date is refused before grouping: only that caller rejects.
  const mixed = await Promise.allSettled([
    s.schedule('p1', 'service_delivery', [{ subject: 'a', deleteBy: iso(1) }]),
    s.schedule('p2', 'service_delivery', [{ subject: 'b', deleteBy: 'never' }]),
    s.schedule('p3', 'service_delivery', [{ subject: 'c', deleteBy: iso(3) }]),
  ]);
  assert.deepEqual(mixed.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(await redis.hKeys(keys.deleteInfo), ['p1/a', 'p3/c']);
});

test(`a group holds at most ${MAX_GROUP_ITEMS} items; callers are never split, only an oversized one is`, async () => {
  const keys = noticeKeys('g4');
  const s = new DeletionSchedule(redis, keys);
  await s.schedule('warm', 'service_delivery', [{ subject: 'x', deleteBy: iso(1) }]);
  const page = (p: string, n: number) => Array.from({ length: n }, (_, i) => ({ subject: `${p}-${i}`, deleteBy: iso(2) }));
  let before = await calls('evalsha');
  await Promise.all(['a', 'b', 'c'].map((p) => s.schedule(p, 'service_delivery', page(p, 2000))));
  assert.equal(await calls('evalsha') - before, 2, '2,000 + 2,000 in one call, the third caller in the next');
  before = await calls('evalsha');
  await s.schedule('d', 'service_delivery', page('d', MAX_GROUP_ITEMS + 1000));
  assert.equal(await calls('evalsha') - before, 2, 'one oversized caller in two calls');
  assert.equal(await redis.zCard(keys.deleteBy), 1 + 6000 + MAX_GROUP_ITEMS + 1000);
});

test('issue 17 item 3: the schedule uses only plain command methods (eval, evalSha, hGet), which a cluster client routes by key', async () => {
  const keys = noticeKeys('g5');
  // The real client, seen through only the methods a node-redis cluster object shares with it.
  const plain = { eval: redis.eval.bind(redis), evalSha: redis.evalSha.bind(redis), hGet: redis.hGet.bind(redis) } as DeletionRedis;
  const s = new DeletionSchedule(plain, keys);
  await redis.scriptFlush(); // the NOSCRIPT path too
  await s.schedule('p', 'service_delivery', [{ subject: 'a', deleteBy: iso(3) }]);
  await s.schedule('p', 'advertising', [{ subject: 'a', deleteBy: iso(4) }]);
  assert.equal(await s.when('p', 'a'), iso(4));
  assert.equal(await redis.hGet(keys.deleteInfo, 'p/a'), `${iso(4)} service_delivery,advertising`);
});

test('schedules made while a call is in flight go together in the next call (group commit), and land as if called one by one', async () => {
  // Issue 17 item 3: the schedule was 3 to 4 script calls for each of the transfer log's. Redis is
  // paused for writes so the first call stays in flight while five more turns of callers arrive.
  const keys = noticeKeys('g-inflight');
  const s = new DeletionSchedule(redis, keys);
  await s.schedule('warm', 'service_delivery', [{ subject: 'x', deleteBy: iso(1) }]);
  const before = await calls('evalsha');
  await redis.sendCommand(['CLIENT', 'PAUSE', '300', 'WRITE']);
  const first = s.schedule('p0', 'service_delivery', [{ subject: 'a', deleteBy: iso(1) }]);
  const rest: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    rest.push(s.schedule('p0', i % 2 ? 'advertising' : 'service_delivery', [{ subject: 'b', deleteBy: iso(2 + i) }]));
  }
  await Promise.all([first, ...rest]);
  assert.equal((await calls('evalsha')) - before, 2, 'the first call, then one call for the five gathered behind it');
  // The later release decides deleteBy; purposes gather (as one call each would leave it).
  assert.equal(await redis.zScore(keys.deleteBy, 'p0/b'), Date.parse(iso(6)));
  assert.equal(await redis.hGet(keys.deleteInfo, 'p0/b'), `${iso(6)} service_delivery,advertising`);
  assert.equal(await redis.zScore(keys.deleteBy, 'p0/a'), Date.parse(iso(1)));
});
